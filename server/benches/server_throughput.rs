//! Sync server throughput: pushes and pulls per second through 1 and 3 `syncwright-server`
//! processes (the real binary, over HTTP) on SQLite and on PostgreSQL.
//! `cargo bench -p syncwright-server --bench server_throughput` (full sizes) or `... -- --quick`
//! (CI sizes).
//!
//! Eight client threads, each acting as one of eight users, spread over the processes round-robin:
//! a push is one request creating one project; a pull is one request of at most 50 records,
//! pulling everything from scratch page by page. Each configuration runs a few rounds on a fresh
//! database; the median round is reported. PostgreSQL is the tests' (`SYNCWRIGHT_TEST_POSTGRES`
//! or a throwaway cluster); without one its rows are skipped, saying so.
//!
//! The figures are merged into `target/syncwright-bench.json` (entries of other benches are
//! kept): per configuration `name` (`server/<push|pull>/<backend>/<n>_processes`), `n` (requests
//! per round), `a_median_s` (its median round), `b_median_s` (the same work on SQLite with one
//! process, the baseline), `ratio_median` (a/b), and `per_second`.

// The tests' PostgreSQL: `SYNCWRIGHT_TEST_POSTGRES`, or a throwaway cluster.
#[path = "../tests/backends/mod.rs"]
mod backends;
// The bench suite's shared JSON file.
#[path = "../../benches/support/bench_json.rs"]
mod bench_json;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use serde_json::{Value as Json, json};
use syncwright::Uuid;
use syncwright::sync::protocol::{
    Cursor, Mutation, PullRequest, PullResponse, PushRequest, PushResponse,
};
use syncwright_server::tokens::hash_token;

const CLIENTS: usize = 8;
const PULL_LIMIT: u32 = 50;

struct Sizes {
    /// Push requests per round (all clients together).
    pushes: usize,
    /// Pull requests per round.
    pulls: usize,
    rounds: usize,
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let sizes = if quick {
        Sizes {
            pushes: 160,
            pulls: 160,
            rounds: 3,
        }
    } else {
        Sizes {
            pushes: 1600,
            pulls: 1600,
            rounds: 5,
        }
    };
    let work = tempfile::tempdir().expect("a temporary directory");
    let tokens = work.path().join("tokens.toml");
    std::fs::write(&tokens, tokens_file()).unwrap();

    let mut rows: Vec<Row> = Vec::new();
    let postgres = backends::postgres();
    for processes in [1, 3] {
        rows.extend(measure(&sizes, &tokens, processes, &|round| {
            let path = work.path().join(format!("sqlite-{processes}-{round}.db"));
            (("sqlite", path.display().to_string()), None)
        }));
        if let Some(pg) = postgres {
            rows.extend(measure(&sizes, &tokens, processes, &|_| {
                let db = pg.database();
                (("postgres", db.url.clone()), Some(db))
            }));
        }
    }
    print_table(&rows);
    merge_json(&rows);
}

/// One configuration's figures.
struct Row {
    operation: &'static str,
    backend: &'static str,
    processes: usize,
    n: usize,
    rounds: Vec<f64>,
}

impl Row {
    fn name(&self) -> String {
        format!(
            "server/{}/{}/{}_processes",
            self.operation, self.backend, self.processes
        )
    }

