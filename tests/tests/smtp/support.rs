//! Helpers for the SMTP tests: TLS with the run's CA, a minimal SMTP conversation written out
//! by hand (the test reads like the RFC 5321 exchange it checks), and bob's mailbox over POP3.

pub use std::io::{BufRead, BufReader, Write};
pub use std::net::{SocketAddr, TcpStream};
pub use std::sync::Arc;
pub use std::time::Duration;

use base64::Engine as _;
pub use postbag_protocol::pop3::blocking::{Reply as Pop3Reply, Session, Stream};
pub use postbag_protocol::pop3::{ClientConfig, Command, Secret};
pub use postbag_tests::postfix::{self, Postfix};
pub use postbag_tests::{Dovecot, TestUser};
use rustls::pki_types::ServerName;

/// Dovecot and Postfix for one test, and two users.
pub struct Servers {
    // Postfix first: it is dropped before the Dovecot it delivers to.
    pub postfix: Postfix,
    pub dovecot: Dovecot,
    pub alice: TestUser,
    pub bob: TestUser,
}

impl Servers {
    pub fn start() -> Servers {
        let dovecot = Dovecot::start();
        let postfix = Postfix::start(&dovecot);
        let alice = dovecot.new_user();
        let bob = dovecot.new_user();
        Servers {
            postfix,
            dovecot,
            alice,
            bob,
        }
    }

    pub fn tls(&self) -> Arc<rustls::ClientConfig> {
        tls_config(self.dovecot.ca_der())
    }

    /// Every message in `user`'s mailbox, as POP3 RETR serves it, once `count` have arrived.
    pub fn mailbox(&self, user: &TestUser, count: usize) -> Vec<Vec<u8>> {
        self.postfix.wait_for_messages(&self.dovecot, user, count);
        let mut config = ClientConfig::new(user.name.clone(), Secret::new(user.password.clone()));
        config.want_starttls = true;
        let tls = self.tls();
        let mut upgrade = |s: Box<dyn Stream>| wrap_tls(s, &tls);
        let stream = Box::new(tcp(self.dovecot.pop3_addr()));
        let mut session = Session::login(stream, config, Some(&mut upgrade))
            .unwrap_or_else(|e| panic!("POP3 login of {}: {e}", user.name));
        let retr: Vec<Command> = (1..=count as u32).map(Command::Retr).collect();
        let messages = session
            .execute(&retr)
            .unwrap()
            .into_iter()
            .map(|reply| match reply {
                Pop3Reply::Message(m) => m,
                other => panic!("RETR: {other:?}"),
            })
            .collect();
        assert!(session.quit().unwrap());
        messages
    }
}

pub fn tls_config(ca_der: Vec<u8>) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca_der.into()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// Wraps a stream in TLS, verifying the server as `localhost` against the run's CA.
pub fn wrap_tls(
    stream: Box<dyn Stream>,
    config: &Arc<rustls::ClientConfig>,
) -> std::io::Result<Box<dyn Stream>> {
    let conn =
        rustls::ClientConnection::new(config.clone(), ServerName::try_from("localhost").unwrap())
            .map_err(std::io::Error::other)?;
    let mut tls = rustls::StreamOwned::new(conn, stream);
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock)?;
    }
    Ok(Box::new(tls))
}

pub fn tcp(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s
}

/// One SMTP reply: the code and the text of every line (enhanced status code included).
#[derive(Debug)]
pub struct SmtpReply {
    pub code: u16,
    pub lines: Vec<String>,
}

impl SmtpReply {
    pub fn text(&self) -> String {
        self.lines.join("\n")
    }

    pub fn has_line(&self, line: &str) -> bool {
        self.lines.iter().any(|l| l.eq_ignore_ascii_case(line))
    }
}

/// A hand-written SMTP conversation: one command, one reply.
pub struct Smtp {
    input: BufReader<Box<dyn Stream>>,
}

/// How the conversation reaches TLS.
#[derive(Clone, Copy, Debug)]
pub enum Tls {
    /// Port 587's way: EHLO, STARTTLS, handshake, EHLO again.
    StartTls,
    /// Port 465's way: the handshake before the greeting.
    Implicit,
}

impl Smtp {
    /// Connects, reads the greeting and says EHLO: the plain conversation before STARTTLS.
    pub fn plain(addr: SocketAddr) -> (Smtp, SmtpReply) {
        let mut smtp = Smtp {
            input: BufReader::new(Box::new(tcp(addr))),
        };
        assert_eq!(smtp.read_reply().code, 220);
        let ehlo = smtp.command("EHLO client.postbag.test");
        assert_eq!(ehlo.code, 250, "{ehlo:?}");
        (smtp, ehlo)
    }

