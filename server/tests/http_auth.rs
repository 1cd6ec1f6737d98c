//! Authentication: no token or an unknown one is 401 with a JSON message and applies nothing;
//! tokens never reach the logs; the tokens file stores hashes and says where it is wrong.

#[macro_use]
mod backends;
mod common;
mod http_support;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use http_support::*;
use serde_json::json;
use syncwright::Uuid;
use syncwright::sync::protocol::{ProtocolError, PullRequest, PushRequest, RemoteRecord};
use syncwright::sync::transport::{Transport, TransportError};
use syncwright_server::tokens::{Tokens, TokensError, hash_token};

fn a_push() -> PushRequest {
    PushRequest::new(
        1,
        vec![common::create(
            "project",
            Uuid::new_v4(),
            1,
            json!({ "name": "Bridge" }),
        )],
    )
}

fn anas_records(server: &TestServer) -> Vec<RemoteRecord> {
    pull_all(&server.transport("ana"), 1, &["project"])
}

fn push_with_header(server: &TestServer, authorization: Option<&str>) -> Answer {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut request = agent
        .post(format!("{}/v1/push", server.url()))
        .header("Content-Type", "application/json");
    if let Some(value) = authorization {
        request = request.header("Authorization", value);
    }
    let mut response = request
        .send(&serde_json::to_vec(&a_push()).unwrap()[..])
        .unwrap();
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_string().unwrap();
    Answer {
        status,
        body: serde_json::from_str(&body).unwrap(),
    }
}

#[test]
fn a_push_without_a_token_is_401_and_applies_nothing() {
    let server = TestServer::start();
    let answer = push_with_header(&server, None);
    assert_eq!(answer.status, 401);
    assert_eq!(answer.code(), "unauthorized");
    assert!(
        answer.message().contains("no `Authorization` header"),
        "{}",
        answer.message()
    );
    assert!(anas_records(&server).is_empty());
}

#[test]
fn a_push_with_an_unknown_token_is_401_and_applies_nothing() {
    let server = TestServer::start();
    let answer = push_with_header(&server, Some("Bearer not-a-known-token"));
    assert_eq!(answer.status, 401);
    assert_eq!(answer.code(), "unauthorized");
    assert!(
        answer.message().contains("not in the server's tokens file"),
        "{}",
        answer.message()
    );
    assert!(anas_records(&server).is_empty());
}

#[test]
fn a_token_that_is_not_a_bearer_token_is_401() {
    let server = TestServer::start();
    let answer = push_with_header(&server, Some(&format!("Basic {}", token_of("ana"))));
    assert_eq!(answer.status, 401);
    assert_eq!(answer.code(), "unauthorized");
    assert!(
        answer.message().contains("not `Bearer <token>`"),
        "{}",
        answer.message()
    );
    assert!(anas_records(&server).is_empty());
}

#[test]
fn the_http_transport_with_a_wrong_token_is_refused_unauthorized_not_retried() {
    let server = TestServer::start();
    let transport = syncwright::sync::http::HttpTransport::new(server.url(), "wrong");
    for error in [
        transport.push(&a_push()).unwrap_err(),
        transport
            .pull(&PullRequest::new(
                1,
                [("project".to_string(), None)].into(),
                10,
            ))
            .unwrap_err(),
    ] {
        assert!(!error.is_retryable(), "{error:?}");
        match error {
            TransportError::Refused {
                status: Some(401),
                error: ProtocolError::Unauthorized { reason },
            } => assert!(reason.contains("tokens file"), "{reason}"),
            other => panic!("expected an `unauthorized` 401 refusal, got {other:?}"),
        }
    }
    assert!(anas_records(&server).is_empty());
}

