//! Finding and reading the spec files a project's globs name.
//!
//! Globs are matched by walking the folders below their literal start, with each folder
//! entered once per path: a symbolic link that leads back to a folder it is in is reported, not
//! followed round and round. A file that cannot be read is one diagnostic and the run goes on,
//! so the other files' problems are reported too.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Component, Path, PathBuf};

use glob::{MatchOptions, Pattern};

use crate::diagnostic::{Diagnostic, Diagnostics, FileId, Origin, SourceMap, display_path};
use crate::model::Located;
use crate::parse::project::ProjectConfig;

/// How a glob matches: `*` and `?` stay within one folder name, as in a shell.
const MATCH: MatchOptions = MatchOptions {
    case_sensitive: true,
    require_literal_separator: true,
    require_literal_leading_dot: false,
};

/// The files matching `globs` (each with the glob that matched it), sorted and without repeats
/// (a file reached twice, through a symbolic link or two globs, counts once); a glob that
/// matches nothing is an error (it is almost always a typo in the path).
pub(super) fn expand_globs(
    config: &ProjectConfig,
    globs: &[Located<String>],
    what: &str,
    diags: &mut Diagnostics,
) -> Vec<(PathBuf, Origin)> {
    let mut paths: BTreeMap<PathBuf, Origin> = BTreeMap::new();
    let mut seen: BTreeSet<PathBuf> = BTreeSet::new();
    for pattern in globs {
        // The project folder is matched literally (its name may hold `[` or `*`); only the
        // pattern the user wrote is a glob.
        let root = if Path::new(&pattern.value).is_absolute() {
            PathBuf::new()
        } else {
            config.root.clone()
        };
        let mut escaped = Pattern::escape(&root.to_string_lossy());
        if !escaped.is_empty() && !escaped.ends_with(std::path::MAIN_SEPARATOR) {
            escaped.push(std::path::MAIN_SEPARATOR);
        }
        let compiled = match Pattern::new(&format!("{escaped}{}", pattern.value)) {
            Ok(compiled) => compiled,
            Err(error) => {
                diags.push(
                    Diagnostic::error(pattern.origin.clone(), format!("invalid glob `{}` for {what}: {error}", pattern.value))
                        .help("use `*` for any name and `**` for any directory, for example `schema/*.toml`"),
                );
                continue;
            }
        };
        let mut walk = Walk {
            pattern: &compiled,
            found: Vec::new(),
            loops: Vec::new(),
            implicit_dot: false,
        };
        walk.start(&root, Path::new(&pattern.value));
        for (link, target) in &walk.loops {
            diags.push(
                Diagnostic::error(
                    pattern.origin.clone(),
                    format!(
                        "symbolic link `{}` leads to `{}`, a folder it is in: a loop, met while matching `{}`",
                        display_path(link),
                        display_path(target),
                        pattern.value
                    ),
                )
                .label("while matching this")
                .help("remove the link or point it elsewhere, or narrow the glob so it does not enter it"),
            );
        }
        for path in &walk.found {
            let identity = fs::canonicalize(path).unwrap_or_else(|_| path.clone());
            if seen.insert(identity) {
                paths
                    .entry(path.clone())
                    .or_insert_with(|| pattern.origin.clone());
            }
        }
        // A default glob (`schema/*.toml` when `entities` is not given) may match nothing: a
        // project can be all Rust sources.
        if walk.found.is_empty()
            && walk.loops.is_empty()
            && !matches!(pattern.origin, Origin::Generated)
        {
            diags.push(
                Diagnostic::error(
                    pattern.origin.clone(),
                    format!("no files match `{}` ({what}, relative to the directory of syncwright.toml)", pattern.value),
                )
                .label("matches nothing")
                .help("check the path, or remove the entry"),
            );
        }
    }
    paths.into_iter().collect()
}

/// One glob's walk: the non-folders it matches, and the looping links it met.
struct Walk<'p> {
    pattern: &'p Pattern,
    found: Vec<PathBuf>,
    loops: Vec<(PathBuf, PathBuf)>,
    /// Whether the walk started at a `.` the pattern does not have, to be taken off again.
    implicit_dot: bool,
}

