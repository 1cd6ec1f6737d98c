//! `syncwright check`: for CI, fails when the checked-in files do not match the specs.
//!
//! Each problem says which command fixes it: specs changed without a new version
//! (`syncwright migrate new <name>`), generated files stale (`syncwright generate`), a released
//! snapshot or migration edited (restore it from version control).

use std::path::Path;

use crate::diagnostic::{Diagnostic, Origin, display_path};
use crate::error::Result;
use crate::load::load_project;
use crate::lock;
use crate::migrations::{self, State};

/// What a passing check saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckReport {
    /// The latest released version, which the specs and generated files match.
    pub version: u32,
    /// Number of generated files checked.
    pub files: usize,
}

/// Checks the project at `config_path` without writing anything.
pub fn check(config_path: impl AsRef<Path>) -> Result<CheckReport> {
    let project = load_project(config_path.as_ref())?;
    let config = &project.config;
    let mut state = State::load(&project)?;
    // Unreadable snapshots or lock: nothing to compare generated files with.
    state.bail()?;
    migrations::check_specs(&project, &state.history, &mut state.diags);
    let Some(set) = migrations::render_history(&state.history) else {
        // check_specs reported that nothing is released.
        state.bail()?;
        unreachable!("an empty history is reported by check_specs");
    };
    let before = state.diags.len();
    state.check_lock(config, &set);
    // Files rendered from an edited snapshot differ too; the edit is the problem to report.
    let history_edited = state.diags.len() > before;
    let edited = state.check_released_files(config)?;
    // The same files `generate` writes (see `plan_outputs`).
    let mut files = migrations::output_files(config, &state.history, &set);
    files.extend(crate::build_config::rust_outputs(&project));
    for file in files.iter().filter(|_| !history_edited) {
        if edited.contains(&file.path) {
            continue;
        }
        let shown = display_path(&file.path);
        let current = lock::read_optional(&file.path)?;
        let problem = match current {
            None => "is missing",
            // Line endings do not count, as for checksums (a Windows checkout is not stale).
            Some(text) if text.replace("\r\n", "\n") == file.contents => continue,
            Some(_) => "is out of date",
        };
        state.diags.push(
            Diagnostic::error(
                Origin::Generated,
                format!("generated file `{shown}` {problem}"),
            )
            .help("run `syncwright generate` and check in the result"),
        );
    }
    state.finish(CheckReport {
        version: set.version,
        files: files.len(),
    })
}
