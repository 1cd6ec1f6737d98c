//! Parses `syncwright.toml`, the project file.
//!
//! ```toml
//! [schema]
//! version = 1                     # the current schema version
//! entities = ["schema/*.toml"]    # entity specs (globs)
//! sources = ["src/model.rs"]      # Rust files with #[derive(Syncable)] structs (globs)
//! history = "schema/history"      # frozen snapshots of released versions
//!
//! [output]
//! migrations = "migrations"       # where the .sql files go
//! ```
//!
//! Every path is relative to the directory holding `syncwright.toml`, and stays inside it
//! unless `[schema] allow_outside_project = true`.

use std::path::{Component, Path, PathBuf};

use toml::de::{DeTable, DeValue};

use super::toml_value::{TableReader, describe, report_syntax_errors};
use crate::diagnostic::{Diagnostic, Diagnostics, FileId, Origin, SourceMap};
use crate::model::Located;
use crate::symbol;

/// The file name looked for in the current directory.
pub const PROJECT_FILE: &str = "syncwright.toml";

/// A project as `syncwright.toml` describes it, with paths resolved against its directory.
#[derive(Clone, Debug)]
pub struct ProjectConfig {
    /// The `syncwright.toml` that was read.
    pub config_path: PathBuf,
    /// Its directory: every path below is relative to it.
    pub root: PathBuf,
    /// The current schema version.
    pub version: Located<u32>,
    /// Globs of TOML entity specs.
    pub entities: Vec<Located<String>>,
    /// Globs of Rust source files with `#[derive(Syncable)]` structs.
    pub sources: Vec<Located<String>>,
    /// Directory of the frozen snapshots of released versions.
    pub history_dir: PathBuf,
    /// Directory the `.sql` files are written to.
    pub migrations_dir: PathBuf,
    /// Directory for Rust structs generated from TOML specs, if wanted.
    pub rust_dir: Option<PathBuf>,
}

impl ProjectConfig {
    /// A path of the project, resolved against the project directory.
    pub fn resolve(&self, relative: impl AsRef<Path>) -> PathBuf {
        join(&self.root, relative.as_ref())
    }
}

fn join(root: &Path, relative: &Path) -> PathBuf {
    if root.as_os_str().is_empty() {
        relative.to_path_buf()
    } else {
        root.join(relative)
    }
}

