//! A scripted in-memory POP3 server that the real sync engine talks to through `Transport`.
//!
//! It checks the DELE invariant itself: when a `DELE n` arrives it asks [`super::idb_watch`],
//! synchronously, whether message n's exact bytes were put in an IndexedDB transaction that has
//! already fired `complete`, and records a violation if not. Deletions take effect only on
//! `QUIT`, as in RFC 1939.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeSet, VecDeque};
use std::rc::Rc;

use postbag_protocol::tunnel::TlsInfo;
use postbag_web::store::Store;
use postbag_web::sync::{Transport, TransportError};

/// The server's persistent side: survives sessions.
#[derive(Default)]
pub struct Mailbox {
    pub messages: Vec<(String, Vec<u8>)>,
    /// Every command line received, across sessions (passwords replaced).
    pub log: Vec<String>,
    /// DELE commands for messages not committed in IndexedDB when they arrived.
    pub violations: Vec<String>,
}

impl Mailbox {
    pub fn with(n: usize, size: usize) -> Rc<RefCell<Mailbox>> {
        let messages = (1..=n)
            .map(|i| (format!("uid-{i:04}"), sample(i, size)))
            .collect();
        Rc::new(RefCell::new(Mailbox {
            messages,
            ..Default::default()
        }))
    }
    pub fn uidls(&self) -> Vec<String> {
        self.messages.iter().map(|m| m.0.clone()).collect()
    }
    pub fn deles(&self) -> usize {
        self.log.iter().filter(|l| l.starts_with("DELE")).count()
    }
}

/// A message of roughly `size` bytes with a dot-stuffing trap in its body.
pub fn sample(i: usize, size: usize) -> Vec<u8> {
    let mut m = format!(
        "From: Sender {i} <s{i}@example.org>\r\nTo: you@example.org\r\nSubject: Message {i}\r\n\
         Date: Mon, 2 Mar 2026 10:{:02}:00 +0000\r\nMessage-ID: <{i}@example.org>\r\n\r\n\
         Hello number {i}.\r\n.leading dot line\r\n",
        i % 60
    )
    .into_bytes();
    while m.len() < size {
        m.extend_from_slice(b"Lorem ipsum dolor sit amet, consectetur adipiscing elit.\r\n");
    }
    m
}

pub struct FakeServer {
    mailbox: Rc<RefCell<Mailbox>>,
    /// The IndexedDB database the client under test commits to.
    db: String,
    account: String,
    inbuf: Vec<u8>,
    out: VecDeque<u8>,
    marked: BTreeSet<usize>,
    /// Bytes handed out per `recv` (1 = byte by byte).
    pub chunk: usize,
    /// Drop the connection once this many bytes were delivered to the client.
    pub cut_after_bytes: Option<usize>,
    delivered: usize,
    closed: bool,
    pub pipelining: bool,
    /// Sets this flag (the client's cancel flag) once this many bytes were delivered.
    pub cancel_at: Option<(Rc<Cell<bool>>, usize)>,
    /// Where in the byte stream each RETR reply ends, to tell which messages arrived whole.
    retr_ends: Vec<usize>,
}

impl FakeServer {
    pub fn new(mailbox: Rc<RefCell<Mailbox>>, store: Store, account: &str) -> FakeServer {
        super::idb_watch::install();
        FakeServer {
            mailbox,
            db: store.name(),
            account: account.to_string(),
            inbuf: Vec::new(),
            out: b"+OK fake POP3 ready\r\n".iter().copied().collect(),
            marked: BTreeSet::new(),
            chunk: 1 << 20,
            cut_after_bytes: None,
            delivered: 0,
            closed: false,
            pipelining: true,
            cancel_at: None,
            retr_ends: Vec::new(),
        }
    }

    /// Bytes handed to the client so far.
    pub fn delivered(&self) -> usize {
        self.delivered
    }

    /// RETR replies the client received completely.
    pub fn whole_messages_delivered(&self) -> usize {
        self.retr_ends
            .iter()
            .filter(|end| **end <= self.delivered)
            .count()
    }

    fn reply(&mut self, text: &str) {
        self.out.extend(text.as_bytes());
    }

