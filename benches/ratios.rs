//! What the runtime costs on top of hand-written rusqlite doing the same durable work, as
//! ratios: `cargo bench --bench ratios` (full sizes) or `cargo bench --bench ratios -- --quick`
//! (CI sizes, under a minute).
//!
//! Each benchmark is a pair A/B run on twin databases made by the same migrations (so the same
//! tables, indexes and PRAGMAs), interleaved round by round (A first on even rounds, B first on
//! odd ones) so drift of the machine hits both sides. The baselines are honest: prepared
//! statements, the same rows, the same transaction batching, and a raw local write also appends
//! its queue row. The table printed at the end holds N, the median time of each side, the median
//! of the per-round ratios A/B, their min–max, and rows per second of side A; the same figures go
//! to `target/syncwright-bench.json`. Absolute times depend on the machine; watch the ratios.

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use rusqlite::{Connection, params};
use syncwright::{Database, Migrations, Order, Syncable, Uuid};
use syncwright_codegen::model::{Column, ColumnRole, FieldType};
use syncwright_codegen::render::ddl::column_definition;

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

const MIGRATIONS: &str = "fixtures/field-service/migrations";

/// The sizes of one run.
struct Sizes {
    rounds: usize,
    single_writes: usize,
    batch_writes: usize,
    list_table: usize,
    gets: usize,
    drain: usize,
    big_table: usize,
    small_table: usize,
}

const FULL: Sizes = Sizes {
    rounds: 5,
    single_writes: 1_000,
    batch_writes: 10_000,
    list_table: 50_000,
    gets: 10_000,
    drain: 10_000,
    big_table: 1_000_000,
    small_table: 1_000,
};

const QUICK: Sizes = Sizes {
    rounds: 3,
    single_writes: 30,
    batch_writes: 2_000,
    list_table: 5_000,
    gets: 2_000,
    drain: 300,
    big_table: 50_000,
    small_table: 1_000,
};

/// The figures of one pair.
struct Figures {
    name: String,
    n: usize,
    /// The goal for the median ratio A/B.
    goal: Option<f64>,
    a: Vec<Duration>,
    b: Vec<Duration>,
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let sizes = if quick { QUICK } else { FULL };
    let migrations = Migrations::from_dir(MIGRATIONS)
        .expect("the fixture migrations load (run from the workspace root)");
    let dir = tempfile::tempdir().expect("temp dir");
    let twins = Twins {
        dir: dir.path(),
        migrations: &migrations,
        made: std::cell::Cell::new(0),
    };

    // `cargo bench --bench ratios -- [--quick] [name...]`: only the benchmarks whose key holds
    // one of the names (all when none is given), for profiling one path.
    let names: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let wanted = |key: &str| names.is_empty() || names.iter().any(|n| key.contains(n.as_str()));
    // Each benchmark: its key, the goal for the ratio (if any), and how to run it.
    type Bench<'a> = (&'static str, Option<f64>, Box<dyn Fn() -> Figures + 'a>);
    let benches: Vec<Bench<'_>> = vec![
        (
            "insert_single",
            Some(1.1),
            Box::new(|| insert_single(&twins, &sizes)),
        ),
        (
            "insert_batch",
            Some(1.25),
            Box::new(|| insert_batch(&twins, &sizes)),
        ),
        (
            "update_single",
            Some(1.1),
            Box::new(|| update_single(&twins, &sizes)),
        ),
        (
            "update_batch",
            Some(1.3),
            Box::new(|| update_batch(&twins, &sizes)),
        ),
        ("list", Some(1.2), Box::new(|| list(&twins, &sizes))),
        ("get", Some(1.2), Box::new(|| get(&twins, &sizes))),
        ("drain", Some(1.5), Box::new(|| drain(&twins, &sizes))),
        (
            "add_integer_column",
            Some(2.0),
            Box::new(|| add_column(dir.path(), &sizes, FieldType::Integer)),
        ),
        (
            "add_bool_column",
            Some(2.0),
            Box::new(|| add_column(dir.path(), &sizes, FieldType::Bool)),
        ),
        (
            "add_json_column",
            Some(2.0),
            Box::new(|| add_column(dir.path(), &sizes, FieldType::Json)),
        ),
    ];
    let mut all = Vec::new();
    for (key, goal, run) in &benches {
        if wanted(key) {
            all.push(Figures {
                goal: *goal,
                ..run()
            });
        }
    }
    print_table(&all, quick);
    write_json(&all);
    if wanted("sizes") {
        let (pending, synced, plain) = sizes_per_thousand(&twins, &sizes);
        println!(
            "\ndatabase size per 1,000 tasks: {pending:.0} KB with every write queued, {synced:.0} KB \
             after sync + purge + VACUUM (a plain table without sync columns: {plain:.0} KB)"
        );
    }
}

