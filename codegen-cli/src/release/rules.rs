//! The rules of a release history: what the specs, `version`, the snapshots, the lock and the
//! migration files on disk must agree on. One function per rule, each pushing its problems.

use std::path::PathBuf;

use crate::diagnostic::{Diagnostic, Diagnostics, Origin, display_path};
use crate::error::Result;
use crate::history::{self, History};
use crate::load::LoadedProject;
use crate::lock::{self, Lock};
use crate::migrations::{MigrationSet, checksum};
use crate::model::Table;
use crate::parse::project::ProjectConfig;
use crate::{diff, plan};

/// Rule: a released snapshot keeps the checksum the lock recorded, and a released migration
/// rendered again from its unchanged snapshots is byte for byte what the lock recorded; every
/// version the lock records has its snapshot.
pub fn lock_matches_history(
    config: &ProjectConfig,
    history: &History,
    lock: Option<&Lock>,
    set: &MigrationSet,
    diags: &mut Diagnostics,
) {
    let Some(lock) = lock else { return };
    let mut edited = Vec::new();
    for released in &history.released {
        let version = released.snapshot.version;
        let Some(entry) = lock.get(version) else {
            continue;
        };
        if checksum(&released.text) != entry.snapshot_checksum {
            diags.push(
                lock::edited(&released.path, "snapshot").help(history::edited_snapshot_help()),
            );
            edited.push(version);
        } else if edited.contains(&(version - 1)) {
            // Rendered from the edited snapshot before it: that edit is the problem.
        } else if let Some(step) = set.steps.iter().find(|s| s.version == version)
            && (step.checksum != entry.checksum || step.file_name != entry.file)
        {
            diags.push(
                Diagnostic::error(
                    Origin::Generated,
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
        .filter(|m| m.version > history.latest_version())
    {
        diags.push(history::missing_snapshot(
            &history.path_of(entry.version),
            entry.version,
        ));
    }
}

/// Rule: a released migration file on disk has the checksum the lock recorded. Returns the
/// paths of the edited ones.
pub fn released_files_match_lock(
    config: &ProjectConfig,
    lock: Option<&Lock>,
    diags: &mut Diagnostics,
) -> Result<Vec<PathBuf>> {
    let Some(lock) = lock else {
        return Ok(Vec::new());
    };
    let mut edited = Vec::new();
    for entry in &lock.migrations {
        let path = config.migrations_dir.join(&entry.file);
        if let Some(text) = lock::read_optional(&path)?
            && checksum(&text) != entry.checksum
        {
            diags.push(lock::edited(&path, "migration"));
            edited.push(path);
        }
    }
    Ok(edited)
}

/// Rule: `version` in `syncwright.toml` is the latest released version, and the specs describe
/// exactly its snapshot (a change is released with `syncwright migrate new`; a change no
/// migration can make is refused).
pub fn specs_match_latest_release(
    project: &LoadedProject,
    history: &History,
    diags: &mut Diagnostics,
) {
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
            diagnostic = diagnostic.note(change, Origin::Generated);
        }
        diags.push(diagnostic);
    }
}

/// Rule (for `migrate new`): `version` in `syncwright.toml` is one above the latest release.
pub fn version_is_next(
    config: &ProjectConfig,
    history: &History,
    name: &str,
    diags: &mut Diagnostics,
) {
    let version = config.version.value;
    let latest = history.latest_version();
    if version == latest {
        diags.push(
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
        diags.push(version_goes_back(config, latest));
    } else if version > latest + 1 {
        diags.push(no_snapshot(config, latest + 1));
    }
}

/// Rule (for `migrate new`): a release changes something.
pub fn release_changes_something(
    config: &ProjectConfig,
    history: &History,
    next: &[Table],
    diags: &mut Diagnostics,
) {
    let Some(prev) = history.latest() else { return };
    if prev.tables != next {
        return;
    }
    let (version, latest) = (config.version.value, prev.version);
    diags.push(
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

/// One line per difference, for messages.
pub fn changes(prev: &[Table], next: &[Table]) -> Vec<String> {
    let mut lines: Vec<String> = plan::plan(prev, next).iter().map(plan::summary).collect();
    if lines.is_empty() {
        lines.push("the conflict strategy of an entity changed".to_string());
    }
    lines
}

/// `version` in `syncwright.toml` has no snapshot yet.
pub fn no_snapshot(config: &ProjectConfig, next: u32) -> Diagnostic {
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
pub fn version_goes_back(config: &ProjectConfig, latest: u32) -> Diagnostic {
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
