//! Every migration of a project, rendered from its schema history.
//!
//! Version `N`'s step is planned from snapshots `N-1` and `N` (an empty database for `N = 1`),
//! and `schema.sql` creates the latest snapshot directly. The specs only decide the next
//! snapshot (`syncwright migrate new`); once released, a version is rendered from its snapshot
//! alone, and the lock file pins what was released.
//!
//! ```no_run
//! let project = syncwright_codegen::load_project("syncwright.toml".as_ref())?;
//! let set = syncwright_codegen::migration_set(&project)?;
//! for step in &set.steps {
//!     println!("{} {}", step.file_name, step.checksum);
//! }
//! # Ok::<(), syncwright_codegen::Error>(())
//! ```

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::diagnostic::{Diagnostic, Diagnostics, SourceMap, display_path};
use crate::error::{Error, Result};
use crate::history::{self, History};
use crate::load::LoadedProject;
use crate::lock::{self, Lock, LockedMigration};
use crate::output::OutputFile;
use crate::parse::project::ProjectConfig;
use crate::plan;
use crate::{diff, render};

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
pub struct MigrationSet {
    /// The latest schema version.
    pub version: u32,
    /// `schema.sql`: creates the latest version on an empty database (fresh install).
    pub schema: RenderedMigration,
    /// `NNNN_<name>.sql` for versions `1..=version`, in order: step `N` takes `N-1` to `N`.
    pub steps: Vec<RenderedMigration>,
}

