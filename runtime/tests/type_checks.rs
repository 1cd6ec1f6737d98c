//! A `bool` field holds 0 or 1 and a `json` field valid JSON: the generator checks them with
//! triggers (a `CHECK` would make adding such a column scan the whole table, issue 13). A write
//! that breaks a check is refused with a message naming the table and column, and writes
//! nothing; NULL passes where the field is nullable.

use std::path::Path;

use syncwright::{Database, Error, Migrations};

/// The field-service fixture: `inspections.passed` is a nullable bool, `inspections.checklist`
/// a json field with a default.
fn field_service() -> Database {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/field-service/migrations");
    let migrations = Migrations::from_dir(dir).expect("fixture migrations load");
    let db = Database::options()
        .open_in_memory(&migrations)
        .expect("open in-memory database");
    sql(
        &db,
        "INSERT INTO projects (id, name) VALUES ('p1', 'depot');
         INSERT INTO tasks (id, title, project_id) VALUES ('t1', 'inspect the roof', 'p1');
         INSERT INTO inspections (id, task_id, inspector, inspected_at) VALUES ('i1', 't1', 'ana', 0);",
    )
    .expect("seed rows");
    db
}

/// Runs raw SQL in one transaction of the store.
fn sql(db: &Database, sql: &str) -> syncwright::Result<()> {
    db.transaction(|tx| {
        tx.sql().execute_batch(sql).map_err(|source| Error::Sqlite {
            sql: Some(sql.to_owned()),
            source,
        })
    })
}

fn inspection(db: &Database) -> (Option<i64>, String) {
    db.read_sql(|conn| {
        conn.query_row(
            "SELECT passed, checklist FROM inspections WHERE id = 'i1'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    })
    .unwrap()
}

/// Asserts `statement` is refused as a constraint failure raised by a trigger, with `message`.
fn assert_refused(db: &Database, statement: &str, message: &str) {
    let before = inspection(db);
    let error = sql(db, statement).expect_err(statement);
    assert!(
        error.to_string().contains(message),
        "`{statement}` fails with `{error}`, which does not say `{message}`"
    );
    let Error::Sqlite {
        source: rusqlite::Error::SqliteFailure(failure, _),
        ..
    } = &error
    else {
        panic!("`{statement}` fails with a non-SQLite error: {error}");
    };
    assert_eq!(
        failure.extended_code,
        rusqlite::ffi::SQLITE_CONSTRAINT_TRIGGER,
        "`{statement}`: {error}"
    );
    assert_eq!(inspection(db), before, "`{statement}` wrote something");
}

#[test]
fn inserting_2_into_a_bool_column_is_refused_with_the_table_and_column() {
    let db = field_service();
    assert_refused(
        &db,
        "INSERT INTO inspections (id, task_id, inspector, inspected_at, passed) VALUES ('i2', 't1', 'bo', 0, 2)",
        "inspections.passed must be 0 or 1",
    );
}

#[test]
fn updating_a_bool_column_to_2_is_refused_with_the_table_and_column() {
    let db = field_service();
    assert_refused(
        &db,
        "UPDATE inspections SET passed = 2 WHERE id = 'i1'",
        "inspections.passed must be 0 or 1",
    );
}

#[test]
fn invalid_json_is_refused_on_insert_and_on_update() {
    let db = field_service();
    assert_refused(
        &db,
        "INSERT INTO inspections (id, task_id, inspector, inspected_at, checklist) VALUES ('i2', 't1', 'bo', 0, '[1,')",
        "inspections.checklist must be valid JSON",
    );
    assert_refused(
        &db,
        "UPDATE inspections SET checklist = 'not json' WHERE id = 'i1'",
        "inspections.checklist must be valid JSON",
    );
}

#[test]
fn null_in_a_nullable_bool_and_valid_values_are_accepted() {
    let db = field_service();
    assert_eq!(inspection(&db), (None, "[]".to_owned()));
    sql(
        &db,
        "UPDATE inspections SET passed = 1, checklist = '{\"roof\": true}' WHERE id = 'i1'",
    )
    .unwrap();
    assert_eq!(inspection(&db), (Some(1), "{\"roof\": true}".to_owned()));
    sql(&db, "UPDATE inspections SET passed = NULL WHERE id = 'i1'").unwrap();
    sql(
        &db,
        "INSERT INTO inspections (id, task_id, inspector, inspected_at, passed) VALUES ('i2', 't1', 'bo', 0, NULL)",
    )
    .unwrap();
    assert_eq!(inspection(&db).0, None);
}