/// Makes pairs of databases: one opened through the store, one raw connection to an identical
/// file (same migrations, so same tables, indexes, journal mode and runtime tables).
struct Twins<'a> {
    dir: &'a Path,
    migrations: &'a syncwright::OwnedMigrations,
    made: std::cell::Cell<usize>,
}

impl Twins<'_> {
    fn path(&self, side: &str) -> PathBuf {
        self.made.set(self.made.get() + 1);
        self.dir.join(format!("{side}-{}.db", self.made.get()))
    }

    fn store(&self) -> (Database, PathBuf) {
        let path = self.path("store");
        let db = Database::open_with(&path, self.migrations, &[Project::ENTITY, Task::ENTITY])
            .expect("open");
        (db, path)
    }

    fn raw(&self) -> Connection {
        let path = self.path("raw");
        drop(Database::open(&path, self.migrations).expect("open"));
        let conn = Connection::open(&path).expect("open raw");
        // What the store's writer connection sets.
        conn.busy_timeout(Duration::from_secs(5)).unwrap();
        conn.pragma_update(None, "foreign_keys", "ON").unwrap();
        conn
    }
}

/// Runs `rounds` rounds of A and B, each on fresh state from its `setup`, alternating which side
/// goes first.
fn pair<SA, SB>(
    name: &str,
    n: usize,
    rounds: usize,
    mut setup_a: impl FnMut() -> SA,
    mut run_a: impl FnMut(&mut SA),
    mut setup_b: impl FnMut() -> SB,
    mut run_b: impl FnMut(&mut SB),
) -> Figures {
    let mut figures = Figures {
        name: name.to_owned(),
        n,
        goal: None,
        a: Vec::new(),
        b: Vec::new(),
    };
    for round in 0..rounds {
        let mut a = || {
            let mut state = setup_a();
            let start = Instant::now();
            run_a(&mut state);
            start.elapsed()
        };
        let mut b = || {
            let mut state = setup_b();
            let start = Instant::now();
            run_b(&mut state);
            start.elapsed()
        };
        if round % 2 == 0 {
            figures.a.push(a());
            figures.b.push(b());
        } else {
            figures.b.push(b());
            figures.a.push(a());
        }
    }
    eprintln!("  done: {name}");
    figures
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn project() -> Project {
    Project {
        name: "Depot".into(),
        archived: false,
        slug: None,
    }
}

fn task(project_id: Uuid, i: usize) -> Task {
    Task {
        title: format!("Inspect pump {i}"),
        details: Some("Check the seals and the pressure gauge.".into()),
        project_id,
        due_on: Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)),
        done: i.is_multiple_of(3),
        priority: (i % 5) as i64,
    }
}

/// The raw side's project row.
fn raw_project(conn: &Connection) -> Uuid {
    let id = Uuid::new_v4();
    conn.execute(
        "INSERT INTO projects (id, name) VALUES (?1, 'Depot')",
        [id.to_string()],
    )
    .unwrap();
    id
}

