//! A scripted in-memory submission server that the real outbox and the real SMTP client talk
//! to through `Transport`, one script per session.
//!
//! It checks the outbox invariant itself: when a message's final `.` arrives it asks the
//! watch below, synchronously, whether a STRICT transaction that put that message's outbox
//! record in state `may_have_been_sent` has already fired `complete`, and records a violation
//! if not. The production code is not touched and has no hooks.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use postbag_protocol::tunnel::TlsInfo;
use postbag_web::outbox::Connect;
use postbag_web::tunnel::{Target, Transport, TransportError};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(inline_js = r#"
const states = new Map();
export function install_outbox_watch() {
  if (globalThis.__postbagOutboxWatch) return;
  globalThis.__postbagOutboxWatch = states;
  const put = IDBObjectStore.prototype.put;
  IDBObjectStore.prototype.put = function (value, key) {
    const req = put.apply(this, arguments);
    if (this.name === 'outbox' && value && value.id) {
      const tx = this.transaction;
      const k = JSON.stringify([tx.db.name, value.id]);
      const state = value.state && value.state.kind;
      let stored = false;
      req.addEventListener('success', () => { stored = true; });
      // Registered now, before the caller's `oncomplete`, so it runs before any code that
      // reacts to the commit (by sending the final dot).
      tx.addEventListener('complete', () => {
        if (stored && tx.durability === 'strict') states.set(k, state);
      });
    }
    return req;
  };
}
export function committed_outbox_state(db, id) {
  return states.get(JSON.stringify([db, id])) ?? null;
}
"#)]
extern "C" {
    fn install_outbox_watch();
    fn committed_outbox_state(db: &str, id: &str) -> Option<String>;
}

/// How one session's server behaves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Script {
    /// Takes the message (refusing the recipients in `PostOffice::unknown`).
    Accept,
    /// 552 5.3.4 to the final `.`.
    TooLarge,
    /// 451 4.3.0 to the final `.` (temporary: nothing delivered).
    Busy,
    /// The connection breaks after this many bytes of the message, before its `.`.
    CutInData(usize),
    /// The server takes the message at its `.`, and the connection breaks before the reply.
    CutAfterDot,
    /// The tunnel cannot be opened (offline, proxy down).
    Unreachable,
}

/// The server's side that outlives sessions: what was delivered, what was seen.
#[derive(Default)]
pub struct PostOffice {
    /// (recipients, message bytes) of every message the server took.
    pub delivered: Vec<(Vec<String>, Vec<u8>)>,
    /// Recipients answered 550.
    pub unknown: Vec<String>,
    /// AUTH answers 535.
    pub wrong_password: bool,
    /// Final dots that arrived before `may_have_been_sent` was durable.
    pub violations: Vec<String>,
    /// Commands received, across sessions (AUTH lines hidden).
    pub log: Vec<String>,
    /// The database whose outbox records the watch checks.
    pub db: String,
    pub scripts: VecDeque<Script>,
}

impl PostOffice {
    pub fn new(db: &str, scripts: impl IntoIterator<Item = Script>) -> Rc<RefCell<PostOffice>> {
        install_outbox_watch();
        Rc::new(RefCell::new(PostOffice {
            db: db.to_string(),
            scripts: scripts.into_iter().collect(),
            ..PostOffice::default()
        }))
    }

    pub fn count(&self, verb: &str) -> usize {
        self.log.iter().filter(|l| l.starts_with(verb)).count()
    }
}

/// Opens a [`FakeSmtp`] per session, with the next script (`Accept` once they run out).
pub struct FakeConnect(pub Rc<RefCell<PostOffice>>);

impl Connect for FakeConnect {
    type Socket = FakeSmtp;
    async fn connect(&mut self, _target: &Target) -> Result<FakeSmtp, TransportError> {
        let script = self
            .0
            .borrow_mut()
            .scripts
            .pop_front()
            .unwrap_or(Script::Accept);
        if script == Script::Unreachable {
            return Err(TransportError::ProxyUnreachable);
        }
        Ok(FakeSmtp {
            office: self.0.clone(),
            script,
            inbuf: Vec::new(),
            out: b"220 fake ESMTP\r\n".to_vec(),
            data: None,
            rcpts: Vec::new(),
            closed: false,
        })
    }
}

pub struct FakeSmtp {
    office: Rc<RefCell<PostOffice>>,
    script: Script,
    inbuf: Vec<u8>,
    out: Vec<u8>,
    /// Inside DATA: the bytes so far.
    data: Option<Vec<u8>>,
    rcpts: Vec<String>,
    closed: bool,
}

impl FakeSmtp {
    fn reply(&mut self, text: &str) {
        self.out.extend_from_slice(text.as_bytes());
    }

