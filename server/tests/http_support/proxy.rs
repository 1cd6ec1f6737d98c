//! A one-request-per-connection HTTP proxy on 127.0.0.1:0 that injects faults between a
//! client and the server over real sockets, and records what the server answered.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use super::rng::splitmix64;

/// One request and the server's answer to it, as sent on the wire.
pub type Exchange = (Vec<u8>, Vec<u8>);

/// What the proxy does to each exchange.
#[derive(Clone, Copy)]
pub enum ProxyFault {
    /// Forwards the request, reads the server's whole answer, and closes the client's
    /// connection without sending it.
    CutResponse,
    /// Forwards the request and holds the answer this long before sending it.
    Delay(Duration),
    /// Cuts the answer of every push (after the server applied it); pulls pass.
    CutPushAnswers,
    /// Per exchange, from a seeded generator: one in `one_in` requests is dropped unsent, one
    /// in `one_in` answers is cut after the server applied the request; the others pass.
    Seeded { seed: u64, one_in: u64 },
}

/// A one-request-per-connection HTTP proxy on 127.0.0.1:0 that injects a fault.
pub struct Proxy {
    pub addr: SocketAddr,
    /// Every exchange the server answered (the cut ones too): the request and the answer, as
    /// sent on the wire.
    pub exchanges: Arc<Mutex<Vec<Exchange>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Proxy {
    pub fn start(upstream: SocketAddr, fault: ProxyFault) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let exchanges = Arc::new(Mutex::new(Vec::new()));
        let recorded = exchanges.clone();
        let thread = std::thread::spawn(move || {
            for (n, client) in (0u64..).zip(listener.incoming()) {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let recorded = recorded.clone();
                std::thread::spawn(move || {
                    let _ = relay(client, upstream, fault, n, &recorded);
                });
            }
        });
        Proxy {
            addr,
            exchanges,
            stop,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// What happens to one exchange.
enum Fate {
    DropRequest,
    CutResponse,
    Delay(Duration),
}

impl ProxyFault {
    /// The fate of exchange `n` (the n-th connection accepted), carrying `request`.
    fn fate(self, n: u64, request: &[u8]) -> Fate {
        match self {
            ProxyFault::CutResponse => Fate::CutResponse,
            ProxyFault::CutPushAnswers if request.starts_with(b"POST /v1/push ") => {
                Fate::CutResponse
            }
            ProxyFault::CutPushAnswers => Fate::Delay(Duration::ZERO),
            ProxyFault::Delay(delay) => Fate::Delay(delay),
            ProxyFault::Seeded { seed, one_in } => match splitmix64(seed ^ n) % one_in {
                0 => Fate::DropRequest,
                1 => Fate::CutResponse,
                _ => Fate::Delay(Duration::ZERO),
            },
        }
    }
}

fn relay(
    mut client: TcpStream,
    upstream: SocketAddr,
    fault: ProxyFault,
    n: u64,
    recorded: &Mutex<Vec<Exchange>>,
) -> std::io::Result<()> {
    let request = read_message(&mut client)?;
    let fate = fault.fate(n, &request);
    if let Fate::DropRequest = fate {
        return client.shutdown(std::net::Shutdown::Both);
    }
    let mut server = TcpStream::connect(upstream)?;
    server.write_all(&request)?;
    let response = read_message(&mut server)?;
    recorded
        .lock()
        .unwrap()
        .push((request.clone(), response.clone()));
    match fate {
        Fate::CutResponse | Fate::DropRequest => client.shutdown(std::net::Shutdown::Both),
        Fate::Delay(delay) => {
            std::thread::sleep(delay);
            client.write_all(&closing(&response))
        }
    }
}

/// `response` saying `connection: close`: the proxy serves one request per connection, so a
/// client must not pool it (reusing it would be a connection reset the proxy did not mean).
fn closing(response: &[u8]) -> Vec<u8> {
    let line_end = response
        .windows(2)
        .position(|w| w == b"\r\n")
        .expect("a status line")
        + 2;
    let mut out = response[..line_end].to_vec();
    out.extend_from_slice(b"connection: close\r\n");
    out.extend_from_slice(&response[line_end..]);
    out
}

/// The body of an HTTP message read by [`read_message`].
pub fn body_of(message: &[u8]) -> &[u8] {
    let at = message
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a whole HTTP message");
    &message[at + 4..]
}

/// Reads one HTTP message (head and a `content-length` body) off `stream`.
pub fn read_message(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut message = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let head_end = loop {
        if let Some(at) = message.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        message.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&message[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .map_or(0, |value| value.trim().parse().unwrap());
    while message.len() < head_end + length {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        message.extend_from_slice(&chunk[..n]);
    }
    Ok(message)
}
