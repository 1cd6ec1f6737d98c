//! The bench suite's one JSON file, `target/syncwright-bench.json`, shared by the benches of
//! several packages (`ratios` here, the server's `server_throughput`): each replaces only its
//! own entries, so running one bench keeps the others' figures.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value as Json;

/// `syncwright-bench.json` in the workspace's target directory (`CARGO_TARGET_DIR` when set).
pub fn path(workspace_root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace_root.join("target"), PathBuf::from)
        .join("syncwright-bench.json")
}

/// Drops the entries whose `name` `replaces` says are this run's, appends `fresh`, and writes
/// the file, one entry per line.
pub fn merge(path: &Path, replaces: impl Fn(&str) -> bool, fresh: Vec<Json>) {
    let mut entries: Vec<Json> = std::fs::read_to_string(path)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default();
    entries.retain(|e| !e["name"].as_str().is_some_and(&replaces));
    entries.extend(fresh);
    let mut out = String::from("[\n");
    for (i, entry) in entries.iter().enumerate() {
        let comma = if i + 1 < entries.len() { "," } else { "" };
        writeln!(out, "  {entry}{comma}").unwrap();
    }
    out.push_str("]\n");
    std::fs::write(path, out).expect("write the bench JSON");
    println!("\nwritten: {}", path.display());
}
