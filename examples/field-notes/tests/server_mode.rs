//! The device mode against the real server binary: `syncwright-server` serving this project on
//! 127.0.0.1:0, then two example processes (a phone and a tablet, each its own database) as the
//! README runs them. The tablet gets the phone's note, the phone the tablet's, both end equal.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use syncwright_server::tokens::hash_token;

const TOKEN: &str = "crew-7-token-5e1d";

/// The `syncwright-server` binary of this build's profile, built first so it is never stale
/// (`cargo test -p field-notes` alone builds only this package's binaries).
fn server_binary() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT.get_or_init(build_server_binary).clone()
}

fn build_server_binary() -> PathBuf {
    let profile_dir = Path::new(env!("CARGO_BIN_EXE_field-notes"))
        .parent()
        .unwrap()
        .to_path_buf();
    let mut build = Command::new(env!("CARGO"));
    build.args([
        "build",
        "-q",
        "-p",
        "syncwright-server",
        "--bin",
        "syncwright-server",
    ]);
    if profile_dir.ends_with("release") {
        build.arg("--release");
    }
    let status = build
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building syncwright-server failed");
    profile_dir.join(format!("syncwright-server{}", std::env::consts::EXE_SUFFIX))
}

/// The server process, killed when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the server as the README does, on a free loopback port, and waits until it listens.
fn start_server(dir: &Path) -> Server {
    let tokens = dir.join("tokens.toml");
    std::fs::write(
        &tokens,
        format!("[users]\ncrew-7 = \"{}\"\n", hash_token(TOKEN)),
    )
    .unwrap();
    let child = Command::new(server_binary())
        .arg("--config")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("syncwright.toml"))
        .arg("--db")
        .arg(dir.join("server.db"))
        .args(["--listen", "127.0.0.1:0", "--tokens"])
        .arg(&tokens)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the server starts");
    listening(child)
}

/// Waits until the server `child` (its stderr piped) logs its address.
fn listening(mut child: Child) -> Server {
    let (lines_in, lines_out) = std::sync::mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    // Keep draining stderr so the server never blocks on a full pipe.
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines_in.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut log = Vec::new();
    while Instant::now() < deadline {
        match lines_out.recv_timeout(Duration::from_millis(100)) {
            Ok(line) => {
                if let Some(addr) = line.split("listening on ").nth(1) {
                    let url = addr.split_whitespace().next().unwrap().to_string();
                    std::thread::spawn(move || while lines_out.recv().is_ok() {});
                    return Server { child, url };
                }
                log.push(line);
            }
            Err(_) => assert!(
                child.try_wait().unwrap().is_none(),
                "the server exited: {}",
                log.join("\n")
            ),
        }
    }
    panic!("the server did not listen within 30 s: {}", log.join("\n"));
}

/// One run of the example as a device: `--server URL --token TOKEN [--note TEXT] DB`.
fn device(server: &Server, db: &Path, note: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_field-notes"));
    command.args(["--server", &server.url, "--token", TOKEN]);
    if let Some(note) = note {
        command.args(["--note", note]);
    }
    let output = command.arg(db).output().expect("the example runs");
    assert!(
        output.status.success(),
        "the device failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The notes a device printed.
fn notes(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.strip_prefix("note: "))
        .map(str::to_string)
        .collect()
}

#[test]
fn two_device_processes_sync_their_notes_through_the_server_binary() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path());
    let (phone, tablet) = (dir.path().join("phone.db"), dir.path().join("tablet.db"));

    let first = device(&server, &phone, Some("Fence post 14 leaning"));
    assert_eq!(notes(&first), ["Fence post 14 leaning"]);
    let second = device(&server, &tablet, Some("Gate 3 open"));
    assert_eq!(
        notes(&second),
        ["Fence post 14 leaning", "Gate 3 open"],
        "the tablet got the phone's note: {}",
        String::from_utf8_lossy(&second.stdout)
    );
    let again = device(&server, &phone, None);
    assert_eq!(
        notes(&again),
        notes(&second),
        "both devices hold the same notes"
    );
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("pulled 1, pushed 0"),
        "the phone pulls the tablet's note into the shared notebook: {}",
        String::from_utf8_lossy(&again.stdout)
    );
}

