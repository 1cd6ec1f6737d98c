//! Released files tampered with, in a copy of a released project: `check` must refuse every
//! tampering, and no command a user runs next may rewrite released files into a project that
//! `check` accepts again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One change to one released file or folder.
#[derive(Clone, Copy, Debug)]
enum Edit {
    Delete,
    /// A change of content: a statement in a migration, a column's nullability in a
    /// snapshot, a digit of a checksum in the lock.
    Content,
    /// A comment appended: the bytes change, what they say does not.
    Comment,
    DeleteFolder,
}

impl Edit {
    /// Applies the edit to `path`; what it did, or `None` when it has nothing to change in
    /// this file.
    fn apply(self, path: &Path) -> Option<String> {
        let text = || std::fs::read_to_string(path).unwrap();
        let is_sql = path.extension().is_some_and(|e| e == "sql");
        let (edited, what) = match self {
            Edit::Delete => {
                std::fs::remove_file(path).unwrap();
                return Some("deleted".into());
            }
            Edit::DeleteFolder => {
                std::fs::remove_dir_all(path).unwrap();
                return Some("folder deleted".into());
            }
            Edit::Comment if is_sql => (format!("{}-- edited\n", text()), "a comment appended"),
            Edit::Comment => (format!("{}# edited\n", text()), "a comment appended"),
            Edit::Content if is_sql => {
                let text = text();
                let at = text.find("PRAGMA user_version")?;
                let statement = "CREATE TABLE IF NOT EXISTS \"edited\" (\"x\");\n";
                (
                    format!("{}{statement}{}", &text[..at], &text[at..]),
                    "a statement added",
                )
            }
            Edit::Content if path.file_name().is_some_and(|n| n == "syncwright.lock") => {
                let text = text();
                let at = text.find("checksum = \"")? + "checksum = \"".len();
                let digit = if text[at..].starts_with('0') {
                    "1"
                } else {
                    "0"
                };
                (
                    format!("{}{digit}{}", &text[..at], &text[at + 1..]),
                    "a checksum's first digit changed",
                )
            }
            Edit::Content => {
                let text = text();
                let (from, to) = [
                    (
                        "role = \"domain\", nullable = false",
                        "role = \"domain\", nullable = true",
                    ),
                    (
                        "role = \"domain\", nullable = true",
                        "role = \"domain\", nullable = false",
                    ),
                ]
                .into_iter()
                .find(|(from, _)| text.contains(from))?;
                (text.replacen(from, to, 1), "a column's nullability flipped")
            }
        };
        std::fs::write(path, edited).unwrap();
        Some(what.into())
    }
}

/// Edits applied together to a copy of the project.
struct Tampering(Vec<(PathBuf, Edit)>);

impl Tampering {
    /// Copies `project` into `copy` and applies the edits; what they did, or `None` when one
    /// has nothing to change.
    fn apply(&self, project: &Path, copy: &Path) -> Option<String> {
        copy_dir(project, copy);
        let mut done = Vec::new();
        for (target, edit) in &self.0 {
            done.push(format!(
                "{}: {}",
                target.display(),
                edit.apply(&copy.join(target))?
            ));
        }
        Some(done.join("; "))
    }

    fn deletes(&self) -> bool {
        self.0
            .iter()
            .any(|(_, e)| matches!(e, Edit::Delete | Edit::DeleteFolder))
    }
}

/// Every way the test tampers with a released project: each released file deleted, edited and
/// commented, each folder of them deleted, and the lock deleted together with an edit of
/// each snapshot.
fn tamperings(project: &Path) -> Vec<Tampering> {
    let mut out = vec![
        Tampering(vec![("schema/history".into(), Edit::DeleteFolder)]),
        Tampering(vec![("migrations".into(), Edit::DeleteFolder)]),
    ];
    let lock = PathBuf::from("migrations/syncwright.lock");
    for file in released_contents(project).into_keys() {
        for edit in [Edit::Delete, Edit::Content, Edit::Comment] {
            out.push(Tampering(vec![(file.clone(), edit)]));
        }
        if file.starts_with("schema/history") {
            out.push(Tampering(vec![
                (lock.clone(), Edit::Delete),
                (file.clone(), Edit::Content),
            ]));
        }
    }
    out
}

