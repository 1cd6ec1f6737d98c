//! `syncwright inspect`: what sync is doing in one database, for a person debugging "my change
//! never reached the server", or a script (`--json`).
//!
//! The database is opened read-only (`query_only` on top), so inspecting never writes a byte.
//! Every section tolerates a missing runtime table (a database syncwright never opened shows
//! as such instead of failing).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

use crate::import::compare::differences;
use crate::import::schema::ImportedSchema;
use crate::import::sqlite::{open_read_only, read_schema};
use crate::render::sql::ident;
use crate::{Error, Result};

/// Everything `inspect` reports.
#[derive(Debug, Serialize)]
pub struct InspectReport {
    /// `PRAGMA user_version`.
    pub schema_version: u32,
    /// `_sync_migrations`, oldest first, each checked against the project's migration.
    pub migrations: Vec<AppliedMigration>,
    /// Per entity table, its rows counted by sync status.
    pub entities: Vec<EntityStatus>,
    /// The mutation queue.
    pub queue: QueueStatus,
    /// The pull cursors.
    pub cursors: Vec<Cursor>,
    /// The latest `_sync_log` entry.
    pub last_sync: Option<SyncRound>,
    /// Records in manual conflict.
    pub conflicts: Vec<Conflict>,
    /// Differences between the database and the project's specs (`None` without a project).
    pub drift: Option<Vec<String>>,
}

/// One applied migration.
#[derive(Debug, Serialize)]
pub struct AppliedMigration {
    /// Its version.
    pub version: i64,
    /// Its name.
    pub name: String,
    /// The checksum recorded when it ran.
    pub checksum: String,
    /// When it ran (epoch ms).
    pub applied_at: i64,
    /// `Some(true)` when the project's migration has this checksum, `Some(false)` when it
    /// differs or is missing, `None` without a project to check against.
    pub checksum_verified: Option<bool>,
}

/// One entity table's rows by sync status.
#[derive(Debug, Serialize)]
pub struct EntityStatus {
    /// The table.
    pub table: String,
    /// Whether the table was adopted (its sync columns are `_sync_`-prefixed).
    pub adopted: bool,
    /// Row counts by `sync_status`.
    pub by_status: BTreeMap<String, i64>,
}

/// The queue by status, with what is stuck.
#[derive(Debug, Default, Serialize)]
pub struct QueueStatus {
    /// Entry counts by status.
    pub by_status: BTreeMap<String, i64>,
    /// The oldest entry still to push.
    pub oldest_pending: Option<QueueEntry>,
    /// Every failed entry.
    pub failed: Vec<QueueEntry>,
}

/// One queue entry.
#[derive(Debug, Serialize)]
pub struct QueueEntry {
    /// Queue id.
    pub id: i64,
    /// Entity type.
    pub entity_type: String,
    /// Entity id.
    pub entity_id: String,
    /// `create`, `update` or `delete`.
    pub action: String,
    /// Attempts so far.
    pub retry_count: i64,
    /// Next attempt (epoch ms).
    pub next_attempt_at: i64,
    /// Queued at (epoch ms).
    pub created_at: i64,
    /// The last error.
    pub error: Option<String>,
}

/// One pull cursor.
#[derive(Debug, Serialize)]
pub struct Cursor {
    /// Entity type.
    pub entity_type: String,
    /// The server's cursor.
    pub cursor: Option<String>,
    /// Last moved (epoch ms).
    pub updated_at: i64,
}

/// One sync round of `_sync_log`.
#[derive(Debug, Serialize)]
pub struct SyncRound {
    /// When (epoch ms).
    pub at: i64,
    /// `pull` or `push`.
    pub direction: String,
    /// Entity type, if one.
    pub entity_type: Option<String>,
    /// Rows pulled.
    pub pulled: i64,
    /// Rows pushed.
    pub pushed: i64,
    /// Conflicts met.
    pub conflicts: i64,
    /// The round's error.
    pub error: Option<String>,
}

/// One record in manual conflict.
#[derive(Debug, Serialize)]
pub struct Conflict {
    /// Entity id.
    pub entity_id: String,
    /// Entity type.
    pub entity_type: String,
    /// Detected at (epoch ms).
    pub detected_at: i64,
}

