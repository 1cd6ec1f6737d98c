//! Refusing databases syncwright did not create, before anything is written to them.
//!
//! A database is syncwright's when it holds the runtime's bookkeeping (`_sync_migrations`, or
//! `_sync_runtime` once the runtime created its own tables). An empty database (no schema
//! objects, `user_version` 0) is a fresh install. Anything else belongs to someone else: running
//! the fresh-install schema on it would switch it to WAL, add tables and indexes next to the
//! other app's (a `UNIQUE` index on a column that does not exist indexes a constant and breaks
//! that app's next insert) and commit before the drift check could object.

use rusqlite::{Connection, ErrorCode};

use crate::{Error, Result};

/// The tables whose presence marks a database as syncwright's.
const BOOKKEEPING: &[&str] = &["_sync_migrations", "_sync_runtime"];

/// Refuses a file that is not a SQLite database ([`Error::NotADatabase`]) or a database with
/// schema objects or a `user_version` but no syncwright bookkeeping
/// ([`Error::ForeignDatabase`]). Only reads.
pub(crate) fn refuse_foreign(conn: &Connection) -> Result<()> {
    let sql = "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
               ORDER BY type <> 'table', name";
    let objects: Vec<(String, String)> = conn
        .prepare(sql)
        .and_then(|mut stmt| {
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect()
        })
        .map_err(|source| match source.sqlite_error_code() {
            Some(ErrorCode::NotADatabase) => Error::NotADatabase { path: None, source },
            _ => Error::Sqlite {
                sql: Some(sql.to_owned()),
                source,
            },
        })?;
    if objects
        .iter()
        .any(|(_, name)| BOOKKEEPING.contains(&name.as_str()))
    {
        return Ok(());
    }
    let sql = "PRAGMA user_version";
    let user_version: i64 = conn
        .query_row(sql, [], |r| r.get(0))
        .map_err(Error::sql(sql))?;
    if objects.is_empty() && user_version == 0 {
        return Ok(());
    }
    let tables: Vec<String> = objects
        .iter()
        .filter(|(kind, _)| kind == "table" || kind == "view")
        .map(|(_, name)| name.clone())
        .collect();
    Err(Error::ForeignDatabase {
        path: None,
        user_version,
        objects: if tables.is_empty() {
            objects.into_iter().map(|(_, name)| name).collect()
        } else {
            tables
        },
    })
}