/// The contract checksum: SHA-256, lower-case hex, of `text` with every `\r\n` replaced by `\n`.
///
/// ```
/// use syncwright_codegen::migrations::checksum;
/// assert_eq!(checksum("a;\r\n"), checksum("a;\n"));
/// assert_eq!(checksum("").len(), 64);
/// ```
pub fn checksum(text: &str) -> String {
    Sha256::digest(text.replace("\r\n", "\n").as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The file name of migration `version` named `name`: `0003_add_inspections.sql`.
pub fn file_name(version: u32, name: &str) -> String {
    format!("{version:04}_{name}.sql")
}

/// All migrations of a loaded project, rendered in memory from its history.
///
/// Fails, naming `syncwright migrate new <name>`, when the current specs differ from the latest
/// released snapshot or when the version in `syncwright.toml` has no snapshot; and when a
/// released snapshot no longer matches the lock file.
pub fn migration_set(project: &LoadedProject) -> Result<MigrationSet> {
    let mut state = State::load(project)?;
    check_specs(project, &state.history, &mut state.diags);
    let set = state.render(&project.config)?;
    state.check_lock(&project.config, &set);
    state.finish(set)
}

/// A project's history and lock, with the files read for diagnostics.
pub(crate) struct State {
    pub sources: SourceMap,
    pub history: History,
    pub lock: Option<Lock>,
    pub diags: Diagnostics,
}

impl State {
    /// Reads the history and the lock of `project`.
    pub fn load(project: &LoadedProject) -> Result<State> {
        let mut sources = project.sources.clone();
        let mut diags = Diagnostics::new();
        let history = history::load(&project.config, &mut sources, &mut diags)?;
        let lock = lock::load(&project.config.migrations_dir, &mut sources, &mut diags)?;
        Ok(State {
            sources,
            history,
            lock,
            diags,
        })
    }

    /// Fails with every problem collected so far, if any.
    pub fn bail(&mut self) -> Result<()> {
        if self.diags.is_empty() {
            return Ok(());
        }
        Err(Error::invalid(
            self.sources.clone(),
            std::mem::take(&mut self.diags),
        ))
    }

    /// `value` when no problem was collected.
    pub fn finish<T>(mut self, value: T) -> Result<T> {
        self.bail()?;
        Ok(value)
    }

    /// Every migration rendered from the history; fails on the problems collected so far (a
    /// history with gaps or unreadable snapshots cannot be rendered).
    pub fn render(&mut self, config: &ProjectConfig) -> Result<MigrationSet> {
        self.bail()?;
        render_history(&self.history).ok_or_else(|| {
            // check_specs reports a missing first snapshot; this is for callers that skip it.
            let mut diags = Diagnostics::new();
            diags.push(no_snapshot(config, 1));
            Error::invalid(self.sources.clone(), diags)
        })
    }

    /// Reports released snapshots that changed since the lock recorded them, and released
    /// migrations that would render differently.
    pub fn check_lock(&mut self, config: &ProjectConfig, set: &MigrationSet) {
        let Some(lock) = &self.lock else { return };
        let mut edited = Vec::new();
        for released in &self.history.released {
            let version = released.snapshot.version;
            let Some(entry) = lock.get(version) else {
                continue;
            };
            if checksum(&released.text) != entry.snapshot_checksum {
                self.diags.push(
                    lock::edited(&released.path, "snapshot").help(history::edited_snapshot_help()),
                );
                edited.push(version);
            } else if edited.contains(&(version - 1)) {
                // Rendered from the edited snapshot before it: that edit is the problem.
            } else if let Some(step) = set.steps.iter().find(|s| s.version == version)
                && (step.checksum != entry.checksum || step.file_name != entry.file)
            {
                self.diags.push(
                    Diagnostic::error(
                        crate::diagnostic::Origin::Generated,
                        format!(
                            "released migration `{}` would change: rendered from its unchanged snapshots it no longer matches `{}`",
                            display_path(&config.migrations_dir.join(&entry.file)),
                            lock::LOCK_FILE
                        ),
                    )
                    .help("released migrations never change: use the syncwright version that released it, or restore `syncwright.lock` from version control if it was edited"),
                );
            }
        }
        for entry in lock
            .migrations
            .iter()
            .filter(|m| m.version > self.history.latest_version())
        {
            self.diags.push(history::missing_snapshot(
                &self.history.path_of(entry.version),
                entry.version,
            ));
        }
    }

    /// Reports released migration files on disk whose content differs from the lock, and
    /// returns their paths.
    pub fn check_released_files(&mut self, config: &ProjectConfig) -> Result<Vec<PathBuf>> {
        let Some(lock) = &self.lock else {
            return Ok(Vec::new());
        };
        let mut edited = Vec::new();
        for entry in &lock.migrations {
            let path = config.migrations_dir.join(&entry.file);
            if let Some(text) = lock::read_optional(&path)?
                && checksum(&text) != entry.checksum
            {
                self.diags.push(lock::edited(&path, "migration"));
                edited.push(path);
            }
        }
        Ok(edited)
    }
}

/// Every migration of `history`, `None` when nothing is released.
pub(crate) fn render_history(history: &History) -> Option<MigrationSet> {
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
    Some(MigrationSet {
        version: latest.version,
        schema: RenderedMigration::new(latest.version, "schema", "schema.sql".to_string(), schema),
        steps,
    })
}

/// Every file `generate` writes for a history: the migrations, `schema.sql` and the lock.
pub(crate) fn output_files(
    config: &ProjectConfig,
    history: &History,
    set: &MigrationSet,
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

/// Reports when the specs and `version` in `syncwright.toml` do not match the history: a
/// version without a snapshot, a version that skips or goes back, specs changed since the
/// latest release, and changes no migration can make.
pub(crate) fn check_specs(project: &LoadedProject, history: &History, diags: &mut Diagnostics) {
    let config = &project.config;
    let version = config.version.value;
    let latest = history.latest_version();
    if version > latest {
        diags.push(no_snapshot(config, latest + 1));
        return;
    }
    if version < latest {
        diags.push(version_goes_back(config, latest));
        return;
    }
    let latest = history.latest().expect("version >= 1 is released");
    let mut refusals = Diagnostics::new();
    let next = diff::next_tables(Some(latest), &project.schema, version + 1, &mut refusals);
    if !refusals.is_empty() {
        diags.extend(refusals);
        return;
    }
    if next != latest.tables {
        let mut diagnostic = Diagnostic::error(
            config.version.origin.clone(),
            format!("the entity specs changed since version {version} was released"),
        )
        .label(format!("v{version} is released"))
        .help(format!(
            "release the change as a new version: set `version = {}` and run `syncwright migrate new <name>`",
            version + 1
        ));
        for change in changes(&latest.tables, &next) {
            diagnostic = diagnostic.note(change, crate::diagnostic::Origin::Generated);
        }
        diags.push(diagnostic);
    }
}

/// One line per difference, for messages.
pub(crate) fn changes(prev: &[crate::model::Table], next: &[crate::model::Table]) -> Vec<String> {
    let mut lines: Vec<String> = plan::plan(prev, next).iter().map(plan::summary).collect();
    if lines.is_empty() {
        lines.push("the conflict strategy of an entity changed".to_string());
    }
    lines
}

/// `version` in `syncwright.toml` has no snapshot yet.
pub(crate) fn no_snapshot(config: &ProjectConfig, next: u32) -> Diagnostic {
    let version = config.version.value;
    let history = display_path(&config.history_dir);
    if version == next {
        Diagnostic::error(
            config.version.origin.clone(),
            format!("version {version} has no snapshot in `{history}`: it is not released yet"),
        )
        .label("not released")
        .help("release it: run `syncwright migrate new <name>`, which writes its snapshot and migration")
    } else {
        let latest = match next - 1 {
            0 => format!("no version is released yet (`{history}` has no snapshot)"),
            latest => format!("the latest snapshot in `{history}` is v{latest}"),
        };
        Diagnostic::error(
            config.version.origin.clone(),
            format!("version {version} skips version {next}: {latest}"),
        )
        .label(format!("expected {next}"))
        .help(format!(
            "versions go up by one: set `version = {next}` and run `syncwright migrate new <name>`"
        ))
    }
}

/// `version` in `syncwright.toml` is below the latest released version.
pub(crate) fn version_goes_back(config: &ProjectConfig, latest: u32) -> Diagnostic {
    Diagnostic::error(
        config.version.origin.clone(),
        format!(
            "version {} goes back: v{latest} is already released",
            config.version.value
        ),
    )
    .label(format!("v{latest} is released"))
    .help(format!(
        "released versions stay: set `version = {latest}`, or `version = {}` and run `syncwright migrate new <name>` to release a change",
        latest + 1
    ))
}
