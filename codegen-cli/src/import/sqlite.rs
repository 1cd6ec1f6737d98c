//! Reads an [`ImportedSchema`] from a SQLite database, through `PRAGMA`s only.
//!
//! The file is opened read-only (`mode=ro`): reading a schema never writes a byte of the app's
//! database, so a copy pulled from a device can be imported and then used as before.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use super::schema::{
    ImportedColumn, ImportedForeignKey, ImportedIndex, ImportedSchema, ImportedTable,
};

/// Opens `path` read-only; an error names what failed.
///
/// A database whose write-ahead log is checkpointed (no `-wal` file next to it) is opened
/// `immutable`: SQLite then takes no locks and creates no `-shm`/`-wal` files, so nothing at
/// all appears next to the app's database. With a `-wal` file (the app has it open, or did
/// not close it), the log holds committed rows, so it is opened `mode=ro` to read them.
pub fn open_read_only(path: &Path) -> Result<Connection, String> {
    if !path.is_file() {
        return Err("no such file".to_owned());
    }
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let mode = if Path::new(&wal).exists() {
        "mode=ro"
    } else {
        "immutable=1"
    };
    let uri = format!("{}?{mode}", file_uri(path));
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(uri, flags).map_err(|e| e.to_string())?;
    // `query_only` refuses any write this connection might attempt, even by mistake.
    conn.pragma_update(None, "query_only", true)
        .map_err(|e| e.to_string())?;
    Ok(conn)
}

/// A `file:` URI for `path`, with the characters URIs reserve percent-encoded.
fn file_uri(path: &Path) -> String {
    let text = path.to_string_lossy();
    let mut uri = String::from("file:");
    for byte in text.bytes() {
        match byte {
            b'?' | b'#' | b'%' | b' ' => uri.push_str(&format!("%{byte:02X}")),
            _ => uri.push(char::from(byte)),
        }
    }
    uri
}

/// Reads every app table of `conn` (neither SQLite's `sqlite_*` nor syncwright's `_sync*`).
pub fn read_schema(conn: &Connection) -> Result<ImportedSchema, String> {
    let sql = "SELECT name, sql FROM sqlite_master WHERE type = 'table' \
               AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_sync%' ESCAPE '\\' \
               ORDER BY name";
    let tables: Vec<(String, Option<String>)> = conn
        .prepare(sql)
        .and_then(|mut stmt| {
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect()
        })
        .map_err(|e| format!("not a readable SQLite database: {e}"))?;
    let mut schema = ImportedSchema::default();
    for (name, create_sql) in tables {
        let create_sql = create_sql.unwrap_or_default();
        if create_sql
            .to_ascii_uppercase()
            .starts_with("CREATE VIRTUAL")
        {
            continue; // full-text and other virtual tables have no columns to sync
        }
        schema.tables.push(
            read_table(conn, &name, &create_sql).map_err(|e| format!("table `{name}`: {e}"))?,
        );
    }
    Ok(schema)
}

fn read_table(conn: &Connection, name: &str, create_sql: &str) -> rusqlite::Result<ImportedTable> {
    let mut key: Vec<(i64, String)> = Vec::new();
    let mut columns = Vec::new();
    let mut stmt =
        conn.prepare("SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?1)")?;
    let mut rows = stmt.query([name])?;
    while let Some(r) = rows.next()? {
        let column: String = r.get(0)?;
        let pk: i64 = r.get(4)?;
        if pk > 0 {
            key.push((pk, column.clone()));
        }
        columns.push(ImportedColumn {
            name: column,
            declared_type: r.get(1)?,
            not_null: r.get::<_, i64>(2)? != 0,
            default_sql: r.get(3)?,
        });
    }
    key.sort();
    let upper = create_sql.to_ascii_uppercase();
    Ok(ImportedTable {
        name: name.to_owned(),
        columns,
        primary_key: key.into_iter().map(|(_, c)| c).collect(),
        autoincrement: upper.contains("AUTOINCREMENT"),
        without_rowid: upper.contains("WITHOUT ROWID"),
        indexes: read_indexes(conn, name)?,
        foreign_keys: read_foreign_keys(conn, name)?,
    })
}

fn read_indexes(conn: &Connection, table: &str) -> rusqlite::Result<Vec<ImportedIndex>> {
    // `origin` is `c` (CREATE INDEX), `u` (UNIQUE constraint) or `pk` (the key, kept apart).
    let mut stmt = conn.prepare(
        "SELECT name, \"unique\" FROM pragma_index_list(?1) WHERE origin <> 'pk' ORDER BY name",
    )?;
    let listed: Vec<(String, bool)> = stmt
        .query_map([table], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? != 0)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut indexes = Vec::new();
    let mut columns = conn.prepare("SELECT name FROM pragma_index_info(?1) ORDER BY seqno")?;
    for (name, unique) in listed {
        let cols: Vec<Option<String>> = columns
            .query_map([&name], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        indexes.push(ImportedIndex {
            name,
            // An expression index has no column name for its expression terms.
            columns: cols
                .into_iter()
                .map(|c| c.unwrap_or_else(|| "<expression>".to_owned()))
                .collect(),
            unique,
        });
    }
    Ok(indexes)
}

fn read_foreign_keys(conn: &Connection, table: &str) -> rusqlite::Result<Vec<ImportedForeignKey>> {
    let mut stmt = conn.prepare(
        "SELECT id, \"table\", \"from\", \"to\" FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
    )?;
    let rows: Vec<(i64, String, String, Option<String>)> = stmt
        .query_map([table], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut keys: Vec<(i64, ImportedForeignKey)> = Vec::new();
    for (id, target, from, to) in rows {
        if keys.last().is_none_or(|(last, _)| *last != id) {
            keys.push((
                id,
                ImportedForeignKey {
                    columns: Vec::new(),
                    table: target,
                    to_columns: Vec::new(),
                },
            ));
        }
        let (_, key) = keys.last_mut().expect("pushed above");
        key.columns.push(from);
        if let Some(to) = to {
            key.to_columns.push(to);
        }
    }
    // `pragma_foreign_key_list` numbers keys from the last declared; declaration order reads better.
    keys.reverse();
    Ok(keys.into_iter().map(|(_, k)| k).collect())
}
