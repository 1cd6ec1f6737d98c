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
use crate::release::Releases;

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
    let mut releases = Releases::load(&project)?;
    // Unreadable snapshots or lock: nothing to compare generated files with.
    releases.bail()?;
    releases.check_specs_released();
    // `rendered` fails with the problems so far: with nothing released, check_specs said so.
    let set = releases.rendered()?;
    let before = releases.diags.len();
    releases.check_lock(&set);
    // Files rendered from an edited snapshot differ too; the edit is the problem to report.
    let history_edited = releases.diags.len() > before;
    let edited = releases.check_released_files()?;
    let files = releases.outputs(&set);
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
        releases.diags.push(
            Diagnostic::error(
                Origin::Generated,
                format!("generated file `{shown}` {problem}"),
            )
            .help("run `syncwright generate` and check in the result"),
        );
    }
    releases.finish(CheckReport {
        version: set.version,
        files: files.len(),
    })
}