/// Sends a request's head with `authorization` and a `Content-Length`, but not the body yet
/// (a client whose body is still on its way), and returns the answer's head, lower-cased, and
/// whether the server then closed the connection.
fn answer_head_before_the_body(server: &TestServer, authorization: &str) -> (String, bool) {
    use std::io::{BufRead, BufReader, Read};
    let body = serde_json::to_vec(&a_push()).unwrap();
    let addr = server.url().trim_start_matches("http://").to_string();
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "POST /v1/push HTTP/1.1\r\nHost: test\r\nAuthorization: {authorization}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut head = String::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if line == "\r\n" || line.is_empty() {
            break;
        }
        head.push_str(&line.to_ascii_lowercase());
    }
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length: "))
        .map(|value| value.trim().parse().unwrap())
        .unwrap_or(0);
    reader.read_exact(&mut vec![0; length]).unwrap();
    // The body now arrives late; a server that keeps the connection reads it (and waits for
    // the next request), one that closes it answers EOF.
    let _ = stream.write_all(&body);
    let closed = matches!(reader.read(&mut [0; 1]), Ok(0) | Err(_));
    (head, closed)
}

#[test]
fn a_refusal_sent_before_the_body_was_read_tells_the_client_the_connection_closes() {
    // The server answers a 401 without reading the body and then closes the connection; a
    // client must hear that from the answer, or it pools the socket and its next request (the
    // next sync) fails with "peer disconnected" instead of its own answer.
    let server = TestServer::start();
    let (head, closed) = answer_head_before_the_body(&server, "Bearer wrong");
    assert!(head.starts_with("http/1.1 401"), "{head}");
    assert!(head.contains("connection: close\r\n"), "{head}");
    assert!(closed, "the server said `close` but kept the connection");
}

/// Everything the process logs, at every level.
fn captured_log() -> Arc<Mutex<Vec<u8>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let log = Arc::new(Mutex::new(Vec::new()));
        let writer = log.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || LogWriter(writer.clone()))
            .init();
        log
    })
    .clone()
}

struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl Write for LogWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn tokens_never_appear_in_the_logs() {
    let log = captured_log();
    let server = TestServer::start();
    let wrong = "wrong-token-c0ffee-9d1";
    server.transport("ana").push(&a_push()).unwrap();
    assert_eq!(
        push_with_header(&server, Some(&format!("Bearer {wrong}"))).status,
        401
    );
    let refused = post_json(&server.url(), "/v1/push", "bob", &json!({ "bad": true }));
    assert_eq!(refused.status, 422);
    drop(server); // wait for the requests' spans to close
    let log = String::from_utf8(log.lock().unwrap().clone()).unwrap();
    assert!(
        log.contains("user=\"ana\"") && log.contains("/v1/push"),
        "the requests were not logged:\n{log}"
    );
    for secret in [token_of("ana"), token_of("bob"), wrong.to_string()] {
        assert!(!log.contains(&secret), "a token is in the log:\n{log}");
    }
}

#[test]
fn the_tokens_file_keeps_hashes_and_finds_each_user_by_token() {
    let text = tokens_file(&["ana", "bob"]);
    assert!(
        !text.contains(&token_of("ana")),
        "the file holds a plain token"
    );
    let tokens = Tokens::parse(&text, "tokens.toml").unwrap();
    assert_eq!(tokens.user_of(&token_of("ana")), Some("ana"));
    assert_eq!(tokens.user_of(&token_of("bob")), Some("bob"));
    assert_eq!(
        tokens.user_of(&hash_token(&token_of("ana"))),
        None,
        "a hash is not a token"
    );
    assert_eq!(tokens.user_of(""), None);
}

#[test]
fn a_plain_token_in_the_tokens_file_is_refused_naming_file_line_and_user() {
    let text = format!(
        "[users]\nana = \"{}\"\nbob = \"bob-plain-token\"\n",
        hash_token("x")
    );
    match Tokens::parse(&text, "tokens.toml") {
        Err(TokensError::Invalid {
            file,
            line,
            message,
        }) => {
            assert_eq!((file.as_str(), line), ("tokens.toml", 3));
            assert!(message.contains("`users.bob`"), "{message}");
            assert!(message.contains("hash-token"), "{message}");
        }
        other => panic!("expected an invalid tokens file, got {other:?}"),
    }
}

#[test]
fn a_tokens_file_without_users_or_with_another_table_is_refused() {
    let empty = Tokens::parse("[users]\n", "tokens.toml").unwrap_err();
    assert!(empty.to_string().contains("no users"), "{empty}");
    let other = Tokens::parse("[user]\nana = \"x\"\n", "tokens.toml").unwrap_err();
    assert!(other.to_string().starts_with("tokens.toml:1:"), "{other}");
}
