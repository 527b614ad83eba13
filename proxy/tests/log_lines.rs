//! What a hostile `open` does to the proxy's log: a host name with a newline, terminal escape
//! sequences and 60,000 characters must show as one escaped, bounded field of one line.
//!
//! Its own test binary: it installs the process's tracing subscriber, capturing what the proxy
//! logs, as `main` would print it.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The log, as the proxy wrote it.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A line the attacker would like the operator to read.
const FORGED: &str = "2026-12-02T08:00:00.000000Z  INFO postbag_proxy: admin token accepted";

#[test]
fn a_hostile_host_is_logged_escaped_and_cut() {
    let log = Captured::default();
    let writer = log.clone();
    tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .init();
    // The embedded default on loopback, started as `main` starts it: `run` on an actix system.
    let config = postbag_proxy::Config {
        dist: "/nonexistent/postbag-dist".into(),
        workers: 1,
        ..postbag_proxy::Config::default()
    };
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel();
    let proxy = std::thread::spawn(move || {
        let shutdown = async { stopped.await.unwrap_or(postbag_proxy::Shutdown::Now) };
        actix_web::rt::System::new().block_on(postbag_proxy::run(config, listener, shutdown))
    });

    let host = format!(
        "evil\n{FORGED}\x1b]0;owned\x07\x1b[2J{}",
        "a".repeat(60_000)
    );
    let open = serde_json::json!({
        "type": "open", "version": 1, "host": host, "port": 995, "tls": "none"
    })
    .to_string();
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut bytes = format!(
        "GET /tunnel HTTP/1.1\r\nHost: {addr}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    .into_bytes();
    // One masked text frame (all-zero mask), its length in the 16-bit form.
    bytes.extend([0x81, 0x80 | 126]);
    bytes.extend(u16::try_from(open.len()).unwrap().to_be_bytes());
    bytes.extend([0, 0, 0, 0]);
    bytes.extend(open.as_bytes());
    stream.write_all(&bytes).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    assert!(String::from_utf8_lossy(&answer).contains("bad_request"));
    stop.send(postbag_proxy::Shutdown::Now).unwrap();
    proxy.join().unwrap().unwrap();

    let log = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    // What the attack was after, whatever the proxy chose to log.
    assert!(
        !log.contains('\x1b') && !log.contains('\x07'),
        "control bytes reached the log: {log:.2000}"
    );
    assert!(
        !log.lines().any(|l| l.starts_with("2026-12-02T08:00:00")),
        "a forged line: {log:.2000}"
    );
    assert!(log.len() < 10_000, "{} bytes logged", log.len());
    // And the operator still learns what was asked for, escaped.
    let refused = log
        .lines()
        .find(|l| l.contains("tunnel open refused"))
        .unwrap_or_else(|| panic!("no refusal logged in {log}"));
    assert!(refused.contains("evil\\u{a}2026"), "{refused}");
}
