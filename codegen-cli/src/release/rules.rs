//! The rules of a release history: what the specs, `version`, the snapshots, the lock and the
//! migration files on disk must agree on. One function per rule, each pushing its problems.

use std::path::{Path, PathBuf};

use crate::diagnostic::{Diagnostic, Diagnostics, Origin, display_path};
use crate::error::Result;
use crate::history::{self, History};
use crate::load::LoadedProject;
use crate::lock::{self, Lock};
use crate::model::Table;
use crate::output::OutputFile;
use crate::parse::project::ProjectConfig;
use crate::rendered::{RenderedMigrations, SCHEMA_FILE, checksum};
use crate::{diff, naming, plan, rendered};

/// Rule: `[output] migrations` names a folder (or nothing yet), not a file.
pub fn migrations_dir_is_a_folder(config: &ProjectConfig, diags: &mut Diagnostics) {
    let dir = &config.migrations_dir;
    if dir.exists() && !dir.is_dir() {
        diags.push(
            Diagnostic::error(
                Origin::Generated,
                format!(
                    "`[output] migrations` points at `{}`, which is a file: it must be a folder",
                    display_path(dir)
                ),
            )
            .help("the migrations folder holds every migration, `schema.sql` and the lock: point `migrations` at a folder, or move the file away"),
        );
    }
}

/// Rule: when the migrations folder holds migrations, the lock exists. The files are what was
/// released; without the lock nothing pins them, and a fresh lock would bless whatever the
/// snapshots say now, edits included. (With no `.sql` file at all, `generate` renders every file
/// from the snapshots and writes the lock: nothing on disk can be rewritten.)
pub fn lock_exists_with_migrations(
    config: &ProjectConfig,
    history: &History,
    lock: Option<&Lock>,
    sql_files: &[String],
    diags: &mut Diagnostics,
) {
    if lock.is_none() && !sql_files.is_empty() {
        diags.push(missing_lock(config, history));
    }
}

/// Rule (for `check`): when anything is released, the lock is checked in.
pub fn lock_exists_when_released(
    config: &ProjectConfig,
    history: &History,
    lock: Option<&Lock>,
    sql_files: &[String],
    diags: &mut Diagnostics,
) {
    let released = !history.released.is_empty() || !history.after_gap.is_empty();
    if lock.is_none() && sql_files.is_empty() && released {
        diags.push(missing_lock(config, history));
    }
}

fn missing_lock(config: &ProjectConfig, history: &History) -> Diagnostic {
    let path = lock::path(&config.migrations_dir);
    Diagnostic::error(
        Origin::Generated,
        format!(
            "`{}` is missing, but {}",
            display_path(&path),
            match history.latest_version() {
                0 => format!(
                    "`{}` holds migrations",
                    display_path(&config.migrations_dir)
                ),
                1 => "v1 is released".to_string(),
                latest => format!("v1 to v{latest} are released"),
            }
        ),
    )
    .help(format!(
        "restore it from version control (for example `git checkout -- {}`); to start an unpublished history over on purpose, delete `{}`, `{}` and the lock together and release again with `syncwright migrate new <name>`",
        display_path(&path),
        display_path(&config.history_dir),
        display_path(&config.migrations_dir),
    ))
}

/// Rule: a snapshot file after a gap in the versions is a missing snapshot when the lock
/// records the versions in between, and a stray file when it does not. Without a lock, the
/// first missing version is reported.
pub fn no_gaps_in_history(history: &History, lock: Option<&Lock>, diags: &mut Diagnostics) {
    let Some((_, _)) = history.after_gap.first() else {
        return;
    };
    let Some(lock) = lock else {
        let missing = history.latest_version() + 1;
        diags.push(history::missing_snapshot(
            &history.path_of(missing),
            missing,
        ));
        return;
    };
    for (version, path) in &history.after_gap {
        if lock.get(*version).is_none() {
            diags.push(history::stray_snapshot(
                path,
                *version,
                lock.version.max(history.latest_version()),
            ));
        }
    }
}

