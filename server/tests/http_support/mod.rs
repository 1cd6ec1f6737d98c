//! The HTTP tests' harness: the real router on 127.0.0.1:0 in a background runtime, the real
//! binary as a child process, raw requests, and pulling everything.
#![allow(dead_code)] // each test file uses its own share

pub mod proxy;
pub mod rng;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value as Json;
use syncwright::sync::http::HttpTransport;
use syncwright::sync::protocol::{Cursor, PullRequest, RemoteRecord};
use syncwright::sync::transport::Transport;
use syncwright_server::Server;
use syncwright_server::http::{HttpConfig, router, serve};
use syncwright_server::storage::SqliteStorage;
use syncwright_server::tokens::{Tokens, hash_token};

/// The users every test server knows; each one's token is `<user>-token-7f3a`.
pub const USERS: [&str; 2] = ["ana", "bob"];

pub fn token_of(user: &str) -> String {
    format!("{user}-token-7f3a")
}

/// A tokens file's text for `users`.
pub fn tokens_file(users: &[&str]) -> String {
    let mut text = String::from("[users]\n");
    for user in users {
        text.push_str(&format!("{user} = \"{}\"\n", hash_token(&token_of(user))));
    }
    text
}

/// The real router serving on a free loopback port from a background runtime; stopped (and
/// waited for) when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    pub server: Arc<Server>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    _dir: tempfile::TempDir,
    pub db: PathBuf,
}

impl TestServer {
    /// The test catalog, state in a SQLite file, users [`USERS`], default limits.
    pub fn start() -> TestServer {
        TestServer::start_with(&USERS, HttpConfig::default())
    }

    /// The test catalog, state in a fresh `backend` database, users [`USERS`], default limits.
    pub fn start_on(backend: crate::backends::Backend) -> TestServer {
        TestServer::start_with_on(&USERS, HttpConfig::default(), backend)
    }

    /// [`start_with`](Self::start_with), with the state in a fresh `backend` database.
    pub fn start_with_on(
        users: &[&str],
        config: HttpConfig,
        backend: crate::backends::Backend,
    ) -> TestServer {
        match backend {
            crate::backends::Backend::Sqlite => TestServer::start_with(users, config),
            postgres => {
                let dir = tempfile::tempdir().unwrap();
                let db = dir.path().join("unused.db");
                let server = Server::new(crate::common::catalog(), postgres.storage());
                TestServer::serve(Arc::new(server), users, config, dir, db)
            }
        }
    }

    pub fn start_with(users: &[&str], config: HttpConfig) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("server.db");
        let server = Server::new(crate::common::catalog(), SqliteStorage::open(&db).unwrap());
        TestServer::serve(Arc::new(server), users, config, dir, db)
    }

    /// Serves an already built core.
    pub fn serve(
        server: Arc<Server>,
        users: &[&str],
        config: HttpConfig,
        dir: tempfile::TempDir,
        db: PathBuf,
    ) -> TestServer {
        let tokens = Tokens::parse(&tokens_file(users), "tokens.toml").unwrap();
        let app = router(server.clone(), tokens, config);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let (shutdown, stop) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            runtime
                .block_on(serve(listener, app, async {
                    let _ = stop.await;
                }))
                .unwrap();
        });
        TestServer {
            addr,
            server,
            shutdown: Some(shutdown),
            thread: Some(thread),
            _dir: dir,
            db,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// An [`HttpTransport`] acting as `user`.
    pub fn transport(&self, user: &str) -> HttpTransport {
        HttpTransport::new(self.url(), token_of(user))
    }

    /// Starts the graceful shutdown without waiting for it.
    pub fn begin_shutdown(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }

    /// Stops the server and waits until the requests in progress are done.
    pub fn stop(&mut self) {
        self.begin_shutdown();
        if let Some(thread) = self.thread.take() {
            thread.join().expect("the server thread panicked");
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.begin_shutdown();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A raw answer: status and JSON body (`Json::Null` when the body is not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Json,
}

impl Answer {
    /// The `error.code` of a protocol error body.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_else(|| {
            panic!("not a protocol error body: {}", self.body);
        })
    }

    /// The `message` of a protocol error body.
    pub fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or_else(|| {
            panic!("not a protocol error body: {}", self.body);
        })
    }
}

