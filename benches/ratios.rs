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

#[path = "support/bench_json.rs"]
mod bench_json;

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::Arc;

use rusqlite::{Connection, OptionalExtension, params};
use syncwright::sync::SyncOptions;
use syncwright::sync::http::HttpTransport;
use syncwright::sync::protocol::{
    Action as ProtocolAction, Cursor, Fields, Mutation, Outcome, PROTOCOL_VERSION, PullRequest,
    PullResponse, PushRequest, PushResponse, RemoteRecord,
};
use syncwright::sync::transport::{Transport, TransportError};
use syncwright::{Database, Migrations, Order, Syncable, Uuid};
use syncwright_codegen::model::{Column, ColumnRole, FieldType};
use syncwright_codegen::render::ddl::{column_definition, type_triggers};

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

use syncwright_server::Server;
use syncwright_server::catalog::Catalog;
use syncwright_server::http::{HttpConfig, router, serve};
use syncwright_server::storage::SqliteStorage;
use syncwright_server::tokens::{Tokens, hash_token};
use syncwright_server::transport::InProcessTransport;

const MIGRATIONS: &str = "fixtures/field-service/migrations";
const PROJECT: &str = "fixtures/field-service/syncwright.toml";
/// The schema version the fixture migrations reach.
const MIGRATED_VERSION: u32 = 5;

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
    pulled: usize,
    pushed: usize,
    migrated_rows: usize,
    entities_big: usize,
    entities_small: usize,
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
    pulled: 100_000,
    pushed: 10_000,
    migrated_rows: 100_000,
    entities_big: 1_000,
    entities_small: 100,
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
    pulled: 5_000,
    pushed: 500,
    migrated_rows: 5_000,
    entities_big: 100,
    entities_small: 10,
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
            "migrate_v1_v5",
            Some(1.1),
            Box::new(|| migrate_v1_v5(&twins, &sizes)),
        ),
        (
            "codegen_scale",
            Some(12.0),
            Box::new(|| codegen_scale(dir.path(), &sizes)),
        ),
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
        (
            "pull_apply",
            Some(1.5),
            Box::new(|| pull_apply(&twins, &sizes)),
        ),
        (
            "push_drain",
            Some(1.5),
            Box::new(|| push_drain(&twins, &sizes)),
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
    if wanted("http") {
        all.extend(http_targets(&twins, &sizes).into_iter().map(|f| Figures {
            goal: Some(1.0),
            ..f
        }));
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
/// in the same transaction (a create's row holds no payload: the push reads the record).
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
    raw_enqueue(conn, "create", id, None, now);
    id
}

/// A queue row as the store writes it: the idempotency key's 16 bytes, no payload for a create.
fn raw_enqueue(conn: &Connection, action: &str, id: Uuid, payload: Option<&str>, now: i64) {
    conn.prepare_cached(
        "INSERT INTO _sync_queue (idempotency_key, entity_type, action, entity_id, payload, \
         schema_version, max_retries, next_attempt_at, created_at) \
         VALUES (?1, 'task', ?2, ?3, ?4, 5, 10, ?5, ?5)",
    )
    .unwrap()
    .execute(params![
        Uuid::new_v4().as_bytes(),
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
    raw_enqueue(conn, "update", id, Some(&payload.to_string()), now);
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
            raw_enqueue_project(&tx, p);
            for i in 0..n {
                raw_insert_task(&tx, p, i);
            }
            tx.commit().unwrap();
            raw
        },
        |raw| {
            // Claim 50 in queue order with what a push sends (a create's fields come from
            // its row), then settle the answered batch in one transaction, as
            // `Queue::complete_all` does.
            loop {
                let batch = black_box(raw_claim(raw, 50));
                if batch.is_empty() {
                    break;
                }
                let tx = raw.transaction().unwrap();
                for Claimed { id, record, .. } in &batch {
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
                    .execute(params![now_ms(), record])
                    .unwrap();
                }
                tx.commit().unwrap();
            }
        },
    )
}

/// The runtime opening a v1 database of `migrated_rows` tasks with the v1→v5 migrations (A)
/// vs hand-written rusqlite opening it and running the same four migration files (each is one
/// transaction with its `user_version` bump) (B). Both start from copies of one filled file.
fn migrate_v1_v5(twins: &Twins<'_>, s: &Sizes) -> Figures {
    let n = s.migrated_rows;
    let all = twins.migrations;
    let v1 = syncwright::OwnedMigrations {
        version: 1,
        schema: syncwright::OwnedMigration::new(1, "schema", all.steps[0].sql.clone()),
        steps: vec![all.steps[0].clone()],
    };
    let template = twins.path("v1-template");
    drop(Database::open(&template, &v1).unwrap());
    let conn = Connection::open(&template).unwrap();
    conn.execute_batch(&format!(
        "BEGIN; \
         INSERT INTO projects (id, name) VALUES ('00000000-0000-4000-8000-000000000001', 'Depot'); \
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n}) \
         INSERT INTO tasks (id, title, notes, project_id, due_on, done) \
         SELECT printf('%08x-0000-4000-8000-%012x', i, i), 'Inspect pump ' || i, \
                CASE WHEN i % 2 = 0 THEN 'Check the seals.' END, \
                '00000000-0000-4000-8000-000000000001', 1700000000000, i % 3 = 0 FROM n; \
         COMMIT; PRAGMA wal_checkpoint(TRUNCATE);"
    ))
    .unwrap();
    drop(conn);
    let copy = |side: &str| {
        let path = twins.path(side);
        std::fs::copy(&template, &path).unwrap();
        path
    };
    pair(
        "migrate v1→v5, rows kept",
        n,
        s.rounds,
        || copy("migrate-store"),
        |path| drop(black_box(Database::open(&*path, all).unwrap())),
        || copy("migrate-raw"),
        |path| {
            let conn = Connection::open(&*path).unwrap();
            conn.pragma_update(None, "journal_mode", "WAL").unwrap();
            conn.pragma_update(None, "foreign_keys", "ON").unwrap();
            // Each file is one transaction with its `user_version` bump.
            for step in &all.steps[1..] {
                conn.execute_batch(&step.sql).unwrap();
            }
        },
    )
}

/// The generator releasing a new version of a project of `entities_big` entities (A) vs one
/// of `entities_small` (B): `migrate new` (load, diff against the frozen history, plan, render,
/// rehearse, write), then `generate` and `check`. Linear work keeps the ratio near
/// `entities_big / entities_small`.
fn codegen_scale(dir: &Path, s: &Sizes) -> Figures {
    let made = std::cell::Cell::new(0);
    let project = |entities: usize| {
        made.set(made.get() + 1);
        let root = dir.join(format!("codegen-{}-{entities}", made.get()));
        let schema = root.join("schema");
        std::fs::create_dir_all(&schema).unwrap();
        let config = root.join("syncwright.toml");
        let write = |version: u32| {
            for i in 0..entities {
                let parent = if i == 0 {
                    String::new()
                } else {
                    format!(
                        "parent_id = {{ type = \"uuid\", nullable = true, references = \"t{}\" }}\n",
                        i - 1
                    )
                };
                let added = if version == 2 {
                    "rating = { type = \"integer\", default = 0 }\n"
                } else {
                    ""
                };
                std::fs::write(
                    schema.join(format!("e{i}.toml")),
                    format!(
                        "[entity]\nname = \"e{i}\"\ntable = \"t{i}\"\n\n[fields]\n\
                         title = {{ type = \"text\" }}\ncount = {{ type = \"integer\", default = 0 }}\n\
                         {parent}{added}"
                    ),
                )
                .unwrap();
            }
            std::fs::write(
                &config,
                format!(
                    "[schema]\nversion = {version}\nentities = [\"schema/*.toml\"]\n\
                     history = \"schema/history\"\n\n[output]\nmigrations = \"migrations\"\n"
                ),
            )
            .unwrap();
        };
        write(1);
        syncwright_codegen::migrate_new(&config, "init").unwrap();
        write(2);
        config
    };
    let release = |config: &mut PathBuf| {
        syncwright_codegen::migrate_new(&*config, "rating").unwrap();
        syncwright_codegen::generate(&*config).unwrap();
        syncwright_codegen::check(&*config).unwrap();
    };
    pair(
        &format!(
            "codegen: release v2, {} / {} entities",
            s.entities_big, s.entities_small
        ),
        s.entities_big,
        s.rounds,
        || project(s.entities_big),
        release,
        || project(s.entities_small),
        release,
    )
}

/// `ALTER TABLE ... ADD COLUMN` of a generated column of type `ty` (with a default, and its
/// type-check triggers) on a table of `big_table` rows (A) vs `small_table` rows (B): O(1)
/// keeps the ratio near 1.
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
    // What the migration adding the column runs: the column, then its type-check triggers.
    let sql = std::iter::once(format!(
        "ALTER TABLE t ADD COLUMN {};",
        column_definition(&column)
    ))
    .chain(type_triggers("t", &column))
    .collect::<Vec<_>>()
    .join("\n");
    let filled = |rows: usize, name: &str| {
        let path = dir.join(format!("{name}-{}.db", ty.as_str()));
        let _ = std::fs::remove_file(&path);
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(&format!(
            "PRAGMA journal_mode = WAL; \
             CREATE TABLE t (id INTEGER PRIMARY KEY, title TEXT NOT NULL, done INTEGER NOT NULL); \
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows}) \
             INSERT INTO t SELECT i, 'task number ' || i, i % 2 FROM n; \
             PRAGMA wal_checkpoint(TRUNCATE);"
        ))
        .unwrap();
        // Both sides start from an empty WAL: otherwise the first write after filling 1M rows
        // pays for restarting a 30 MB WAL (0.4 ms measured, the same for any write), not for
        // the column.
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

/// Replaces the entries of the benchmarks just run in `target/syncwright-bench.json`, keeping
/// the others (a filtered run's, and the server bench's `server/...` entries).
fn write_json(all: &[Figures]) {
    let fresh = all
        .iter()
        .map(|f| {
            let ratios = f.ratios();
            let min = ratios.iter().copied().fold(f64::INFINITY, f64::min);
            let max = ratios.iter().copied().fold(0.0, f64::max);
            serde_json::json!({
                "name": f.name,
                "n": f.n,
                "ratio_median": median(ratios),
                "goal": f.goal,
                "ratio_min": min,
                "ratio_max": max,
                "a_median_s": f.a_median(),
                "b_median_s": f.b_median(),
                "rounds": f.a.len(),
            })
        })
        .collect();
    bench_json::merge(
        &bench_json::path(Path::new(env!("CARGO_MANIFEST_DIR"))),
        |name| all.iter().any(|f| f.name == name),
        fresh,
    );
}

// ---------------------------------------------------------------------------------------------
// Sync: applying pulled pages, draining the queue through a server, and the domain guide's
// loopback HTTP targets.

/// The app's server catalog, from the same fixture project as the migrations.
fn catalog() -> Catalog {
    Catalog::from_project(PROJECT)
        .expect("the fixture catalog builds (run from the workspace root)")
}

/// A fresh in-process sync server over the fixture catalog, state in memory.
fn in_process_server() -> InProcessTransport {
    let server = Server::new(catalog(), SqliteStorage::in_memory().unwrap());
    InProcessTransport::new(Arc::new(server), "ana")
}

/// Serves pre-built pull pages in order and accepts no push (the engine pushes nothing when its
/// queue is empty): the engine's apply side alone, without a server's cost.
struct CannedPages(RefCell<VecDeque<PullResponse>>);

impl Transport for CannedPages {
    fn pull(&self, _: &PullRequest) -> Result<PullResponse, TransportError> {
        Ok(self
            .0
            .borrow_mut()
            .pop_front()
            .expect("a page for every pull"))
    }
    fn push(&self, _: &PushRequest) -> Result<PushResponse, TransportError> {
        unreachable!("nothing is queued")
    }
}

/// `n` task records of project `p` as a server sends them, in pages of `page` (the last says
/// `has_more: false`).
fn pulled_pages(p: Uuid, n: usize, page: usize, schema_version: u32) -> Vec<PullResponse> {
    let records: Vec<RemoteRecord> = (0..n)
        .map(|i| {
            let t = task(p, i);
            let fields = serde_json::json!({
                "title": t.title, "details": t.details, "project_id": p.to_string(),
                "due_on": 1_700_000_000_000i64, "done": t.done, "priority": t.priority,
            });
            RemoteRecord {
                entity: "task".into(),
                id: Uuid::new_v4(),
                server_id: format!("srv-{i}"),
                server_version: 1,
                schema_version,
                deleted: false,
                created_at: 1_764_000_000_000,
                updated_at: 1_764_000_000_000,
                fields: fields.as_object().unwrap().clone(),
                field_timestamps: Default::default(),
            }
        })
        .collect();
    let pages = records.chunks(page).count();
    records
        .chunks(page)
        .enumerate()
        .map(|(i, changes)| PullResponse {
            protocol_version: PROTOCOL_VERSION,
            changes: changes.to_vec(),
            cursors: [("task".to_owned(), Cursor(format!("page-{i}")))].into(),
            has_more: i + 1 < pages,
        })
        .collect()
}

/// The raw side's synced project row under `id`.
fn raw_synced_project(conn: &Connection, id: Uuid) {
    conn.execute(
        "INSERT INTO projects (id, name, sync_status) VALUES (?1, 'Depot', 'synced')",
        [id.to_string()],
    )
    .unwrap();
}

/// The raw equivalent of applying one pulled page: per record the conflict checks the engine
/// makes (known server version, open queue entries, local status), an upsert of the row and of
/// its known version; then the page's cursor; all in one transaction.
fn raw_apply_page(conn: &mut Connection, page: &PullResponse) {
    let tx = conn.transaction().unwrap();
    let now = now_ms();
    for r in &page.changes {
        let id = r.id.to_string();
        let known: Option<i64> = tx
            .prepare_cached("SELECT server_version FROM _sync_records WHERE entity_id = ?1")
            .unwrap()
            .query_row([&id], |row| row.get(0))
            .optional()
            .unwrap();
        let open: bool = tx
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM _sync_queue WHERE entity_type = 'task' \
                 AND entity_id = ?1 AND status <> 'completed')",
            )
            .unwrap()
            .query_row([&id], |row| row.get(0))
            .unwrap();
        let status: Option<String> = tx
            .prepare_cached("SELECT sync_status FROM tasks WHERE id = ?1")
            .unwrap()
            .query_row([&id], |row| row.get(0))
            .optional()
            .unwrap();
        let stale = known.is_some_and(|v| v >= r.server_version as i64);
        if stale || open || status.as_deref() == Some("conflict") {
            continue;
        }
        let f = &r.fields;
        tx.prepare_cached(
            "INSERT INTO tasks (id, server_id, created_at, updated_at, synced_at, is_deleted, \
             version, sync_status, field_timestamps, title, details, project_id, due_on, done, \
             priority) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'synced', ?8, ?9, ?10, ?11, ?12, ?13, ?14) \
             ON CONFLICT (id) DO UPDATE SET server_id = excluded.server_id, \
             created_at = excluded.created_at, updated_at = excluded.updated_at, \
             synced_at = excluded.synced_at, is_deleted = excluded.is_deleted, \
             version = excluded.version, sync_status = 'synced', \
             field_timestamps = excluded.field_timestamps, title = excluded.title, \
             details = excluded.details, project_id = excluded.project_id, \
             due_on = excluded.due_on, done = excluded.done, priority = excluded.priority",
        )
        .unwrap()
        .execute(params![
            id,
            r.server_id,
            r.created_at,
            r.updated_at,
            now,
            r.deleted,
            r.server_version as i64,
            serde_json::to_string(&r.field_timestamps).unwrap(),
            f["title"].as_str(),
            f["details"].as_str(),
            f["project_id"].as_str(),
            f["due_on"].as_i64(),
            f["done"].as_bool(),
            f["priority"].as_i64(),
        ])
        .unwrap();
        tx.prepare_cached(
            "INSERT INTO _sync_records (entity_id, entity_type, server_version) VALUES (?1, 'task', ?2) \
             ON CONFLICT (entity_id) DO UPDATE SET server_version = excluded.server_version",
        )
        .unwrap()
        .execute(params![id, r.server_version as i64])
        .unwrap();
    }
    for (entity, cursor) in &page.cursors {
        tx.prepare_cached(
            "INSERT INTO _sync_cursors (entity_type, cursor, updated_at, fields) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (entity_type) DO UPDATE SET cursor = excluded.cursor, \
             updated_at = excluded.updated_at, fields = excluded.fields",
        )
        .unwrap()
        .execute(params![entity, cursor.0, now, "title,details,project_id,due_on,done,priority"])
        .unwrap();
    }
    tx.commit().unwrap();
}

