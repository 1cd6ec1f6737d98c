//! A project and its release history, loaded once for every command.
//!
//! [`Releases::load`] reads the schema history (the snapshots of every released version) and the
//! lock, checks them against each other with the [`rules`], and renders every migration from
//! the snapshots. `generate`, `check`, `migrate new` and `build.rs` are thin callers of it: each
//! adds the rules of its own command and takes the files it needs from [`Releases::outputs`].

pub mod rules;

use std::path::{Path, PathBuf};

use crate::diagnostic::{Diagnostics, Origin, SourceMap, display_path};
use crate::error::{Error, Result};
use crate::history::{self, History, Released, Snapshot};
use crate::load::LoadedProject;
use crate::lock::{self, Lock};
use crate::model::Entity;
use crate::output::OutputFile;
use crate::render::rust::entities_rs;
use crate::rendered::{self, RenderedMigrations};

/// A loaded project with its history and lock, every migration rendered from the history, and
/// every problem found so far.
pub struct Releases<'p> {
    /// The project: configuration and validated specs.
    pub project: &'p LoadedProject,
    /// Every file read (specs, snapshots, lock), for diagnostics.
    pub sources: SourceMap,
    /// Every released snapshot.
    pub history: History,
    /// What the lock pins, `None` when there is no lock (yet).
    pub lock: Option<Lock>,
    /// Every migration rendered from the history; `None` when nothing is released or the
    /// history cannot be read.
    pub migrations: Option<RenderedMigrations>,
    /// The names of the `.sql` files in the migrations folder.
    pub sql_files: Vec<String>,
    /// Whether a lock exists but could not be read (already reported).
    pub lock_unreadable: bool,
    /// Problems found so far.
    pub diags: Diagnostics,
}

/// What [`Releases::check_history`] found, beyond the problems it reported.
#[derive(Debug)]
pub struct HistoryCheck {
    /// Whether a snapshot or the lock has a problem: files rendered from them differ too, and
    /// that is not the problem to report.
    pub history_problems: bool,
    /// Released migration files edited on disk.
    pub edited_migrations: Vec<PathBuf>,
}

