//! The `syncwright-server` binary: starts with the README's command and answers /health, stops
//! on SIGTERM, hashes tokens, and says clearly what is wrong with its arguments.

mod common;
mod http_support;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use http_support::*;
use syncwright_server::tokens::hash_token;

fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_syncwright-server"))
}

/// Runs the binary with the README's arguments, `overrides` replacing some of them.
fn run_with(dir: &Path, overrides: &[(&str, &str)]) -> Output {
    let tokens = dir.join("tokens.toml");
    std::fs::write(&tokens, tokens_file(&["ana"])).unwrap();
    let config = fixtures().join("field-service/syncwright.toml");
    let mut args = vec![
        ("--config", config.display().to_string()),
        ("--db", dir.join("server.db").display().to_string()),
        ("--listen", "127.0.0.1:0".to_string()),
        ("--tokens", tokens.display().to_string()),
    ];
    for (flag, value) in overrides {
        args.iter_mut()
            .find(|(f, _)| f == flag)
            .expect("a known flag")
            .1 = value.to_string();
    }
    let mut command = binary();
    for (flag, value) in args {
        command.arg(flag).arg(value);
    }
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A failing start exits at once; a start that did not fail is stopped after a while.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn assert_fails_saying(output: &Output, expected: &[&str]) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "the server started: {stderr}");
    for part in expected {
        assert!(stderr.contains(part), "`{part}` not in:\n{stderr}");
    }
}

#[test]
fn the_readme_command_starts_a_server_that_answers_health() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens.toml");
    std::fs::write(&tokens, tokens_file(&["ana"])).unwrap();
    let binary = Binary::start(&dir.path().join("server.db"), &tokens);
    assert!(
        binary.log[0].contains("schema_version=5"),
        "{:?}",
        binary.log
    );
    let mut response = ureq::get(format!("{}/health", binary.url()))
        .call()
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.body_mut().read_to_string().unwrap(),
        r#"{"status":"ok"}"#
    );
}

#[test]
fn sigterm_stops_an_idle_server_with_success() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens.toml");
    std::fs::write(&tokens, tokens_file(&["ana"])).unwrap();
    let mut binary = Binary::start(&dir.path().join("server.db"), &tokens);
    binary.terminate();
    let status = binary.wait_exit(Duration::from_secs(10));
    assert!(status.success(), "exited with {status}");
}

#[test]
fn hash_token_prints_the_sha256_hex_the_tokens_file_stores() {
    let mut child = binary()
        .arg("hash-token")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"s3cret\n").unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8(output.stdout).unwrap().trim(),
        hash_token("s3cret")
    );
}

#[test]
fn a_missing_config_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let output = run_with(dir.path(), &[("--config", "no/such/syncwright.toml")]);
    assert_fails_saying(
        &output,
        &["cannot build the schema catalog from `no/such/syncwright.toml`"],
    );
}

#[test]
fn a_missing_tokens_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let output = run_with(dir.path(), &[("--tokens", "no-such-tokens.toml")]);
    assert_fails_saying(
        &output,
        &[
            "cannot read the tokens file `no-such-tokens.toml`",
            "[users]",
        ],
    );
}

#[test]
fn a_bad_listen_address_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let output = run_with(dir.path(), &[("--listen", "localhost-8787")]);
    assert_fails_saying(&output, &["invalid value 'localhost-8787' for '--listen"]);
}

#[test]
fn an_address_in_use_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let output = run_with(dir.path(), &[("--listen", &addr)]);
    assert_fails_saying(&output, &[&format!("cannot listen on {addr}")]);
}

#[test]
fn an_unwritable_database_path_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("missing-dir/server.db");
    let output = run_with(dir.path(), &[("--db", &db.display().to_string())]);
    assert_fails_saying(
        &output,
        &[
            &format!("cannot use the database `{}`", db.display()),
            "writable",
        ],
    );
}