fn pull_apply(twins: &Twins<'_>, s: &Sizes) -> Figures {
    let n = s.pulled;
    let p = Uuid::new_v4();
    pair(
        "pull_apply: pages of 500 applied",
        n,
        s.rounds,
        || {
            let (db, path) = twins.store();
            let conn = Connection::open(&path).unwrap();
            raw_synced_project(&conn, p);
            let pages = pulled_pages(p, n, 500, db.schema_version());
            (db, CannedPages(RefCell::new(pages.into())))
        },
        |(db, pages)| {
            let report = SyncOptions::new().pull_limit(500).run(db, &*pages).unwrap();
            assert_eq!(report.pulled, n as u64);
        },
        || {
            let raw = twins.raw();
            raw_synced_project(&raw, p);
            (raw, pulled_pages(p, n, 500, MIGRATED_VERSION))
        },
        |(raw, pages)| {
            for page in pages.iter() {
                raw_apply_page(raw, page);
            }
        },
    )
}

/// One create claimed from the queue by hand, with what its push sends.
struct Claimed {
    id: i64,
    key: Vec<u8>,
    entity: String,
    action: String,
    record: String,
    updated_at: i64,
    created_at: i64,
    fields: Fields,
}

/// The raw equivalent of `next_batch(limit)`: in one transaction, the first `limit` pending
/// entries in queue order, each create's fields read from its record's row (its queue row
/// holds no payload), marked in flight.
fn raw_claim(conn: &mut Connection, limit: usize) -> Vec<Claimed> {
    let tx = conn.transaction().unwrap();
    let batch: Vec<Claimed> = tx
        .prepare_cached(
            "SELECT id, idempotency_key, entity_type, action, entity_id \
             FROM _sync_queue WHERE status = 'pending' ORDER BY id LIMIT ?1",
        )
        .unwrap()
        .query_map([limit as i64], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .map(Result::unwrap)
        .map(
            |(id, key, entity, action, record): (i64, Vec<u8>, String, String, String)| {
                let (updated_at, created_at, fields) = raw_record_fields(&tx, &entity, &record);
                Claimed {
                    id,
                    key,
                    entity,
                    action,
                    record,
                    updated_at,
                    created_at,
                    fields,
                }
            },
        )
        .collect();
    for claimed in &batch {
        tx.prepare_cached(
            "UPDATE _sync_queue SET status = 'in_flight', claimed_by = 'x' WHERE id = ?1",
        )
        .unwrap()
        .execute([claimed.id])
        .unwrap();
    }
    tx.commit().unwrap();
    batch
}

/// The raw equivalent of pushing the queue: claim a batch of 100 ([`raw_claim`]), send the
/// creates through the same kind of server, then settle the answered batch in one transaction
/// (queue, known version, server id, status).
#[inline(never)]
fn raw_push_all(conn: &mut Connection, transport: &InProcessTransport) -> usize {
    let mut pushed = 0;
    loop {
        let mut batch = raw_claim(conn, 100);
        if batch.is_empty() {
            return pushed;
        }
        let mutations = batch
            .iter_mut()
            .map(|claimed| {
                let field_timestamps = if claimed.entity == "task" {
                    let created_at = claimed.created_at;
                    claimed
                        .fields
                        .keys()
                        .map(|k| (k.clone(), created_at))
                        .collect()
                } else {
                    Default::default()
                };
                assert_eq!(claimed.action, "create");
                Mutation {
                    idempotency_key: Uuid::from_slice(&claimed.key).unwrap(),
                    entity: claimed.entity.clone(),
                    action: ProtocolAction::Create,
                    id: claimed.record.parse().unwrap(),
                    base_version: None,
                    schema_version: MIGRATED_VERSION,
                    updated_at: claimed.updated_at,
                    fields: std::mem::take(&mut claimed.fields),
                    field_timestamps,
                }
            })
            .collect();
        let response = transport
            .push(&PushRequest::new(MIGRATED_VERSION, mutations))
            .unwrap();
        let now = now_ms();
        let tx = conn.transaction().unwrap();
        for (
            Claimed {
                id, entity, record, ..
            },
            result,
        ) in batch.iter().zip(&response.results)
        {
            let Outcome::Accepted {
                server_version,
                server_id,
            } = &result.outcome
            else {
                panic!("the server refused {result:?}")
            };
            let table = if entity == "task" {
                "tasks"
            } else {
                "projects"
            };
            tx.prepare_cached(
                "UPDATE _sync_queue SET status = 'completed', error = NULL, claimed_by = NULL WHERE id = ?1",
            )
            .unwrap()
            .execute([id])
            .unwrap();
            tx.prepare_cached(
                "INSERT INTO _sync_records (entity_id, entity_type, server_version) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (entity_id) DO UPDATE SET server_version = excluded.server_version",
            )
            .unwrap()
            .execute(params![record, entity, *server_version as i64])
            .unwrap();
            tx.prepare_cached(&format!(
                "UPDATE {table} SET server_id = ?1, sync_status = 'synced', synced_at = ?2 WHERE id = ?3"
            ))
            .unwrap()
            .execute(params![server_id, now, record])
            .unwrap();
            pushed += 1;
        }
        tx.commit().unwrap();
    }
}

/// A record's `updated_at`, `created_at` and domain fields, read from its row for its create.
fn raw_record_fields(conn: &Connection, entity: &str, record: &str) -> (i64, i64, Fields) {
    use serde_json::Value as Json;
    let text = |r: &rusqlite::Row<'_>, i| -> rusqlite::Result<Json> {
        Ok(r.get::<_, Option<String>>(i)?
            .map_or(Json::Null, Json::from))
    };
    if entity == "task" {
        conn.prepare_cached(
            "SELECT updated_at, created_at, title, details, project_id, due_on, done, priority \
             FROM tasks WHERE id = ?1",
        )
        .unwrap()
        .query_row([record], |r| {
            let mut fields = Fields::new();
            fields.insert("title".into(), text(r, 2)?);
            fields.insert("details".into(), text(r, 3)?);
            fields.insert("project_id".into(), text(r, 4)?);
            fields.insert("due_on".into(), r.get::<_, Option<i64>>(5)?.into());
            fields.insert("done".into(), r.get::<_, bool>(6)?.into());
            fields.insert("priority".into(), r.get::<_, i64>(7)?.into());
            Ok((r.get(0)?, r.get(1)?, fields))
        })
        .unwrap()
    } else {
        conn.prepare_cached(
            "SELECT updated_at, created_at, name, archived, slug FROM projects WHERE id = ?1",
        )
        .unwrap()
        .query_row([record], |r| {
            let mut fields = Fields::new();
            fields.insert("name".into(), text(r, 2)?);
            fields.insert("archived".into(), r.get::<_, bool>(3)?.into());
            fields.insert("slug".into(), text(r, 4)?);
            Ok((r.get(0)?, r.get(1)?, fields))
        })
        .unwrap()
    }
}