impl Walk<'_> {
    /// Walks from `root` (taken as it is) joined with the longest leading part of `pattern`
    /// without wildcards.
    fn start(&mut self, root: &Path, pattern: &Path) {
        let mut base = root.to_path_buf();
        let mut rest = Vec::new();
        for component in pattern.components() {
            let text = component.as_os_str().to_string_lossy();
            if rest.is_empty() && !text.contains(['*', '?', '[']) {
                base.push(component);
            } else {
                rest.push(component);
            }
        }
        if rest.is_empty() {
            // No wildcard: the path itself, whatever it is (reading it says what is wrong).
            if fs::symlink_metadata(&base).is_ok() && !base.is_dir() {
                self.found.push(base);
            }
            return;
        }
        let depth = if rest.iter().any(|c| c.as_os_str() == "**") {
            None
        } else {
            Some(rest.len())
        };
        self.implicit_dot = base.as_os_str().is_empty();
        let start = if self.implicit_dot {
            PathBuf::from(Component::CurDir.as_os_str())
        } else {
            base
        };
        let mut stack = Vec::new();
        self.dir(&start, depth, &mut stack);
    }

    /// Visits `dir`, `depth` levels more at most (`None`: any), `stack` holding the canonical
    /// folders the current path is in.
    fn dir(&mut self, dir: &Path, depth: Option<usize>, stack: &mut Vec<PathBuf>) {
        if depth == Some(0) {
            return;
        }
        let Ok(canonical) = fs::canonicalize(dir) else {
            return;
        };
        if stack.contains(&canonical) {
            // Name the link that closes the loop: the nearest folder on the way that is one.
            let link = dir
                .ancestors()
                .find(|a| fs::symlink_metadata(a).is_ok_and(|m| m.is_symlink()))
                .unwrap_or(dir);
            let target = fs::canonicalize(link).unwrap_or(canonical);
            self.loops.push((link.to_path_buf(), target));
            return;
        }
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        entries.sort();
        stack.push(canonical);
        for path in entries {
            // `./schema/x.toml` is matched as `schema/x.toml`, as the glob was written.
            let path = match path.strip_prefix(".") {
                Ok(stripped) if self.implicit_dot => stripped.to_path_buf(),
                _ => path,
            };
            if path.is_dir() {
                self.dir(&path, depth.map(|d| d - 1), stack);
            } else if self.pattern.matches_path_with(&path, MATCH) {
                self.found.push(path);
            }
        }
        stack.pop();
    }
}

/// Reads one spec file matched by `glob` into the source map. A file that cannot be read is
/// one diagnostic and the run goes on, so the other files' problems are reported too: a
/// symbolic-link loop, something that is not a regular file (reading a FIFO would wait
/// forever), or text that is not UTF-8 (located at the first bad byte).
pub(super) fn read_spec(
    sources: &mut SourceMap,
    path: &Path,
    glob: &Origin,
    diags: &mut Diagnostics,
) -> Option<FileId> {
    let shown = display_path(path);
    let cannot_read = |error: std::io::Error| {
        Diagnostic::error(glob.clone(), format!("cannot read `{shown}`: {error}"))
            .label("matched here")
            .help(
                "fix or remove the file (a symbolic link must lead to a file), or narrow the glob",
            )
    };
    match fs::metadata(path) {
        Err(error) => {
            diags.push(cannot_read(error));
            return None;
        }
        Ok(meta) if !meta.is_file() => {
            diags.push(
                Diagnostic::error(
                    glob.clone(),
                    format!("`{shown}` is not a regular file (a FIFO, socket or device)"),
                )
                .label("matched here")
                .help("spec files must be regular files: remove it, or narrow the glob"),
            );
            return None;
        }
        Ok(_) => {}
    }
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) => {
            diags.push(cannot_read(error));
            return None;
        }
    };
    match String::from_utf8(bytes) {
        Ok(text) => Some(sources.add(path, text)),
        Err(error) => {
            let at = error.utf8_error().valid_up_to();
            // The lossy text keeps every byte before the bad one, so the offset (and the line
            // and column shown) are those of the file; the bad byte shows as U+FFFD.
            let text = String::from_utf8_lossy(error.as_bytes()).into_owned();
            let file = sources.add(path, text);
            diags.push(
                Diagnostic::error(
                    Origin::file(file, at..at + char::REPLACEMENT_CHARACTER.len_utf8()),
                    format!("`{shown}` is not UTF-8 text"),
                )
                .label("first byte that is not UTF-8")
                .help("save the file as UTF-8"),
            );
            None
        }
    }
}
