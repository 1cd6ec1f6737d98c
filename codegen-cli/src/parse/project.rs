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

use super::keys::{KeyReader, Raw};
use super::toml_value::{describe, reader, report_syntax_errors};
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
    /// `[adopted]`: the project adopts an existing app's tables (`syncwright import`).
    pub adopted: Option<AdoptedConfig>,
}

/// `[adopted]` of `syncwright.toml`, written by `syncwright import`.
#[derive(Clone, Debug)]
pub struct AdoptedConfig {
    /// The import snapshot (`schema/import.json`), relative to the project folder.
    pub snapshot: Located<String>,
    /// How existing rows start: `pending` or `synced`.
    pub existing_rows: Located<String>,
}

/// Reads `[adopted]`: `snapshot` is required, `existing_rows` is `pending` or `synced`.
fn parse_adopted(
    table: &KeyReader,
    file: FileId,
    diags: &mut Diagnostics,
) -> Option<AdoptedConfig> {
    let snapshot = table.string(symbol::SNAPSHOT, diags);
    if snapshot.is_none() && table.get(symbol::SNAPSHOT).is_none() {
        diags.push(
            Diagnostic::error(
                Origin::file(file, 0..0),
                format!("`[adopted]` in `{PROJECT_FILE}` has no `snapshot`"),
            )
            .help("add `snapshot = \"schema/import.json\"`, the import snapshot `syncwright import` wrote"),
        );
    }
    let existing_rows = table
        .string(symbol::EXISTING_ROWS, diags)
        .unwrap_or_else(|| Located::new("pending".to_owned(), Origin::Generated));
    if !symbol::EXISTING_ROWS_VALUES.contains(&existing_rows.value.as_str()) {
        diags.push(
            Diagnostic::error(
                existing_rows.origin.clone(),
                format!(
                    "`[adopted]` `existing_rows` must be `pending` or `synced`, found `{}`",
                    existing_rows.value
                ),
            )
            .help("`pending`: every existing row is pushed once; `synced`: they are already on the server"),
        );
        return None;
    }
    Some(AdoptedConfig {
        snapshot: snapshot?,
        existing_rows,
    })
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
    let document = document.get_ref();
    let mut top = reader(file, document, format!("`{PROJECT_FILE}`"));
    top.check_keys(symbol::PROJECT_KEYS, &[], "top-level", diags);
    let root = config_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();

    let empty = DeTable::default();
    let mut schema = reader(
        file,
        sub_table(file, document, symbol::SCHEMA, &empty, diags),
        "`[schema]`",
    );
    schema.check_keys(symbol::SCHEMA_KEYS, &[], "schema", diags);
    let mut output = reader(
        file,
        sub_table(file, document, symbol::OUTPUT, &empty, diags),
        "`[output]`",
    );
    output.check_keys(symbol::OUTPUT_KEYS, &[], "output", diags);
    let mut adopted_table = reader(
        file,
        sub_table(file, document, symbol::ADOPTED, &empty, diags),
        "`[adopted]`",
    );
    adopted_table.check_keys(symbol::ADOPTED_KEYS, &[], "adopted", diags);
    let adopted = document
        .get(symbol::ADOPTED)
        .and_then(|_| parse_adopted(&adopted_table, file, diags));

    let version = match schema.get(symbol::VERSION) {
        Some(entry) => match &entry.value.raw {
            Raw::Int(i) => match i.and_then(|i| u32::try_from(i).ok()) {
                Some(v) if v >= 1 => Located::new(v, entry.value.origin.clone()),
                _ => {
                    diags.push(
                        Diagnostic::error(
                            entry.value.origin.clone(),
                            "schema `version` must be a positive integer",
                        )
                        .help("versions count up from 1: `version = 1`"),
                    );
                    return None;
                }
            },
            _ => {
                diags.push(
                    Diagnostic::error(
                        entry.value.origin.clone(),
                        format!(
                            "schema `version` must be an integer, found {}",
                            entry.value.describe()
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
    let globs = |key: &str, default: Option<&str>, diags: &mut Diagnostics| {
        schema.strings(key, diags).unwrap_or_else(|| {
            default
                .map(|d| Located::new(d.to_string(), Origin::Generated))
                .into_iter()
                .collect()
        })
    };
    let entities = globs(symbol::ENTITIES, Some("schema/*.toml"), diags);
    let source_globs = globs(symbol::SOURCES, None, diags);
    let outside_allowed = schema
        .bool(symbol::ALLOW_OUTSIDE_PROJECT, diags)
        .is_some_and(|b| b.value);
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
    let path = |reader: &KeyReader, key: &str, default: Option<&str>, diags: &mut Diagnostics| {
        reader
            .string(key, diags)
            .or_else(|| default.map(|d| Located::new(d.to_string(), Origin::Generated)))
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
        adopted,
    })
}

/// Whether `path`, relative to the project folder, stays inside it: not absolute, and no `..`
/// climbing above where it started. Decided on the text alone, so a glob counts as its path.
///
/// ```
/// use syncwright_codegen::parse::project::stays_inside;
/// assert!(stays_inside("schema/*.toml"));
/// assert!(stays_inside("schema/../migrations"));
/// assert!(!stays_inside("../shared/*.toml"));
/// assert!(!stays_inside("schema/**/../../x.toml"));
/// assert!(!stays_inside("/etc/specs"));
/// ```
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
            // `**` may match no folder at all, so it does not count as one.
            Component::Normal(name) if name == "**" => {}
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

/// The table under `key` of the project file, or `empty` (with an error when `key` holds
/// something else).
fn sub_table<'a, 'i>(
    file: FileId,
    document: &'a DeTable<'i>,
    key: &str,
    empty: &'a DeTable<'i>,
    diags: &mut Diagnostics,
) -> &'a DeTable<'i> {
    match document.get(key) {
        None => empty,
        Some(value) => match value.get_ref() {
            DeValue::Table(table) => table,
            _ => {
                diags.push(
                    Diagnostic::error(
                        Origin::file(file, value.span()),
                        format!(
                            "`{key}` in `{PROJECT_FILE}` must be a table, found {}",
                            describe(file, value)
                        ),
                    )
                    .help(format!("write `[{key}]` on its own line")),
                );
                empty
            }
        },
    }
}
