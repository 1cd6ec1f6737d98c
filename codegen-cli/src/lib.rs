//! The syncwright generator: entity specs in, SQLite schema and migrations out.
//!
//! The pipeline has one implementation per stage, shared by the CLI, `build.rs` and the
//! derive macro; data flows forward only (`docs/architecture.md` draws it):
//!
//! 1. **parse** (`parse`, driven by `load`): `syncwright.toml`, TOML entity specs and Rust
//!    sources into the `model`;
//! 2. **validate** (`validate`): every rule of one schema, all problems collected as
//!    `diagnostic`s;
//! 3. **resolve** (`resolve`): entities into physical tables with sync columns and indexes;
//! 4. **history** (`history`, `lock`, `release`): the released snapshots and the lock,
//!    checked against each other and against the specs by `release::rules`;
//! 5. **diff** (`diff`): the specs against the latest snapshot, into the next snapshot, with
//!    every change no additive migration can make refused;
//! 6. **plan** (`plan`): two consecutive snapshots into migration steps;
//! 7. **render** (`render`, `rendered`): steps and snapshots into SQL text, the lock and
//!    the Rust modules;
//! 8. **rehearse** (`rehearse`, with the `rehearse` feature that the CLI enables): every
//!    release run on scratch SQLite databases with rows in every table, each version compared
//!    with its fresh install, every backfill checked to be one expression;
//! 9. **write** (`output`): only changed files, staged and renamed into place together, and
//!    nothing when anything failed.
//!
//! [`generate`], [`check()`], [`migrate_new`] and [`build`] are thin callers of
//! `release::Releases`, which loads a project's history once for all of them; the commands
//! that write into the project hold it (`project_lock`) from before they read it.
//!
//! ```no_run
//! let report = syncwright_codegen::generate("syncwright.toml")?;
//! for (path, outcome) in &report.files {
//!     println!("{outcome:?} {}", path.display());
//! }
//! # Ok::<(), syncwright_codegen::Error>(())
//! ```

// The user API is what the crate root re-exports below (`generate`, `check`, `migrate_new`,
// `build`, `init` and `Config`, their reports and `Error`) and the CLI's `cli::run`. All of it
// needs the `generate` feature; without it the crate is only the stages the derive expands a
// struct with (attribute reader, model, validation, naming, resolve), whose dependencies are
// syn, quote, proc-macro2, serde and serde_json.
#[cfg(feature = "generate")]
pub mod build_config;
#[cfg(feature = "generate")]
mod check;
#[cfg(feature = "generate")]
mod error;
#[cfg(feature = "generate")]
mod init;
#[cfg(feature = "generate")]
mod lock;
#[cfg(feature = "generate")]
mod migrate_new;
#[cfg(feature = "generate")]
mod output;
#[cfg(feature = "generate")]
mod plan;
#[cfg(feature = "generate")]
mod project_lock;
#[cfg(feature = "rehearse")]
mod rehearse;
#[cfg(feature = "generate")]
mod release;
mod similarity;

// The stages that syncwright-derive and syncwright-server share with the generator (one parser,
// one model, one set of diagnostics), also read by the tests. Not a stable API: hidden from the
// docs, and free to change with the generator.
#[doc(hidden)]
pub mod diagnostic;
#[cfg(feature = "generate")]
#[doc(hidden)]
pub mod diff;
#[cfg(feature = "generate")]
#[doc(hidden)]
pub mod history;
#[cfg(feature = "generate")]
#[doc(hidden)]
pub mod load;
#[doc(hidden)]
pub mod model;
#[doc(hidden)]
pub mod naming;
#[doc(hidden)]
pub mod parse;
#[doc(hidden)]
pub mod render;
#[cfg(feature = "generate")]
#[doc(hidden)]
pub mod rendered;
#[doc(hidden)]
pub mod resolve;
#[doc(hidden)]
pub mod symbol;
#[doc(hidden)]
pub mod validate;

#[cfg(feature = "cli")]
pub mod cli;
#[cfg(feature = "rehearse")]
pub mod import;
#[cfg(feature = "rehearse")]
pub mod inspect;

#[cfg(feature = "generate")]
use std::path::{Path, PathBuf};

#[cfg(feature = "generate")]
pub use error::{Error, InvalidSchema, Result};
#[cfg(feature = "generate")]
pub use load::{LoadedProject, load_project};
#[cfg(feature = "generate")]
pub use output::{OutputFile, WriteOutcome};

#[cfg(feature = "generate")]
pub use build_config::{BuildReport, Config, build};
#[cfg(feature = "generate")]
pub use check::{CheckReport, check};
#[cfg(feature = "generate")]
pub use init::{InitReport, InitStyle, init};
#[cfg(feature = "generate")]
pub use migrate_new::migrate_new;
#[cfg(feature = "generate")]
pub use rendered::{RenderedMigration, RenderedMigrations, rendered_migrations};

/// What a generator run wrote.
#[cfg(feature = "generate")]
#[derive(Debug)]
pub struct GenerateReport {
    /// Every output file and whether it changed.
    pub files: Vec<(PathBuf, WriteOutcome)>,
}

/// The files `generate` writes for a loaded project, computed in memory: every migration and
/// `schema.sql`, rendered from the schema history, the lock, and `entities.rs` in
/// `[output] rust` when configured.
///
/// Fails like [`rendered_migrations`], and when a released migration file was edited (`generate`
/// never rewrites a released migration).
#[cfg(feature = "generate")]
pub fn generated_files(project: &LoadedProject) -> Result<Vec<OutputFile>> {
    let mut releases = release::Releases::load(project)?;
    releases.check_history()?;
    releases.check_specs_released();
    let set = releases.rendered()?;
    let files = releases.outputs(&set);
    releases.check_writes(&files)?;
    releases.finish(files)
}

/// Loads the project at `config_path`, validates it and writes every output.
///
/// Nothing is written when any input has a problem.
#[cfg(feature = "generate")]
pub fn generate(config_path: impl AsRef<Path>) -> Result<GenerateReport> {
    let _hold = project_lock::ProjectLock::acquire(config_path.as_ref(), "generate")?;
    let project = load_project(config_path.as_ref())?;
    let files = output::write_all(&generated_files(&project)?)?;
    Ok(GenerateReport { files })
}