    /// Connects over TLS by the given way; returns the conversation and the EHLO reply
    /// under TLS (its capabilities).
    pub fn connect(servers: &Servers, tls: Tls) -> (Smtp, SmtpReply) {
        let config = servers.tls();
        let stream = match tls {
            Tls::StartTls => {
                let (mut smtp, ehlo) = Smtp::plain(servers.postfix.submission_addr());
                assert!(ehlo.has_line("STARTTLS"), "{ehlo:?}");
                assert_eq!(smtp.command("STARTTLS").code, 220);
                assert!(
                    smtp.input.buffer().is_empty(),
                    "nothing may follow the STARTTLS reply in plain text"
                );
                wrap_tls(smtp.input.into_inner(), &config).unwrap()
            }
            Tls::Implicit => {
                wrap_tls(Box::new(tcp(servers.postfix.submissions_addr())), &config).unwrap()
            }
        };
        let mut smtp = Smtp {
            input: BufReader::new(stream),
        };
        if let Tls::Implicit = tls {
            assert_eq!(smtp.read_reply().code, 220);
        }
        let ehlo = smtp.command("EHLO client.postbag.test");
        assert_eq!(ehlo.code, 250, "{ehlo:?}");
        (smtp, ehlo)
    }

    pub fn command(&mut self, line: &str) -> SmtpReply {
        self.send(format!("{line}\r\n").as_bytes());
        self.read_reply()
    }

    /// A command whose reply must have `code`; the reply's text names what went wrong.
    #[track_caller]
    pub fn expect(&mut self, line: &str, code: u16) -> SmtpReply {
        let reply = self.command(line);
        assert_eq!(reply.code, code, "{line}: {reply:?}");
        reply
    }

    /// AUTH PLAIN with the initial response (RFC 4954).
    pub fn auth_plain(&mut self, user: &str, password: &str) -> SmtpReply {
        let token =
            base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{password}"));
        self.command(&format!("AUTH PLAIN {token}"))
    }

    /// DATA, then the message dot-stuffed and ended by `.`: the reply to the end of data.
    pub fn data(&mut self, message: &[u8]) -> SmtpReply {
        let go = self.command("DATA");
        assert_eq!(go.code, 354, "{go:?}");
        let mut stuffed = Vec::with_capacity(message.len() + 64);
        for line in message.split_inclusive(|&b| b == b'\n') {
            if line.starts_with(b".") {
                stuffed.push(b'.');
            }
            stuffed.extend_from_slice(line);
        }
        if !stuffed.ends_with(b"\r\n") {
            stuffed.extend_from_slice(b"\r\n");
        }
        stuffed.extend_from_slice(b".\r\n");
        self.send(&stuffed);
        self.read_reply()
    }

    pub fn send(&mut self, bytes: &[u8]) {
        let stream = self.input.get_mut();
        stream.write_all(bytes).unwrap();
        stream.flush().unwrap();
    }

    /// Reads a possibly multi-line reply (`250-...` lines, then `250 ...`).
    pub fn read_reply(&mut self) -> SmtpReply {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            let n = self.input.read_line(&mut line).unwrap();
            assert!(n > 0, "connection closed mid-reply after {lines:?}");
            let line = line.trim_end_matches(['\r', '\n']);
            assert!(line.len() >= 3, "short reply line {line:?}");
            let code: u16 = line[..3].parse().unwrap();
            let last = line.as_bytes().get(3) != Some(&b'-');
            lines.push(line.get(4..).unwrap_or("").to_string());
            if last {
                return SmtpReply { code, lines };
            }
        }
    }
}

/// A message as a mail client would submit it, with a line that needs dot-stuffing.
pub fn message(from: &str, to: &str, subject: &str) -> Vec<u8> {
    format!(
        "From: Alice <{from}>\r\n\
         To: Bob <{to}>\r\n\
         Subject: {subject}\r\n\
         Date: Wed, 02 Dec 2026 10:00:00 +0000\r\n\
         Message-ID: <{subject}@client.postbag.test>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         \r\n\
         Hello Bob,\r\n\
         .a line that starts with a dot\r\n\
         \r\n\
         -- \r\n\
         Alice\r\n"
    )
    .into_bytes()
}

/// The delivered copy is the submitted message with trace fields before it, and nothing else
/// changed: Postfix adds Received, Dovecot's LMTP Return-Path, Delivered-To and Received.
pub fn assert_delivered_intact(delivered: &[u8], submitted: &[u8], envelope_from: &str) {
    assert!(
        delivered.ends_with(submitted),
        "the delivered message does not end with the submitted one:\n{}",
        String::from_utf8_lossy(delivered)
    );
    let trace = String::from_utf8_lossy(&delivered[..delivered.len() - submitted.len()]);
    assert!(
        trace.starts_with(&format!("Return-Path: <{envelope_from}>\r\n")),
        "{trace}"
    );
    for line in trace.lines().filter(|l| !l.starts_with([' ', '\t'])) {
        let name = line.split(':').next().unwrap();
        assert!(
            ["Return-Path", "Delivered-To", "Received"].contains(&name),
            "unexpected field added in delivery: {line}"
        );
    }
}
