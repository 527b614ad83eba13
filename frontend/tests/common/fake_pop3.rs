//! A scripted in-memory POP3 server that the real sync engine talks to through `Transport`.
//!
//! It checks the DELE invariant itself: when a `DELE n` arrives it asks [`super::idb_watch`],
//! synchronously, whether message n's exact bytes were put in an IndexedDB transaction that has
//! already fired `complete`, and records a violation if not. Deletions take effect only on
//! `QUIT`, as in RFC 1939.
//!
//! It can also be hostile or odd, as real servers are: drip bytes, stall, cut, refuse one
//! `RETR`, send a line or a reply that never ends, have no CAPA or TOP, or rewrite messages
//! after they were read (GNU mailutils).

use std::cell::{Cell, RefCell};
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::rc::Rc;

use postbag_protocol::tunnel::TlsInfo;
use postbag_web::store::Store;
use postbag_web::tunnel::{Transport, TransportError};

/// The server's persistent side: survives sessions.
#[derive(Default)]
pub struct Mailbox {
    pub messages: Vec<(String, Vec<u8>)>,
    /// Every command line received, across sessions (passwords replaced).
    pub log: Vec<String>,
    /// DELE commands for messages not committed in IndexedDB when they arrived.
    pub violations: Vec<String>,
    /// A message the server rewrote -> its bytes before (the same message for the DELE check).
    pub earlier: HashMap<Vec<u8>, Vec<u8>>,
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
    /// Commands received that start with `verb`.
    pub fn count(&self, verb: &str) -> usize {
        self.log.iter().filter(|l| l.starts_with(verb)).count()
    }
    /// Whether `committed` is this message's bytes, now or before a rewrite.
    fn is_version_of(&self, raw: &[u8], committed: &[u8]) -> bool {
        let mut version = Some(raw);
        while let Some(v) = version {
            if v == committed {
                return true;
            }
            version = self.earlier.get(v).map(Vec::as_slice);
        }
        false
    }
}

/// A reply that never ends.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Endless {
    /// The greeting line never ends.
    Line,
    /// The UIDL reply's lines never end.
    Reply,
    /// The body of `RETR n` never ends.
    Message(usize),
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
    /// The size of each RETR's message (what it really sends), beside `retr_ends`.
    retr_sizes: Vec<usize>,
    /// The most RETRs owed at once when one arrived (received, reply not yet all delivered),
    /// and the most bytes (their messages' real sizes) they owed: the client's window as the
    /// server sees it.
    pub max_retrs_owed: usize,
    pub max_bytes_owed: usize,
    /// At the cut, close cleanly (the server hangs up) instead of a dead WebSocket (1006).
    pub cut_clean: bool,
    /// Once this many bytes were delivered, one byte per that many milliseconds.
    pub drip: Option<(usize, u32)>,
    /// Once this many bytes were delivered, nothing more ever (a network gone silently).
    pub stall_after_bytes: Option<usize>,
    /// From the first command with this verb on, the server never answers again.
    pub stall_on: Option<&'static str>,
    stalled: bool,
    /// `RETR n` answers `-ERR <text>`.
    pub retr_err: HashMap<usize, String>,
    pub endless: Option<Endless>,
    /// The endless tail being sent once the queued output ran out.
    endless_fill: Option<Vec<u8>>,
    /// CAPA answers -ERR (RFC 1939 servers).
    pub no_capa: bool,
    /// TOP answers -ERR.
    pub no_top: bool,
    /// TOP ignores its line count and sends the whole message (as `RETR` would).
    pub top_whole: bool,
    /// `TOP n` answers `-ERR` for these messages only (deleted by another client since LIST).
    pub top_err: BTreeSet<usize>,
    /// UIDL answered `-ERR` (a server without it); the DELE check then finds the message's
    /// bytes under any key.
    pub no_uidl: bool,
    /// GNU mailutils: a message read with RETR gets `Status:` and `X-UID:` headers at QUIT.
    pub rewrite_on_read: bool,
    read: BTreeSet<usize>,
    /// Offers and accepts STLS, and then the TLS upgrade never completes (the network went
    /// away while the proxy was upgrading).
    pub stls_hangs: bool,
    /// Announces `LOGIN-DELAY n` in CAPA and refuses PASS with `[LOGIN-DELAY]` (Gmail after
    /// logins too close together).
    pub login_delay_refusal: Option<u32>,
    /// A second place every DELEd message must already be in (the live copy's folder), asked
    /// at the DELE, synchronously, with the message's UIDL: `false` is a violation too.
    pub also_stored: Option<AlsoStored>,
    /// LIST gives every message this size, whatever it really is (a server that lies).
    pub listed_as: Option<usize>,
    /// How many writes (`Transport::send` calls) the client made.
    pub writes: usize,
}

