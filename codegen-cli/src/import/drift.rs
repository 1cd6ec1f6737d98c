//! Reads a Drift schema dump (`drift_schema_vN.json`, written by `drift_dev schema dump`).
//!
//! A dump lists each table's columns with Drift's type (`int`, `string`, `bool`, `dateTime`,
//! `double`, `blob`, `bigInt`), nullability and the SQL constraints Drift adds
//! (`defaultConstraints`, `customConstraints`), the table's explicit key and unique keys, and
//! each index's `sql`. The tables are rebuilt on an in-memory database as Drift creates them
//! and read back through the one SQLite reader.

use rusqlite::Connection;
use serde::Deserialize;

use super::schema::ImportedSchema;
use super::sqlite::read_schema;
use crate::render::sql::ident;

#[derive(Deserialize)]
struct Dump {
    entities: Vec<Element>,
}

#[derive(Deserialize)]
struct Element {
    #[serde(rename = "type")]
    kind: String,
    data: serde_json::Value,
}

#[derive(Deserialize)]
struct Table {
    name: String,
    columns: Vec<Column>,
    #[serde(default)]
    without_rowid: bool,
    #[serde(default)]
    explicit_pk: Option<Vec<String>>,
    #[serde(default)]
    unique_keys: Option<Vec<Vec<String>>>,
}

#[derive(Deserialize)]
struct Column {
    name: String,
    /// `type` in current dumps, `moor_type` in dumps from the moor days.
    #[serde(alias = "moor_type", rename = "type")]
    ty: String,
    nullable: bool,
    #[serde(default, rename = "customConstraints")]
    custom_constraints: Option<String>,
    #[serde(default, rename = "defaultConstraints")]
    default_constraints: Option<String>,
}

#[derive(Deserialize)]
struct Index {
    sql: Option<String>,
}

/// The SQLite type Drift declares for one of its column types.
fn sql_type(drift_type: &str) -> Result<&'static str, String> {
    Ok(match drift_type {
        "int" | "bigInt" | "bool" | "dateTime" => "INTEGER",
        "string" => "TEXT",
        "double" => "REAL",
        "blob" => "BLOB",
        other => return Err(format!("unknown Drift column type `{other}`")),
    })
}

fn create_table(table: &Table) -> Result<String, String> {
    let mut parts = Vec::new();
    for c in &table.columns {
        let mut column = format!(
            "{} {}",
            ident(&c.name),
            sql_type(&c.ty)
                .map_err(|e| format!("table `{}` column `{}`: {e}", table.name, c.name))?
        );
        // Custom constraints replace Drift's own, nullability included.
        if let Some(custom) = &c.custom_constraints {
            column.push(' ');
            column.push_str(custom);
        } else {
            if !c.nullable {
                column.push_str(" NOT NULL");
            }
            if let Some(constraints) = c.default_constraints.as_deref().filter(|s| !s.is_empty()) {
                column.push(' ');
                column.push_str(constraints);
            }
        }
        parts.push(column);
    }
    let list = |cols: &[String]| cols.iter().map(|c| ident(c)).collect::<Vec<_>>().join(", ");
    if let Some(pk) = table.explicit_pk.as_deref().filter(|k| !k.is_empty()) {
        parts.push(format!("PRIMARY KEY ({})", list(pk)));
    }
    for key in table.unique_keys.iter().flatten() {
        parts.push(format!("UNIQUE ({})", list(key)));
    }
    Ok(format!(
        "CREATE TABLE {} ({}){};",
        ident(&table.name),
        parts.join(", "),
        if table.without_rowid {
            " WITHOUT ROWID"
        } else {
            ""
        }
    ))
}

/// Parses a Drift schema dump's text into the schema it describes.
pub fn read_drift_dump(text: &str) -> Result<ImportedSchema, String> {
    let dump: Dump = serde_json::from_str(text).map_err(|e| {
        format!(
            "not a Drift schema dump (line {}, column {}): {e}",
            e.line(),
            e.column()
        )
    })?;
    let conn = Connection::open_in_memory().map_err(|e| e.to_string())?;
    let mut indexes = Vec::new();
    for element in &dump.entities {
        match element.kind.as_str() {
            "table" => {
                let table: Table = serde_json::from_value(element.data.clone())
                    .map_err(|e| format!("a table entry of the dump: {e}"))?;
                let sql = create_table(&table)?;
                conn.execute_batch(&sql)
                    .map_err(|e| format!("table `{}` does not build: {e}\n  {sql}", table.name))?;
            }
            "index" => {
                let index: Index = serde_json::from_value(element.data.clone())
                    .map_err(|e| format!("an index entry of the dump: {e}"))?;
                indexes.extend(index.sql);
            }
            // Views and triggers hold no rows to sync.
            _ => {}
        }
    }
    for sql in indexes {
        conn.execute_batch(&sql)
            .map_err(|e| format!("index does not build: {e}\n  {sql}"))?;
    }
    read_schema(&conn)
}
