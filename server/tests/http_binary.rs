//! The `syncwright-server` binary: starts with the README's command and answers /health, stops
//! on SIGTERM, hashes tokens, and says clearly what is wrong with its arguments.

#[macro_use]
mod backends;
mod common;
mod http_support;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use http_support::*;
use syncwright::sync::transport::Transport;
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

#[test]
fn an_unreachable_postgres_database_is_a_clear_error_without_the_password() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens on port 1.
    let output = run_with(
        dir.path(),
        &[("--db", "postgres://sync:s3cret@127.0.0.1:1/sync")],
    );
    assert_fails_saying(
        &output,
        &[
            "cannot use the database `postgres://sync:***@127.0.0.1:1/sync`",
            "cannot connect",
            "check that PostgreSQL runs at that address",
        ],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("s3cret"), "the password leaked: {stderr}");
}

#[test]
fn the_binary_serves_from_postgres() {
    let Some(pg) = backends::postgres() else {
        return;
    };
    let database = pg.database();
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens.toml");
    std::fs::write(&tokens, tokens_file(&["ana"])).unwrap();
    let server = Binary::start(Path::new(&database.url), &tokens);
    assert!(
        server.log.iter().any(|line| line.contains("postgres://")),
        "the log names the database: {:?}",
        server.log
    );
    let transport = syncwright::sync::http::HttpTransport::new(server.url(), token_of("ana"));
    assert!(pull_all(&transport, 1, &["project"]).is_empty());
}

/// The lines of the first ```sh block after `heading` in the workspace README.
fn readme_block(heading: &str) -> Vec<String> {
    let readme = std::fs::read_to_string(fixtures().join("../README.md")).unwrap();
    let after = &readme[readme.find(heading).expect("the heading is there")..];
    let block = after.split("```sh\n").nth(1).expect("a sh block follows");
    block[..block.find("```").unwrap()]
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn the_readme_server_commands_run_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let lines = readme_block("## The sync server");
    assert_eq!(lines.len(), 2, "{lines:?}");
    let bin = env!("CARGO_BIN_EXE_syncwright-server");
    // As written, from a folder holding `fixtures/`, with the built binary for `cargo run` and
    // a free port for 8787.
    let as_run = |line: &str| {
        line.replace("cargo run -q -p syncwright-server --", bin)
            .replace("cargo run -p syncwright-server --", bin)
            .replace("127.0.0.1:8787", "127.0.0.1:0")
            .replace("fixtures/", &format!("{}/", fixtures().display()))
    };
    let token = "ana-readme-token-42";
    let tokens = Command::new("sh")
        .args(["-c", &as_run(&lines[0])])
        .env("ANA_TOKEN", token)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(tokens.status.success(), "{tokens:?}");
    let mut child = Command::new("sh")
        .args(["-c", &format!("exec {}", as_run(&lines[1]))])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let (found, address) = std::sync::mpsc::channel();
    // Reads the address, then keeps draining the log so the server never writes to a closed
    // pipe.
    std::thread::spawn(move || {
        for line in std::io::BufRead::lines(stderr).map_while(Result::ok) {
            if let Some(addr) = line.split("listening on ").nth(1) {
                let _ = found.send(addr.split_whitespace().next().unwrap().to_string());
            }
        }
    });
    let Ok(url) = address.recv_timeout(Duration::from_secs(30)) else {
        let _ = child.kill();
        panic!("the README's server did not start: {:?}", child.wait());
    };
    // The tokens file the README's first line wrote lets ana in, and only with her token.
    let ana = syncwright::sync::http::HttpTransport::new(&url, token);
    let pulled = pull_all(&ana, 5, &["project"]);
    let refused = syncwright::sync::http::HttpTransport::new(&url, "not-ana").pull(
        &syncwright::sync::protocol::PullRequest::new(5, [("project".into(), None)].into(), 1),
    );
    let _ = child.kill();
    let _ = child.wait();
    assert!(pulled.is_empty());
    assert!(!refused.unwrap_err().is_retryable());
    assert!(dir.path().join("server.db").exists(), "`--db server.db`");
}