/// Whether the message of a UIDL is in a second place ([`FakeServer::also_stored`]).
pub type AlsoStored = Rc<dyn Fn(&str) -> bool>;

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
            retr_sizes: Vec::new(),
            max_retrs_owed: 0,
            max_bytes_owed: 0,
            cut_clean: false,
            drip: None,
            stall_after_bytes: None,
            stall_on: None,
            stalled: false,
            retr_err: HashMap::new(),
            endless: None,
            endless_fill: None,
            no_capa: false,
            no_top: false,
            top_whole: false,
            top_err: BTreeSet::new(),
            no_uidl: false,
            rewrite_on_read: false,
            read: BTreeSet::new(),
            stls_hangs: false,
            login_delay_refusal: None,
            also_stored: None,
            listed_as: None,
            writes: 0,
        }
    }

    /// Makes the greeting a line that never ends (call before the session starts).
    pub fn endless_greeting(&mut self) {
        self.endless = Some(Endless::Line);
        self.out = b"+OK ".iter().copied().collect();
        self.endless_fill = Some(b"a".to_vec());
    }

    fn dot_stuffed(&mut self, body: &[u8]) {
        for line in body.split_inclusive(|b| *b == b'\n') {
            if line.first() == Some(&b'.') {
                self.out.push_back(b'.');
            }
            self.out.extend(line);
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

    /// Records how many RETRs, and how many bytes of their messages, the client has asked for
    /// and not yet received whole (the one just answered included).
    fn note_owed(&mut self) {
        let owed = self
            .retr_ends
            .iter()
            .zip(&self.retr_sizes)
            .filter(|(end, _)| **end > self.delivered);
        let (count, bytes) = owed.fold((0, 0), |(c, b), (_, size)| (c + 1, b + size));
        self.max_retrs_owed = self.max_retrs_owed.max(count);
        self.max_bytes_owed = self.max_bytes_owed.max(bytes);
    }

    fn reply(&mut self, text: &str) {
        self.out.extend(text.as_bytes());
    }

    fn command(&mut self, line: &str) {
        let mut words = line.split_whitespace();
        let verb = words.next().unwrap_or("").to_ascii_uppercase();
        let arg: Option<usize> = words.next().and_then(|w| w.parse().ok());
        // TOP's line count (RFC 1939: the headers, then that many lines of the body).
        let lines: usize = words.next().and_then(|w| w.parse().ok()).unwrap_or(0);
        let logged = if verb == "PASS" {
            "PASS ***".to_string()
        } else {
            line.to_string()
        };
        self.mailbox.borrow_mut().log.push(logged);
        if self.endless_fill.is_some() || self.stalled {
            return; // busy forever with the endless reply, or gone silent
        }
        if self.stall_on.is_some_and(|v| v == verb) {
            self.stalled = true;
            return;
        }
        let live = |s: &Self, n: usize| {
            n >= 1 && n <= s.mailbox.borrow().messages.len() && !s.marked.contains(&n)
        };
        match verb.as_str() {
            "CAPA" if self.no_capa => self.reply("-ERR unknown command\r\n"),
            "CAPA" if self.stls_hangs => self.reply("+OK\r\nSTLS\r\nUSER\r\nUIDL\r\n.\r\n"),
            "STLS" if self.stls_hangs => self.reply("+OK begin TLS\r\n"),
            "UIDL" if self.endless == Some(Endless::Reply) => {
                self.reply("+OK\r\n");
                self.endless_fill = Some(b"1 endless-uidl\r\n".to_vec());
            }
            "UIDL" if self.no_uidl => self.reply("-ERR unknown command\r\n"),
            "RETR" if arg.is_some_and(|n| self.retr_err.contains_key(&n)) => {
                let text = arg
                    .and_then(|n| self.retr_err.get(&n))
                    .cloned()
                    .unwrap_or_default();
                self.reply(&format!("-ERR {text}\r\n"));
            }
            "RETR" if arg.is_some_and(|n| self.endless == Some(Endless::Message(n))) => {
                self.reply("+OK\r\n");
                self.endless_fill =
                    Some(b"Lorem ipsum dolor sit amet, again and again.\r\n".to_vec());
            }
            "TOP" => {
                let n = arg.filter(|n| live(self, *n));
                match n {
                    Some(n) if !self.no_top && !self.top_err.contains(&n) => {
                        let raw = self.mailbox.borrow().messages[n - 1].1.clone();
                        let mut end = raw
                            .windows(4)
                            .position(|w| w == b"\r\n\r\n")
                            .map_or(raw.len(), |i| i + 4);
                        let lines = if self.top_whole { usize::MAX } else { lines };
                        for _ in 0..lines {
                            if end == raw.len() {
                                break;
                            }
                            end = raw[end..]
                                .windows(2)
                                .position(|w| w == b"\r\n")
                                .map_or(raw.len(), |i| end + i + 2);
                        }
                        self.reply("+OK\r\n");
                        self.dot_stuffed(&raw[..end]);
                        self.reply(".\r\n");
                    }
                    _ => self.reply("-ERR no TOP here\r\n"),
                }
            }
            "CAPA" => {
                let pipe = if self.pipelining {
                    "PIPELINING\r\n"
                } else {
                    ""
                };
                // Only the login-delay server adds lines: the others' CAPA stays as it was.
                let delay = self
                    .login_delay_refusal
                    .map(|n| format!("RESP-CODES\r\nLOGIN-DELAY {n}\r\n"))
                    .unwrap_or_default();
                self.reply(&format!("+OK\r\nUSER\r\nUIDL\r\nTOP\r\n{delay}{pipe}.\r\n"));
            }
            "USER" => self.reply("+OK\r\n"),
            "PASS" if self.login_delay_refusal.is_some() => {
                self.reply("-ERR [LOGIN-DELAY] wait between logins\r\n")
            }
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
                            self.listed_as.unwrap_or(raw.len()).to_string()
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
                    self.dot_stuffed(&raw);
                    self.reply(".\r\n");
                    self.read.insert(n);
                    self.retr_ends.push(self.delivered + self.out.len());
                    self.retr_sizes.push(raw.len());
                    self.note_owed();
                }
                _ => self.reply("-ERR no such message\r\n"),
            },
            "DELE" => match arg {
                Some(n) if live(self, n) => {
                    let (uidl, raw) = self.mailbox.borrow().messages[n - 1].clone();
                    // The invariant, checked now and without yielding: these exact bytes were
                    // put in a transaction whose `complete` event has already fired.
                    let committed = super::idb_watch::committed(&self.db, &self.account, &uidl);
                    let stored = committed
                        .is_some_and(|c| self.mailbox.borrow().is_version_of(&raw, &c))
                        || (self.no_uidl
                            && super::idb_watch::committed_anywhere(&self.db, &self.account, &raw));
                    let also = self.also_stored.as_ref().is_none_or(|held| held(&uidl));
                    if !stored || !also {
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
                if self.rewrite_on_read {
                    for &n in &self.read {
                        let old = mb.messages[n - 1].1.clone();
                        if old.starts_with(b"Status:") {
                            continue;
                        }
                        let mut new = format!("Status: RO\r\nX-UID: {n}\r\n").into_bytes();
                        new.extend_from_slice(&old);
                        mb.earlier.insert(new.clone(), old);
                        mb.messages[n - 1].1 = new;
                    }
                }
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
        self.writes += 1;
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
            self.endless_fill = None;
            if self.cut_clean {
                return Ok(None);
            }
            return Err(TransportError::Closed {
                code: 1006,
                reason: "cut by test".into(),
            });
        }
        if self.stall_after_bytes.is_some_and(|s| self.delivered >= s) {
            std::future::pending::<()>().await;
        }
        if self.stalled && self.out.is_empty() {
            std::future::pending::<()>().await;
        }
        if self.out.is_empty()
            && let Some(fill) = &self.endless_fill
        {
            while self.out.len() < self.chunk.max(fill.len()) {
                self.out.extend(fill.iter().copied());
            }
        }
        let mut chunk = self.chunk;
        if let Some((after, ms)) = self.drip
            && self.delivered >= after
            && !self.out.is_empty()
        {
            // Dropped while asleep (the engine gave up or a timer won): nothing was taken.
            gloo_timers::future::TimeoutFuture::new(ms).await;
            chunk = 1;
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
        let n = chunk.min(self.out.len()).min(budget.unwrap_or(usize::MAX));
        self.delivered += n;
        if let Some((flag, at)) = &self.cancel_at
            && self.delivered >= *at
        {
            flag.set(true);
        }
        Ok(Some(self.out.drain(..n).collect()))
    }

    async fn start_tls(&mut self) -> Result<Option<TlsInfo>, TransportError> {
        if self.stls_hangs {
            std::future::pending::<()>().await;
        }
        Err(TransportError::Protocol(
            "the fake server has no TLS".into(),
        ))
    }

    fn close(&mut self) {
        self.closed = true;
    }
}