    fn median(&self) -> f64 {
        median(self.rounds.clone())
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Runs the rounds of one configuration: fresh database, `processes` servers, the pushes,
/// then the pulls.
fn measure(
    sizes: &Sizes,
    tokens: &Path,
    processes: usize,
    database: &dyn Fn(usize) -> ((&'static str, String), Option<backends::TestDatabase>),
) -> Vec<Row> {
    let mut push = Vec::new();
    let mut pull = Vec::new();
    let mut backend = "";
    for round in 0..sizes.rounds {
        let ((name, db), _keep) = database(round);
        backend = name;
        let servers: Vec<ServerProcess> = (0..processes)
            .map(|_| ServerProcess::start(&db, tokens))
            .collect();
        let urls: Vec<String> = servers.iter().map(|s| s.url.clone()).collect();
        push.push(run_clients(&urls, sizes.pushes, push_one));
        pull.push(run_clients(&urls, sizes.pulls, pull_one));
    }
    eprintln!("measured {backend} with {processes} process(es)");
    vec![
        Row {
            operation: "push",
            backend,
            processes,
            n: sizes.pushes,
            rounds: push,
        },
        Row {
            operation: "pull",
            backend,
            processes,
            n: sizes.pulls,
            rounds: pull,
        },
    ]
}

/// What one client thread keeps between requests.
struct ClientState {
    agent: ureq::Agent,
    url: String,
    token: String,
    cursors: std::collections::BTreeMap<String, Option<Cursor>>,
    n: usize,
}

/// `total` requests split over [`CLIENTS`] threads; the wall time in seconds.
fn run_clients(urls: &[String], total: usize, request: fn(&mut ClientState)) -> f64 {
    let barrier = Arc::new(Barrier::new(CLIENTS + 1));
    let threads: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let barrier = barrier.clone();
            let mut state = ClientState {
                agent: ureq::Agent::config_builder()
                    .timeout_global(Some(Duration::from_secs(60)))
                    .build()
                    .into(),
                url: urls[c % urls.len()].clone(),
                token: token_of(&user(c)),
                cursors: [("project".to_string(), None)].into(),
                n: 0,
            };
            let share = total / CLIENTS + usize::from(c < total % CLIENTS);
            std::thread::spawn(move || {
                barrier.wait();
                for _ in 0..share {
                    request(&mut state);
                }
            })
        })
        .collect();
    barrier.wait();
    let started = Instant::now();
    for thread in threads {
        thread.join().expect("a client thread failed");
    }
    started.elapsed().as_secs_f64()
}

fn post<T: serde::de::DeserializeOwned>(
    state: &ClientState,
    path: &str,
    body: &impl serde::Serialize,
) -> T {
    let mut response = state
        .agent
        .post(format!("{}{path}", state.url))
        .header("Authorization", format!("Bearer {}", state.token))
        .header("Content-Type", "application/json")
        .send(&serde_json::to_vec(body).unwrap())
        .unwrap_or_else(|e| panic!("POST {path} failed: {e}"));
    let text = response
        .body_mut()
        .read_to_string()
        .unwrap_or_else(|e| panic!("POST {path}: no answer: {e}"));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("POST {path}: not an answer: {e}: {text}"))
}

/// One push creating one project.
fn push_one(state: &mut ClientState) {
    state.n += 1;
    let fields = json!({ "name": format!("p{}", state.n), "archived": false, "budget": 0 });
    let Json::Object(fields) = fields else {
        unreachable!()
    };
    let request = PushRequest::new(
        2,
        vec![Mutation::create(
            Uuid::new_v4(),
            "project",
            Uuid::new_v4(),
            2,
            1_000,
            fields,
        )],
    );
    let answer: PushResponse = post(state, "/v1/push", &request);
    assert_eq!(answer.results.len(), 1);
}

/// One page of a pull from scratch, starting over once caught up.
fn pull_one(state: &mut ClientState) {
    let request = PullRequest::new(2, state.cursors.clone(), PULL_LIMIT);
    let page: PullResponse = post(state, "/v1/pull", &request);
    state.cursors = if page.has_more {
        page.cursors
            .into_iter()
            .map(|(e, c)| (e, Some(c)))
            .collect()
    } else {
        [("project".to_string(), None)].into()
    };
}

fn user(client: usize) -> String {
    format!("user{client}")
}

fn token_of(user: &str) -> String {
    format!("{user}-bench-token")
}

fn tokens_file() -> String {
    let mut text = String::from("[users]\n");
    for c in 0..CLIENTS {
        let user = user(c);
        text.push_str(&format!("{user} = \"{}\"\n", hash_token(&token_of(&user))));
    }
    text
}

/// The real binary serving the sync app on a free port; killed when dropped.
struct ServerProcess {
    child: Child,
    url: String,
}

impl ServerProcess {
    fn start(db: &str, tokens: &Path) -> ServerProcess {
        let config =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sync-app/syncwright.toml");
        let mut child = Command::new(env!("CARGO_BIN_EXE_syncwright-server"))
            .arg("--config")
            .arg(config)
            .args(["--db", db, "--listen", "127.0.0.1:0", "--tokens"])
            .arg(tokens)
            .env("RUST_LOG", "warn,syncwright_server::cli=info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the server binary starts");
        let stderr = child.stderr.take().unwrap();
        let (found, addr) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            let mut sent = false;
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                if !sent && let Some(rest) = line.split("listening on http://").nth(1) {
                    let addr = rest.split_whitespace().next().unwrap_or("").to_string();
                    sent = found.send(addr).is_ok();
                }
            }
        });
        let addr = addr
            .recv_timeout(Duration::from_secs(30))
            .expect("the server listens within 30 s");
        ServerProcess {
            child,
            url: format!("http://{addr}"),
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn print_table(rows: &[Row]) {
    println!(
        "\n{:<36} {:>6} {:>10} {:>12} {:>8}",
        "benchmark", "n", "median s", "per second", "vs base"
    );
    for row in rows {
        let base = baseline(rows, row);
        println!(
            "{:<36} {:>6} {:>10.3} {:>12.0} {:>8.2}",
            row.name(),
            row.n,
            row.median(),
            row.n as f64 / row.median(),
            row.median() / base
        );
    }
}

/// The same operation on SQLite with one process.
fn baseline(rows: &[Row], row: &Row) -> f64 {
    rows.iter()
        .find(|r| r.operation == row.operation && r.backend == "sqlite" && r.processes == 1)
        .map_or(row.median(), Row::median)
}

/// Replaces this bench's entries in `target/syncwright-bench.json`, keeping the others.
fn merge_json(rows: &[Row]) {
    let fresh = rows
        .iter()
        .map(|row| {
            let base = baseline(rows, row);
            json!({
                "name": row.name(),
                "n": row.n,
                "ratio_median": row.median() / base,
                "a_median_s": row.median(),
                "b_median_s": base,
                "per_second": row.n as f64 / row.median(),
                "rounds": row.rounds.len(),
            })
        })
        .collect();
    bench_json::merge(
        &bench_json::path(&Path::new(env!("CARGO_MANIFEST_DIR")).join("..")),
        |name| name.starts_with("server/"),
        fresh,
    );
}
