//! The derive's dependency chain holds only what expanding a struct needs (issue 16): every app
//! compiles it, so a template engine, a TOML parser, a diagnostics renderer, hashing, globbing
//! or SQLite coming back through the generator would cost every clean build again.

use std::process::Command;

/// Crates the generator uses for loading, rendering and writing projects, which the derive
/// must not compile (the generator's `generate` feature gates them).
const GENERATOR_ONLY: &[&str] = &[
    "askama",
    "toml",
    "annotate-snippets",
    "sha2",
    "glob",
    "strsim",
    "rusqlite",
    "clap",
];

/// The package names in `cargo tree` output lines such as `│   ├── toml v1.0.0`.
fn package_names(tree: &str) -> Vec<String> {
    tree.lines()
        .filter_map(|line| {
            let start = line.find(|c: char| c.is_ascii_alphanumeric())?;
            line[start..].split_whitespace().next().map(str::to_owned)
        })
        .collect()
}

#[test]
fn derive_dependency_chain_has_no_template_engine_toml_renderer_hashing_globbing_or_sqlite() {
    let output = Command::new(env!("CARGO"))
        .args([
            "tree",
            "--offline",
            "-p",
            "syncwright-derive",
            "-e",
            "normal",
        ])
        .args(["--prefix", "none"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tree = String::from_utf8(output.stdout).unwrap();
    let names = package_names(&tree);
    assert!(
        names.iter().any(|n| n == "syncwright-codegen"),
        "the derive shares the generator's attribute reader and model:\n{tree}"
    );
    let unwanted: Vec<&str> = GENERATOR_ONLY
        .iter()
        .copied()
        .filter(|krate| names.iter().any(|n| n == krate))
        .collect();
    assert!(
        unwanted.is_empty(),
        "syncwright-derive compiles {unwanted:?}: keep them behind the generator's `generate` \
         feature\n{tree}"
    );
}
