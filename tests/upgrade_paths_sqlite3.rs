//! The emitted `.sql` files work as plain SQL: the `sqlite3` program applies them to databases
//! at every version, and `sqldiff --schema` (Debian package `sqlite3-tools`) finds no
//! difference between an upgraded database and a fresh install.
//!
//! A cross-check with the programs a non-Rust app uses, on top of `upgrade_paths.rs` (which
//! compares schemas with the bundled SQLite): the tests are ignored by default, so the
//! README's `cargo test --workspace` needs nothing but a Rust toolchain, and `.ci/run`
//! installs the programs and runs them with `-- --ignored`.

mod support;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use support::*;

/// Runs `sqlite3 db` with `sql` on stdin, failing on any error (`-bail`).
fn sqlite3(db: &Path, sql: &str, what: &str) {
    let mut child = Command::new("sqlite3")
        .arg("-bail")
        .arg(db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the sqlite3 program is installed (apt-get install sqlite3)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(sql.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success() && output.stderr.is_empty(),
        "sqlite3 failed on {what}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn sqldiff_schema(a: &Path, b: &Path) -> String {
    let output = Command::new("sqldiff")
        .arg("--schema")
        .arg(a)
        .arg(b)
        .output()
        .expect("the sqldiff program is installed (apt-get install sqlite3-tools)");
    assert!(
        output.status.success(),
        "sqldiff failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
#[ignore = "needs the sqlite3 and sqldiff programs; .ci/run installs them"]
fn sqlite3_applies_every_upgrade_path_and_sqldiff_sees_the_fresh_schema() {
    let history = history();
    let latest = history.latest_version();
    let dir = tempfile::tempdir().unwrap();
    for from in 1..latest {
        for to in from + 1..=latest {
            let context = format!("sqlite3 v{from} -> v{to}");
            let upgraded = dir.path().join(format!("v{from}-to-v{to}.db"));
            sqlite3(
                &upgraded,
                &sqlite3_fresh_sql(&history, from),
                &format!("the fresh v{from} schema"),
            );
            let before = {
                let conn = open(&upgraded);
                conn.execute_batch("BEGIN").unwrap();
                fill(&conn, &history.get(from).unwrap().tables);
                conn.execute_batch("COMMIT").unwrap();
                rows(&conn)
            };
            for version in from + 1..=to {
                let path = step_file(version);
                let sql = std::fs::read_to_string(&path).unwrap();
                sqlite3(&upgraded, &sql, &path.display().to_string());
            }
            let fresh = dir.path().join(format!("fresh-v{to}-for-v{from}.db"));
            sqlite3(
                &fresh,
                &sqlite3_fresh_sql(&history, to),
                &format!("the fresh v{to} schema"),
            );

            assert_eq!(
                sqldiff_schema(&upgraded, &fresh),
                "",
                "{context}: sqldiff --schema"
            );
            let (conn, fresh) = (open(&upgraded), open(&fresh));
            schema_description::assert_same(
                &schema(&conn),
                "upgraded by sqlite3",
                &schema(&fresh),
                &format!("fresh v{to}"),
                &context,
            );
            assert_eq!(user_version(&conn), to, "{context}: user_version");
            assert_rows_survived(&conn, &history, from, to, &before);
            assert_consistent(&conn, &context);
        }
    }
}

#[test]
#[ignore = "needs the sqlite3 and sqldiff programs; .ci/run installs them"]
fn sqldiff_notices_a_schema_difference() {
    // The comparison above is only worth something if sqldiff reports differences at all.
    let history = history();
    let dir = tempfile::tempdir().unwrap();
    let (v4, v5) = (dir.path().join("v4.db"), dir.path().join("v5.db"));
    sqlite3(&v4, &sqlite3_fresh_sql(&history, 4), "the fresh v4 schema");
    sqlite3(&v5, &sqlite3_fresh_sql(&history, 5), "the fresh v5 schema");
    let diff = sqldiff_schema(&v4, &v5);
    assert!(diff.contains("projects"), "{diff}");
}