/// The raw equivalent of a store insert: the row with its sync metadata, and its queue row
/// (the full payload, as JSON) in the same transaction.
fn raw_insert_task(conn: &Connection, project: Uuid, i: usize) -> Uuid {
    let id = Uuid::new_v4();
    let t = task(project, i);
    let now = now_ms();
    let due = t.due_on.map(|d| {
        d.duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64
    });
    conn.prepare_cached(
        "INSERT INTO tasks (id, created_at, updated_at, is_deleted, version, sync_status, \
         field_timestamps, title, details, project_id, due_on, done, priority) \
         VALUES (?1, ?2, ?2, 0, 1, 'pending', '{}', ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .unwrap()
    .execute(params![
        id.to_string(),
        now,
        t.title,
        t.details,
        project.to_string(),
        due,
        t.done,
        t.priority,
    ])
    .unwrap();
    let payload = serde_json::json!({
        "title": t.title, "details": t.details, "project_id": project.to_string(),
        "due_on": due, "done": t.done, "priority": t.priority,
    });
    raw_enqueue(conn, "create", id, &payload.to_string(), now);
    id
}

fn raw_enqueue(conn: &Connection, action: &str, id: Uuid, payload: &str, now: i64) {
    conn.prepare_cached(
        "INSERT INTO _sync_queue (idempotency_key, entity_type, action, entity_id, payload, \
         schema_version, max_retries, next_attempt_at, created_at) \
         VALUES (?1, 'task', ?2, ?3, ?4, 5, 10, ?5, ?5)",
    )
    .unwrap()
    .execute(params![
        Uuid::new_v4().to_string(),
        action,
        id.to_string(),
        payload,
        now
    ])
    .unwrap();
}

/// The raw equivalent of a store update of a `field_merge` record: read the current values,
/// write the changed fields and their timestamps, queue the change.
fn raw_update_task(conn: &Connection, id: Uuid, i: usize) {
    let now = now_ms();
    let key = id.to_string();
    let (title, stamps): (String, String) = conn
        .prepare_cached("SELECT title, field_timestamps FROM tasks WHERE id = ?1")
        .unwrap()
        .query_row([&key], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    let new_title = format!("Inspect valve {i}");
    black_box(title != new_title);
    let mut stamps: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&stamps).unwrap();
    stamps.insert("title".into(), now.into());
    conn.prepare_cached(
        "UPDATE tasks SET title = ?1, field_timestamps = ?2, updated_at = ?3, \
         version = version + 1, sync_status = 'pending' WHERE id = ?4",
    )
    .unwrap()
    .execute(params![
        new_title,
        serde_json::Value::Object(stamps).to_string(),
        now,
        key
    ])
    .unwrap();
    let payload = serde_json::json!({ "title": new_title });
    raw_enqueue(conn, "update", id, &payload.to_string(), now);
}

fn insert_single(twins: &Twins<'_>, s: &Sizes) -> Figures {
    let n = s.single_writes;
    pair(
        "insert, one transaction each",
        n,
        s.rounds,
        || {
            let (db, _) = twins.store();
            let p = db.insert(&project()).unwrap().id;
            (db, p)
        },
        |(db, p)| {
            for i in 0..n {
                black_box(db.insert(&task(*p, i)).unwrap());
            }
        },
        || {
            let raw = twins.raw();
            let p = raw_project(&raw);
            (raw, p)
        },
        |(raw, p)| {
            for i in 0..n {
                let tx = raw.transaction().unwrap();
                black_box(raw_insert_task(&tx, *p, i));
                tx.commit().unwrap();
            }
        },
    )
}

fn insert_batch(twins: &Twins<'_>, s: &Sizes) -> Figures {
    let n = s.batch_writes;
    pair(
        "insert, all in one transaction",
        n,
        s.rounds,
        || {
            let (db, _) = twins.store();
            let p = db.insert(&project()).unwrap().id;
            (db, p)
        },
        |(db, p)| {
            db.transaction(|tx| {
                for i in 0..n {
                    black_box(tx.insert(&task(*p, i))?);
                }
                Ok(())
            })
            .unwrap();
        },
        || {
            let raw = twins.raw();
            let p = raw_project(&raw);
            (raw, p)
        },
        |(raw, p)| {
            let tx = raw.transaction().unwrap();
            for i in 0..n {
                black_box(raw_insert_task(&tx, *p, i));
            }
            tx.commit().unwrap();
        },
    )
}

/// A store with `n` tasks whose queue entries were all pushed (so updates are not coalesced
/// into a pending create).
fn store_with_tasks(twins: &Twins<'_>, n: usize) -> (Database, Vec<Uuid>, Uuid) {
    let (db, _) = twins.store();
    let p = db.insert(&project()).unwrap().id;
    let ids = db
        .transaction(|tx| (0..n).map(|i| Ok(tx.insert(&task(p, i))?.id)).collect())
        .unwrap();
    drain_store(&db);
    (db, ids, p)
}

fn raw_with_tasks(twins: &Twins<'_>, n: usize) -> (Connection, Vec<Uuid>) {
    let mut raw = twins.raw();
    let p = raw_project(&raw);
    let tx = raw.transaction().unwrap();
    let ids = (0..n).map(|i| raw_insert_task(&tx, p, i)).collect();
    tx.execute_batch(
        "UPDATE _sync_queue SET status = 'completed'; UPDATE tasks SET sync_status = 'synced';",
    )
    .unwrap();
    tx.commit().unwrap();
    (raw, ids)
}

fn drain_store(db: &Database) {
    loop {
        let batch = db.queue().next_batch(50).unwrap();
        if batch.is_empty() {
            break;
        }
        let ids: Vec<i64> = batch.iter().map(|e| e.id).collect();
        db.queue().complete_all(&ids).unwrap();
    }
}

fn update_single(twins: &Twins<'_>, s: &Sizes) -> Figures {
    let n = s.single_writes;
    pair(
        "update, one transaction each",
        n,
        s.rounds,
        || store_with_tasks(twins, n),
        |(db, ids, p)| {
            for (i, id) in ids.iter().enumerate() {
                let mut t = task(*p, i);
                t.title = format!("Inspect valve {i}");
                black_box(db.update(*id, &t).unwrap());
            }
        },
        || raw_with_tasks(twins, n),
        |(raw, ids)| {
            for (i, id) in ids.iter().enumerate() {
                let tx = raw.transaction().unwrap();
                raw_update_task(&tx, *id, i);
                tx.commit().unwrap();
            }
        },
    )
}

fn update_batch(twins: &Twins<'_>, s: &Sizes) -> Figures {
    let n = s.batch_writes;
    pair(
        "update, all in one transaction",
        n,
        s.rounds,
        || store_with_tasks(twins, n),
        |(db, ids, p)| {
            db.transaction(|tx| {
                for (i, id) in ids.iter().enumerate() {
                    let mut t = task(*p, i);
                    t.title = format!("Inspect valve {i}");
                    black_box(tx.update(*id, &t)?);
                }
                Ok(())
            })
            .unwrap();
        },
        || raw_with_tasks(twins, n),
        |(raw, ids)| {
            let tx = raw.transaction().unwrap();
            for (i, id) in ids.iter().enumerate() {
                raw_update_task(&tx, *id, i);
            }
            tx.commit().unwrap();
        },
    )
}

fn list(twins: &Twins<'_>, s: &Sizes) -> Figures {
    let n = s.list_table;
    // A fifth of the rows match: priority 4 of 0..5, ordered by the same index.
    pair(
        "list 1/5 of a table, filtered + ordered",
        n,
        s.rounds,
        || store_with_tasks(twins, n),
        |(db, _, p)| {
            let rows = db
                .query::<Task>()
                .filter_eq("project_id", *p)
                .filter_eq("priority", 4i64)
                .order_by("priority", Order::Asc)
                .fetch()
                .unwrap();
            assert_eq!(rows.len(), n / 5);
            black_box(rows);
        },
        || raw_with_tasks(twins, n).0,
        |raw| {
            let p: String = raw
                .query_row("SELECT project_id FROM tasks LIMIT 1", [], |r| r.get(0))
                .unwrap();
            let mut stmt = raw
                .prepare_cached(
                    "SELECT * FROM tasks WHERE is_deleted = 0 AND project_id = ?1 AND priority = 4 \
                     ORDER BY priority, rowid",
                )
                .unwrap();
            let columns = stmt.column_count();
            // What a hand-written mapper reads: every column of every row.
            let rows: Vec<Vec<rusqlite::types::Value>> = stmt
                .query_map([p], |r| (0..columns).map(|i| r.get(i)).collect())
                .unwrap()
                .map(Result::unwrap)
                .collect();
            assert_eq!(rows.len(), n / 5);
            black_box(rows);
        },
    )
}

fn get(twins: &Twins<'_>, s: &Sizes) -> Figures {
    let n = s.gets;
    pair(
        "point get by id",
        n,
        s.rounds,
        || store_with_tasks(twins, n),
        |(db, ids, _)| {
            for id in ids.iter() {
                black_box(db.get::<Task>(*id).unwrap().unwrap());
            }
        },
        || raw_with_tasks(twins, n),
        |(raw, ids)| {
            let mut stmt = raw
                .prepare_cached("SELECT * FROM tasks WHERE id = ?1 AND is_deleted = 0")
                .unwrap();
            let columns = stmt.column_count();
            for id in ids.iter() {
                let row: Vec<rusqlite::types::Value> = stmt
                    .query_row([id.to_string()], |r| {
                        (0..columns).map(|i| r.get(i)).collect()
                    })
                    .unwrap();
                black_box(row);
            }
        },
    )
}

fn drain(twins: &Twins<'_>, s: &Sizes) -> Figures {
    let n = s.drain;
    pair(
        "queue drain, next_batch(50) + complete_all",
        n,
        s.rounds,
        || {
            let (db, _) = twins.store();
            let p = db.insert(&project()).unwrap().id;
            db.transaction(|tx| {
                for i in 0..n {
                    tx.insert(&task(p, i))?;
                }
                Ok(())
            })
            .unwrap();
            db
        },
        |db| drain_store(db),
        || {
            let mut raw = twins.raw();
            let p = raw_project(&raw);
            let tx = raw.transaction().unwrap();
            raw_enqueue(&tx, "create", p, "{}", now_ms());
            for i in 0..n {
                raw_insert_task(&tx, p, i);
            }
            tx.commit().unwrap();
            raw
        },
        |raw| {
            // Claim 50 in queue order, then settle the answered batch in one transaction, as
            // `Queue::complete_all` does.
            loop {
                let tx = raw.transaction().unwrap();
                let batch: Vec<(i64, String)> = tx
                    .prepare_cached(
                        "SELECT id, entity_id FROM _sync_queue WHERE status = 'pending' \
                         ORDER BY id LIMIT 50",
                    )
                    .unwrap()
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                    .unwrap()
                    .map(Result::unwrap)
                    .collect();
                for (id, _) in &batch {
                    tx.prepare_cached(
                        "UPDATE _sync_queue SET status = 'in_flight', claimed_by = 'x' WHERE id = ?1",
                    )
                    .unwrap()
                    .execute([id])
                    .unwrap();
                }
                tx.commit().unwrap();
                if batch.is_empty() {
                    break;
                }
                let tx = raw.transaction().unwrap();
                for (id, entity) in &batch {
                    tx.prepare_cached(
                        "UPDATE _sync_queue SET status = 'completed', claimed_by = NULL WHERE id = ?1",
                    )
                    .unwrap()
                    .execute([id])
                    .unwrap();
                    tx.prepare_cached(
                        "UPDATE tasks SET sync_status = 'synced', synced_at = ?1 WHERE id = ?2",
                    )
                    .unwrap()
                    .execute(params![now_ms(), entity])
                    .unwrap();
                }
                tx.commit().unwrap();
            }
        },
    )
}

/// `ALTER TABLE ... ADD COLUMN` of a generated column of type `ty` (with a default) on a table
/// of `big_table` rows (A) vs `small_table` rows (B): O(1) keeps the ratio near 1.
fn add_column(dir: &Path, s: &Sizes, ty: FieldType) -> Figures {
    let default = match ty {
        FieldType::Json => "'{}'",
        _ => "0",
    };
    let column = Column {
        name: "added".into(),
        ty,
        role: ColumnRole::Domain,
        nullable: false,
        primary_key: false,
        default_sql: Some(default.into()),
        check_sql: None,
        references: None,
        renamed_from: None,
        backfill: None,
        deprecated: false,
    };
    let sql = format!("ALTER TABLE t ADD COLUMN {}", column_definition(&column));
    let filled = |rows: usize, name: &str| {
        let path = dir.join(format!("{name}-{}.db", ty.as_str()));
        let _ = std::fs::remove_file(&path);
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(&format!(
            "PRAGMA journal_mode = WAL; \
             CREATE TABLE t (id INTEGER PRIMARY KEY, title TEXT NOT NULL, done INTEGER NOT NULL); \
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows}) \
             INSERT INTO t SELECT i, 'task number ' || i, i % 2 FROM n;"
        ))
        .unwrap();
        conn
    };
    let run = |conn: &mut Connection| conn.execute_batch(&sql).unwrap();
    pair(
        &format!("add a {} column, big / small table", ty.as_str()),
        s.big_table,
        s.rounds,
        || filled(s.big_table, "big"),
        run,
        || filled(s.small_table, "small"),
        run,
    )
}

/// KB per 1,000 tasks: with every write queued; after a sync, the purge and VACUUM; and a plain
/// table of the same domain columns without sync columns or queue.
fn sizes_per_thousand(twins: &Twins<'_>, s: &Sizes) -> (f64, f64, f64) {
    let n = s.batch_writes;
    let (empty_db, empty_path) = twins.store();
    drop(empty_db);
    let empty = file_kb(&empty_path);
    let (db, path) = twins.store();
    let p = db.insert(&project()).unwrap().id;
    db.transaction(|tx| {
        for i in 0..n {
            tx.insert(&task(p, i))?;
        }
        Ok(())
    })
    .unwrap();
    let pending = file_kb(&path) - empty;
    drain_store(&db);
    db.purge_tombstones(Duration::ZERO).unwrap();
    let synced = file_kb(&path) - empty;
    let plain_path = twins.path("plain");
    let plain = Connection::open(&plain_path).unwrap();
    plain
        .execute_batch(
            "CREATE TABLE tasks (id TEXT PRIMARY KEY NOT NULL, title TEXT NOT NULL, details TEXT, \
             project_id TEXT NOT NULL, due_on INTEGER, done INTEGER NOT NULL, priority INTEGER NOT NULL); \
             CREATE INDEX tasks_project_priority ON tasks (project_id, priority);",
        )
        .unwrap();
    let plain_empty = file_kb(&plain_path);
    let tx = plain.unchecked_transaction().unwrap();
    for i in 0..n {
        let t = task(p, i);
        tx.execute(
            "INSERT INTO tasks VALUES (?1, ?2, ?3, ?4, 1700000000000, ?5, ?6)",
            params![
                Uuid::new_v4().to_string(),
                t.title,
                t.details,
                p.to_string(),
                t.done,
                t.priority
            ],
        )
        .unwrap();
    }
    tx.commit().unwrap();
    let plain_kb = file_kb(&plain_path) - plain_empty;
    let per = |kb: f64| kb * 1000.0 / n as f64;
    (per(pending), per(synced), per(plain_kb))
}

/// The size of the database at `path` once compacted (VACUUM), so free pages do not count.
fn file_kb(path: &Path) -> f64 {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); VACUUM")
        .unwrap();
    let bytes: i64 = conn
        .query_row(
            "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
            [],
            |r| r.get(0),
        )
        .unwrap();
    bytes as f64 / 1024.0
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

impl Figures {
    fn ratios(&self) -> Vec<f64> {
        self.a
            .iter()
            .zip(&self.b)
            .map(|(a, b)| a.as_secs_f64() / b.as_secs_f64())
            .collect()
    }
    fn a_median(&self) -> f64 {
        median(self.a.iter().map(Duration::as_secs_f64).collect())
    }
    fn b_median(&self) -> f64 {
        median(self.b.iter().map(Duration::as_secs_f64).collect())
    }
}

fn print_table(all: &[Figures], quick: bool) {
    println!(
        "\nstore (A) vs hand-written rusqlite (B) — {} sizes, medians of interleaved rounds\n",
        if quick { "quick" } else { "full" }
    );
    println!(
        "{:<42} {:>9} {:>11} {:>11} {:>7} {:>13} {:>6} {:>11}",
        "benchmark", "N", "A median", "B median", "A/B", "A/B min–max", "goal", "A rows/s"
    );
    for f in all {
        let ratios = f.ratios();
        let min = ratios.iter().copied().fold(f64::INFINITY, f64::min);
        let max = ratios.iter().copied().fold(0.0, f64::max);
        println!(
            "{:<42} {:>9} {:>9.4} s {:>9.4} s {:>6.2}× {:>5.2}–{:<5.2}  {:>6} {:>11.0}",
            f.name,
            f.n,
            f.a_median(),
            f.b_median(),
            median(ratios),
            min,
            max,
            f.goal.map_or_else(|| "—".to_owned(), |g| format!("≤{g}")),
            f.n as f64 / f.a_median()
        );
    }
}

fn write_json(all: &[Figures]) {
    let mut out = String::from("[\n");
    for (i, f) in all.iter().enumerate() {
        let ratios = f.ratios();
        let min = ratios.iter().copied().fold(f64::INFINITY, f64::min);
        let max = ratios.iter().copied().fold(0.0, f64::max);
        let object = serde_json::json!({
            "name": f.name,
            "n": f.n,
            "ratio_median": median(ratios),
            "goal": f.goal,
            "ratio_min": min,
            "ratio_max": max,
            "a_median_s": f.a_median(),
            "b_median_s": f.b_median(),
            "rounds": f.a.len(),
        });
        let comma = if i + 1 < all.len() { "," } else { "" };
        writeln!(out, "  {object}{comma}").unwrap();
    }
    out.push_str("]\n");
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| PathBuf::from("target"), PathBuf::from);
    let path = target.join("syncwright-bench.json");
    std::fs::write(&path, out).expect("write the bench JSON");
    println!("\nwritten: {}", path.display());
}
