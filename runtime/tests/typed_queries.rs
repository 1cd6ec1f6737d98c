//! The daily API: typed columns and filters, `modify`, the SQL escape hatches, and foreign key
//! errors that name the write.

mod common;

use common::*;
use syncwright::{Database, Error, Order, SyncStatus, Syncable};

fn titles(records: &[syncwright::Record<Task>]) -> Vec<&str> {
    records.iter().map(|r| r.data.title.as_str()).collect()
}

fn seeded() -> Database {
    let (db, _) = memory_db();
    for (title, priority, done) in [("a", 1, false), ("b", 2, true), ("c", 3, false)] {
        db.insert(&Task {
            priority,
            done,
            ..Task::new(title)
        })
        .unwrap();
    }
    db
}

#[test]
fn typed_column_filters_compare_with_values_of_the_column_type() {
    let db = seeded();
    let open = db
        .query::<Task>()
        .filter_by(Task::DONE.eq(false))
        .filter_by(Task::PRIORITY.ge(2))
        .fetch()
        .unwrap();
    assert_eq!(titles(&open), ["c"]);
    let by_title = db
        .query::<Task>()
        .filter_by(Task::TITLE.eq("b"))
        .fetch()
        .unwrap();
    assert_eq!(titles(&by_title), ["b"]);
}

#[test]
fn typed_in_or_and_grouping_follow_the_nesting_of_the_calls() {
    let db = seeded();
    let picked = db
        .query::<Task>()
        .filter_by(Task::PRIORITY.is_in([1, 3]))
        .sort_by(Task::PRIORITY, Order::Desc)
        .fetch()
        .unwrap();
    assert_eq!(titles(&picked), ["c", "a"]);
    // done OR (priority = 1 AND title = 'a'): b and a; without the grouping `AND` would bind
    // first anyway, so check the other nesting too.
    let grouped = db
        .query::<Task>()
        .filter_by(
            Task::DONE
                .eq(true)
                .or(Task::PRIORITY.eq(1))
                .and(Task::TITLE.ne("a")),
        )
        .fetch()
        .unwrap();
    assert_eq!(titles(&grouped), ["b"]);
    let none = db
        .query::<Task>()
        .filter_by(Task::PRIORITY.is_in(Vec::<i64>::new()))
        .count();
    assert_eq!(none.unwrap(), 0);
    let not_done = db
        .query::<Task>()
        .filter_by(Task::DONE.eq(true).not())
        .count();
    assert_eq!(not_done.unwrap(), 2);
}

#[test]
fn typed_null_checks_and_option_columns_take_the_inner_value() {
    let db = seeded();
    let due = start() + std::time::Duration::from_secs(60);
    let a = db
        .query::<Task>()
        .filter_by(Task::TITLE.eq("a"))
        .first()
        .unwrap()
        .unwrap();
    db.modify::<Task>(a.id, |t| t.due_at = Some(due)).unwrap();
    let undated = db
        .query::<Task>()
        .filter_by(Task::DUE_AT.is_null())
        .fetch()
        .unwrap();
    assert_eq!(titles(&undated), ["b", "c"]);
    let dated = db
        .query::<Task>()
        .filter_by(Task::DUE_AT.eq(due))
        .fetch()
        .unwrap();
    assert_eq!(titles(&dated), ["a"]);
    let dated = db
        .query::<Task>()
        .filter_by(Task::DUE_AT.is_not_null())
        .count()
        .unwrap();
    assert_eq!(dated, 1);
}

#[test]
fn exists_and_count_see_only_matching_live_records() {
    let db = seeded();
    assert!(
        db.query::<Task>()
            .filter_by(Task::PRIORITY.gt(2))
            .exists()
            .unwrap()
    );
    assert!(
        !db.query::<Task>()
            .filter_by(Task::PRIORITY.gt(3))
            .exists()
            .unwrap()
    );
    let c = db
        .query::<Task>()
        .filter_by(Task::TITLE.eq("c"))
        .first()
        .unwrap()
        .unwrap();
    db.delete::<Task>(c.id).unwrap();
    assert!(
        !db.query::<Task>()
            .filter_by(Task::PRIORITY.gt(2))
            .exists()
            .unwrap()
    );
    assert_eq!(db.query::<Task>().count().unwrap(), 2);
}

#[test]
fn sync_columns_have_typed_handles_too() {
    let db = seeded();
    let a = db
        .query::<Task>()
        .filter_by(Task::TITLE.eq("a"))
        .first()
        .unwrap()
        .unwrap();
    let found = db
        .query::<Task>()
        .filter_by(Task::ID.eq(a.id))
        .fetch()
        .unwrap();
    assert_eq!(titles(&found), ["a"]);
    let recent = db
        .query::<Task>()
        .filter_by(Task::UPDATED_AT.ge(start()))
        .sort_by(Task::CREATED_AT, Order::Asc)
        .count()
        .unwrap();
    assert_eq!(recent, 3);
}

#[test]
fn modify_reads_changes_and_writes_one_record_in_one_transaction() {
    let (db, _) = memory_db();
    let task = db.insert(&Task::new("call back")).unwrap();
    let changed = db.modify::<Task>(task.id, |t| t.done = true).unwrap();
    assert_eq!(
        changed.data,
        Task {
            done: true,
            ..Task::new("call back")
        }
    );
    assert_eq!(changed.sync_status, SyncStatus::Pending);
    assert!(db.get::<Task>(task.id).unwrap().unwrap().data.done);
}

