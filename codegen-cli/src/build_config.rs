//! The build-script API: embed a project's migrations into the app at compile time.
//!
//! Like prost-build's `Config`: [`Config::new`], chainable options, one final
//! [`Config::generate`], and the [`build`] shortcut. Generation writes only to `OUT_DIR`, never
//! into the source tree, and rewrites a file only when its content changed:
//!
//! - `syncwright_migrations.rs` defines `MIGRATIONS: syncwright::Migrations` (every released
//!   version's SQL and checksum, and the fresh-install schema) and `SCHEMA_VERSION`;
//! - `syncwright_entities.rs` holds a `#[derive(Syncable)]` struct per TOML entity spec (empty
//!   for an all-Rust project).
//!
//! When the specs differ from the latest released version, generation fails and says to run
//! `syncwright migrate new <name>`: releasing a version is a reviewed change to the source
//! tree, which a build never makes.
//!
//! A whole `build.rs`:
//!
//! ```no_run
//! fn main() {
//!     syncwright_codegen::build("syncwright.toml");
//! }
//! ```
//!
//! and in the app:
//!
//! ```text
//! include!(concat!(env!("OUT_DIR"), "/syncwright_migrations.rs"));
//! ```
//!
//! With options:
//!
//! ```no_run
//! # fn main() -> Result<(), syncwright_codegen::Error> {
//! syncwright_codegen::Config::new()
//!     .config_path("db/syncwright.toml")
//!     .generate()?;
//! # Ok(())
//! # }
//! ```

// The example above is a whole build script, `fn main` included.
#![allow(clippy::needless_doctest_main)]

use std::collections::BTreeSet;
use std::env;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::diagnostic::display_path;
use crate::error::{Error, Result};
use crate::load::{LoadedProject, load_project};
use crate::output::{self, OutputFile, WriteOutcome};
use crate::parse::project::PROJECT_FILE;
use crate::release::entities_file;
use crate::render::rust::{EmbeddedAdoption, EmbeddedMigration, migrations_rs};
use crate::rendered::{RenderedMigration, rendered_migrations};
use crate::resolve;

pub use crate::release::toml_entities;

/// The module with the embedded migrations, in the output directory.
pub const MIGRATIONS_FILE: &str = "syncwright_migrations.rs";
/// The module with the structs of TOML entity specs, in the output directory.
pub const ENTITIES_FILE: &str = "syncwright_entities.rs";

/// Options of a build-script run; see the [module docs](self).
#[derive(Clone, Debug)]
pub struct Config {
    config_path: PathBuf,
    out_dir: Option<PathBuf>,
    rerun_if_changed: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            config_path: PathBuf::from(PROJECT_FILE),
            out_dir: None,
            rerun_if_changed: true,
        }
    }
}

/// What [`Config::generate`] did.
#[derive(Debug)]
pub struct BuildReport {
    /// Every file written to the output directory and whether it changed.
    pub files: Vec<(PathBuf, WriteOutcome)>,
    /// Every input read (files, and directories whose contents matter), as printed in
    /// `cargo:rerun-if-changed` lines.
    pub inputs: Vec<PathBuf>,
}

impl Config {
    /// The defaults: `syncwright.toml` in the current directory (a build script runs in its
    /// package's directory), output to `OUT_DIR`, `cargo:rerun-if-changed` lines printed.
    pub fn new() -> Self {
        Self::default()
    }

    /// The project file to read.
    pub fn config_path(&mut self, path: impl AsRef<Path>) -> &mut Self {
        self.config_path = path.as_ref().to_path_buf();
        self
    }

    /// Where to write, instead of `OUT_DIR`.
    pub fn out_dir(&mut self, dir: impl AsRef<Path>) -> &mut Self {
        self.out_dir = Some(dir.as_ref().to_path_buf());
        self
    }

    /// Whether to print `cargo:rerun-if-changed` for every input (on by default; turn it off
    /// outside build scripts).
    pub fn emit_rerun_if_changed(&mut self, emit: bool) -> &mut Self {
        self.rerun_if_changed = emit;
        self
    }

