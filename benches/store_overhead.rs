//! What the runtime costs on top of plain SQLite, measured as ratios in one run.
//!
//! Every local write through the store also bumps metadata and appends a queue entry in the
//! same transaction; reads go through a typed query builder. This benchmark runs the same work
//! through the store and through hand-written rusqlite statements on an identical database
//! (the field-service fixture's real migrations), interleaving rounds and taking medians.
//! Absolute times depend on the machine; the ratios are what to watch.
//!
//! ```sh
//! cargo bench --bench store_overhead
//! ```

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use rusqlite::{Connection, params};
use syncwright::{Database, Migrations, Order, Syncable, Uuid};

#[derive(Debug, Clone, PartialEq, Syncable)]
#[syncwright(name = "project")]
struct Project {
    name: String,
    archived: bool,
    slug: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Syncable)]
#[syncwright(conflict = "field_merge", index(columns = ["project_id", "priority"]))]
struct Task {
    title: String,
    details: Option<String>,
    #[syncwright(references = "projects")]
    project_id: Uuid,
    due_on: Option<SystemTime>,
    done: bool,
    #[syncwright(default = 0, index)]
    priority: i64,
}

const ROUNDS: usize = 5;
const SINGLE_WRITES: usize = 300;
const BATCH_WRITES: usize = 10_000;
const QUERY_ROWS: usize = 10_000;
const QUERIES: usize = 200;

fn main() {
    let migrations = Migrations::from_dir("fixtures/field-service/migrations")
        .expect("the fixture migrations load (run from the workspace root)");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut round = 0;
    let mut fresh = || {
        round += 1;
        let path = dir.path().join(format!("bench-{round}.db"));
        let db = Database::open_with(&path, &migrations, &[Project::ENTITY, Task::ENTITY])
            .expect("open");
        let raw = Connection::open(dir.path().join(format!("raw-{round}.db"))).expect("open raw");
        raw.execute_batch(
            &std::fs::read_to_string("fixtures/field-service/migrations/schema.sql").unwrap(),
        )
        .expect("schema");
        raw.pragma_update(None, "journal_mode", "WAL").unwrap();
        (db, raw, path)
    };

    println!(
        "store vs plain rusqlite on the same schema (median of {ROUNDS} rounds; ratio = store / plain)\n"
    );

    let mut single = Vec::new();
    let mut batch = Vec::new();
    let mut query = Vec::new();
    for _ in 0..ROUNDS {
        let (db, raw, path) = fresh();
        let project = db.insert(&project("Depot")).unwrap();
        let raw_project = raw_insert_project(&raw);

        single.push((
            time(|| {
                for i in 0..SINGLE_WRITES {
                    black_box(db.insert(&task(project.id, i)).unwrap());
                }
            }),
            time(|| {
                for i in 0..SINGLE_WRITES {
                    let tx = raw.unchecked_transaction().unwrap();
                    raw_insert_task(&tx, raw_project, i);
                    tx.commit().unwrap();
                }
            }),
        ));

        batch.push((
            time(|| {
                db.transaction(|tx| {
                    for i in 0..BATCH_WRITES {
                        black_box(tx.insert(&task(project.id, i))?);
                    }
                    Ok(())
                })
                .unwrap();
            }),
            time(|| {
                let tx = raw.unchecked_transaction().unwrap();
                for i in 0..BATCH_WRITES {
                    raw_insert_task(&tx, raw_project, i);
                }
                tx.commit().unwrap();
            }),
        ));
        const { assert!(SINGLE_WRITES + BATCH_WRITES >= QUERY_ROWS) };

        query.push((
            time(|| {
                for _ in 0..QUERIES {
                    let page = db
                        .query::<Task>()
                        .filter_eq("project_id", project.id)
                        .filter_eq("done", false)
                        .order_by("priority", Order::Desc)
                        .limit(50)
                        .fetch()
                        .unwrap();
                    black_box(page);
                }
            }),
            time(|| {
                let mut stmt = raw
                    .prepare_cached(
                        "SELECT * FROM tasks WHERE project_id = ?1 AND done = 0 AND is_deleted = 0 \
                         ORDER BY priority DESC LIMIT 50",
                    )
                    .unwrap();
                let columns = stmt.column_count();
                for _ in 0..QUERIES {
                    // What a hand-written mapper reads: every column of every row.
                    let page: Vec<Vec<rusqlite::types::Value>> = stmt
                        .query_map([raw_project.to_string()], |r| {
                            (0..columns).map(|i| r.get(i)).collect()
                        })
                        .unwrap()
                        .map(Result::unwrap)
                        .collect();
                    black_box(page);
                }
            }),
        ));

        drop((db, path));
    }

    report("insert, one transaction each", SINGLE_WRITES, &single);
    report("insert, one transaction for all", BATCH_WRITES, &batch);
    report("query a page of 50 of 10k rows", QUERIES, &query);

    let (dir, (db, _raw, path)) = (dir.path().to_path_buf(), fresh());
    let (pending, synced) = sizes(&db, &path);
    drop(dir);
    println!(
        "\ndatabase size per 1,000 tasks (target < 500 KB): {:.0} KB with every write still queued, \
         {:.0} KB once synced and completed queue entries purged",
        pending / 1024.0,
        synced / 1024.0
    );
}