/// The `version` a command runs at after the tampering.
#[derive(Clone, Copy)]
enum Version {
    Configured,
    Next,
    First,
}

impl Version {
    /// Rewrites the `version = N` line of `config`.
    fn set(self, config: &Path) {
        let text = std::fs::read_to_string(config).unwrap();
        let lines: Vec<String> = text
            .lines()
            .map(
                |line| match line.strip_prefix("version = ").map(str::parse::<u32>) {
                    Some(Ok(n)) => match self {
                        Version::Configured => line.to_string(),
                        Version::Next => format!("version = {}", n + 1),
                        Version::First => "version = 1".to_string(),
                    },
                    _ => line.to_string(),
                },
            )
            .collect();
        std::fs::write(config, lines.join("\n") + "\n").unwrap();
    }

    fn describe(self) -> &'static str {
        match self {
            Version::Configured => "",
            Version::Next => " at the next version",
            Version::First => " at `version = 1`",
        }
    }
}

/// Applies every tampering to a fresh copy of `project` and lists what went unnoticed:
/// `check` passing on the tampered project; or, after a deletion, a command a user would run
/// next (`generate`; `migrate new` at the configured version, the next one, or at
/// `version = 1` as the tool suggests when it finds no history) succeeding with released files
/// rewritten and `check` passing again.
pub fn unnoticed_tampering(project: &Path) -> Vec<String> {
    let originals = released_contents(project);
    let mut unnoticed = Vec::new();
    for tampering in tamperings(project) {
        let copy = tempfile::tempdir().unwrap();
        let Some(what) = tampering.apply(project, copy.path()) else {
            continue;
        };
        if let Ok(report) = check(copy.path()) {
            unnoticed.push(format!("{what} => `check` says ok at v{}", report.version));
        }
        if !tampering.deletes() {
            continue;
        }
        for (command, version) in [
            ("generate", Version::Configured),
            ("migrate new", Version::Configured),
            ("migrate new", Version::Next),
            ("migrate new", Version::First),
        ] {
            let copy = tempfile::tempdir().unwrap();
            tampering.apply(project, copy.path());
            let config = copy.path().join("syncwright.toml");
            version.set(&config);
            let ran = match command {
                "generate" => syncwright_codegen::generate(&config).is_ok(),
                _ => syncwright_codegen::migrate_new(&config, "again").is_ok(),
            };
            if !ran || check(copy.path()).is_err() {
                continue;
            }
            let rewritten = differences(&originals, &released_contents(copy.path()));
            if !rewritten.is_empty() {
                unnoticed.push(format!(
                    "{what}; then `{command}`{} => released files rewritten ({}) and `check` says ok",
                    version.describe(),
                    rewritten.join(", ")
                ));
            }
        }
    }
    unnoticed
}

fn check(project: &Path) -> syncwright_codegen::Result<syncwright_codegen::CheckReport> {
    syncwright_codegen::check(project.join("syncwright.toml"))
}

/// Every released file (the snapshots, the migration files with `schema.sql`, the lock) and
/// its content, by path relative to the project.
fn released_contents(project: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    for dir in ["schema/history", "migrations"] {
        let Ok(entries) = std::fs::read_dir(project.join(dir)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            out.insert(path.strip_prefix(project).unwrap().to_path_buf(), text);
        }
    }
    out
}

/// The released files that changed, are missing or are new in `now`.
fn differences(
    originals: &BTreeMap<PathBuf, String>,
    now: &BTreeMap<PathBuf, String>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (path, text) in originals {
        match now.get(path) {
            Some(t) if t == text => {}
            Some(_) => out.push(format!("{} changed", path.display())),
            None => out.push(format!("{} missing", path.display())),
        }
    }
    for path in now.keys().filter(|p| !originals.contains_key(*p)) {
        out.push(format!("{} new", path.display()));
    }
    out
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
