//! `syncwright import`: adopts an existing app's schema into a new syncwright project.
//!
//! The stages follow the generator's: **read** the existing schema (a SQLite file opened
//! read-only, a Room export or a Drift dump, all into one [`ImportedSchema`]), **check** that
//! it can be adopted, **render** the entity specs (each marked `adopted = true`), the import
//! snapshot and `syncwright.toml`, and **write** them all or nothing. The adoption migration
//! is the project's first release (`syncwright migrate new adopt`), rendered like every
//! release from the model (`render::adoption`). `docs/adoption.md` explains identity and the
//! runtime's side.

pub mod compare;
pub mod drift;
pub mod room;
pub mod schema;
pub mod spec;
pub mod sqlite;

use std::path::{Path, PathBuf};

use crate::output::{OutputFile, WriteOutcome};
use crate::parse::project::PROJECT_FILE;
use crate::{Error, Result};

pub use schema::ImportedSchema;

use crate::model::ADOPTED_SYNC_PREFIX;

/// How existing rows start after adoption.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExistingRows {
    /// Every existing row is pushed once.
    Pending,
    /// Every existing row is already on the server.
    Synced,
}

impl ExistingRows {
    /// The `sync_status` value existing rows get (`[adopted] existing_rows`).
    pub fn status(self) -> &'static str {
        match self {
            ExistingRows::Pending => "pending",
            ExistingRows::Synced => "synced",
        }
    }
}

/// Where the schema to adopt comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportSource {
    /// A SQLite database file (from a device or a test run); only read.
    Database(PathBuf),
    /// A Room schema export, `schemas/<db>/<version>.json`.
    Room(PathBuf),
    /// A Drift schema dump, `drift_schema_vN.json`.
    Drift(PathBuf),
}

impl ImportSource {
    /// The file read.
    pub fn path(&self) -> &Path {
        match self {
            ImportSource::Database(p) | ImportSource::Room(p) | ImportSource::Drift(p) => p,
        }
    }
}

/// The snapshot of the adopted schema, relative to the project folder.
pub const SNAPSHOT_FILE: &str = "schema/import.json";

/// What `import` wrote.
#[derive(Debug)]
pub struct ImportReport {
    /// The schema that was adopted.
    pub schema: ImportedSchema,
    /// Every file written.
    pub files: Vec<(PathBuf, WriteOutcome)>,
}

/// Reads the schema `source` describes, without writing anything anywhere.
pub fn read_source(source: &ImportSource) -> Result<ImportedSchema> {
    let path = source.path();
    let fail = |problem: String| Error::Import {
        path: path.to_path_buf(),
        problem,
    };
    match source {
        ImportSource::Database(path) => {
            let conn = sqlite::open_read_only(path).map_err(fail)?;
            sqlite::read_schema(&conn).map_err(fail)
        }
        ImportSource::Room(path) | ImportSource::Drift(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
                path: path.clone(),
                source,
            })?;
            let read = if matches!(source, ImportSource::Room(_)) {
                room::read_room_export(&text)
            } else {
                drift::read_drift_dump(&text)
            };
            read.map_err(fail)
        }
    }
}

/// Every reason the schema cannot be adopted as it is, one line each.
fn adoption_problems(schema: &ImportedSchema) -> Vec<String> {
    let mut problems = Vec::new();
    if schema.tables.is_empty() {
        problems.push("it has no tables to adopt".to_owned());
    }
    // Two tables whose entity names collide (`UserData`, `user_data`) would share a spec file.
    let mut names = std::collections::BTreeMap::new();
    for table in &schema.tables {
        if let Some(first) = names.insert(spec::entity_name(&table.name), &table.name) {
            problems.push(format!(
                "tables `{first}` and `{}` would both be the entity `{}`; rename one of them in \
                 the app first",
                table.name,
                spec::entity_name(&table.name)
            ));
        }
    }
    for table in &schema.tables {
        for column in &table.columns {
            if column
                .name
                .to_ascii_lowercase()
                .starts_with(ADOPTED_SYNC_PREFIX)
            {
                problems.push(format!(
                    "table `{}` column `{}`: names starting with `{}` are syncwright's sync \
                     columns; rename the column in the app first",
                    table.name, column.name, ADOPTED_SYNC_PREFIX
                ));
            }
        }
    }
    problems
}

/// The project files for adopting `schema`, read from `from`, into the folder `project`.
pub fn render_project(
    schema: &ImportedSchema,
    from: &str,
    rows: ExistingRows,
    project: &Path,
) -> Vec<OutputFile> {
    let mut files = vec![OutputFile {
        path: project.join(PROJECT_FILE),
        contents: format!(
            "# Adopted from `{from}` by `syncwright import`: the first release adopts the app's\n\
             # existing tables as they are (`syncwright migrate new adopt` writes it).\n\
             [schema]\nversion = 1\nentities = [\"schema/*.toml\"]\n\n\
             [adopted]\nfrom = {}\nsnapshot = \"{SNAPSHOT_FILE}\"\n\
             existing_rows = \"{}\"\n",
            spec::toml_string(from),
            rows.status()
        ),
    }];
    for table in &schema.tables {
        files.push(OutputFile {
            path: project
                .join("schema")
                .join(format!("{}.toml", spec::entity_name(&table.name))),
            contents: spec::render_spec(table, from),
        });
    }
    files.push(OutputFile {
        path: project.join(SNAPSHOT_FILE),
        contents: schema.to_json(),
    });
    files
}

/// Reads `source` and writes an adopted project into the folder `project`: a
/// `syncwright.toml` marked `[adopted]`, one entity spec per table (marked `adopted = true`)
/// and the import snapshot. The source is never written; a folder that already holds a
/// project is refused, and nothing is written when anything fails.
pub fn import(source: &ImportSource, project: &Path, rows: ExistingRows) -> Result<ImportReport> {
    let config = project.join(PROJECT_FILE);
    if config.exists() {
        return Err(Error::Import {
            path: source.path().to_path_buf(),
            problem: format!(
                "`{}` already exists: import into a new folder (`--into DIR`)",
                crate::diagnostic::display_path(&config)
            ),
        });
    }
    let schema = read_source(source)?;
    let problems = adoption_problems(&schema);
    if !problems.is_empty() {
        return Err(Error::Import {
            path: source.path().to_path_buf(),
            problem: format!("cannot be adopted:\n  - {}", problems.join("\n  - ")),
        });
    }
    let from = source.path().file_name().map_or_else(
        || source.path().display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let files = crate::output::write_all(&render_project(&schema, &from, rows, project))?;
    Ok(ImportReport { schema, files })
}