/// Rule: every snapshot is recorded in the lock (`migrate new` writes both together).
pub fn snapshots_are_locked(history: &History, lock: Option<&Lock>, diags: &mut Diagnostics) {
    let Some(lock) = lock else { return };
    for released in &history.released {
        if lock.get(released.snapshot.version).is_none() {
            diags.push(
                Diagnostic::error(
                    Origin::Generated,
                    format!(
                        "snapshot `{}` is not recorded in `{}`",
                        display_path(&released.path),
                        lock::LOCK_FILE
                    ),
                )
                .help("`syncwright migrate new` writes a snapshot and its lock entry together: restore both from version control, or remove a snapshot that no release wrote"),
            );
        }
    }
}

/// Rule: a released snapshot keeps the checksum the lock recorded, and a released migration
/// rendered again from its unchanged snapshots is byte for byte what the lock recorded; every
/// version the lock records has its snapshot. A lock entry that matches neither the file on
/// disk nor the rendering, while those two agree, blames the lock.
pub fn lock_matches_history(
    config: &ProjectConfig,
    history: &History,
    lock: Option<&Lock>,
    set: Option<&RenderedMigrations>,
    diags: &mut Diagnostics,
) -> Result<()> {
    let Some(lock) = lock else { return Ok(()) };
    let step = |version: u32| set.and_then(|s| s.steps.iter().find(|s| s.version == version));
    // A step that renders as the lock recorded it.
    let step_matches = |version: u32| {
        step(version).is_none_or(|step| {
            lock.get(version)
                .is_none_or(|entry| entry.checksum == step.checksum && entry.file == step.file_name)
        })
    };
    let mut edited = Vec::new();
    for released in &history.released {
        let version = released.snapshot.version;
        let Some(entry) = lock.get(version) else {
            continue;
        };
        if checksum(&released.text) != entry.snapshot_checksum {
            if step_matches(version) && step_matches(version + 1) {
                // Everything rendered from the snapshot is what the lock recorded: the
                // snapshot is as released, its checksum in the lock is what changed.
                diags.push(lock_edited(
                    config,
                    &format!("snapshot `{}`", display_path(&released.path)),
                ));
            } else {
                diags.push(
                    lock::edited(&released.path, "snapshot").help(history::edited_snapshot_help()),
                );
                edited.push(version);
            }
        } else if edited.contains(&(version - 1)) {
            // Rendered from the edited snapshot before it: that edit is the problem.
        } else if let Some(step) = step(version)
            && (step.checksum != entry.checksum || step.file_name != entry.file)
        {
            let path = config.migrations_dir.join(&entry.file);
            let on_disk = lock::read_optional(&config.migrations_dir.join(&step.file_name))?;
            if on_disk.is_some_and(|text| checksum(&text) == step.checksum) {
                // The file and its snapshots agree; only the lock says otherwise.
                diags.push(lock_edited(
                    config,
                    &format!("migration `{}`", display_path(&path)),
                ));
                continue;
            }
            diags.push(
                Diagnostic::error(
                    Origin::Generated,
                    format!(
                        "released migration `{}` would change: rendered from its unchanged snapshots it no longer matches `{}`",
                        display_path(&path),
                        lock::LOCK_FILE
                    ),
                )
                .help("released migrations never change: use the syncwright version that released it, or restore `syncwright.lock` from version control if it was edited"),
            );
        }
    }
    let present: Vec<u32> = history.after_gap.iter().map(|(v, _)| *v).collect();
    for entry in lock
        .migrations
        .iter()
        .filter(|m| m.version > history.latest_version() && !present.contains(&m.version))
    {
        diags.push(history::missing_snapshot(
            &history.path_of(entry.version),
            entry.version,
        ));
    }
    Ok(())
}

/// The lock disagrees with the released file it pins, while that file and the snapshots agree.
fn lock_edited(config: &ProjectConfig, what: &str) -> Diagnostic {
    let path = lock::path(&config.migrations_dir);
    Diagnostic::error(
        Origin::Generated,
        format!(
            "`{}` was edited: the checksum it records for {what} matches neither that file nor what the history renders",
            display_path(&path)
        ),
    )
    .help(format!(
        "the lock is written by syncwright, never by hand: restore it from version control (for example `git checkout -- {}`)",
        display_path(&path)
    ))
}

