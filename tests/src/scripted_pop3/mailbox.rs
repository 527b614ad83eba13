//! A POP3 mailbox that misbehaves on demand, for the hostile-server tests of the `fetch`
//! example and the proxy: each message carries its own `RETR` behaviour (whole, refused, cut,
//! endless, a line that never ends, a drip), UIDLs are whatever the test says (one UIDL twice,
//! `/`, `..`, control characters), CAPA can be missing, and the server can speak implicit TLS
//! with any certificate. It records the commands it received (passwords excepted), so a test
//! can check which messages were deleted.
//!
//! ```no_run
//! use postbag_tests::scripted_pop3::mailbox::{Mailbox, Retr};
//! let server = Mailbox::new()
//!     .message("a", b"Subject: a\r\n\r\none\r\n")
//!     .message_with("b", b"Subject: b\r\n\r\ntwo\r\n", Retr::Refuse("gone".into()))
//!     .start();
//! println!("{}", server.addr());
//! ```

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Where an endless reply stops after all, far beyond any limit of the client under test.
pub const ENDLESS_STOP: usize = 256 << 20;

/// What the server does when a message is retrieved.
#[derive(Clone, Debug)]
pub enum Retr {
    /// `+OK`, the whole message, `.`.
    Whole,
    /// `-ERR <text>`.
    Refuse(String),
    /// `+OK` and the first `n` bytes of the message, then the connection is closed.
    CutAfter(usize),
    /// `+OK`, then the same line over and over, as fast as the client reads, without end
    /// for any client that keeps a bound (a safety stop closes the connection after
    /// [`ENDLESS_STOP`] bytes, so that a client without one cannot fill the test machine's disk).
    Endless,
    /// `+OK ` and then bytes without a line end (up to the same safety stop).
    LineNeverEnds,
    /// Nothing at all: the connection stays open and silent for five minutes.
    Silent,
    /// `+OK`, then the message one byte per `interval`.
    Drip(Duration),
    /// `+OK`, the first `n` bytes of the message at once, then the rest one byte per `interval`
    /// (a rate averaged over the whole reply would let the fast start buy a long drip).
    FastThenDrip(usize, Duration),
}

#[derive(Clone, Debug)]
struct Message {
    uidl: String,
    body: Vec<u8>,
    retr: Retr,
}

/// The mailbox to serve, built message by message.
#[derive(Clone, Default)]
pub struct Mailbox {
    messages: Vec<Message>,
    no_capa: bool,
    tls: Option<Arc<rustls::ServerConfig>>,
}

/// A running server.
pub struct Running {
    addr: SocketAddr,
    commands: Arc<Mutex<Vec<String>>>,
}

impl Running {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every command received, in order, over all connections (`PASS` without its argument).
    pub fn commands(&self) -> Vec<String> {
        self.commands.lock().unwrap().clone()
    }
}

impl Mailbox {
    pub fn new() -> Mailbox {
        Mailbox::default()
    }

    /// A message served whole.
    pub fn message(self, uidl: &str, body: &[u8]) -> Mailbox {
        self.message_with(uidl, body, Retr::Whole)
    }

    pub fn message_with(mut self, uidl: &str, body: &[u8], retr: Retr) -> Mailbox {
        self.messages.push(Message {
            uidl: uidl.to_string(),
            body: body.to_vec(),
            retr,
        });
        self
    }

    /// `CAPA` answers `-ERR` (an RFC 1939 server without RFC 2449).
    pub fn without_capa(mut self) -> Mailbox {
        self.no_capa = true;
        self
    }

    /// Speak implicit TLS (POP3S) with this configuration.
    pub fn tls(mut self, config: Arc<rustls::ServerConfig>) -> Mailbox {
        self.tls = Some(config);
        self
    }

    /// Starts serving on a free loopback port, one thread per connection, for as long as the
    /// process lives.
    pub fn start(self) -> Running {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the scripted mailbox");
        let addr = listener.local_addr().unwrap();
        let commands = Arc::new(Mutex::new(Vec::new()));
        let log = commands.clone();
        std::thread::spawn(move || {
            for tcp in listener.incoming().flatten() {
                let (mailbox, log) = (self.clone(), log.clone());
                std::thread::spawn(move || {
                    let _ = mailbox.accept(tcp, &log);
                });
            }
        });
        Running { addr, commands }
    }

    fn accept(&self, tcp: TcpStream, log: &Mutex<Vec<String>>) -> std::io::Result<()> {
        tcp.set_read_timeout(Some(Duration::from_secs(60)))?;
        match &self.tls {
            None => self.serve(tcp, log),
            Some(config) => {
                let conn =
                    rustls::ServerConnection::new(config.clone()).map_err(std::io::Error::other)?;
                self.serve(rustls::StreamOwned::new(conn, tcp), log)
            }
        }
    }

