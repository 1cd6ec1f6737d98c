//! Loading a project: read `syncwright.toml`, expand its globs, parse every spec and validate
//! the result into one [`Schema`].

use std::fs;
use std::path::Path;

use crate::diagnostic::{Diagnostics, SourceMap};
use crate::error::{Error, Result};
use crate::model::Schema;
use crate::parse::entity_toml::parse_entity;
use crate::parse::project::{ProjectConfig, parse_project};
use crate::parse::rust_source::parse_source;
use crate::validate::validate;

mod adopted;
mod files;

use files::{expand_globs, read_spec};

/// A project read from disk: its configuration, its files and its validated schema.
#[derive(Debug)]
pub struct LoadedProject {
    /// What `syncwright.toml` says.
    pub config: ProjectConfig,
    /// Every file read, for diagnostics.
    pub sources: SourceMap,
    /// The validated schema of the current specs.
    pub schema: Schema,
}

/// Reads a file (the project file, a snapshot, the lock) into the source map. Only a regular
/// file is read: reading a FIFO would wait forever.
pub(crate) fn read_source(
    sources: &mut SourceMap,
    path: &Path,
) -> Result<crate::diagnostic::FileId> {
    let error = |source| Error::Read {
        path: path.to_path_buf(),
        source,
    };
    if fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
        return Err(error(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file (a FIFO, socket or device)",
        )));
    }
    let text = fs::read_to_string(path).map_err(error)?;
    Ok(sources.add(path, text))
}

/// Loads and validates the project described by `config_path`.
///
/// All problems in all files are reported together in [`Error::Invalid`].
pub fn load_project(config_path: &Path) -> Result<LoadedProject> {
    let mut sources = SourceMap::default();
    let mut diags = Diagnostics::new();
    let config_file = read_source(&mut sources, config_path)?;
    let Some(config) = parse_project(&sources, config_file, config_path, &mut diags) else {
        return Err(Error::invalid(sources, diags));
    };
    let mut schema = Schema {
        version: config.version.value,
        version_origin: config.version.origin.clone(),
        entities: Vec::new(),
    };
    for (path, glob) in expand_globs(&config, &config.entities, "entity specs", &mut diags) {
        let Some(file) = read_spec(&mut sources, &path, &glob, &mut diags) else {
            continue;
        };
        if let Some(entity) = parse_entity(&sources, file, &mut diags) {
            schema.entities.push(entity);
        }
    }
    for (path, glob) in expand_globs(&config, &config.sources, "Rust sources", &mut diags) {
        let Some(file) = read_spec(&mut sources, &path, &glob, &mut diags) else {
            continue;
        };
        let entities = parse_source(&sources, file, &mut diags);
        schema
            .entities
            .extend(entities.into_iter().map(|e| e.entity));
    }
    adopted::link(&config, &mut sources, &mut schema.entities, &mut diags);
    validate(&schema, &mut diags);
    if !diags.is_empty() {
        return Err(Error::invalid(sources, diags));
    }
    Ok(LoadedProject {
        config,
        sources,
        schema,
    })
}

/// Parses and validates entity specs held in memory, as `(display path, TOML text)` pairs:
/// the TOML front end without a project file, for tests and tools.
///
/// ```
/// let schema = syncwright_codegen::load::schema_from_toml(
///     1,
///     &[("task.toml", "[entity]\nname = \"task\"\n[fields]\ntitle = { type = \"text\" }\n")],
/// )
/// .unwrap();
/// assert_eq!(schema.entities[0].table.value, "tasks");
/// ```
pub fn schema_from_toml(version: u32, specs: &[(&str, &str)]) -> Result<Schema> {
    let mut sources = SourceMap::default();
    let mut diags = Diagnostics::new();
    let mut schema = Schema {
        version,
        entities: Vec::new(),
        ..Schema::default()
    };
    for (path, text) in specs {
        let file = sources.add(*path, *text);
        if let Some(entity) = parse_entity(&sources, file, &mut diags) {
            schema.entities.push(entity);
        }
    }
    validate(&schema, &mut diags);
    if diags.is_empty() {
        Ok(schema)
    } else {
        Err(Error::invalid(sources, diags))
    }
}
