//! Reads the schema export Room keeps in the app's repository (`schemas/<db>/<version>.json`).
//!
//! Room writes, per entity, the exact `createSql` it runs (with `${TABLE_NAME}` for the
//! table) and the `createSql` of each index. Running those statements on an empty in-memory
//! database and reading it back gives the same [`ImportedSchema`] as importing a device's
//! database, through the one reader.

use rusqlite::Connection;
use serde::Deserialize;

use super::schema::ImportedSchema;
use super::sqlite::read_schema;

const TABLE_NAME: &str = "${TABLE_NAME}";

#[derive(Deserialize)]
struct Export {
    database: Database,
}

#[derive(Deserialize)]
struct Database {
    entities: Vec<Entity>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entity {
    table_name: String,
    create_sql: String,
    #[serde(default)]
    indices: Vec<Index>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Index {
    create_sql: String,
}

/// Parses a Room export's text into the schema it describes.
pub fn read_room_export(text: &str) -> Result<ImportedSchema, String> {
    let export: Export = serde_json::from_str(text).map_err(|e| {
        format!(
            "not a Room schema export (line {}, column {}): {e}",
            e.line(),
            e.column()
        )
    })?;
    let conn = Connection::open_in_memory().map_err(|e| e.to_string())?;
    for entity in &export.database.entities {
        let quoted = format!("`{}`", entity.table_name.replace('`', "``"));
        let run = |sql: &str| {
            // Room quotes the placeholder itself: "CREATE TABLE `${TABLE_NAME}` (...)".
            let sql = sql
                .replace(&format!("`{TABLE_NAME}`"), &quoted)
                .replace(TABLE_NAME, &quoted);
            conn.execute_batch(&sql).map_err(|e| {
                format!(
                    "entity `{}`: its createSql does not run: {e}",
                    entity.table_name
                )
            })
        };
        run(&entity.create_sql)?;
        for index in &entity.indices {
            run(&index.create_sql)?;
        }
    }
    read_schema(&conn)
}