#[test]
fn modify_of_a_deleted_or_missing_record_is_not_found() {
    let (db, _) = memory_db();
    let task = db.insert(&Task::new("gone")).unwrap();
    db.delete::<Task>(task.id).unwrap();
    let err = db.modify::<Task>(task.id, |t| t.done = true).unwrap_err();
    assert!(
        matches!(err, Error::NotFound { entity: "task", .. }),
        "{err}"
    );
    let err = db.modify::<Task>(uuid::Uuid::new_v4(), |_| ()).unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
}

#[test]
fn read_sql_runs_raw_reads_and_write_tx_sql_commits_with_the_typed_writes() {
    let (db, _) = memory_db();
    db.transaction(|tx| {
        tx.sql()
            .execute_batch("CREATE TABLE IF NOT EXISTS app_cache (k TEXT PRIMARY KEY, v TEXT)")
            .map_err(|source| Error::Sqlite { sql: None, source })?;
        tx.insert(&Task::new("report me"))?;
        tx.sql()
            .execute("INSERT INTO app_cache VALUES ('last', 'report me')", [])
            .map_err(|source| Error::Sqlite { sql: None, source })?;
        Ok(())
    })
    .unwrap();
    let (tasks, cached): (i64, String) = db
        .read_sql(|conn| {
            conn.query_row(
                "SELECT (SELECT count(*) FROM tasks WHERE is_deleted = 0), \
                 (SELECT v FROM app_cache WHERE k = 'last')",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
        })
        .unwrap();
    assert_eq!((tasks, cached.as_str()), (1, "report me"));
}

#[test]
fn raw_sql_in_a_failed_transaction_rolls_back_with_it() {
    let (db, _) = memory_db();
    let result: syncwright::Result<()> = db.transaction(|tx| {
        tx.sql()
            .execute("UPDATE tasks SET title = 'x'", [])
            .map_err(|source| Error::Sqlite { sql: None, source })?;
        tx.insert(&Task::new("never"))?;
        Err(Error::NotFound {
            entity: "task",
            id: "stop".into(),
        })
    });
    assert!(result.is_err());
    assert_eq!(db.query::<Task>().count().unwrap(), 0);
    assert!(db.queue().open_entries().unwrap().is_empty());
}

#[test]
fn a_dangling_foreign_key_names_the_child_table_record_column_and_parent() {
    let (db, _) = memory_db();
    let missing = uuid::Uuid::new_v4();
    let err = db
        .insert(&Note {
            task_id: Some(missing),
            body: "orphan".into(),
            pinned: false,
        })
        .unwrap_err();
    let Error::ForeignKey(violation) = &err else {
        panic!("expected a foreign key error, got {err}");
    };
    let syncwright::ForeignKeyViolation {
        table,
        id,
        column,
        parent,
        parent_id,
    } = &**violation;
    assert_eq!(
        (table.as_str(), column.as_str(), parent.as_str()),
        ("notes", "task_id", "tasks")
    );
    assert_eq!(parent_id, &missing.to_string());
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    let message = err.to_string();
    assert!(
        message.contains("`notes` record") && message.contains(&missing.to_string()),
        "{message}"
    );
    // Nothing of the transaction was written.
    assert_eq!(db.query::<Note>().include_deleted().count().unwrap(), 0);
    assert!(db.queue().open_entries().unwrap().is_empty());
}

#[test]
#[allow(unused_qualifications)] // the point is the `syncwright::rusqlite` path
fn rusqlite_is_reexported_for_the_escape_hatches() {
    let _: fn(&syncwright::rusqlite::Connection) -> bool = |c| c.is_autocommit();
    let (db, _) = memory_db();
    let n: i64 = db
        .read_sql(|conn| conn.query_row("SELECT 41 + 1", [], |r| r.get(0)))
        .unwrap();
    assert_eq!(n, 42);
    let _ = Note::ENTITY;
}

/// `read_sql` hands the app a connection that refuses writes, on a file database (where the
/// store's own reads may borrow the idle writer, the app's SQL never does) and in memory; a
/// refused write changes nothing and the store writes as usual afterwards.
#[test]
fn read_sql_refuses_writes_on_file_and_in_memory_databases() {
    let dir = TempDir::new();
    let on_file = Database::open_with(dir.path("app.db"), &migrations(), &[Task::ENTITY]).unwrap();
    let (in_memory, _) = memory_db();
    for db in [&on_file, &in_memory] {
        let kept = db.insert(&Task::new("kept")).unwrap().id;
        let err = db
            .read_sql(|conn| conn.execute("DELETE FROM tasks", []))
            .unwrap_err();
        assert!(
            err.to_string().contains("readonly") || err.to_string().contains("read-only"),
            "{err}"
        );
        assert_eq!(db.get::<Task>(kept).unwrap().unwrap().title, "kept");
        db.insert(&Task::new("still writable")).unwrap();
        assert_eq!(db.query::<Task>().count().unwrap(), 2);
    }
}