impl<'p> Releases<'p> {
    /// Reads the history and the lock of `project` and renders every released migration.
    ///
    /// Unreadable snapshots or lock are collected in [`Releases::diags`]; only I/O errors fail.
    pub fn load(project: &'p LoadedProject) -> Result<Releases<'p>> {
        let mut sources = project.sources.clone();
        let mut diags = Diagnostics::new();
        let history = history::load(&project.config, &mut sources, &mut diags)?;
        let before = diags.len();
        let lock = lock::load(&project.config.migrations_dir, &mut sources, &mut diags)?;
        let lock_unreadable = diags.len() > before;
        let sql_files = sql_files(&project.config.migrations_dir)?;
        // A history with gaps or unreadable snapshots cannot be rendered.
        let migrations = if diags.is_empty() {
            rendered::render_history(&history)
        } else {
            None
        };
        Ok(Releases {
            project,
            sources,
            history,
            lock,
            migrations,
            sql_files,
            lock_unreadable,
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

    /// The rendered migrations; fails on the problems collected so far, and when nothing is
    /// released (naming `syncwright migrate new`).
    pub fn rendered(&mut self) -> Result<RenderedMigrations> {
        self.bail()?;
        match &self.migrations {
            Some(set) => Ok(set.clone()),
            None => {
                self.diags.push(rules::no_snapshot(&self.project.config, 1));
                self.bail()?;
                unreachable!("a problem was just reported")
            }
        }
    }

    /// Cross-checks the snapshots, the lock and the migration files on disk with every history
    /// rule, and returns what a caller needs to word its own report.
    pub fn check_history(&mut self) -> Result<HistoryCheck> {
        let config = &self.project.config;
        let (lock, set) = (self.lock.as_ref(), self.migrations.as_ref());
        let before = self.diags.len();
        rules::migrations_dir_is_a_folder(config, &mut self.diags);
        rules::no_gaps_in_history(&self.history, lock, &mut self.diags);
        rules::snapshots_are_locked(&self.history, lock, &mut self.diags);
        rules::lock_matches_history(config, &self.history, lock, set, &mut self.diags)?;
        let history_problems = self.diags.len() > before;
        if !self.lock_unreadable {
            rules::lock_exists_with_migrations(
                config,
                &self.history,
                lock,
                &self.sql_files,
                &mut self.diags,
            );
        }
        let edited_migrations =
            rules::released_files_match_lock(config, lock, set, &mut self.diags)?;
        Ok(HistoryCheck {
            history_problems,
            edited_migrations,
        })
    }

    /// For `check`: reports a missing lock whenever something is released, and `.sql` files in
    /// the migrations folder that no release wrote.
    pub fn check_checked_in(&mut self) {
        if !self.lock_unreadable {
            rules::lock_exists_when_released(
                &self.project.config,
                &self.history,
                self.lock.as_ref(),
                &self.sql_files,
                &mut self.diags,
            );
        }
        self.check_no_stray_migrations();
    }

    /// Reports `.sql` files in the migrations folder that no release wrote.
    pub fn check_no_stray_migrations(&mut self) {
        rules::no_stray_migration_files(
            &self.project.config,
            self.lock.as_ref(),
            self.migrations.as_ref(),
            &self.sql_files,
            &mut self.diags,
        );
    }

    /// Checks that the specs and `version` in `syncwright.toml` match the latest release.
    pub fn check_specs_released(&mut self) {
        rules::specs_match_latest_release(
            self.project,
            &self.history,
            self.lock.as_ref(),
            &mut self.diags,
        );
    }

    /// Checks `files` before they are written: a migration file that exists is never rewritten.
    pub fn check_writes(&mut self, files: &[OutputFile]) -> Result<()> {
        rules::migration_files_are_never_rewritten(files, &mut self.diags)
    }

    /// Adds `snapshot` to the history as the next release, and returns every file to write:
    /// the snapshot first, then everything `generate` writes for the new history.
    pub fn release(&mut self, snapshot: Snapshot) -> Vec<OutputFile> {
        let text = history::to_toml(&snapshot);
        let path = self.history.path_of(snapshot.version);
        self.history.released.push(Released {
            snapshot,
            path: path.clone(),
            text: text.clone(),
        });
        let set = rendered::render_history(&self.history).expect("a version was just released");
        let mut files = vec![OutputFile {
            path,
            contents: text,
        }];
        files.extend(self.outputs(&set));
        self.migrations = Some(set);
        files
    }

    /// Runs every released step on scratch databases (see [`crate::rehearse`]) and reports the
    /// problems of versions `from` and above; a backfill of those versions must be one
    /// expression, located at its spec's `backfill` key for the version being released.
    ///
    /// Without the `rehearse` feature (the derive's build) nothing is run.
    pub fn rehearse(&mut self, from: u32) {
        #[cfg(feature = "rehearse")]
        {
            let Some(set) = &self.migrations else { return };
            let snapshots: Vec<&Snapshot> =
                self.history.released.iter().map(|r| &r.snapshot).collect();
            let pending = self.project.config.version.value;
            let before = self.diags.len();
            for pair in snapshots.windows(2).filter(|p| p[1].version >= from) {
                let (prev, next) = (pair[0], pair[1]);
                // The spec's `backfill` key for the version being released; a released one is
                // only in its snapshot.
                let origin_of = |table: &str, column: &str| {
                    if next.version == pending {
                        backfill_origin(self.project, table, column)
                    } else {
                        Origin::Generated
                    }
                };
                crate::rehearse::backfills_are_expressions(
                    Some(prev),
                    next,
                    origin_of,
                    &mut self.diags,
                );
            }
            // A backfill that is not one expression makes the steps fail too; that is the
            // problem to report.
            if self.diags.len() == before {
                crate::rehearse::steps(&snapshots, set, from, &mut self.diags);
            }
        }
        #[cfg(not(feature = "rehearse"))]
        let _ = from;
    }

    /// Every file `generate` writes for `set`: each migration, `schema.sql`, the lock, and
    /// `entities.rs` in `[output] rust` when configured.
    pub fn outputs(&self, set: &RenderedMigrations) -> Vec<OutputFile> {
        let mut files = rendered::output_files(&self.project.config, &self.history, set);
        files.extend(rust_outputs(self.project));
        files
    }
}

/// Where the spec sets the `backfill` of `column` in `table`.
#[cfg(feature = "rehearse")]
fn backfill_origin(project: &LoadedProject, table: &str, column: &str) -> Origin {
    project
        .schema
        .entities
        .iter()
        .filter(|e| e.table.value == table)
        .flat_map(|e| &e.fields)
        .find(|f| f.name.value == column)
        .and_then(|f| f.backfill.as_ref())
        .map_or(Origin::Generated, |b| b.origin.clone())
}

/// The names of the `.sql` files in `dir`, sorted; none when it does not exist.
fn sql_files(dir: &Path) -> Result<Vec<String>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error)
            if matches!(
                error.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) =>
        {
            return Ok(Vec::new());
        }
        Err(source) => {
            return Err(Error::Read {
                path: dir.to_path_buf(),
                source,
            });
        }
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.ends_with(".sql"))
        .collect();
    names.sort();
    Ok(names)
}

/// `entities.rs` in `[output] rust`, when configured, with the structs of the TOML entity specs
/// (the same content as the entities module of a build-script run).
fn rust_outputs(project: &LoadedProject) -> Vec<OutputFile> {
    let Some(dir) = &project.config.rust_dir else {
        return Vec::new();
    };
    vec![OutputFile {
        path: dir.join("entities.rs"),
        contents: entities_file(project),
    }]
}

/// The Rust structs of the project's TOML entity specs, as one file.
pub fn entities_file(project: &LoadedProject) -> String {
    entities_rs(
        &display_path(&project.config.config_path),
        &toml_entities(project),
        &project.sources,
        &project.config.root,
    )
}

/// The entities declared in TOML specs (not in Rust sources, which are Rust already).
pub fn toml_entities(project: &LoadedProject) -> Vec<&Entity> {
    project
        .schema
        .entities
        .iter()
        .filter(|entity| match &entity.origin {
            Origin::File { file, .. } => project
                .sources
                .get(*file)
                .path
                .extension()
                .is_some_and(|ext| ext == "toml"),
            _ => false,
        })
        .collect()
}