fn push_drain(twins: &Twins<'_>, s: &Sizes) -> Figures {
    let n = s.pushed;
    pair(
        "push_drain: in-process server, batches of 100",
        n,
        s.rounds,
        || {
            let (db, _) = twins.store();
            let p = db.insert(&project()).unwrap().id;
            db.transaction(|tx| (0..n).try_for_each(|i| tx.insert(&task(p, i)).map(drop)))
                .unwrap();
            (db, in_process_server())
        },
        |(db, server)| {
            let report = SyncOptions::new()
                .batch_size(100)
                .run(db, &*server)
                .unwrap();
            assert_eq!(report.pushed, n as u64 + 1);
        },
        || {
            let mut raw = twins.raw();
            let p = raw_project(&raw);
            let tx = raw.transaction().unwrap();
            raw_enqueue_project(&tx, p);
            for i in 0..n {
                raw_insert_task(&tx, p, i);
            }
            tx.commit().unwrap();
            (raw, in_process_server())
        },
        |(raw, server)| assert_eq!(raw_push_all(raw, server), n + 1),
    )
}

/// The project's `create` queue row, as the store writes it (no payload).
fn raw_enqueue_project(conn: &Connection, id: Uuid) {
    conn.prepare_cached(
        "INSERT INTO _sync_queue (idempotency_key, entity_type, action, entity_id, \
         schema_version, max_retries, next_attempt_at, created_at) \
         VALUES (?1, 'project', 'create', ?2, 5, 10, ?3, ?3)",
    )
    .unwrap()
    .execute(params![Uuid::new_v4().as_bytes(), id.to_string(), now_ms()])
    .unwrap();
}