    /// Loads and validates the project, renders every migration from its history and writes
    /// the modules to the output directory (only those whose content changed).
    ///
    /// Fails with [`Error::OutDirNotSet`] outside a build script without [`Config::out_dir`],
    /// and with [`Error::Invalid`] (every problem, one report) when the specs are invalid or
    /// differ from the latest released version.
    pub fn generate(&self) -> Result<BuildReport> {
        let out_dir = match &self.out_dir {
            Some(dir) => dir.clone(),
            None => env::var_os("OUT_DIR")
                .map(PathBuf::from)
                .ok_or(Error::OutDirNotSet)?,
        };
        let project = load_project(&self.config_path)?;
        let inputs = inputs(&project);
        if self.rerun_if_changed {
            let mut stdout = std::io::stdout().lock();
            for input in &inputs {
                // cargo reads these lines; a closed stdout only loses the rerun hint.
                let _ = writeln!(stdout, "cargo:rerun-if-changed={}", input.display());
            }
        }
        let files = out_dir_files(&project, &out_dir)?;
        let files = output::write_all(&files)?;
        Ok(BuildReport { files, inputs })
    }
}

/// The files a build-script run writes into `out_dir`, computed in memory: the embedded
/// migrations and the structs of the TOML entity specs.
pub fn out_dir_files(project: &LoadedProject, out_dir: &Path) -> Result<Vec<OutputFile>> {
    let set = rendered_migrations(project)?;
    let source = display_path(&project.config.config_path);
    let steps: Vec<EmbeddedMigration<'_>> = set.steps.iter().map(embedded).collect();
    let tables: Vec<_> = project.schema.entities.iter().map(resolve::table).collect();
    let snapshot = match &project.config.adopted {
        Some(adopted) => {
            let path = project.config.resolve(&adopted.snapshot.value);
            let text = fs::read_to_string(&path).map_err(|source| Error::Read { path, source })?;
            Some((text, adopted.existing_rows.value.as_str()))
        }
        None => None,
    };
    let adoption = snapshot.as_ref().map(|(text, rows)| EmbeddedAdoption {
        snapshot: text,
        existing_rows: rows,
    });
    let migrations = migrations_rs(
        &source,
        set.version,
        embedded(&set.schema),
        &steps,
        &tables,
        adoption,
    );
    let entities = entities_file(project);
    Ok(vec![
        OutputFile {
            path: out_dir.join(MIGRATIONS_FILE),
            contents: migrations,
        },
        OutputFile {
            path: out_dir.join(ENTITIES_FILE),
            contents: entities,
        },
    ])
}

fn embedded(m: &RenderedMigration) -> EmbeddedMigration<'_> {
    EmbeddedMigration {
        version: m.version,
        name: &m.name,
        sql: &m.sql,
        checksum: &m.checksum,
    }
}

/// Every input of `project`: the files read, the directories globs search (a new spec file
/// must trigger a rebuild), the history and the migrations directory (snapshots, lock file).
fn inputs(project: &LoadedProject) -> Vec<PathBuf> {
    let config = &project.config;
    let mut inputs = BTreeSet::new();
    for file in project.sources.files() {
        inputs.insert(file.path.clone());
    }
    for pattern in config.entities.iter().chain(&config.sources) {
        if let Some(dir) = glob_base(&config.resolve(&pattern.value))
            && dir.is_dir()
        {
            inputs.insert(dir);
        }
    }
    for dir in [&config.history_dir, &config.migrations_dir] {
        if dir.is_dir() {
            inputs.insert(dir.clone());
            if let Ok(entries) = fs::read_dir(dir) {
                inputs.extend(entries.filter_map(|e| e.ok()).map(|e| e.path()));
            }
        }
    }
    inputs.into_iter().collect()
}

/// The directory a glob searches: its longest leading part without wildcards. `None` for a
/// plain path, which names its one file.
fn glob_base(pattern: &Path) -> Option<PathBuf> {
    let mut base = PathBuf::new();
    for component in pattern.components() {
        let text = component.as_os_str().to_string_lossy();
        if text.contains(['*', '?', '[']) {
            return Some(base);
        }
        base.push(component);
    }
    None
}

/// The one-line build script: [`Config::new`] with `config_path`, then
/// [`Config::generate`]. On failure it prints every problem to stderr (cargo shows it under the
/// failed build script) and exits with status 1; it is meant for `build.rs` only.
pub fn build(config_path: impl AsRef<Path>) {
    if let Err(error) = Config::new().config_path(config_path).generate() {
        let text = match &error {
            Error::Invalid(invalid) => invalid.report(false),
            other => format!("error: {other}"),
        };
        eprintln!("{text}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_base_is_the_directory_searched() {
        assert_eq!(
            glob_base(Path::new("proj/schema/*.toml")),
            Some(PathBuf::from("proj/schema"))
        );
        assert_eq!(
            glob_base(Path::new("proj/src/**/*.rs")),
            Some(PathBuf::from("proj/src"))
        );
        assert_eq!(glob_base(Path::new("proj/src/model.rs")), None);
    }
}