/// POSTs `body` to `path` as-is, with `token` as the bearer token when given.
pub fn post_raw(
    base: &str,
    path: &str,
    token: Option<&str>,
    content_type: Option<&str>,
    body: &[u8],
) -> Answer {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let mut request = agent.post(format!("{base}{path}"));
    if let Some(token) = token {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    if let Some(content_type) = content_type {
        request = request.header("Content-Type", content_type);
    }
    let mut response = request.send(body).expect("the server answers");
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    Answer {
        status,
        body: serde_json::from_str(&text).unwrap_or(Json::Null),
    }
}

/// POSTs `message` as JSON as `user`.
pub fn post_json(base: &str, path: &str, user: &str, message: &impl serde::Serialize) -> Answer {
    let body = serde_json::to_vec(message).unwrap();
    post_raw(
        base,
        path,
        Some(&token_of(user)),
        Some("application/json"),
        &body,
    )
}

/// Pulls every record of `entities` from scratch, page after page.
pub fn pull_all(
    transport: &impl Transport,
    schema_version: u32,
    entities: &[&str],
) -> Vec<RemoteRecord> {
    let mut cursors: std::collections::BTreeMap<String, Option<Cursor>> =
        entities.iter().map(|e| (e.to_string(), None)).collect();
    let mut records = Vec::new();
    for _ in 0..10_000 {
        let page = transport
            .pull(&PullRequest::new(schema_version, cursors.clone(), 500))
            .expect("pull succeeds");
        records.extend(page.changes);
        cursors = page
            .cursors
            .into_iter()
            .map(|(e, c)| (e, Some(c)))
            .collect();
        if !page.has_more {
            return records;
        }
    }
    panic!("the pull never caught up");
}

/// The workspace's `fixtures/` directory.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

/// The real `syncwright-server` binary, started on a free loopback port; killed when dropped.
pub struct Binary {
    pub child: Child,
    pub addr: SocketAddr,
    /// Every line the process logged until it printed its address.
    pub log: Vec<String>,
}

impl Binary {
    /// Starts the binary serving `fixtures/field-service` with its state in `db` and its users
    /// in `tokens`, and waits until it listens.
    pub fn start(db: &Path, tokens: &Path) -> Binary {
        Binary::start_with_config(
            &fixtures().join("field-service/syncwright.toml"),
            db,
            tokens,
        )
    }

    /// Starts the binary serving the project whose `syncwright.toml` is `config`.
    pub fn start_with_config(config: &Path, db: &Path, tokens: &Path) -> Binary {
        let mut child = Command::new(env!("CARGO_BIN_EXE_syncwright-server"))
            .arg("--config")
            .arg(config)
            .arg("--db")
            .arg(db)
            .args(["--listen", "127.0.0.1:0", "--tokens"])
            .arg(tokens)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let stderr = child.stderr.take().unwrap();
        let (lines_in, lines_out) = std::sync::mpsc::channel();
        // Keep draining stderr so the child never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if lines_in.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut log = Vec::new();
        while Instant::now() < deadline {
            let Ok(line) = lines_out.recv_timeout(Duration::from_millis(100)) else {
                if child.try_wait().unwrap().is_some() {
                    let status = child.wait().unwrap();
                    panic!("the server exited with {status}: {}", log.join("\n"));
                }
                continue;
            };
            if let Some(addr) = line.split("listening on http://").nth(1) {
                let addr = addr.split_whitespace().next().unwrap().parse().unwrap();
                log.push(line);
                // The rest of the log is drained (and dropped) by the reader thread.
                std::thread::spawn(move || while lines_out.recv().is_ok() {});
                return Binary { child, addr, log };
            }
            log.push(line);
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("the server did not listen within 30 s: {}", log.join("\n"));
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Sends SIGTERM (graceful shutdown).
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -TERM failed");
    }

    /// Waits up to `timeout` for the process to exit.
    pub fn wait_exit(&mut self, timeout: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "the server did not exit in time");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