#[test]
fn a_wrong_token_fails_the_device_run_and_keeps_its_note() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path());
    let phone = dir.path().join("phone.db");
    let output = Command::new(env!("CARGO_BIN_EXE_field-notes"))
        .args([
            "--server",
            &server.url,
            "--token",
            "wrong",
            "--note",
            "kept",
        ])
        .arg(&phone)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unauthorized"), "{stderr}");
    // With the right token the kept note syncs.
    let retried = device(&server, &phone, None);
    assert_eq!(notes(&retried), ["kept"]);
    assert!(String::from_utf8_lossy(&retried.stdout).contains("pushed 2"));
}

/// The lines of the first ```sh block after the line starting with `heading` in `readme`.
fn sh_block(readme: &str, heading: &str) -> Vec<String> {
    let text = std::fs::read_to_string(readme).unwrap();
    let after = &text[text.find(heading).expect("the heading is there")..];
    let block = after.split("```sh\n").nth(1).expect("a sh block follows");
    let block = &block[..block.find("```").expect("the block ends")];
    block.lines().map(str::to_string).collect()
}

/// Runs a README's commands as written, from the workspace root, with only what a test must
/// change: the built binaries for `cargo run`, a free port for 8787, `dir` for `/tmp`. The
/// server line is started (and kept running); every other line must succeed. Returns the
/// server and the devices' outputs.
fn run_as_written(lines: &[String], dir: &Path) -> (Server, Vec<Output>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let server_bin = server_binary().display().to_string();
    let device_bin = env!("CARGO_BIN_EXE_field-notes");
    let tmp = format!("{}/", dir.display());
    let mut exports = String::new();
    let mut server: Option<Server> = None;
    let mut devices = Vec::new();
    for line in lines.iter().map(|l| l.trim()) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // `/tmp/` first: the binaries' own paths may lie under /tmp (a checkout there).
        let mut command = line
            .replace("/tmp/", &tmp)
            .replace("cargo run -q -p syncwright-server --", &server_bin)
            .replace("cargo run -p syncwright-server --", &server_bin)
            .replace("cargo run -p field-notes --", device_bin)
            .replace("--listen 127.0.0.1:8787", "--listen 127.0.0.1:0");
        if let Some(running) = &server {
            command = command.replace("http://127.0.0.1:8787", &running.url);
        }
        if line.starts_with("export ") {
            exports.push_str(&command);
            exports.push('\n');
            continue;
        }
        let script = format!("{exports}exec {command}");
        if line.contains("--listen") {
            let child = Command::new("sh")
                .args(["-c", &script])
                .current_dir(&root)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            server = Some(listening(child));
            continue;
        }
        let output = Command::new("sh")
            .args(["-c", &format!("{exports}{command}")])
            .current_dir(&root)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "`{line}` failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        if line.contains("-p field-notes") {
            devices.push(output);
        }
    }
    (server.expect("the block starts a server"), devices)
}

/// What the README's three device runs must print: the tablet lists both notes, and the
/// phone's second run pulls the tablet's note.
fn assert_two_devices_converged(devices: &[Output]) {
    let [phone, tablet, phone_again] = devices else {
        panic!("three device runs expected, got {}", devices.len());
    };
    assert_eq!(notes(phone), ["Fence post 14 leaning"]);
    assert_eq!(notes(tablet), ["Fence post 14 leaning", "Gate 3 open"]);
    assert_eq!(notes(phone_again), notes(tablet));
}

#[test]
fn the_examples_readme_commands_run_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let lines = sh_block(
        concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"),
        "- With `--server URL --token TOKEN`",
    );
    let (_server, devices) = run_as_written(&lines, dir.path());
    assert_two_devices_converged(&devices);
}

#[test]
fn the_workspace_readmes_two_device_commands_run_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let lines = sh_block(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"),
        "Two devices against one server",
    );
    let (_server, devices) = run_as_written(&lines, dir.path());
    assert_two_devices_converged(&devices);
}
