#!/usr/bin/env bash
# Cold debug build of a tiny app with one `#[derive(Syncable)]` struct depending on `syncwright`,
# side by side with a crate holding only the runtime's raw dependencies (rusqlite bundled, serde,
# serde_json, uuid); prints both times and their ratio (issue 16: the app should cost <= 1.3x).
# Both builds use fresh target dirs and the workspace's Cargo.lock, offline. Then each struct
# gets one more field and each crate is rebuilt: the app's rebuild time is its macro expansion
# and the compile of what it generates.
#
# syncwright's crates are path dependencies here, which cargo compiles incrementally, as it
# does an app's own crate; from a registry they are not. CARGO_INCREMENTAL=0 builds every crate
# of both sides as an app's clean build (and CI) gets its dependencies.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The pinned versions every build resolves to: the workspace's lock file.
cp "$repo/Cargo.lock" "$work/lock"

mkdir -p "$work/app/src" "$work/raw/src"
cat > "$work/app/Cargo.toml" <<TOML
[package]
name = "cold-app"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
syncwright = { path = "$repo/runtime", features = ["derive"] }

[workspace]
TOML
cat > "$work/app/src/main.rs" <<'RS'
use syncwright::Syncable;

/// A note (table `notes`).
#[derive(Debug, Clone, PartialEq, Syncable)]
pub struct Note {
    pub title: String,
    #[syncwright(index)]
    pub pinned: i64,
    pub body: Option<String>,
}

fn main() {}
RS

cat > "$work/raw/Cargo.toml" <<TOML
[package]
name = "cold-raw"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
rusqlite = { version = "0.43", features = ["bundled"] }
serde = { version = "1", features = ["derive"] }
serde_json = "1"
uuid = { version = "1", features = ["v4", "serde"] }

[workspace]
TOML
cat > "$work/raw/src/main.rs" <<'RS'
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Note {
    pub id: uuid::Uuid,
    pub title: String,
}

fn main() {
    let _ = rusqlite::Connection::open_in_memory();
    let _ = serde_json::to_string(&Note { id: uuid::Uuid::new_v4(), title: String::new() });
}
RS

cold_build() {
    local dir="$1"
    cp "$work/lock" "$dir/Cargo.lock"
    local start end
    timed_build "$dir"
}

timed_build() {
    local dir="$1"
    local start end
    start=$(date +%s.%N)
    CARGO_INCREMENTAL=0 CARGO_TARGET_DIR="$work/target-$(basename "$dir")" \
        cargo build --offline --quiet --manifest-path "$dir/Cargo.toml" >&2
    end=$(date +%s.%N)
    echo "$end - $start" | bc
}

# One more field on the struct, as when an entity gains a column.
edit_struct() {
    sed -i 's/^    pub title: String,$/    pub title: String,\n    pub subtitle: String,/' "$1/src/main.rs"
    sed -i 's/title: String::new() }/title: String::new(), subtitle: String::new() }/' "$1/src/main.rs"
}

raw=$(cold_build "$work/raw")
app=$(cold_build "$work/app")
edit_struct "$work/raw"
edit_struct "$work/app"
raw_edit=$(timed_build "$work/raw")
app_edit=$(timed_build "$work/app")
printf 'raw dependencies: %.1f s\n' "$raw"
printf 'syncwright app:   %.1f s\n' "$app"
printf 'ratio:            %.2f\n' "$(echo "$app / $raw" | bc -l)"
printf 'rebuild after a new field: raw %.2f s, app %.2f s\n' "$raw_edit" "$app_edit"
