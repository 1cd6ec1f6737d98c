//! Naming the write behind a failed foreign key.
//!
//! Entity foreign keys are `DEFERRABLE INITIALLY DEFERRED`, so SQLite reports a dangling
//! reference only at `COMMIT`, as a bare "FOREIGN KEY constraint failed". While the
//! transaction is still open, `PRAGMA foreign_key_check` lists the offending rows; this module
//! turns the first one into [`Error::ForeignKey`] with the child table, the record id, the
//! column and the missing parent.

use rusqlite::{Connection, ErrorCode};

use crate::entity::quote;
use crate::{Error, Result};

/// A reference to a record that does not exist, found when a write transaction committed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "foreign key failed: `{table}` record {id} has `{column}` = {parent_id}, but `{parent}` has no record with that id; nothing was written (insert the `{parent}` record first, in the same or an earlier transaction, or clear `{column}`)"
)]
pub struct ForeignKeyViolation {
    /// The child table.
    pub table: String,
    /// The child record's id.
    pub id: String,
    /// The referencing column.
    pub column: String,
    /// The referenced (parent) table.
    pub parent: String,
    /// The missing parent's id, as stored in `column`.
    pub parent_id: String,
}

/// Whether `error` is SQLite's foreign key failure.
pub(crate) fn is_foreign_key_failure(error: &rusqlite::Error) -> bool {
    matches!(
        error,
        rusqlite::Error::SqliteFailure(e, _)
            if e.code == ErrorCode::ConstraintViolation
                && e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY
    )
}

/// The first dangling reference in the open transaction on `conn`, as [`Error::ForeignKey`];
/// `None` when the check finds none (or cannot run).
pub(crate) fn describe(conn: &Connection) -> Option<Error> {
    violation(conn).ok().flatten()
}

fn violation(conn: &Connection) -> Result<Option<Error>> {
    let sql = "PRAGMA foreign_key_check";
    let first: Option<(String, Option<i64>, String, i64)> = {
        let mut stmt = conn.prepare(sql).map_err(Error::sql(sql))?;
        let mut rows = stmt.query([]).map_err(Error::sql(sql))?;
        match rows.next().map_err(Error::sql(sql))? {
            Some(row) => Some((
                row.get(0).map_err(Error::sql(sql))?,
                row.get(1).map_err(Error::sql(sql))?,
                row.get(2).map_err(Error::sql(sql))?,
                row.get(3).map_err(Error::sql(sql))?,
            )),
            None => None,
        }
    };
    let Some((table, rowid, parent, fk_id)) = first else {
        return Ok(None);
    };
    let list = format!("PRAGMA foreign_key_list({})", quote(&table));
    let column: String = {
        let mut stmt = conn.prepare(&list).map_err(Error::sql(&list))?;
        let mut rows = stmt.query([]).map_err(Error::sql(&list))?;
        let mut column = String::new();
        while let Some(row) = rows.next().map_err(Error::sql(&list))? {
            let id: i64 = row.get(0).map_err(Error::sql(&list))?;
            if id == fk_id {
                column = row.get(3).map_err(Error::sql(&list))?;
                break;
            }
        }
        column
    };
    let row_sql = format!(
        "SELECT CAST(\"id\" AS TEXT), CAST({} AS TEXT) FROM {} WHERE rowid = ?1",
        quote(&column),
        quote(&table)
    );
    let (id, value): (Option<String>, Option<String>) = match rowid {
        Some(rowid) => conn
            .query_row(&row_sql, [rowid], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(Error::sql(&row_sql))?,
        None => (None, None),
    };
    Ok(Some(Error::ForeignKey(Box::new(ForeignKeyViolation {
        table,
        id: id.unwrap_or_else(|| "?".to_owned()),
        column,
        parent,
        parent_id: value.unwrap_or_else(|| "?".to_owned()),
    }))))
}
