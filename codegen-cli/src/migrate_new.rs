//! `syncwright migrate new <name>`: releases the next schema version.
//!
//! After the user bumps `version` in `syncwright.toml`, the current specs are diffed against
//! the latest snapshot ([`crate::diff`]); when every change is additive, the next snapshot, the
//! next migration, `schema.sql` and the lock are written together.

use std::path::Path;

use crate::error::Result;
use crate::history::Snapshot;
use crate::load::load_project;
use crate::output;
use crate::project_lock::ProjectLock;
use crate::release::{Releases, rules};
use crate::{GenerateReport, diff};

/// Releases the version in `syncwright.toml` of the project at `config_path` as migration
/// `name`: writes `schema/history/vN.toml`, `migrations/NNNN_<name>.sql`, `schema.sql` and the
/// lock.
///
/// Refused, with every problem reported and nothing written: a version that was not bumped,
/// skips or goes back; a change no additive migration can make; no change at all; a released
/// snapshot or migration that was edited; a release whose SQL fails on a scratch database of
/// the previous version, or a backfill that is not one SQL expression; and another command
/// writing the project at the same time ([`crate::Error::ProjectBusy`]).
pub fn migrate_new(config_path: impl AsRef<Path>, name: &str) -> Result<GenerateReport> {
    // Held from before the history is read until the release is written: a second release
    // started meanwhile is refused instead of numbering itself like this one.
    let _hold = ProjectLock::acquire(config_path.as_ref(), "migrate new")?;
    let project = load_project(config_path.as_ref())?;
    let config = &project.config;
    let mut releases = Releases::load(&project)?;
    rules::migration_name_is_snake_case(name, &mut releases.diags);
    rules::migration_file_name_fits(config.version.value, name, &mut releases.diags);
    rules::version_is_next(
        config,
        &releases.history,
        releases.lock.as_ref(),
        name,
        &mut releases.diags,
    );
    // What is released must be intact before anything is added on top of it.
    releases.check_history()?;
    releases.check_no_stray_migrations();
    releases.bail()?;

    let version = config.version.value;
    let tables = diff::next_tables(
        releases.history.latest(),
        &project.schema,
        version,
        &mut releases.diags,
    );
    if releases.diags.is_empty() {
        rules::release_changes_something(config, &releases.history, &tables, &mut releases.diags);
    }
    releases.bail()?;

    let snapshot = Snapshot {
        version,
        name: name.to_string(),
        tables,
    };
    let files = releases.release(snapshot);
    releases.check_writes(&files)?;
    // The new version runs on a database of the previous one before anything is written.
    releases.rehearse(version);
    releases.bail()?;
    let files = output::write_all(&files)?;
    Ok(GenerateReport { files })
}
