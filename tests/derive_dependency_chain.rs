//! An app's dependency chain holds only what it needs (issue 16): every app compiles the
//! runtime and the derive, so a template engine, a TOML parser, a diagnostics renderer,
//! hashing crates, globbing, SQLite in the proc macro, or syn's whole-Rust-file parser coming
//! back would cost every clean build again.

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

/// `sha2` and the crates it pulls in, which the runtime replaced by `syncwright-checksum`.
const HASHING_CRATES: &[&str] = &[
    "sha2",
    "digest",
    "typenum",
    "block-buffer",
    "crypto-common",
    "hybrid-array",
    "const-oid",
    "cpufeatures",
];

/// `cargo tree -p package -e normal` without prefixes, each line `name version features`.
fn tree(package: &str) -> String {
    let output = Command::new(env!("CARGO"))
        .args(["tree", "--offline", "-p", package, "-e", "normal"])
        .args(["--prefix", "none", "--format", "{p} {f}"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The package names in `cargo tree` output lines such as `toml v1.0.0 default`.
fn package_names(tree: &str) -> Vec<&str> {
    tree.lines()
        .filter_map(|line| line.split_whitespace().next())
        .collect()
}

/// The crates of `crates` that `tree` holds.
fn present<'a>(tree: &str, crates: &[&'a str]) -> Vec<&'a str> {
    let names = package_names(tree);
    crates
        .iter()
        .copied()
        .filter(|krate| names.contains(krate))
        .collect()
}

#[test]
fn derive_dependency_chain_has_no_template_engine_toml_renderer_hashing_globbing_or_sqlite() {
    let tree = tree("syncwright-derive");
    assert!(
        package_names(&tree).contains(&"syncwright-codegen"),
        "the derive shares the generator's attribute reader and model:\n{tree}"
    );
    let unwanted = present(&tree, GENERATOR_ONLY);
    assert!(
        unwanted.is_empty(),
        "syncwright-derive compiles {unwanted:?}: keep them behind the generator's `generate` \
         feature\n{tree}"
    );
}

#[test]
fn derive_compiles_syn_without_full_as_serde_derive_does() {
    let tree = tree("syncwright-derive");
    let syn_features: Vec<&str> = tree
        .lines()
        .filter(|line| line.starts_with("syn "))
        .filter_map(|line| line.split_whitespace().nth(2))
        .collect();
    assert!(
        !syn_features.is_empty(),
        "the derive parses its input with syn:\n{tree}"
    );
    assert!(
        syn_features
            .iter()
            .all(|features| !features.split(',').any(|f| f == "full")),
        "syncwright-derive compiles syn with `full` ({syn_features:?}): parsing whole Rust files \
         belongs to the generator's `generate` feature, so an app's syn stays the build \
         serde_derive already compiles\n{tree}"
    );
}

#[test]
fn runtime_dependency_chain_has_no_hashing_crates() {
    let tree = tree("syncwright");
    assert!(
        package_names(&tree).contains(&"syncwright-checksum"),
        "the runtime checks migrations with the shared checksum crate:\n{tree}"
    );
    let unwanted = present(&tree, HASHING_CRATES);
    assert!(
        unwanted.is_empty(),
        "the runtime compiles {unwanted:?}: migration checksums come from syncwright-checksum, \
         whose SHA-256 compiles in a fraction of their time\n{tree}"
    );
}