    fn serve(&self, stream: impl Read + Write, log: &Mutex<Vec<String>>) -> std::io::Result<()> {
        let mut lines = BufReader::new(stream);
        lines
            .get_mut()
            .write_all(b"+OK scripted mailbox ready\r\n")?;
        let mut line = String::new();
        while lines.read_line(&mut line)? > 0 {
            let mut words = line.split_whitespace();
            let verb = words.next().unwrap_or("").to_ascii_uppercase();
            let arg: Option<usize> = words.next().and_then(|w| w.parse().ok());
            log.lock().unwrap().push(match verb.as_str() {
                "PASS" => "PASS".to_string(),
                _ => line.trim_end().to_string(),
            });
            line.clear();
            let out = lines.get_mut();
            let message = arg.and_then(|n| self.messages.get(n.checked_sub(1)?));
            match (verb.as_str(), message) {
                ("CAPA", _) if self.no_capa => out.write_all(b"-ERR unknown command\r\n")?,
                ("CAPA", _) => out.write_all(b"+OK\r\nUSER\r\nUIDL\r\nPIPELINING\r\n.\r\n")?,
                ("USER" | "PASS" | "NOOP" | "RSET", _) => out.write_all(b"+OK\r\n")?,
                ("STAT", _) => {
                    let size: usize = self.messages.iter().map(|m| m.body.len()).sum();
                    write!(out, "+OK {} {size}\r\n", self.messages.len())?;
                }
                ("LIST", None) => {
                    let mut reply = "+OK\r\n".to_string();
                    for (i, m) in self.messages.iter().enumerate() {
                        reply.push_str(&format!("{} {}\r\n", i + 1, m.body.len()));
                    }
                    out.write_all(format!("{reply}.\r\n").as_bytes())?;
                }
                ("UIDL", None) => {
                    let mut reply = b"+OK\r\n".to_vec();
                    for (i, m) in self.messages.iter().enumerate() {
                        reply.extend(format!("{} {}\r\n", i + 1, m.uidl).as_bytes());
                    }
                    reply.extend(b".\r\n");
                    out.write_all(&reply)?;
                }
                ("RETR", Some(m)) => {
                    if !retr(out, m)? {
                        return Ok(());
                    }
                }
                ("DELE", Some(_)) => out.write_all(b"+OK marked\r\n")?,
                ("QUIT", _) => {
                    out.write_all(b"+OK bye\r\n")?;
                    out.flush()?;
                    return Ok(());
                }
                _ => out.write_all(b"-ERR not scripted\r\n")?,
            }
            out.flush()?;
        }
        Ok(())
    }
}

/// Answers one `RETR`; `false` when the connection is to be closed.
fn retr(out: &mut impl Write, m: &Message) -> std::io::Result<bool> {
    let body = dot_stuffed(&m.body);
    match &m.retr {
        Retr::Whole => {
            write!(out, "+OK {} octets\r\n", m.body.len())?;
            out.write_all(&body)?;
        }
        Retr::Refuse(text) => write!(out, "-ERR {text}\r\n")?,
        Retr::CutAfter(n) => {
            out.write_all(b"+OK\r\n")?;
            out.write_all(&body[..(*n).min(body.len())])?;
            out.flush()?;
            return Ok(false);
        }
        Retr::Endless => {
            out.write_all(b"+OK\r\n")?;
            let lines = b"This line repeats for as long as anyone reads it.\r\n".repeat(100);
            for _ in 0..ENDLESS_STOP / lines.len() {
                out.write_all(&lines)?;
            }
            return Ok(false);
        }
        Retr::LineNeverEnds => {
            out.write_all(b"+OK ")?;
            for _ in 0..ENDLESS_STOP / 4096 {
                out.write_all(&[b'x'; 4096])?;
            }
            return Ok(false);
        }
        Retr::Silent => {
            out.flush()?;
            std::thread::sleep(Duration::from_secs(300));
            return Ok(false);
        }
        Retr::Drip(interval) | Retr::FastThenDrip(_, interval) => {
            out.write_all(b"+OK\r\n")?;
            let fast = match m.retr {
                Retr::FastThenDrip(n, _) => n.min(body.len()),
                _ => 0,
            };
            out.write_all(&body[..fast])?;
            for byte in &body[fast..] {
                out.write_all(&[*byte])?;
                out.flush()?;
                std::thread::sleep(*interval);
            }
        }
    }
    Ok(true)
}

/// The body as sent: dot-stuffed, ending in a line end and the terminating `.`.
fn dot_stuffed(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 5);
    for line in body.split_inclusive(|b| *b == b'\n') {
        if line.starts_with(b".") {
            out.push(b'.');
        }
        out.extend_from_slice(line);
    }
    if !out.ends_with(b"\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

/// A self-signed certificate for `localhost` and 127.0.0.1 made the way `openssl req -x509`
/// makes one: it marks itself `CA:TRUE` (which is why rustls refuses it as a server's own
/// certificate through a CA file: `CaUsedAsEndEntity`), and the server configuration using it.
pub struct SelfSigned {
    pub cert_pem: String,
    pub cert_der: Vec<u8>,
    pub server_config: Arc<rustls::ServerConfig>,
}

impl SelfSigned {
    pub fn generate() -> SelfSigned {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        params
            .subject_alt_names
            .push(SanType::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()));
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let cert = params.self_signed(&key).unwrap();
        let key_der = rustls::pki_types::PrivatePkcs8KeyDer::from(key.serialize_der());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let server_config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert.der().clone()], key_der.into())
            .unwrap();
        SelfSigned {
            cert_pem: cert.pem(),
            cert_der: cert.der().to_vec(),
            server_config: Arc::new(server_config),
        }
    }
}