    fn feed(&mut self, bytes: &[u8]) {
        self.inbuf.extend_from_slice(bytes);
        loop {
            if self.closed {
                return;
            }
            if let Some(data) = &mut self.data {
                data.append(&mut self.inbuf);
                if let Script::CutInData(n) = self.script
                    && data.len() >= n
                {
                    self.closed = true;
                    return;
                }
                let Some(end) = data.windows(5).position(|w| w == b"\r\n.\r\n") else {
                    return;
                };
                let rest = data.split_off(end + 5);
                let mut message = std::mem::take(data);
                message.truncate(end + 2);
                self.data = None;
                self.inbuf = rest;
                self.dot(message);
                continue;
            }
            let Some(end) = self.inbuf.windows(2).position(|w| w == b"\r\n") else {
                return;
            };
            let line: Vec<u8> = self.inbuf.drain(..end + 2).collect();
            let line = String::from_utf8_lossy(&line[..end]).to_string();
            self.command(&line);
        }
    }

    fn command(&mut self, line: &str) {
        let upper = line.to_ascii_uppercase();
        let logged = if upper.starts_with("AUTH") {
            "AUTH ***".to_string()
        } else {
            line.to_string()
        };
        self.office.borrow_mut().log.push(logged);
        if upper.starts_with("EHLO") {
            self.reply("250-fake\r\n250-PIPELINING\r\n250-SIZE 1000000\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250 AUTH PLAIN LOGIN\r\n");
        } else if upper.starts_with("AUTH") {
            if self.office.borrow().wrong_password {
                self.reply("535 5.7.8 Error: authentication failed\r\n");
            } else {
                self.reply("235 2.7.0 Authentication successful\r\n");
            }
        } else if upper.starts_with("MAIL FROM") {
            self.rcpts.clear();
            self.reply("250 2.1.0 Ok\r\n");
        } else if upper.starts_with("RCPT TO:") {
            let addr = line[8..]
                .trim()
                .trim_start_matches('<')
                .split('>')
                .next()
                .unwrap_or("")
                .to_string();
            if self.office.borrow().unknown.contains(&addr) {
                self.reply(&format!(
                    "550 5.1.1 <{addr}>: Recipient address rejected: User unknown\r\n"
                ));
            } else {
                self.rcpts.push(addr);
                self.reply("250 2.1.5 Ok\r\n");
            }
        } else if upper == "DATA" {
            if self.rcpts.is_empty() {
                self.reply("554 5.5.1 Error: no valid recipients\r\n");
            } else {
                self.data = Some(Vec::new());
                self.reply("354 End data with <CR><LF>.<CR><LF>\r\n");
            }
        } else if upper == "RSET" {
            self.reply("250 2.0.0 Ok\r\n");
        } else if upper == "QUIT" {
            self.reply("221 2.0.0 Bye\r\n");
        } else {
            self.reply("502 5.5.2 Error: command not recognized\r\n");
        }
    }

    /// The final `.` of a message arrived.
    fn dot(&mut self, message: Vec<u8>) {
        let id = message_id(&message);
        {
            let mut office = self.office.borrow_mut();
            let state = committed_outbox_state(&office.db, &id);
            if state.as_deref() != Some("may_have_been_sent") {
                office
                    .violations
                    .push(format!("{id}: final dot with the record at {state:?}"));
            }
        }
        match self.script {
            Script::TooLarge => self.reply("552 5.3.4 Error: message file too big\r\n"),
            Script::Busy => self.reply("451 4.3.0 Error: queue file write error\r\n"),
            Script::CutAfterDot => {
                self.office
                    .borrow_mut()
                    .delivered
                    .push((self.rcpts.clone(), message));
                self.closed = true;
            }
            _ => {
                self.office
                    .borrow_mut()
                    .delivered
                    .push((self.rcpts.clone(), message));
                self.reply("250 2.0.0 Ok: queued as 4Q7x1\r\n");
            }
        }
    }
}

/// The Message-ID header's value (with brackets) of a message on the wire.
fn message_id(message: &[u8]) -> String {
    let text = String::from_utf8_lossy(message);
    text.lines()
        .find_map(|l| l.strip_prefix("Message-ID: "))
        .unwrap_or("")
        .trim()
        .to_string()
}

impl Transport for FakeSmtp {
    async fn send(&mut self, bytes: &[u8]) -> Result<(), TransportError> {
        if self.closed {
            return Err(TransportError::Closed {
                code: 1006,
                reason: String::new(),
            });
        }
        self.feed(bytes);
        Ok(())
    }

    async fn recv(&mut self) -> Result<Option<Vec<u8>>, TransportError> {
        if !self.out.is_empty() {
            return Ok(Some(std::mem::take(&mut self.out)));
        }
        if self.closed {
            return Err(TransportError::Closed {
                code: 1006,
                reason: String::new(),
            });
        }
        // Nothing owed: a real server would wait for the client; so does this one.
        std::future::pending().await
    }

    async fn start_tls(&mut self) -> Result<Option<TlsInfo>, TransportError> {
        Err(TransportError::Protocol(
            "the fake server speaks no TLS".into(),
        ))
    }

    fn close(&mut self) {
        self.closed = true;
    }
}
