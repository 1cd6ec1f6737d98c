//! The `syncwright` binary: exit codes, where it looks for the project, what it prints.

use std::process::Command;

fn syncwright() -> Command {
    Command::new(env!("CARGO_BIN_EXE_syncwright"))
}

#[test]
fn bad_specs_exit_non_zero_with_the_full_report_and_write_nothing() {
    let output = syncwright()
        .args([
            "--config",
            "tests/bad-input/many_problems_in_many_files/syncwright.toml",
            "generate",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("tests/bad-input/many_problems_in_many_files/schema/project.toml:5:"),
        "{stderr}"
    );
    assert!(
        stderr.contains("found 4 problems in the schema; nothing was written"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("\u{1b}["),
        "no colours when stderr is not a terminal"
    );
    assert!(
        !std::path::Path::new("tests/bad-input/many_problems_in_many_files/migrations").exists()
    );
}

#[test]
fn without_config_it_looks_in_the_current_directory() {
    let dir = tempfile::tempdir().unwrap();
    let output = syncwright()
        .arg("generate")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("no `syncwright.toml` in"), "{stderr}");
    assert!(stderr.contains("--config PATH"), "{stderr}");

    let output = syncwright()
        .arg("generate")
        .current_dir("tests/bad-input/unknown_type")
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains(" --> schema/task.toml:6:18"),
        "paths are shown relative to where the tool runs: {stderr}"
    );
}

#[test]
fn unknown_subcommand_is_a_usage_error() {
    let output = syncwright().arg("generat").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("generate"),
        "clap suggests the right command: {stderr}"
    );
}

#[test]
fn two_migrate_new_processes_at_once_release_the_version_once() {
    for _ in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("schema")).unwrap();
        let task = "[entity]\nname = \"task\"\n\n[fields]\ntitle = { type = \"text\" }\n";
        std::fs::write(dir.path().join("schema/task.toml"), task).unwrap();
        std::fs::write(
            dir.path().join("syncwright.toml"),
            "[schema]\nversion = 1\nentities = [\"schema/*.toml\"]\n",
        )
        .unwrap();
        let children: Vec<_> = ["alpha", "beta"]
            .into_iter()
            .map(|name| {
                syncwright()
                    .args(["migrate", "new", name])
                    .current_dir(dir.path())
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let outputs: Vec<_> = children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect();
        let succeeded = outputs.iter().filter(|o| o.status.success()).count();
        assert_eq!(succeeded, 1, "exactly one process releases v1");
        let loser = outputs.iter().find(|o| !o.status.success()).unwrap();
        let stderr = String::from_utf8_lossy(&loser.stderr);
        assert!(
            stderr.contains("another syncwright command is writing this project")
                || stderr.contains("version 1 is already released"),
            "{stderr}"
        );
        let released: Vec<_> = std::fs::read_dir(dir.path().join("migrations"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("0001_"))
            .collect();
        assert_eq!(released.len(), 1, "{released:?}");
    }
}
