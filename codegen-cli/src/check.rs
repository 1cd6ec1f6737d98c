//! `syncwright check`: for CI, fails when the checked-in files do not match the specs.
//!
//! Each problem says which command fixes it: specs changed without a new version
//! (`syncwright migrate new <name>`), generated files stale (`syncwright generate`), a released
//! snapshot, migration or the lock edited, missing or stray (restore it from version control).
//! Every released step is also run again on scratch databases ([`crate::rehearse`], with the
//! `rehearse` feature).

use std::path::Path;

use crate::diagnostic::{Diagnostic, Origin, display_path};
use crate::error::Result;
use crate::load::load_project;
use crate::lock::{self, LOCK_FILE};
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
    let history = releases.check_history()?;
    releases.check_checked_in();
    releases.check_specs_released();
    let set = match releases.migrations.clone() {
        Some(set) => set,
        // Nothing released: the rules above said why.
        None => releases.rendered()?,
    };
    // Every released step runs, from v1: a release that cannot run fails CI. (Steps rendered
    // from an edited snapshot are not what was released; the edit is the problem to report.)
    if !history.history_problems {
        releases.rehearse(1);
    }
    let lock_missing = releases.lock.is_none();
    let files = releases.outputs(&set);
    // Files rendered from an edited snapshot differ too; the edit is the problem to report.
    for file in files.iter().filter(|_| !history.history_problems) {
        // An edited migration, or the missing lock, is reported by its own rule.
        let edited = history.edited_migrations.contains(&file.path);
        if edited || (lock_missing && file.path.ends_with(LOCK_FILE)) {
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