/// Bytes per 1,000 tasks: right after writing them offline (each with its queued payload), and
/// after a sync pushed them all and the completed entries were purged.
fn sizes(db: &Database, path: &Path) -> (f64, f64) {
    const RECORDS: usize = 2_000;
    let project = db.insert(&project("Depot")).unwrap();
    db.transaction(|tx| {
        for i in 0..RECORDS {
            tx.insert(&task(project.id, i))?;
        }
        Ok(())
    })
    .unwrap();
    let pending = bytes_per_thousand(path, RECORDS);
    loop {
        let batch = db.queue().next_batch(500).unwrap();
        if batch.is_empty() {
            break;
        }
        for entry in batch {
            db.queue().complete(entry.id).unwrap();
        }
    }
    db.purge_tombstones(Duration::ZERO).unwrap();
    (pending, bytes_per_thousand(path, RECORDS))
}

fn project(name: &str) -> Project {
    Project {
        name: name.into(),
        archived: false,
        slug: None,
    }
}

fn task(project_id: Uuid, i: usize) -> Task {
    Task {
        title: format!("Inspect pump {i}"),
        details: Some("Check the seals and the pressure gauge.".into()),
        project_id,
        due_on: Some(SystemTime::now()),
        done: i.is_multiple_of(3),
        priority: (i % 5) as i64,
    }
}

fn raw_insert_project(conn: &Connection) -> Uuid {
    let id = Uuid::new_v4();
    conn.execute(
        "INSERT INTO projects (id, name) VALUES (?1, 'Depot')",
        [id.to_string()],
    )
    .unwrap();
    id
}

fn raw_insert_task(conn: &Connection, project: Uuid, i: usize) {
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    conn.prepare_cached(
        "INSERT INTO tasks (id, created_at, updated_at, title, details, project_id, due_on, done, priority) \
         VALUES (?1, ?2, ?2, ?3, ?4, ?5, ?2, ?6, ?7)",
    )
    .unwrap()
    .execute(params![
        Uuid::new_v4().to_string(),
        now,
        format!("Inspect pump {i}"),
        "Check the seals and the pressure gauge.",
        project.to_string(),
        i.is_multiple_of(3),
        (i % 5) as i64,
    ])
    .unwrap();
}

fn time(f: impl FnOnce()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn report(what: &str, ops: usize, samples: &[(Duration, Duration)]) {
    let store = median(samples.iter().map(|s| s.0).collect());
    let plain = median(samples.iter().map(|s| s.1).collect());
    println!(
        "{what:<34} ratio {:>5.2}x   (store {:>8.1} µs/op, plain {:>8.1} µs/op)",
        store.as_secs_f64() / plain.as_secs_f64(),
        store.as_secs_f64() * 1e6 / ops as f64,
        plain.as_secs_f64() * 1e6 / ops as f64,
    );
}

/// Database size per 1,000 records, compacted first (VACUUM) so free pages do not count.
fn bytes_per_thousand(path: &Path, records: usize) -> f64 {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch("VACUUM").unwrap();
    let bytes: i64 = conn
        .query_row(
            "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
            [],
            |r| r.get(0),
        )
        .unwrap();
    bytes as f64 * 1000.0 / records as f64
}
