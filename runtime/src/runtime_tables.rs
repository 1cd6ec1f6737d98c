//! The runtime's own tables (`_sync_queue`, `_sync_cursors`, `_sync_log`): their one
//! definition, and the versioned steps that create and upgrade them.
//!
//! The tables belong to the runtime, not to the app's schema: their versions are independent of
//! the app's `user_version`, recorded one row per applied step in `_sync_runtime`. Every column
//! and index carries the runtime version that added it (and, once replaced or dropped, the one
//! that did); step `N` is *rendered* from the definitions (the tables new in `N`, the columns
//! new in `N`, the tables rebuilt in `N`, then the indexes added or dropped in `N`), so the
//! definitions below are the only place a column is written down. Definitions are only ever
//! appended to or ended (`until`): a released step never changes (`tests/runtime_tables.rs`
//! pins each step's SQL).
//!
//! Databases made by syncwright 0.1.0, whose generated `0001` migration created the tables,
//! upgrade in place: step 1 uses `CREATE TABLE IF NOT EXISTS` with the same columns.
//!
//! SQLite cannot change a column's type or constraints in place: a step that does (a column
//! definition whose `until` is the step) *rebuilds* the table the way SQLite's documentation
//! prescribes — create the new shape under a temporary name, copy every row, carry the
//! `AUTOINCREMENT` counter over, drop the old table, rename, create the indexes — all inside the
//! step's one transaction, so a crash leaves the old shape whole. A rebuild drops what the new
//! shape no longer lists (a column or index whose `until` is the step).

use std::fmt::Write as _;
use std::time::SystemTime;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use crate::clock::to_millis;
use crate::entity::{IndexDescriptor, quote};
use crate::migrate;
use crate::migration::MigrationRef;
use crate::{Error, Result};

/// The latest version of the runtime's tables.
pub const RUNTIME_TABLES_VERSION: u32 = 5;

/// One column of a runtime table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Column {
    /// The column name.
    pub name: &'static str,
    /// Its type and constraints, as in `CREATE TABLE`.
    pub definition: &'static str,
    /// The runtime version that added it.
    pub since: u32,
    /// The runtime version whose rebuild replaced or dropped this definition (`None`: current).
    pub until: Option<u32>,
    /// An SQL expression the runtime (whose bundled SQLite has every function it needs)
    /// rewrites the copied values with, in the rebuild's transaction; the portable step SQL
    /// ([`runtime_tables_sql`]) leaves them as they were, so readers accept both forms.
    pub converted_by: Option<&'static str>,
}

/// One index of a runtime table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Index {
    /// The index itself.
    pub descriptor: IndexDescriptor,
    /// The runtime version that added it.
    pub since: u32,
    /// The runtime version that dropped it (`None`: current).
    pub until: Option<u32>,
}

/// One runtime table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Table {
    /// The table name.
    pub name: &'static str,
    /// What the table is for (a comment in the SQL).
    pub purpose: &'static str,
    /// The runtime version that created it.
    pub since: u32,
    /// Its columns, in table order.
    pub columns: &'static [Column],
    /// Its indexes, current and dropped.
    pub indexes: &'static [Index],
}

const fn column(name: &'static str, definition: &'static str, since: u32) -> Column {
    Column {
        name,
        definition,
        since,
        until: None,
        converted_by: None,
    }
}

const fn index(
    name: &'static str,
    columns: &'static [&'static str],
    unique: bool,
    since: u32,
) -> Index {
    Index {
        descriptor: IndexDescriptor {
            name,
            columns,
            unique,
        },
        since,
        until: None,
    }
}

impl Column {
    /// This definition, replaced or dropped by the rebuild of step `version`.
    const fn until(self, version: u32) -> Self {
        Column {
            until: Some(version),
            ..self
        }
    }

    /// This definition, its copied values rewritten by the runtime with `expression`.
    const fn converted_by(self, expression: &'static str) -> Self {
        Column {
            converted_by: Some(expression),
            ..self
        }
    }

    /// Whether the column has this definition at runtime version `version`.
    fn live_at(&self, version: u32) -> bool {
        self.since <= version && self.until.is_none_or(|until| version < until)
    }
}

impl Index {
    /// This index, dropped in step `version`.
    const fn until(self, version: u32) -> Self {
        Index {
            until: Some(version),
            ..self
        }
    }