/// Parses the project file `file` of `sources`, found at `config_path`.
pub fn parse_project(
    sources: &SourceMap,
    file: FileId,
    config_path: &Path,
    diags: &mut Diagnostics,
) -> Option<ProjectConfig> {
    let text = sources.get(file).text.as_str();
    let (document, errors) = DeTable::parse_recoverable(text);
    if report_syntax_errors(file, &errors, text.len(), diags) {
        return None;
    }
    let root_reader = TableReader {
        file,
        table: document.get_ref(),
        context: format!("`{PROJECT_FILE}`"),
    };
    root_reader.check_keys(symbol::PROJECT_KEYS, "top-level", diags);
    let root = config_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();

    let empty = DeTable::default();
    let schema = sub_table(&root_reader, symbol::SCHEMA, &empty, diags);
    let output = sub_table(&root_reader, symbol::OUTPUT, &empty, diags);
    let schema = TableReader {
        file,
        table: schema,
        context: "`[schema]`".to_string(),
    };
    schema.check_keys(symbol::SCHEMA_KEYS, "schema", diags);
    let output = TableReader {
        file,
        table: output,
        context: "`[output]`".to_string(),
    };
    output.check_keys(symbol::OUTPUT_KEYS, "output", diags);

    let version = match schema.get(symbol::VERSION) {
        Some(value) => match value.get_ref() {
            DeValue::Integer(i) => match u32::from_str_radix(i.as_str(), i.radix()) {
                Ok(v) if v >= 1 => Located::new(v, Origin::file(file, value.span())),
                _ => {
                    diags.push(
                        Diagnostic::error(
                            Origin::file(file, value.span()),
                            "schema `version` must be a positive integer",
                        )
                        .help("versions count up from 1: `version = 1`"),
                    );
                    return None;
                }
            },
            other => {
                diags.push(
                    Diagnostic::error(
                        Origin::file(file, value.span()),
                        format!(
                            "schema `version` must be an integer, found {}",
                            describe(other)
                        ),
                    )
                    .help("write `version = 1` under `[schema]`"),
                );
                return None;
            }
        },
        None => {
            diags.push(
                Diagnostic::error(
                    Origin::file(file, 0..0),
                    format!("`{PROJECT_FILE}` has no `[schema]` `version`"),
                )
                .help("add `[schema]` with `version = 1`"),
            );
            return None;
        }
    };
    let globs =
        |key: &str, default: Option<&str>, diags: &mut Diagnostics| -> Vec<Located<String>> {
            match schema.strings(key, diags) {
                Some(list) => list
                    .into_iter()
                    .map(|s| {
                        let span = s.span();
                        Located::new(s.into_inner(), Origin::file(file, span))
                    })
                    .collect(),
                None => default
                    .map(|d| Located::new(d.to_string(), Origin::Generated))
                    .into_iter()
                    .collect(),
            }
        };
    let entities = globs(symbol::ENTITIES, Some("schema/*.toml"), diags);
    let source_globs = globs(symbol::SOURCES, None, diags);
    let outside_allowed = schema
        .bool(symbol::ALLOW_OUTSIDE_PROJECT, diags)
        .is_some_and(|b| b.into_inner());
    let inside = |key: &str, path: &Located<String>, diags: &mut Diagnostics| {
        if !outside_allowed {
            check_inside_project(key, path, diags);
        }
    };
    for glob in &entities {
        inside(&format!("`{}` glob", symbol::ENTITIES), glob, diags);
    }
    for glob in &source_globs {
        inside(&format!("`{}` glob", symbol::SOURCES), glob, diags);
    }
    let path = |reader: &TableReader<'_, '_>,
                key: &str,
                default: Option<&str>,
                diags: &mut Diagnostics| {
        match reader.string(key, diags) {
            Some(s) => {
                let span = s.span();
                Some(Located::new(s.into_inner(), Origin::file(file, span)))
            }
            None => default.map(|d| Located::new(d.to_string(), Origin::Generated)),
        }
    };
    let history = path(&schema, symbol::HISTORY, Some("schema/history"), diags)?;
    let migrations = path(&output, symbol::MIGRATIONS, Some("migrations"), diags)?;
    let rust = path(&output, symbol::RUST, None, diags);
    inside(&format!("`{}`", symbol::HISTORY), &history, diags);
    inside(&format!("`{}`", symbol::MIGRATIONS), &migrations, diags);
    if let Some(rust) = &rust {
        inside(&format!("`{}`", symbol::RUST), rust, diags);
    }
    let history_dir = join(&root, Path::new(&history.value));
    let migrations_dir = join(&root, Path::new(&migrations.value));
    let rust_dir = rust.map(|r| join(&root, Path::new(&r.value)));
    Some(ProjectConfig {
        config_path: config_path.to_path_buf(),
        root,
        version,
        entities,
        sources: source_globs,
        history_dir,
        migrations_dir,
        rust_dir,
    })
}

/// Whether `path`, relative to the project folder, stays inside it: not absolute, and no `..`
/// climbing above where it started. Decided on the text alone, so a glob counts as its path.
pub fn stays_inside(path: &str) -> bool {
    let mut depth = 0usize;
    for component in Path::new(path).components() {
        match component {
            Component::Prefix(_) | Component::RootDir => return false,
            Component::CurDir => {}
            Component::ParentDir => match depth.checked_sub(1) {
                Some(up) => depth = up,
                None => return false,
            },
            Component::Normal(_) => depth += 1,
        }
    }
    true
}

/// Paths of a project stay inside its folder unless `allow_outside_project = true`: a project
/// copied or checked out elsewhere must not read or write files beyond it by accident.
fn check_inside_project(what: &str, path: &Located<String>, diags: &mut Diagnostics) {
    if stays_inside(&path.value) {
        return;
    }
    diags.push(
        Diagnostic::error(
            path.origin.clone(),
            format!(
                "{what} `{}` in `{PROJECT_FILE}` points outside the project folder",
                path.value
            ),
        )
        .label("outside the project")
        .help(format!(
            "use a path relative to the folder of `{PROJECT_FILE}`, without `..` above it; to use it on purpose, add `{} = true` under `[schema]`",
            symbol::ALLOW_OUTSIDE_PROJECT
        )),
    );
}

fn sub_table<'a, 'i>(
    reader: &TableReader<'a, 'i>,
    key: &str,
    empty: &'a DeTable<'i>,
    diags: &mut Diagnostics,
) -> &'a DeTable<'i> {
    match reader.get(key) {
        None => empty,
        Some(value) => match value.get_ref() {
            DeValue::Table(table) => table,
            other => {
                diags.push(
                    Diagnostic::error(
                        reader.origin(value.span()),
                        format!(
                            "`{key}` in `{PROJECT_FILE}` must be a table, found {}",
                            describe(other)
                        ),
                    )
                    .help(format!("write `[{key}]` on its own line")),
                );
                empty
            }
        },
    }
}
