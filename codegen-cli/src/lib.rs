//! The syncwright generator: entity specs in, SQLite schema and migrations out.
//!
//! The pipeline has one implementation per stage, shared by the CLI, `build.rs` and the
//! derive macro:
//!
//! 1. **parse** ([`parse`]): TOML entity specs and `syncwright.toml` into the [`model`];
//! 2. **validate** ([`validate`]): every rule, all problems collected as [`diagnostic`]s;
//! 3. **resolve** ([`resolve`]): entities into physical tables with sync columns and indexes;
//! 4. **render** ([`render`]): askama templates into SQL text;
//! 5. **write** ([`output`]): only changed files, atomically, and nothing when anything failed.
//!
//! ```no_run
//! let report = syncwright_codegen::generate("syncwright.toml")?;
//! for (path, outcome) in &report.files {
//!     println!("{outcome:?} {}", path.display());
//! }
//! # Ok::<(), syncwright_codegen::Error>(())
//! ```

pub mod build_config;
pub mod check;
pub mod diagnostic;
pub mod diff;
pub mod error;
pub mod history;
pub mod load;
pub mod lock;
pub mod migrate;
pub mod migrations;
pub mod model;
pub mod naming;
pub mod output;
pub mod parse;
pub mod plan;
pub mod render;
pub mod resolve;
pub mod symbol;
pub mod validate;

#[cfg(feature = "cli")]
pub mod cli;

use std::path::{Path, PathBuf};

pub use error::{Error, InvalidSchema, Result};
pub use load::{LoadedProject, load_project};
pub use output::{OutputFile, WriteOutcome};

pub use build_config::{BuildReport, Config, build};
pub use check::{CheckReport, check};
pub use migrate::migrate_new;
pub use migrations::{MigrationSet, RenderedMigration, migration_set};

/// What a generator run wrote.
#[derive(Debug)]
pub struct GenerateReport {
    /// Every output file and whether it changed.
    pub files: Vec<(PathBuf, WriteOutcome)>,
}

/// The files `generate` writes for a loaded project, computed in memory: every migration and
/// `schema.sql`, rendered from the schema history, and the lock.
///
/// Fails like [`migration_set`], and when a released migration file was edited (`generate`
/// never rewrites a released migration).
pub fn plan_outputs(project: &LoadedProject) -> Result<Vec<OutputFile>> {
    let mut state = migrations::State::load(project)?;
    migrations::check_specs(project, &state.history, &mut state.diags);
    let set = state.render(&project.config)?;
    state.check_lock(&project.config, &set);
    state.check_released_files(&project.config)?;
    let mut files = migrations::output_files(&project.config, &state.history, &set);
    files.extend(build_config::rust_outputs(project));
    state.finish(files)
}

/// Loads the project at `config_path`, validates it and writes every output.
///
/// Nothing is written when any input has a problem.
pub fn generate(config_path: impl AsRef<Path>) -> Result<GenerateReport> {
    let project = load_project(config_path.as_ref())?;
    let files = output::write_all(&plan_outputs(&project)?)?;
    Ok(GenerateReport { files })
}