    /// Whether the index exists at runtime version `version`.
    fn live_at(&self, version: u32) -> bool {
        self.since <= version && self.until.is_none_or(|until| version < until)
    }
}

/// The persistent mutation queue.
pub(crate) const QUEUE: Table = Table {
    name: "_sync_queue",
    purpose: "the mutation queue: one entry per local write, pushed in id order",
    since: 1,
    columns: &[
        column("id", "INTEGER PRIMARY KEY AUTOINCREMENT", 1),
        column("idempotency_key", "TEXT NOT NULL UNIQUE", 1).until(5),
        // Since step 5 the key's 16 bytes (the UUID text took 36, twice: row and index). Keys
        // queued before keep working as text where a program without the runtime rebuilt the
        // table (an SQLite older than 3.41 has no `unhex`).
        column("idempotency_key", "BLOB NOT NULL UNIQUE", 5).converted_by(
            "CASE WHEN typeof(\"idempotency_key\") = 'text' AND length(\"idempotency_key\") = 36 \
             THEN coalesce(unhex(\"idempotency_key\", '-'), \"idempotency_key\") \
             ELSE \"idempotency_key\" END",
        ),
        column("entity_type", "TEXT NOT NULL", 1),
        column(
            "action",
            "TEXT NOT NULL CHECK (\"action\" IN ('create', 'update', 'delete'))",
            1,
        ),
        column("entity_id", "TEXT NOT NULL", 1),
        column(
            "payload",
            "TEXT NOT NULL CHECK (json_valid(\"payload\"))",
            1,
        )
        .until(5),
        // Since step 5 NULL for a create, whose fields are read from the record when the entry
        // is read (crate::queue): the record as it is then is what the create must push.
        column("payload", "TEXT CHECK (json_valid(\"payload\"))", 5),
        column("schema_version", "INTEGER NOT NULL", 1),
        column("retry_count", "INTEGER NOT NULL DEFAULT 0", 1),
        column("max_retries", "INTEGER NOT NULL DEFAULT 10", 1),
        column("next_attempt_at", "INTEGER NOT NULL", 1),
        column("created_at", "INTEGER NOT NULL", 1),
        column(
            "status",
            "TEXT NOT NULL DEFAULT 'pending' CHECK (\"status\" IN ('pending', 'in_flight', 'failed', 'completed'))",
            1,
        ),
        column("error", "TEXT", 1),
        // The open `Database` that took an in-flight entry (see `crate::owner`).
        column("claimed_by", "TEXT", 2),
        // The server version the change was made on (NULL until the record's create is
        // accepted); rebased when an earlier change is accepted or a conflict keeps the local
        // side. Coalescing keeps the first entry's base.
        column("base_version", "INTEGER", 3),
        // The fields an update changed, as a JSON array (NULL: every field, as for a create);
        // coalescing unions them.
        column("changed_fields", "TEXT", 3),
    ],
    indexes: &[
        // Unused since the queries below took the two later indexes (step 5 drops them).
        index(
            "idx__sync_queue_status_next_attempt_at",
            &["status", "next_attempt_at"],
            false,
            1,
        )
        .until(5),
        index(
            "idx__sync_queue_entity_type_status",
            &["entity_type", "status"],
            false,
            1,
        )
        .until(5),
        // `next_batch` walks the pending entries in queue order along this index and stops
        // once the batch is full: no sort of every pending entry per batch. Listing by status
        // (failed entries, in-flight recovery, purge, counts) uses it too.
        index("idx__sync_queue_status_id", &["status", "id"], false, 3),
        // The per-record ordering rule (an entry waits for every earlier entry of its record)
        // and the parent hold look a record's entries up by this index (with the rowid `id`
        // it ends in), so draining n entries is O(n log n), not O(n^2).
        index(
            "idx__sync_queue_entity_type_entity_id",
            &["entity_type", "entity_id"],
            false,
            3,
        ),
    ],
};

/// One pull cursor per entity type.
pub(crate) const CURSORS: Table = Table {
    name: "_sync_cursors",
    purpose: "one pull cursor per entity type, so pulls are incremental",
    since: 1,
    columns: &[
        column("entity_type", "TEXT PRIMARY KEY NOT NULL", 1),
        column("cursor", "TEXT", 1),
        column("updated_at", "INTEGER NOT NULL", 1),
        // The entity's field list when it was last pulled: a local schema upgrade that changes
        // it pulls the entity again from the start (migration sync, docs/protocol.md).
        column("fields", "TEXT", 3),
    ],
    indexes: &[],
};

