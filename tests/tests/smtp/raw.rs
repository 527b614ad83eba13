//! A hand-written SMTP conversation, for what the fixture's MTA itself must do (refuse an
//! undeclared oversized message after DATA, refuse mail before STARTTLS): things the library's
//! client never lets happen, since it checks SIZE first and always starts TLS.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;

use base64::Engine as _;

use super::support::{Servers, Stream, tcp, wrap_tls};

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

    /// Connects to the STARTTLS port and upgrades: EHLO, STARTTLS, handshake, EHLO again.
    pub fn starttls(servers: &Servers) -> Smtp {
        let (mut smtp, ehlo) = Smtp::plain(servers.postfix.submission_addr());
        assert!(ehlo.has_line("STARTTLS"), "{ehlo:?}");
        smtp.expect("STARTTLS", 220);
        let stream = wrap_tls(smtp.input.into_inner(), &servers.tls()).unwrap();
        let mut smtp = Smtp {
            input: BufReader::new(stream),
        };
        smtp.expect("EHLO client.postbag.test", 250);
        smtp
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