fn has_table(conn: &Connection, name: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [name],
        |_| Ok(()),
    )
    .optional()
    .map(|found| found.is_some())
}

/// Inspects `database`, read-only; with `config`, also checks migration checksums and drift
/// against that project.
pub fn inspect(database: &Path, config: Option<&Path>) -> Result<InspectReport> {
    let fail = |problem: String| Error::Import {
        path: database.to_path_buf(),
        problem,
    };
    let conn = open_read_only(database).map_err(fail)?;
    let expected = match config {
        Some(config) => Some(expected_project(config)?),
        None => None,
    };
    let mut report = read_report(&conn).map_err(|e| fail(e.to_string()))?;
    if let Some(expected) = expected {
        for m in &mut report.migrations {
            m.checksum_verified = Some(
                expected
                    .checksums
                    .get(&m.version)
                    .is_some_and(|c| *c == m.checksum),
            );
        }
        let live = read_schema(&conn).map_err(fail)?;
        let live = if expected.adopted {
            without_sync_columns(live)
        } else {
            live
        };
        report.drift = Some(differences(&expected.schema, &live));
    }
    Ok(report)
}

/// What the project says the database should be.
struct Expected {
    schema: ImportedSchema,
    checksums: BTreeMap<i64, String>,
    adopted: bool,
}

fn expected_project(config: &Path) -> Result<Expected> {
    let text = std::fs::read_to_string(config).map_err(|source| Error::Read {
        path: config.to_path_buf(),
        source,
    })?;
    let root = config.parent().unwrap_or(Path::new(""));
    let adopted_snapshot = text.parse::<toml::Table>().ok().and_then(|t| {
        t.get("adopted")?
            .get("snapshot")?
            .as_str()
            .map(str::to_owned)
    });
    if let Some(snapshot) = adopted_snapshot {
        let path = root.join(snapshot);
        let text = std::fs::read_to_string(&path).map_err(|source| Error::Read {
            path: path.clone(),
            source,
        })?;
        let schema = serde_json::from_str(&text).map_err(|e| Error::Import {
            path,
            problem: format!("not an import snapshot: {e}"),
        })?;
        return Ok(Expected {
            schema,
            checksums: BTreeMap::new(),
            adopted: true,
        });
    }
    let project = crate::load_project(config)?;
    let rendered = crate::rendered_migrations(&project)?;
    let scratch = Connection::open_in_memory().expect("an in-memory database opens");
    scratch
        .execute_batch(&rendered.schema.sql)
        .map_err(|e| Error::Import {
            path: config.to_path_buf(),
            problem: format!("the project's schema.sql does not run: {e}"),
        })?;
    let schema = read_schema(&scratch).map_err(|problem| Error::Import {
        path: config.to_path_buf(),
        problem,
    })?;
    Ok(Expected {
        schema,
        checksums: rendered
            .steps
            .iter()
            .map(|s| (i64::from(s.version), s.checksum.clone()))
            .collect(),
        adopted: false,
    })
}

/// The app's part of an adopted database: the `_sync_` columns and their indexes left out.
fn without_sync_columns(mut schema: ImportedSchema) -> ImportedSchema {
    let sync = |name: &str| name.starts_with(crate::model::ADOPTED_SYNC_PREFIX);
    for table in &mut schema.tables {
        table.columns.retain(|c| !sync(&c.name));
        table.indexes.retain(|i| !i.columns.iter().any(|c| sync(c)));
    }
    schema
}