/// What each sync did.
pub(crate) const LOG: Table = Table {
    name: "_sync_log",
    purpose: "what each sync round did, for support and the UI",
    since: 1,
    columns: &[
        column("id", "INTEGER PRIMARY KEY AUTOINCREMENT", 1),
        column("at", "INTEGER NOT NULL", 1),
        column(
            "direction",
            "TEXT NOT NULL CHECK (\"direction\" IN ('pull', 'push'))",
            1,
        ),
        column("entity_type", "TEXT", 1),
        column("pulled", "INTEGER NOT NULL DEFAULT 0", 1),
        column("pushed", "INTEGER NOT NULL DEFAULT 0", 1),
        column("conflicts", "INTEGER NOT NULL DEFAULT 0", 1),
        column("resolution", "TEXT", 1),
        column("error", "TEXT", 1),
        // The record a conflict row is about.
        column("entity_id", "TEXT", 3),
    ],
    indexes: &[],
};

/// The server's version of each record the server has, as the sync engine last learned it
/// (from a pull, an accepted push or a resolved conflict): the base of the next local change.
/// Kept here rather than in the app's tables, whose `version` counts local writes.
pub(crate) const RECORDS: Table = Table {
    name: "_sync_records",
    purpose: "the server version of each record the server has, the base of the next change",
    since: 3,
    columns: &[
        column("entity_id", "TEXT PRIMARY KEY NOT NULL", 3),
        column("entity_type", "TEXT NOT NULL", 3),
        column("server_version", "INTEGER NOT NULL", 3),
    ],
    indexes: &[],
};

/// The server's side of each record in `manual` conflict, kept until the app resolves it.
pub(crate) const CONFLICTS: Table = Table {
    name: "_sync_conflicts",
    purpose: "the server's copy of each record in manual conflict, until the app resolves it",
    since: 3,
    columns: &[
        column("entity_id", "TEXT PRIMARY KEY NOT NULL", 3),
        column("entity_type", "TEXT NOT NULL", 3),
        column(
            "server_record",
            "TEXT NOT NULL CHECK (json_valid(\"server_record\"))",
            3,
        ),
        column("detected_at", "INTEGER NOT NULL", 3),
    ],
    indexes: &[],
};

/// The versions of the runtime's tables applied to this database.
pub(crate) const VERSIONS: Table = Table {
    name: "_sync_runtime",
    purpose: "the versions of the runtime tables applied here, one row each",
    since: 1,
    columns: &[
        column("version", "INTEGER PRIMARY KEY", 1),
        column("applied_at", "INTEGER NOT NULL", 1),
    ],
    indexes: &[],
};

/// Since step 4: an adopted database records its adoption (`syncwright::adopt`).
pub(crate) const ADOPTION: Table = Table {
    name: "_sync_adoption",
    purpose: "the adoption of an existing app's tables, once, with the migration's checksum",
    since: 4,
    columns: &[
        column("checksum", "TEXT PRIMARY KEY NOT NULL", 4),
        column("tables", "TEXT NOT NULL CHECK (json_valid(\"tables\"))", 4),
        column("existing_rows", "TEXT NOT NULL", 4),
        column("adopted_at", "INTEGER NOT NULL", 4),
    ],
    indexes: &[],
};

/// Every runtime table, in creation order.
pub(crate) const TABLES: &[&Table] = &[
    &QUEUE, &CURSORS, &LOG, &VERSIONS, &RECORDS, &CONFLICTS, &ADOPTION,
];

impl Table {
    /// The columns as they are now (at [`RUNTIME_TABLES_VERSION`]).
    pub fn current_columns(&self) -> impl Iterator<Item = &Column> {
        self.columns
            .iter()
            .filter(|c| c.live_at(RUNTIME_TABLES_VERSION))
    }

    /// The indexes as they are now (at [`RUNTIME_TABLES_VERSION`]).
    pub fn current_indexes(&self) -> impl Iterator<Item = &IndexDescriptor> {
        self.indexes
            .iter()
            .filter(|i| i.live_at(RUNTIME_TABLES_VERSION))
            .map(|i| &i.descriptor)
    }