    fn command(&mut self, line: &str) {
        let mut words = line.split_whitespace();
        let verb = words.next().unwrap_or("").to_ascii_uppercase();
        let arg: Option<usize> = words.next().and_then(|w| w.parse().ok());
        let logged = if verb == "PASS" {
            "PASS ***".to_string()
        } else {
            line.to_string()
        };
        self.mailbox.borrow_mut().log.push(logged);
        let live = |s: &Self, n: usize| {
            n >= 1 && n <= s.mailbox.borrow().messages.len() && !s.marked.contains(&n)
        };
        match verb.as_str() {
            "CAPA" => {
                let pipe = if self.pipelining {
                    "PIPELINING\r\n"
                } else {
                    ""
                };
                self.reply(&format!("+OK\r\nUSER\r\nUIDL\r\nTOP\r\n{pipe}.\r\n"));
            }
            "USER" => self.reply("+OK\r\n"),
            "PASS" => self.reply("+OK logged in\r\n"),
            "STAT" => {
                let mb = self.mailbox.borrow();
                let (n, size) = mb
                    .messages
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| !self.marked.contains(&(i + 1)))
                    .fold((0, 0), |(n, s), (_, m)| (n + 1, s + m.1.len()));
                drop(mb);
                self.reply(&format!("+OK {n} {size}\r\n"));
            }
            "UIDL" | "LIST" => {
                let mut text = String::from("+OK\r\n");
                for (i, (uidl, raw)) in self.mailbox.borrow().messages.iter().enumerate() {
                    if !self.marked.contains(&(i + 1)) {
                        let value = if verb == "UIDL" {
                            uidl.clone()
                        } else {
                            raw.len().to_string()
                        };
                        text.push_str(&format!("{} {value}\r\n", i + 1));
                    }
                }
                text.push_str(".\r\n");
                self.reply(&text);
            }
            "RETR" => match arg {
                Some(n) if live(self, n) => {
                    let raw = self.mailbox.borrow().messages[n - 1].1.clone();
                    self.reply(&format!("+OK {} octets\r\n", raw.len()));
                    for line in raw.split_inclusive(|b| *b == b'\n') {
                        if line.first() == Some(&b'.') {
                            self.out.push_back(b'.');
                        }
                        self.out.extend(line);
                    }
                    self.reply(".\r\n");
                    self.retr_ends.push(self.delivered + self.out.len());
                }
                _ => self.reply("-ERR no such message\r\n"),
            },
            "DELE" => match arg {
                Some(n) if live(self, n) => {
                    let (uidl, raw) = self.mailbox.borrow().messages[n - 1].clone();
                    // The invariant, checked now and without yielding: these exact bytes were
                    // put in a transaction whose `complete` event has already fired.
                    let committed = super::idb_watch::committed(&self.db, &self.account, &uidl);
                    if committed.as_ref() != Some(&raw) {
                        self.mailbox.borrow_mut().violations.push(uidl);
                    }
                    self.marked.insert(n);
                    self.reply("+OK marked\r\n");
                }
                _ => self.reply("-ERR no such message\r\n"),
            },
            "NOOP" => self.reply("+OK\r\n"),
            "RSET" => {
                self.marked.clear();
                self.reply("+OK\r\n");
            }
            "QUIT" => {
                let mut mb = self.mailbox.borrow_mut();
                let mut i = 0;
                mb.messages.retain(|_| {
                    i += 1;
                    !self.marked.contains(&i)
                });
                drop(mb);
                self.reply("+OK bye\r\n");
                self.closed = true;
            }
            _ => self.reply("-ERR unknown command\r\n"),
        }
    }
}

impl Transport for FakeServer {
    async fn send(&mut self, bytes: &[u8]) -> Result<(), TransportError> {
        self.inbuf.extend_from_slice(bytes);
        while let Some(pos) = self.inbuf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.inbuf.drain(..=pos).collect();
            let line = String::from_utf8_lossy(&line).trim_end().to_string();
            self.command(&line);
        }
        Ok(())
    }

    async fn recv(&mut self) -> Result<Option<Vec<u8>>, TransportError> {
        let budget = self
            .cut_after_bytes
            .map(|c| c.saturating_sub(self.delivered));
        if budget == Some(0) {
            // The connection dies: whatever was not yet delivered is lost.
            self.out.clear();
            return Err(TransportError::Closed {
                code: 1006,
                reason: "cut by test".into(),
            });
        }
        if self.out.is_empty() {
            return if self.closed {
                Ok(None)
            } else {
                Err(TransportError::Closed {
                    code: 1006,
                    reason: "client waits for nothing".into(),
                })
            };
        }
        let n = self
            .chunk
            .min(self.out.len())
            .min(budget.unwrap_or(usize::MAX));
        self.delivered += n;
        if let Some((flag, at)) = &self.cancel_at
            && self.delivered >= *at
        {
            flag.set(true);
        }
        Ok(Some(self.out.drain(..n).collect()))
    }

    async fn start_tls(&mut self) -> Result<Option<TlsInfo>, TransportError> {
        Err(TransportError::Protocol(
            "the fake server has no TLS".into(),
        ))
    }

    fn close(&mut self) {
        self.closed = true;
    }
}
