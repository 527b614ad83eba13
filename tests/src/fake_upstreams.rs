//! Tiny mail-server stand-ins for measuring the proxy (the relay bench, benches/relay.rs): a
//! source that streams bytes (on the caller's runtime, or on a thread of its own as a real mail
//! server would be, in plain TCP or in implicit TLS), a POP3-shaped line/`+OK` ping-pong, a
//! server that answers in two TCP segments (what TCP_NODELAY is for), and one that accepts and
//! holds connections. Each listens on a free port of 127.0.0.1 and serves every connection until
//! the process ends.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::certs::TestPki;

use tokio::io::AsyncWriteExt;

/// A source that streams `total` bytes of `x` to each connection, then closes it (the `RETR`
/// direction at full speed), on the caller's tokio runtime.
pub async fn spawn_source(total: usize) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (mut s, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let chunk = vec![b'x'; 64 * 1024];
                let mut sent = 0;
                while sent < total {
                    let n = chunk.len().min(total - sent);
                    if s.write_all(&chunk[..n]).await.is_err() {
                        return;
                    }
                    sent += n;
                }
                let _ = s.shutdown().await;
            });
        }
    });
    addr
}

/// The source as a mail server is: its own thread (process, in real life), blocking writes.
pub fn spawn_threaded_source(total: usize) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            let chunk = vec![b'x'; 64 * 1024];
            let mut sent = 0;
            while sent < total {
                let n = chunk.len().min(total - sent);
                if s.write_all(&chunk[..n]).is_err() {
                    break;
                }
                sent += n;
            }
        }
    });
    addr
}

/// The threaded source over implicit TLS (POP3S as Dovecot serves it: TLS 1.3, AES-GCM, full
/// 16 KiB records), with a throw-away certificate; returns its address and the SHA-256 of its
/// certificate, which the client pins in `open`. One thread per connection.
pub fn spawn_tls_source(total: usize) -> (SocketAddr, String) {
    let pki = TestPki::generate();
    let pin = pki.server_sha256_hex();
    let certs = vec![CertificateDer::from(pki.server_cert_der.clone())];
    let key = PrivateKeyDer::from_pem_slice(pki.server_key_pem.as_bytes()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            let config = config.clone();
            std::thread::spawn(move || {
                let tls = rustls::ServerConnection::new(config).unwrap();
                let mut s = rustls::StreamOwned::new(tls, tcp);
                let chunk = vec![b'x'; 64 * 1024];
                let mut sent = 0;
                while sent < total {
                    let n = chunk.len().min(total - sent);
                    if s.write_all(&chunk[..n]).is_err() {
                        return;
                    }
                    sent += n;
                }
                s.conn.send_close_notify();
                let _ = s.flush();
            });
        }
    });
    (addr, pin)
}

/// Answers every line with `+OK` at once: a one-line command and its one-line reply.
pub async fn spawn_pingpong() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (s, _) = listener.accept().await.unwrap();
            s.set_nodelay(true).unwrap();
            tokio::spawn(async move {
                let (r, mut w) = s.into_split();
                let mut lines = tokio::io::BufReader::new(r);
                let mut line = String::new();
                loop {
                    line.clear();
                    match tokio::io::AsyncBufReadExt::read_line(&mut lines, &mut line).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {
                            if w.write_all(b"+OK\r\n").await.is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    addr
}

/// Answers each line with a status line, then, 300 us later, the rest of a multi-line reply: the
/// proxy relays them as two frames, and Nagle holds the second until the browser ACKs the first.
pub fn spawn_split_replier() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                stream.set_nodelay(true).unwrap();
                let mut w = stream.try_clone().unwrap();
                let mut r = BufReader::new(stream);
                let mut line = String::new();
                while r.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                    line.clear();
                    if w.write_all(b"+OK 12 octets\r\n").is_err() {
                        return;
                    }
                    std::thread::sleep(Duration::from_micros(300));
                    if w.write_all(b"Subject: x\r\n\r\n.\r\n").is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

/// Accepts connections and holds them, saying nothing: what an idle tunnel leads to.
pub async fn spawn_idle() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        loop {
            let (s, _) = listener.accept().await.unwrap();
            held.push(s);
        }
    });
    addr
}