    /// The comma-separated, quoted column list (for `SELECT`).
    pub fn column_list(&self) -> String {
        self.current_columns()
            .map(|c| quote(c.name))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn create_sql(&self, version: u32) -> String {
        format!(
            "-- {}: {}\nCREATE TABLE IF NOT EXISTS {}",
            self.name,
            self.purpose,
            self.definition(self.name, version)
        )
    }

    /// `"<name>" (<columns at version>);`, the body of a `CREATE TABLE`.
    fn definition(&self, name: &str, version: u32) -> String {
        let columns: Vec<String> = self
            .columns
            .iter()
            .filter(|c| c.live_at(version))
            .map(|c| format!("    {} {}", quote(c.name), c.definition))
            .collect();
        format!("{} (\n{}\n);\n", quote(name), columns.join(",\n"))
    }

    /// Whether step `version` rebuilds the table: one of its column definitions ends there
    /// (SQLite changes a column's type or constraints only by rebuilding the table).
    fn rebuilt_in(&self, version: u32) -> bool {
        self.since < version && self.columns.iter().any(|c| c.until == Some(version))
    }

    /// The rebuild of step `version` (see the module docs): the new shape under a temporary
    /// name, every row copied (a column new in the step takes its default), the
    /// `AUTOINCREMENT` counter carried over so no id is handed out twice, the old table dropped,
    /// the new one renamed (with `legacy_alter_table`, so a view of the app that reads the table
    /// neither blocks the rename nor gets rewritten), and the indexes of the new shape.
    fn rebuild_sql(&self, version: u32) -> String {
        let new_name = format!("{}_new", self.name);
        let copied: Vec<String> = self
            .columns
            .iter()
            .filter(|c| c.live_at(version))
            .filter(|c| {
                self.columns
                    .iter()
                    .any(|old| old.name == c.name && old.live_at(version - 1))
            })
            .map(|c| quote(c.name))
            .collect();
        let copied = copied.join(", ");
        let mut sql = format!(
            "-- {}: rebuilt in its new shape, every row kept\nCREATE TABLE {}",
            self.name,
            self.definition(&new_name, version)
        );
        let _ = writeln!(
            sql,
            "INSERT INTO {new} ({copied}) SELECT {copied} FROM {old};",
            new = quote(&new_name),
            old = quote(self.name),
        );
        if self
            .columns
            .iter()
            .any(|c| c.definition.contains("AUTOINCREMENT"))
        {
            let _ = writeln!(
                sql,
                "DELETE FROM sqlite_sequence WHERE name = '{new_name}';\n\
                 INSERT INTO sqlite_sequence (name, seq) SELECT '{new_name}', seq FROM sqlite_sequence WHERE name = '{}';",
                self.name
            );
        }
        let _ = writeln!(
            sql,
            "DROP TABLE {old};\nPRAGMA legacy_alter_table = ON;\n\
             ALTER TABLE {new} RENAME TO {old};\nPRAGMA legacy_alter_table = OFF;",
            new = quote(&new_name),
            old = quote(self.name),
        );
        for index in self.indexes.iter().filter(|i| i.live_at(version)) {
            sql.push_str(&create_index_sql(self.name, &index.descriptor));
        }
        sql
    }

    /// What the runtime rewrites after the rebuild of step `version` (see
    /// [`Column::converted_by`]); empty when nothing.
    fn conversion_sql(&self, version: u32) -> String {
        let mut sql = String::new();
        if !self.rebuilt_in(version) {
            return sql;
        }
        for c in self.columns.iter().filter(|c| c.since == version) {
            if let Some(expression) = c.converted_by {
                let _ = writeln!(
                    sql,
                    "UPDATE {} SET {col} = {expression} WHERE {col} IS NOT ({expression});",
                    quote(self.name),
                    col = quote(c.name),
                );
            }
        }
        sql
    }
}

fn create_index_sql(table: &str, index: &IndexDescriptor) -> String {
    let columns: Vec<String> = index.columns.iter().map(|c| quote(c)).collect();
    format!(
        "CREATE {}INDEX IF NOT EXISTS {} ON {} ({});\n",
        if index.unique { "UNIQUE " } else { "" },
        quote(index.name),
        quote(table),
        columns.join(", ")
    )
}

/// The statements of runtime step `version`, rendered from the definitions: the tables created
/// in `version`, the columns added in `version`, the tables rebuilt in `version`, then the
/// indexes added or dropped in `version`. Every statement of a step without a rebuild can run
/// again (`IF NOT EXISTS`; the runner skips an `ADD COLUMN` whose column exists); a rebuild is
/// one transaction with its `_sync_runtime` row, so it never runs half.
pub(crate) fn step_sql(version: u32) -> String {
    let mut sql = String::new();
    for table in TABLES.iter().filter(|t| t.since == version) {
        sql.push_str(&table.create_sql(version));
    }
    for table in TABLES.iter().filter(|t| t.since < version) {
        for c in table.columns.iter().filter(|c| c.since == version) {
            if table.rebuilt_in(version) {
                continue;
            }
            let _ = writeln!(
                sql,
                "ALTER TABLE {} ADD COLUMN {} {};",
                quote(table.name),
                quote(c.name),
                c.definition
            );
        }
    }
    for table in TABLES.iter().filter(|t| t.rebuilt_in(version)) {
        sql.push_str(&table.rebuild_sql(version));
    }
    for table in TABLES.iter().filter(|t| !t.rebuilt_in(version)) {
        for index in table.indexes {
            if index.until == Some(version) {
                let _ = writeln!(
                    sql,
                    "DROP INDEX IF EXISTS {};",
                    quote(index.descriptor.name)
                );
            } else if index.since == version {
                sql.push_str(&create_index_sql(table.name, &index.descriptor));
            }
        }
    }
    sql
}

/// The SQL a program without the Rust runtime (the `sqlite3` program, another language) runs
/// to create or upgrade the runtime's tables: every step in its own transaction, each recorded
/// in `_sync_runtime`. Run the steps whose version `_sync_runtime` does not list yet, in order
/// (on a new database: all of them); `docs/contracts.md` prints this text.
pub fn runtime_tables_sql() -> String {
    let mut sql = String::new();
    for version in 1..=RUNTIME_TABLES_VERSION {
        let _ = write!(
            sql,
            "-- Runtime tables, step {version}.\nBEGIN;\n{}INSERT OR IGNORE INTO \"_sync_runtime\" (\"version\", \"applied_at\") \
             VALUES ({version}, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));\nCOMMIT;\n",
            step_sql(version)
        );
    }
    sql
}

/// The highest runtime version recorded in the database (0 when none is). Only reads.
pub(crate) fn current_version(conn: &Connection) -> Result<u32> {
    let exists = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sync_runtime'";
    let found = conn
        .query_row(exists, [], |_| Ok(()))
        .optional()
        .map_err(Error::sql(exists))?;
    if found.is_none() {
        return Ok(0);
    }
    let sql = "SELECT coalesce(max(version), 0) FROM _sync_runtime";
    let version: i64 = conn
        .query_row(sql, [], |r| r.get(0))
        .map_err(Error::sql(sql))?;
    Ok(u32::try_from(version).unwrap_or(u32::MAX))
}

/// The read-only check: the runtime version of the database, refused when a newer runtime
/// wrote it.
pub(crate) fn verify(conn: &Connection) -> Result<u32> {
    let version = current_version(conn)?;
    if version > RUNTIME_TABLES_VERSION {
        return Err(Error::RuntimeDowngrade {
            database_version: version,
            runtime_version: RUNTIME_TABLES_VERSION,
        });
    }
    Ok(version)
}

/// Brings the runtime's tables to [`RUNTIME_TABLES_VERSION`]: each missing step in its own
/// `BEGIN IMMEDIATE` transaction with its `_sync_runtime` row. Writes nothing when up to date.
pub(crate) fn upgrade(conn: &mut Connection, now: SystemTime) -> Result<()> {
    let from = verify(conn)?;
    for version in from + 1..=RUNTIME_TABLES_VERSION {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(Error::sql("BEGIN IMMEDIATE"))?;
        // Another connection may have applied the step while we waited for the write lock.
        if current_version(&tx)? >= version {
            continue;
        }
        // The portable step, then what only the bundled SQLite can convert.
        let mut sql = step_sql(version);
        for table in TABLES {
            sql.push_str(&table.conversion_sql(version));
        }
        let name = format!("runtime tables {version}");
        let step = MigrationRef {
            version,
            name: &name,
            sql: &sql,
            checksum: "",
        };
        migrate::apply(&tx, &step, &mut |_| {})?;
        let insert = "INSERT INTO _sync_runtime (version, applied_at) VALUES (?1, ?2)";
        tx.execute(insert, (version, to_millis(now)))
            .map_err(Error::sql(insert))?;
        tx.commit().map_err(Error::sql("COMMIT"))?;
    }
    Ok(())
}
