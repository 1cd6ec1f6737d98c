//! Whether adding a generated column to a filled table makes SQLite visit every row.
//!
//! SQLite verifies the constraints of the whole table by a `pragma_quick_check` scan when the
//! added column carries a CHECK (sqlite3AlterFinishAddColumn): O(rows) instead of O(1), 578×
//! slower on a million rows than on a thousand (issue 13). Timing would be flaky; instead the
//! table holds rows that break a CHECK of another column (written with the checks switched
//! off), which only a scan notices: a migration adding a column that touches no row succeeds,
//! one that scans fails with "CHECK constraint failed".

use rusqlite::Connection;
use syncwright_codegen::model::{Column, ColumnRole, FieldType};
use syncwright_codegen::render::ddl::{column_definition, type_triggers};

fn default_of(ty: FieldType) -> &'static str {
    match ty {
        FieldType::Text => "''",
        FieldType::Integer | FieldType::Bool | FieldType::Timestamp => "0",
        FieldType::Real => "0.0",
        FieldType::Uuid => "'00000000-0000-0000-0000-000000000000'",
        FieldType::Json => "'{}'",
        FieldType::Blob => "X''",
    }
}

/// A table of 100 rows, each breaking the CHECK of column `n`.
fn filled_with_rows_only_a_scan_notices() -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL CHECK (n > 0));
         PRAGMA ignore_check_constraints = ON;
         WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 100)
         INSERT INTO t SELECT i, 0 FROM k;
         PRAGMA ignore_check_constraints = OFF;",
    )
    .unwrap();
    conn
}

fn column(ty: FieldType, nullable: bool, with_default: bool) -> Column {
    Column {
        name: "added".into(),
        ty,
        role: ColumnRole::Domain,
        nullable,
        primary_key: false,
        default_sql: with_default.then(|| default_of(ty).to_owned()),
        check_sql: None,
        references: None,
        renamed_from: None,
        backfill: None,
        deprecated: false,
    }
}

/// The statements a migration runs to add `column` to `table` (without a backfill).
fn adding(table: &str, column: &Column) -> String {
    let mut sql = format!(
        "ALTER TABLE {table} ADD COLUMN {};",
        column_definition(column)
    );
    for trigger in type_triggers(table, column) {
        sql.push('\n');
        sql.push_str(&trigger);
    }
    sql
}

/// Whether the migration adding `column` to the filled table (its `ALTER TABLE` and the
/// triggers checking its values) visits the table's rows.
fn scans(column: &Column) -> bool {
    let conn = filled_with_rows_only_a_scan_notices();
    let sql = adding("t", column);
    match conn.execute_batch(&sql) {
        Ok(()) => false,
        Err(e) if e.to_string().contains("CHECK constraint failed") => true,
        Err(e) => panic!("{sql}: {e}"),
    }
}

#[test]
fn the_detector_sees_a_scan() {
    let mut checked = column(FieldType::Integer, false, true);
    checked.check_sql = Some("\"added\" >= 0".into());
    assert!(scans(&checked), "a column with a CHECK makes SQLite scan");
}

#[test]
fn adding_a_column_of_any_type_to_a_filled_table_touches_no_row() {
    for ty in FieldType::ALL {
        for (nullable, with_default) in [(false, true), (true, false), (true, true)] {
            let column = column(ty, nullable, with_default);
            assert!(
                !scans(&column),
                "{} (nullable: {nullable}, default: {with_default}): `{}` makes SQLite scan every row when added",
                ty.as_str(),
                column_definition(&column),
            );
        }
    }
}

#[test]
fn an_added_column_still_has_its_type_checked_on_every_write() {
    let conn = filled_with_rows_only_a_scan_notices();
    for ty in [FieldType::Bool, FieldType::Json] {
        let column = Column {
            name: ty.as_str().into(),
            ..column(ty, true, false)
        };
        conn.execute_batch(&adding("t", &column)).unwrap();
    }
    for (sql, message) in [
        (
            "INSERT INTO t (id, n, bool) VALUES (1000, 1, 2)",
            "t.bool must be 0 or 1",
        ),
        (
            "UPDATE t SET bool = 2 WHERE id = 1",
            "t.bool must be 0 or 1",
        ),
        (
            "INSERT INTO t (id, n, json) VALUES (1000, 1, '{')",
            "t.json must be valid JSON",
        ),
        (
            "UPDATE t SET json = '{' WHERE id = 1",
            "t.json must be valid JSON",
        ),
    ] {
        let error = conn.execute_batch(sql).expect_err(sql);
        assert!(
            error.to_string().contains(message),
            "`{sql}` fails with `{error}`, not `{message}`"
        );
    }
}