/// Rule: a released migration file on disk has the checksum the lock recorded. Returns the
/// paths of the edited ones. (A file that matches its rendering while the lock does not is
/// the lock's problem, reported by [`lock_matches_history`].)
pub fn released_files_match_lock(
    config: &ProjectConfig,
    lock: Option<&Lock>,
    set: Option<&RenderedMigrations>,
    diags: &mut Diagnostics,
) -> Result<Vec<PathBuf>> {
    let Some(lock) = lock else {
        return Ok(Vec::new());
    };
    let mut edited = Vec::new();
    for entry in &lock.migrations {
        let path = config.migrations_dir.join(&entry.file);
        let Some(text) = lock::read_optional(&path)? else {
            continue;
        };
        let sum = checksum(&text);
        let rendered = set.and_then(|s| s.steps.iter().find(|s| s.version == entry.version));
        if sum != entry.checksum && rendered.is_none_or(|step| step.checksum != sum) {
            diags.push(lock::edited(&path, "migration"));
            edited.push(path);
        }
    }
    Ok(edited)
}

/// Rule: every `.sql` file in the migrations folder is `schema.sql` or a released migration
/// (in the lock or rendered from a snapshot). Anything else was not written by a release: a
/// migration whose snapshot and lock entry are gone, a second release of the same version, a
/// hand-written script the runtime would never run.
pub fn no_stray_migration_files(
    config: &ProjectConfig,
    lock: Option<&Lock>,
    set: Option<&RenderedMigrations>,
    sql_files: &[String],
    diags: &mut Diagnostics,
) {
    let known = |name: &str| {
        name == SCHEMA_FILE
            || lock.is_some_and(|l| l.migrations.iter().any(|m| m.file == name))
            || set.is_some_and(|s| s.steps.iter().any(|m| m.file_name == name))
    };
    for name in sql_files.iter().filter(|n| !known(n)) {
        diags.push(
            Diagnostic::error(
                Origin::Generated,
                format!(
                    "`{}` is not a released migration: no snapshot and no entry in `{}` is behind it",
                    display_path(&config.migrations_dir.join(name)),
                    lock::LOCK_FILE
                ),
            )
            .help("migrations are written by `syncwright migrate new` only: remove the file (or restore its snapshot and the lock from version control if it was released)"),
        );
    }
}

/// Rule (for the write stage): a numbered migration file that exists is never rewritten. The
/// rules above explain why one would differ; this one holds whatever the reason.
pub fn migration_files_are_never_rewritten(
    files: &[OutputFile],
    diags: &mut Diagnostics,
) -> Result<()> {
    for file in files.iter().filter(|f| is_numbered_migration(&f.path)) {
        if let Some(text) = lock::read_optional(&file.path)?
            && text.replace("\r\n", "\n") != file.contents
        {
            diags.push(
                Diagnostic::error(
                    Origin::Generated,
                    format!(
                        "migration `{}` exists with other content: a written migration is never rewritten",
                        display_path(&file.path)
                    ),
                )
                .help("restore the file, the snapshots and the lock from version control; to start an unpublished history over, delete the history, the migrations and the lock together"),
            );
        }
    }
    Ok(())
}

/// `0003_add_inspections.sql`.
fn is_numbered_migration(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix(".sql"))
        .and_then(|n| n.get(..5))
        .is_some_and(|p| p[..4].bytes().all(|b| b.is_ascii_digit()) && p.ends_with('_'))
}

