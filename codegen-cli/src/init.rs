//! `syncwright init`: the files a new project starts from, chosen so that the next commands
//! (`migrate new init`, `generate`, `check`, `cargo build`) work as they are.
//!
//! A TOML-first project gets `schema/item.toml`; a Rust-first one (`--rust`) gets
//! `src/model.rs` with a `#[derive(Syncable)]` struct and a `syncwright.toml` that reads
//! Rust sources only (no `schema/*.toml` glob that would match nothing). Both get a `build.rs`
//! that embeds the released migrations. Existing files are never overwritten: an existing
//! `syncwright.toml` refuses the whole run, other existing files are kept and reported.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::output::{self, OutputFile, WriteOutcome};
use crate::parse::project::PROJECT_FILE;

/// How the project describes its entities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitStyle {
    /// TOML entity specs under `schema/`; the build script generates the Rust structs.
    Toml,
    /// `#[derive(Syncable)]` structs in the crate's own sources.
    Rust,
}

/// What `init` did, and what the user does next.
#[derive(Debug)]
pub struct InitReport {
    /// Every file written (always [`WriteOutcome::Created`]).
    pub created: Vec<PathBuf>,
    /// Files that already existed and were left alone.
    pub kept: Vec<PathBuf>,
    /// The dependency lines to add to the crate's `Cargo.toml`.
    pub dependencies: String,
    /// What to run next, and the lines `src/main.rs` needs.
    pub next_steps: String,
}

const BUILD_RS: &str = "\
// Embeds the released migrations (and, for TOML specs, the entity structs) in OUT_DIR.
// Fails the build with `run syncwright migrate new <name>` when the model changed without a
// release.
fn main() {
    syncwright_codegen::build(\"syncwright.toml\");
}
";

const TOML_PROJECT: &str = "\
[schema]
version = 1                     # the version being prepared; `syncwright migrate new` releases it
entities = [\"schema/*.toml\"]    # entity specs (globs)
history = \"schema/history\"      # frozen snapshots of released versions

[output]
migrations = \"migrations\"       # where the .sql files go
";

const RUST_PROJECT: &str = "\
[schema]
version = 1                     # the version being prepared; `syncwright migrate new` releases it
entities = []                   # no TOML specs: the entities are the structs in `sources`
sources = [\"src/**/*.rs\"]       # Rust files with #[derive(Syncable)] structs (globs)
history = \"schema/history\"      # frozen snapshots of released versions

[output]
migrations = \"migrations\"       # where the .sql files go
";

const ITEM_TOML: &str = "\
# One entity per file; docs/spec-format.md has every key.
[entity]
name = \"item\"                   # singular; the Rust type is Item, the table `items`

[fields]
title = { type = \"text\" }
done  = { type = \"bool\", default = false }
";

const MODEL_RS: &str = "\
//! The app's entities: each `#[derive(Syncable)]` struct is a synced table.

use syncwright::Syncable;

/// A to-do item (table `items`).
#[derive(Debug, Clone, PartialEq, Syncable)]
pub struct Item {
    pub title: String,
    #[syncwright(default = false)]
    pub done: bool,
}
";

/// Scaffolds a syncwright project in `dir` (the crate root) in `style`. Refuses a directory
/// that already has a `syncwright.toml`; writes every new file or none.
pub fn init(dir: &Path, style: InitStyle) -> Result<InitReport> {
    let config = dir.join(PROJECT_FILE);
    if config.exists() {
        return Err(Error::AlreadyInitialized { path: config });
    }
    let mut files = vec![
        (
            config,
            match style {
                InitStyle::Toml => TOML_PROJECT,
                InitStyle::Rust => RUST_PROJECT,
            },
        ),
        (dir.join("build.rs"), BUILD_RS),
    ];
    match style {
        InitStyle::Toml => files.push((dir.join("schema/item.toml"), ITEM_TOML)),
        InitStyle::Rust => files.push((dir.join("src/model.rs"), MODEL_RS)),
    }
    let (kept, new): (Vec<_>, Vec<_>) = files.into_iter().partition(|(path, _)| path.exists());
    let new: Vec<OutputFile> = new
        .into_iter()
        .map(|(path, contents)| OutputFile {
            path,
            contents: contents.to_owned(),
        })
        .collect();
    let written = output::write_all(&new)?;
    debug_assert!(written.iter().all(|(_, o)| *o == WriteOutcome::Created));
    Ok(InitReport {
        created: written.into_iter().map(|(path, _)| path).collect(),
        kept: kept.into_iter().map(|(path, _)| path).collect(),
        dependencies: dependencies(),
        next_steps: next_steps(style),
    })
}

fn dependencies() -> String {
    let version = env!("CARGO_PKG_VERSION");
    format!(
        "[dependencies]\n\
         syncwright = \"{version}\"\n\n\
         [build-dependencies]\n\
         # The generator library without the CLI: a light build script.\n\
         syncwright-codegen = {{ version = \"{version}\", default-features = false, features = [\"generate\"] }}\n"
    )
}

fn next_steps(style: InitStyle) -> String {
    let includes = match style {
        InitStyle::Toml => {
            "include!(concat!(env!(\"OUT_DIR\"), \"/syncwright_migrations.rs\")); // MIGRATIONS, ENTITIES, SCHEMA_VERSION\n\
             include!(concat!(env!(\"OUT_DIR\"), \"/syncwright_entities.rs\"));   // the Item struct\n"
        }
        InitStyle::Rust => {
            "mod model;\n\
             include!(concat!(env!(\"OUT_DIR\"), \"/syncwright_migrations.rs\")); // MIGRATIONS, ENTITIES, SCHEMA_VERSION\n"
        }
    };
    format!(
        "1. syncwright migrate new init     # releases version 1: schema/history/v1.toml, migrations/0001_init.sql\n\
         2. in src/main.rs:\n\n\
         {includes}\n\
         fn main() -> syncwright::Result<()> {{\n    \
             let db = syncwright::Database::open(\"app.db\", &MIGRATIONS)?; // registers every entity\n    \
             println!(\"schema version {{}}\", db.schema_version());\n    \
             Ok(())\n\
         }}\n\n\
         3. cargo run\n"
    )
}
