//! `syncwright migrate new <name>`: releases the next schema version.
//!
//! After the user bumps `version` in `syncwright.toml`, the current specs are diffed against
//! the latest snapshot ([`crate::diff`]); when every change is additive, the next snapshot, the
//! next migration, `schema.sql` and the lock are written together.

use std::path::Path;

use crate::diagnostic::{Diagnostic, Origin};
use crate::error::Result;
use crate::history::{self, Released, Snapshot};
use crate::load::load_project;
use crate::migrations::{self, State};
use crate::output::{self, OutputFile};
use crate::{GenerateReport, diff, naming};

/// Releases the version in `syncwright.toml` of the project at `config_path` as migration
/// `name`: writes `schema/history/vN.toml`, `migrations/NNNN_<name>.sql`, `schema.sql` and the
/// lock.
///
/// Refused, with every problem reported and nothing written: a version that was not bumped,
/// skips or goes back; a change no additive migration can make; no change at all; a released
/// snapshot or migration that was edited.
pub fn migrate_new(config_path: impl AsRef<Path>, name: &str) -> Result<GenerateReport> {
    let project = load_project(config_path.as_ref())?;
    let config = &project.config;
    let mut state = State::load(&project)?;
    if !is_migration_name(name) {
        state.diags.push(
            Diagnostic::error(
                Origin::Generated,
                format!("migration name `{name}` is not snake_case"),
            )
            .help(format!(
                "use lower-case ASCII letters, digits and `_`, for example `{}`",
                suggest_name(name)
            )),
        );
    }
    let version = config.version.value;
    let latest = state.history.latest_version();
    if version == latest {
        state.diags.push(
            Diagnostic::error(
                config.version.origin.clone(),
                format!("version {version} is already released: bump `version` first"),
            )
            .label(format!("v{version} is released"))
            .help(format!(
                "set `version = {}` in syncwright.toml, then run `syncwright migrate new {name}` again",
                version + 1
            )),
        );
    } else if version < latest {
        state
            .diags
            .push(migrations::version_goes_back(config, latest));
    } else if version > latest + 1 {
        state
            .diags
            .push(migrations::no_snapshot(config, latest + 1));
    }
    state.bail()?;

    // What is released must be intact before anything is added on top of it.
    if latest > 0 {
        let set = state.render(config)?;
        state.check_lock(config, &set);
        state.check_released_files(config)?;
        state.bail()?;
    }
    let tables = diff::next_tables(
        state.history.latest(),
        &project.schema,
        version,
        &mut state.diags,
    );
    if let Some(prev) = state.history.latest()
        && state.diags.is_empty()
        && prev.tables == tables
    {
        state.diags.push(
            Diagnostic::error(
                config.version.origin.clone(),
                format!("nothing changed since version {latest}: there is no migration to write"),
            )
            .label(format!("v{version} would equal v{latest}"))
            .help(format!(
                "change the entity specs first, or set `version = {latest}` back"
            )),
        );
    }
    state.bail()?;

    let snapshot = Snapshot {
        version,
        name: name.to_string(),
        tables,
    };
    let text = history::to_toml(&snapshot);
    let path = state.history.path_of(version);
    state.history.released.push(Released {
        snapshot,
        path: path.clone(),
        text: text.clone(),
    });
    let set = migrations::render_history(&state.history).expect("a version was just released");
    let mut files = vec![OutputFile {
        path,
        contents: text,
    }];
    files.extend(migrations::output_files(config, &state.history, &set));
    let files = output::write_all(&files)?;
    Ok(GenerateReport { files })
}

fn is_migration_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// A valid migration name close to `name` (migration names may start with a digit).
fn suggest_name(name: &str) -> String {
    match naming::to_identifier(name).trim_start_matches('_') {
        "" => "add_tasks".to_string(),
        rest => rest.to_string(),
    }
}