/// The sync server's router on a free loopback port, served from a background thread for the
/// rest of the run.
fn http_server() -> String {
    let tokens = Tokens::parse(
        &format!("[users]\nana = \"{}\"\n", hash_token(HTTP_TOKEN)),
        "tokens.toml",
    )
    .unwrap();
    let server = Arc::new(Server::new(catalog(), SqliteStorage::in_memory().unwrap()));
    let app = router(server, tokens, HttpConfig::default());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        runtime
            .block_on(serve(listener, app, std::future::pending()))
            .unwrap();
    });
    url
}

const HTTP_TOKEN: &str = "bench-token-5c1e";

/// The domain guide's targets over loopback HTTP against `syncwright-server`: a device pushing
/// 50 mutations (target < 1 s), and a fresh device pulling 500 records (target < 2 s). B is the
/// target itself, so the ratio is the share of the target used.
fn http_targets(twins: &Twins<'_>, s: &Sizes) -> Vec<Figures> {
    let url = http_server();
    let transport = || HttpTransport::new(url.clone(), HTTP_TOKEN);
    let push = against_target(
        "HTTP: push 50 mutations (B: the 1 s target)",
        50,
        s.rounds,
        Duration::from_secs(1),
        || {
            let (db, _) = twins.store();
            let p = db.insert(&project()).unwrap().id;
            db.transaction(|tx| (0..49).try_for_each(|i| tx.insert(&task(p, i)).map(drop)))
                .unwrap();
            db
        },
        |db| assert_eq!(db.sync(&transport()).unwrap().pushed, 50),
    );
    // One device fills the server with 500 records; each round a fresh device pulls them all.
    let url_pull = http_server();
    let pull_transport = || HttpTransport::new(url_pull.clone(), HTTP_TOKEN);
    let (seed, _) = twins.store();
    let p = seed.insert(&project()).unwrap().id;
    seed.transaction(|tx| (0..499).try_for_each(|i| tx.insert(&task(p, i)).map(drop)))
        .unwrap();
    seed.sync(&pull_transport()).unwrap();
    let pull = against_target(
        "HTTP: pull 500 records (B: the 2 s target)",
        500,
        s.rounds,
        Duration::from_secs(2),
        || twins.store().0,
        |db| assert_eq!(db.sync(&pull_transport()).unwrap().pulled, 500),
    );
    vec![push, pull]
}

/// Runs `rounds` rounds of A, each on fresh state from its `setup`; B is `target` itself.
fn against_target<S>(
    name: &str,
    n: usize,
    rounds: usize,
    target: Duration,
    mut setup: impl FnMut() -> S,
    mut run: impl FnMut(&mut S),
) -> Figures {
    let a = (0..rounds)
        .map(|_| {
            let mut state = setup();
            let start = Instant::now();
            run(&mut state);
            start.elapsed()
        })
        .collect();
    eprintln!("  done: {name}");
    Figures {
        name: name.to_owned(),
        n,
        goal: None,
        a,
        b: vec![target; rounds],
    }
}