/// Rule: `version` in `syncwright.toml` is the latest released version, and the specs describe
/// exactly its snapshot (a change is released with `syncwright migrate new`; a change no
/// migration can make is refused).
pub fn specs_match_latest_release(
    project: &LoadedProject,
    history: &History,
    lock: Option<&Lock>,
    diags: &mut Diagnostics,
) {
    let config = &project.config;
    let version = config.version.value;
    let latest = history.latest_version();
    if released_version(history, lock) > latest {
        // Released, but snapshots are missing: [`lock_matches_history`] says which to restore,
        // rather than this rule suggesting to release them again.
        return;
    }
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
        // The refusals speak of the next version; say which release the specs left, and where
        // it is, since nothing was bumped (a spec deleted at `version = 5` is gone since v5).
        let context = format!(
            "the specs differ from v{version}, the latest release (`{}`); nothing is released until `syncwright migrate new`",
            display_path(&history.path_of(version))
        );
        for refusal in refusals.iter() {
            diags.push(refusal.clone().note(context.clone(), Origin::Generated));
        }
        return;
    }
    if next != latest.tables {
        let steps = plan::plan(&latest.tables, &next);
        // Specs released before foreign keys shared a declared index's leading column still
        // describe the same data: say so, rather than that the user changed the specs.
        let redundant_only = !steps.is_empty()
            && steps.iter().all(|step| {
                matches!(
                    step,
                    plan::Step::DropIndex {
                        served_by: Some(_),
                        ..
                    }
                )
            });
        let message = if redundant_only {
            format!("version {version} has indexes the entity specs no longer need")
        } else {
            format!("the entity specs changed since version {version} was released")
        };
        let mut diagnostic = Diagnostic::error(config.version.origin.clone(), message)
            .label(format!("v{version} is released"))
            .help(format!(
                "release the change as a new version: set `version = {}` and run `syncwright migrate new <name>`",
                version + 1
            ));
        for change in changes(&steps) {
            diagnostic = diagnostic.note(change, Origin::Generated);
        }
        if redundant_only {
            diagnostic = diagnostic.note(
                "a foreign key gets no index of its own when a declared index starts with its column (docs/spec-format.md); the next version drops the redundant index, which loses no data",
                Origin::Generated,
            );
        }
        diags.push(diagnostic);
    }
}

/// Rule (for `migrate new`): `version` in `syncwright.toml` is one above the latest release.
pub fn version_is_next(
    config: &ProjectConfig,
    history: &History,
    lock: Option<&Lock>,
    name: &str,
    diags: &mut Diagnostics,
) {
    let version = config.version.value;
    // A version the lock records is released even when its snapshot is missing: releasing it
    // again would rewrite its migration.
    let latest = released_version(history, lock);
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

/// The latest released version, by the snapshots or by the lock, whichever says more.
pub fn released_version(history: &History, lock: Option<&Lock>) -> u32 {
    let locked = lock.map_or(0, |l| {
        l.migrations.iter().map(|m| m.version).max().unwrap_or(0)
    });
    history.latest_version().max(locked)
}

/// One line per planned step, for messages.
pub fn changes(steps: &[plan::Step]) -> Vec<String> {
    let mut lines: Vec<String> = steps.iter().map(plan::summary).collect();
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

/// The longest file name most file systems accept, in bytes.
const MAX_FILE_NAME: usize = 255;

/// Rule (for `migrate new`): the migration's file name fits in a file system's limit, checked
/// up front rather than failing half-way through writing.
pub fn migration_file_name_fits(version: u32, name: &str, diags: &mut Diagnostics) {
    let file = rendered::file_name(version, name);
    if file.len() <= MAX_FILE_NAME {
        return;
    }
    let room = MAX_FILE_NAME - (file.len() - name.len());
    diags.push(
        Diagnostic::error(
            Origin::Generated,
            format!(
                "migration name is {} bytes long: its file name would be {} bytes, over the {MAX_FILE_NAME} bytes file systems allow",
                name.len(),
                file.len()
            ),
        )
        .help(format!("use a shorter name, at most {room} characters")),
    );
}

/// Rule (for `migrate new`): the migration's name is snake_case ASCII (it becomes a file name
/// and a Rust string on every platform).
pub fn migration_name_is_snake_case(name: &str, diags: &mut Diagnostics) {
    if is_migration_name(name) {
        return;
    }
    diags.push(
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
