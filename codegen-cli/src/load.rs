//! Loading a project: read `syncwright.toml`, expand its globs, parse every spec and validate
//! the result into one [`Schema`].

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use crate::diagnostic::{Diagnostic, Diagnostics, Origin, SourceMap};
use crate::error::{Error, Result};
use crate::model::{Located, Schema};
use crate::parse::entity_toml::parse_entity;
use crate::parse::project::{ProjectConfig, parse_project};
use crate::parse::rust_source::parse_source;
use crate::validate::validate;

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

/// Reads a file into the source map.
pub(crate) fn read_source(
    sources: &mut SourceMap,
    path: &Path,
) -> Result<crate::diagnostic::FileId> {
    let text = fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
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
        entities: Vec::new(),
    };
    for path in expand_globs(&config, &config.entities, "entity specs", &mut diags) {
        let file = read_source(&mut sources, &path)?;
        if let Some(entity) = parse_entity(&sources, file, &mut diags) {
            schema.entities.push(entity);
        }
    }
    for path in expand_globs(&config, &config.sources, "Rust sources", &mut diags) {
        let file = read_source(&mut sources, &path)?;
        let entities = parse_source(&sources, file, &mut diags);
        schema
            .entities
            .extend(entities.into_iter().map(|e| e.entity));
    }
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

/// The files matching `globs`, sorted and without repeats; a glob that matches nothing is an
/// error (it is almost always a typo in the path).
fn expand_globs(
    config: &ProjectConfig,
    globs: &[Located<String>],
    what: &str,
    diags: &mut Diagnostics,
) -> Vec<PathBuf> {
    let mut paths = BTreeSet::new();
    for pattern in globs {
        let full = config.resolve(&pattern.value);
        let full = full.to_string_lossy();
        let matches = match glob::glob(&full) {
            Ok(matches) => matches,
            Err(error) => {
                diags.push(
                    Diagnostic::error(pattern.origin.clone(), format!("invalid glob `{}` for {what}: {error}", pattern.value))
                        .help("use `*` for any name and `**` for any directory, for example `schema/*.toml`"),
                );
                continue;
            }
        };
        let before = paths.len();
        paths.extend(matches.filter_map(|m| m.ok()).filter(|p| p.is_file()));
        // A default glob (`schema/*.toml` when `entities` is not given) may match nothing: a
        // project can be all Rust sources.
        if paths.len() == before && !matches!(pattern.origin, Origin::Generated) {
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