fn read_report(conn: &Connection) -> rusqlite::Result<InspectReport> {
    let schema_version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let mut report = InspectReport {
        schema_version: u32::try_from(schema_version).unwrap_or(0),
        migrations: Vec::new(),
        entities: Vec::new(),
        queue: QueueStatus::default(),
        cursors: Vec::new(),
        last_sync: None,
        conflicts: Vec::new(),
        drift: None,
    };
    if has_table(conn, "_sync_migrations")? {
        let mut stmt = conn.prepare(
            "SELECT version, name, checksum, applied_at FROM _sync_migrations ORDER BY version",
        )?;
        report.migrations = stmt
            .query_map([], |r| {
                Ok(AppliedMigration {
                    version: r.get(0)?,
                    name: r.get(1)?,
                    checksum: r.get(2)?,
                    applied_at: r.get(3)?,
                    checksum_verified: None,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
    }
    report.entities = entity_statuses(conn)?;
    if has_table(conn, "_sync_queue")? {
        report.queue = queue_status(conn)?;
    }
    if has_table(conn, "_sync_cursors")? {
        let mut stmt = conn.prepare(
            "SELECT entity_type, cursor, updated_at FROM _sync_cursors ORDER BY entity_type",
        )?;
        report.cursors = stmt
            .query_map([], |r| {
                Ok(Cursor {
                    entity_type: r.get(0)?,
                    cursor: r.get(1)?,
                    updated_at: r.get(2)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
    }
    if has_table(conn, "_sync_log")? {
        report.last_sync = conn
            .query_row(
                "SELECT at, direction, entity_type, pulled, pushed, conflicts, error \
                 FROM _sync_log ORDER BY at DESC, id DESC LIMIT 1",
                [],
                |r| {
                    Ok(SyncRound {
                        at: r.get(0)?,
                        direction: r.get(1)?,
                        entity_type: r.get(2)?,
                        pulled: r.get(3)?,
                        pushed: r.get(4)?,
                        conflicts: r.get(5)?,
                        error: r.get(6)?,
                    })
                },
            )
            .optional()?;
    }
    if has_table(conn, "_sync_conflicts")? {
        let mut stmt = conn.prepare(
            "SELECT entity_id, entity_type, detected_at FROM _sync_conflicts ORDER BY detected_at, entity_id",
        )?;
        report.conflicts = stmt
            .query_map([], |r| {
                Ok(Conflict {
                    entity_id: r.get(0)?,
                    entity_type: r.get(1)?,
                    detected_at: r.get(2)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
    }
    Ok(report)
}

/// Every table with a sync status column: `sync_status` (created by syncwright) or
/// `_sync_status` (adopted).
fn entity_statuses(conn: &Connection) -> rusqlite::Result<Vec<EntityStatus>> {
    let mut stmt = conn.prepare(
        "SELECT m.name, c.name FROM sqlite_master AS m JOIN pragma_table_info(m.name) AS c \
         WHERE m.type = 'table' AND m.name NOT LIKE '\\_sync%' ESCAPE '\\' \
         AND c.name IN ('sync_status', '_sync_status') ORDER BY m.name",
    )?;
    let tables: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = Vec::new();
    for (table, column) in tables {
        let sql = format!(
            "SELECT {c}, count(*) FROM {t} GROUP BY {c} ORDER BY {c}",
            c = ident(&column),
            t = ident(&table)
        );
        let by_status = conn
            .prepare(&sql)?
            .query_map([], |r| {
                Ok((
                    r.get::<_, Option<String>>(0)?
                        .unwrap_or_else(|| "NULL".into()),
                    r.get(1)?,
                ))
            })?
            .collect::<rusqlite::Result<_>>()?;
        out.push(EntityStatus {
            adopted: column == "_sync_status",
            table,
            by_status,
        });
    }
    Ok(out)
}

fn queue_status(conn: &Connection) -> rusqlite::Result<QueueStatus> {
    let by_status = conn
        .prepare("SELECT status, count(*) FROM _sync_queue GROUP BY status ORDER BY status")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let entries = |filter: &str| -> rusqlite::Result<Vec<QueueEntry>> {
        let sql = format!(
            "SELECT id, entity_type, entity_id, action, retry_count, next_attempt_at, created_at, \
             error FROM _sync_queue WHERE {filter}"
        );
        conn.prepare(&sql)?
            .query_map([], |r| {
                Ok(QueueEntry {
                    id: r.get(0)?,
                    entity_type: r.get(1)?,
                    entity_id: r.get(2)?,
                    action: r.get(3)?,
                    retry_count: r.get(4)?,
                    next_attempt_at: r.get(5)?,
                    created_at: r.get(6)?,
                    error: r.get(7)?,
                })
            })?
            .collect()
    };
    Ok(QueueStatus {
        by_status,
        oldest_pending: entries("status IN ('pending', 'in_flight') ORDER BY id LIMIT 1")?
            .into_iter()
            .next(),
        failed: entries("status = 'failed' ORDER BY id")?,
    })
}

impl InspectReport {
    /// The report as pretty JSON with a final newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("the report always serializes");
        text.push('\n');
        text
    }

    /// The report for people.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "schema version {}", self.schema_version);
        let _ = writeln!(out, "\nmigrations:");
        if self.migrations.is_empty() {
            let _ = writeln!(out, "  none recorded");
        }
        for m in &self.migrations {
            let verified = match m.checksum_verified {
                Some(true) => "checksum ok",
                Some(false) => "CHECKSUM DIFFERS from the project's migration",
                None => "checksum not checked (no project)",
            };
            let _ = writeln!(
                out,
                "  {:>4} {} applied_at={} {}",
                m.version, m.name, m.applied_at, verified
            );
        }
        let _ = writeln!(out, "\nentities (rows by sync status):");
        for e in &self.entities {
            let counts: Vec<String> = e
                .by_status
                .iter()
                .map(|(s, n)| format!("{s}={n}"))
                .collect();
            let adopted = if e.adopted { " (adopted)" } else { "" };
            let _ = writeln!(out, "  {}{adopted}: {}", e.table, counts.join(" "));
        }
        let _ = writeln!(out, "\nqueue:");
        let counts: Vec<String> = self
            .queue
            .by_status
            .iter()
            .map(|(s, n)| format!("{s}={n}"))
            .collect();
        let _ = writeln!(
            out,
            "  {}",
            if counts.is_empty() {
                "empty".to_owned()
            } else {
                counts.join(" ")
            }
        );
        if let Some(e) = &self.queue.oldest_pending {
            let _ = writeln!(out, "  oldest pending: {}", entry_line(e));
        }
        for e in &self.queue.failed {
            let _ = writeln!(out, "  failed: {}", entry_line(e));
        }
        let _ = writeln!(out, "\ncursors:");
        for c in &self.cursors {
            let _ = writeln!(
                out,
                "  {}: {} (updated_at={})",
                c.entity_type,
                c.cursor.as_deref().unwrap_or("none"),
                c.updated_at
            );
        }
        match &self.last_sync {
            Some(s) => {
                let _ = writeln!(
                    out,
                    "\nlast sync: {} at={} entity={} pulled={} pushed={} conflicts={}{}",
                    s.direction,
                    s.at,
                    s.entity_type.as_deref().unwrap_or("all"),
                    s.pulled,
                    s.pushed,
                    s.conflicts,
                    s.error
                        .as_ref()
                        .map(|e| format!(" error: {e}"))
                        .unwrap_or_default()
                );
            }
            None => {
                let _ = writeln!(out, "\nlast sync: never");
            }
        }
        let _ = writeln!(out, "\nconflicts: {}", self.conflicts.len());
        for c in &self.conflicts {
            let _ = writeln!(
                out,
                "  {} {} detected_at={}",
                c.entity_type, c.entity_id, c.detected_at
            );
        }
        match &self.drift {
            None => {
                let _ = writeln!(
                    out,
                    "\ndrift: not checked (no syncwright.toml; pass --config)"
                );
            }
            Some(d) if d.is_empty() => {
                let _ = writeln!(out, "\ndrift: none, the database matches the project");
            }
            Some(d) => {
                let _ = writeln!(out, "\ndrift against the project:");
                for line in d {
                    let _ = writeln!(out, "  - {line}");
                }
            }
        }
        out
    }
}

fn entry_line(e: &QueueEntry) -> String {
    format!(
        "#{} {} {} {} retries={} next_attempt_at={} created_at={}{}",
        e.id,
        e.action,
        e.entity_type,
        e.entity_id,
        e.retry_count,
        e.next_attempt_at,
        e.created_at,
        e.error
            .as_ref()
            .map(|x| format!(" error: {x}"))
            .unwrap_or_default()
    )
}
