//! The README's code cannot rot: every fenced block whose info string names a file
//! (```` ```rust file=examples/first-app/src/main.rs ````) must equal that file, and those
//! files belong to `examples/first-app`, a workspace member that CI builds and runs.

use std::path::Path;

/// How a README block is tied to a file that CI builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tie {
    /// ```` ```rust file=PATH ````: the block is the whole file.
    Whole,
    /// ```` ```rust contained-in=PATH ````: the block stands verbatim inside the file (a
    /// snippet that needs a `fn main` or a function around it to compile).
    Contained,
}

/// `(file, tie, block)` for every fenced block of `markdown` that names a file.
fn file_blocks(markdown: &str) -> Vec<(String, Tie, String)> {
    let mut blocks = Vec::new();
    let mut lines = markdown.lines();
    while let Some(line) = lines.next() {
        let Some(info) = line.strip_prefix("```") else {
            continue;
        };
        let file = info.split_whitespace().find_map(|word| {
            word.strip_prefix("file=")
                .map(|path| (path.to_owned(), Tie::Whole))
                .or_else(|| {
                    word.strip_prefix("contained-in=")
                        .map(|path| (path.to_owned(), Tie::Contained))
                })
        });
        let mut body = String::new();
        for line in lines.by_ref() {
            if line.starts_with("```") {
                break;
            }
            body.push_str(line);
            body.push('\n');
        }
        if let Some((file, tie)) = file {
            blocks.push((file, tie, body));
        }
    }
    blocks
}

#[test]
fn readme_code_blocks_that_name_a_file_equal_that_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let blocks = file_blocks(&readme);
    assert!(
        blocks.len() >= 4,
        "the README shows the first app's files: {blocks:?}"
    );
    for (file, tie, block) in blocks {
        let actual = std::fs::read_to_string(root.join(&file))
            .unwrap_or_else(|e| panic!("the README shows `{file}`, which cannot be read: {e}"));
        match tie {
            Tie::Whole => assert_eq!(
                block, actual,
                "the README's copy of `{file}` differs from the file; update the README"
            ),
            Tie::Contained => assert!(
                actual.contains(&block),
                "the README's block tied to `{file}` is not in that file verbatim; update one of them:\n{block}"
            ),
        }
    }
}

/// Every Rust block of the README is tied to a file CI compiles.
#[test]
fn every_rust_block_of_the_readme_is_compiled() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let untied: Vec<&str> = readme
        .lines()
        .filter(|line| line.trim_end() == "```rust")
        .collect();
    assert!(
        untied.is_empty(),
        "{} README Rust block(s) are not tied to a compiled file: add `file=PATH` or `contained-in=PATH`",
        untied.len()
    );
}

#[test]
fn the_readme_app_runs_and_reopens_its_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("app.db");
    let run = || {
        let output = std::process::Command::new(env!("CARGO"))
            .args(["run", "--quiet", "-p", "first-app", "--"])
            .arg(&db)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("cargo runs");
        assert!(
            output.status.success(),
            "first-app failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };
    let first = run();
    assert!(first.contains("at schema version 2"), "{first}");
    assert!(first.contains("1 change(s) waiting to sync"), "{first}");
    let second = run();
    assert!(second.contains("2 change(s) waiting to sync"), "{second}");
}
