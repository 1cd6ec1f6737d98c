//! Every migration of a project, rendered from its schema history.
//!
//! Version `N`'s step is planned from snapshots `N-1` and `N` (an empty database for `N = 1`),
//! and `schema.sql` creates the latest snapshot directly. The specs only decide the next
//! snapshot (`syncwright migrate new`); once released, a version is rendered from its snapshot
//! alone, and the lock file pins what was released.
//!
//! ```no_run
//! let project = syncwright_codegen::load_project("syncwright.toml".as_ref())?;
//! let set = syncwright_codegen::rendered_migrations(&project)?;
//! for step in &set.steps {
//!     println!("{} {}", step.file_name, step.checksum);
//! }
//! # Ok::<(), syncwright_codegen::Error>(())
//! ```

use std::path::Path;

use crate::diagnostic::display_path;
use crate::error::Result;
use crate::history::History;
use crate::load::LoadedProject;
use crate::lock::{self, Lock, LockedMigration};
use crate::output::OutputFile;
use crate::parse::project::ProjectConfig;
use crate::release::Releases;
use crate::{plan, render};

/// One rendered migration file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderedMigration {
    /// The version a database is at after it (the latest version for `schema.sql`).
    pub version: u32,
    /// The migration's name (`init`, `add_inspections`), or `schema` for `schema.sql`.
    pub name: String,
    /// `0003_add_inspections.sql` or `schema.sql`.
    pub file_name: String,
    /// The whole file.
    pub sql: String,
    /// The contract checksum of `sql` (see [`checksum`]).
    pub checksum: String,
}

impl RenderedMigration {
    fn new(version: u32, name: &str, file_name: String, sql: String) -> Self {
        RenderedMigration {
            version,
            name: name.to_string(),
            file_name,
            checksum: checksum(&sql),
            sql,
        }
    }
}

/// Every migration of a project.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderedMigrations {
    /// The latest schema version.
    pub version: u32,
    /// `schema.sql`: creates the latest version on an empty database (fresh install).
    pub schema: RenderedMigration,
    /// `NNNN_<name>.sql` for versions `1..=version`, in order: step `N` takes `N-1` to `N`.
    pub steps: Vec<RenderedMigration>,
}

/// The contract checksum: SHA-256, lower-case hex, of `text` with every `\r\n` replaced by `\n`;
/// the runtime checks migrations with the same function.
///
/// ```
/// use syncwright_codegen::rendered::checksum;
/// assert_eq!(checksum("a;\r\n"), checksum("a;\n"));
/// assert_eq!(checksum("").len(), 64);
/// ```
pub use syncwright_checksum::checksum;

/// The fresh-install script's file name, in the migrations folder.
pub const SCHEMA_FILE: &str = "schema.sql";

/// The file name of migration `version` named `name`: `0003_add_inspections.sql`.
pub fn file_name(version: u32, name: &str) -> String {
    format!("{version:04}_{name}.sql")
}

/// All migrations of a loaded project, rendered in memory from its history.
///
/// Fails, naming `syncwright migrate new <name>`, when the current specs differ from the latest
/// released snapshot or when the version in `syncwright.toml` has no snapshot; and when the
/// snapshots, the lock and the migration files disagree.
pub fn rendered_migrations(project: &LoadedProject) -> Result<RenderedMigrations> {
    let mut releases = Releases::load(project)?;
    releases.check_history()?;
    releases.check_specs_released();
    let set = releases.rendered()?;
    releases.finish(set)
}

/// Every migration of `history`, `None` when nothing is released.
pub(crate) fn render_history(history: &History) -> Option<RenderedMigrations> {
    let latest = history.latest()?;
    let mut steps = Vec::new();
    let mut prev: &[crate::model::Table] = &[];
    for released in &history.released {
        let snapshot = &released.snapshot;
        let sources = if snapshot.version == 1 {
            format!("snapshot v{}", snapshot.version)
        } else {
            format!(
                "snapshots v{} and v{}",
                snapshot.version - 1,
                snapshot.version
            )
        };
        let sql = render::migration::migration_sql(
            snapshot.version,
            &snapshot.name,
            &sources,
            &plan::plan(prev, &snapshot.tables),
        );
        steps.push(RenderedMigration::new(
            snapshot.version,
            &snapshot.name,
            file_name(snapshot.version, &snapshot.name),
            sql,
        ));
        prev = &snapshot.tables;
    }
    let schema = render::schema_sql(
        latest.version,
        &format!("snapshot v{}", latest.version),
        &latest.tables,
    );
    Some(RenderedMigrations {
        version: latest.version,
        schema: RenderedMigration::new(latest.version, "schema", SCHEMA_FILE.to_string(), schema),
        steps,
    })
}

/// Every file `generate` writes for a history: the migrations, `schema.sql` and the lock.
pub(crate) fn output_files(
    config: &ProjectConfig,
    history: &History,
    set: &RenderedMigrations,
) -> Vec<OutputFile> {
    let dir = &config.migrations_dir;
    let mut files: Vec<OutputFile> = set
        .steps
        .iter()
        .chain([&set.schema])
        .map(|m| OutputFile {
            path: dir.join(&m.file_name),
            contents: m.sql.clone(),
        })
        .collect();
    let lock = Lock {
        version: set.version,
        migrations: history
            .released
            .iter()
            .zip(&set.steps)
            .map(|(released, step)| LockedMigration {
                version: step.version,
                name: step.name.clone(),
                file: step.file_name.clone(),
                checksum: step.checksum.clone(),
                snapshot: relative(&config.root, &released.path),
                snapshot_checksum: checksum(&released.text),
            })
            .collect(),
    };
    files.push(OutputFile {
        path: lock::path(dir),
        contents: lock::to_toml(&lock),
    });
    files
}

fn relative(root: &Path, path: &Path) -> String {
    display_path(path.strip_prefix(root).unwrap_or(path))
}
