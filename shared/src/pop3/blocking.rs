//! A small blocking driver over any `std::io::Read + Write` stream (feature `blocking`).
//!
//! Used by the `fetch` example and the integration tests. It shows the whole driver contract:
//! write what the client wants sent, read when it needs input, run the TLS handshake when
//! asked. It never touches sockets itself: the caller passes a connected stream and a
//! function that wraps a stream in TLS.
//!
//! Time is the driver's business, not the client's (the client has no clock): with a
//! [`Pace`] every reply gets a deadline and must keep a minimum rate, so a server that stops
//! talking, or drips one byte a second, cannot hold a session forever.

use std::collections::HashMap;
use std::fmt;
use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use super::{
    AuthMechanism, Capabilities, Client, ClientConfig, Command, CommandId, Event, Expire,
    Pop3Error, ServerError,
};

/// A byte stream the driver can use: a `TcpStream`, a TLS stream over it, a test double.
pub trait Stream: Read + Write {}
impl<T: Read + Write> Stream for T {}

/// Wraps the plain stream in TLS when the server accepted STLS.
pub type Upgrade<'a> = &'a mut dyn FnMut(Box<dyn Stream>) -> io::Result<Box<dyn Stream>>;

/// Sets the read timeout of the socket under the stream (under TLS too: a clone of the
/// `TcpStream` shares its timeout), so that a silent server wakes the driver at the deadline.
pub type SetReadTimeout = Box<dyn FnMut(Duration) -> io::Result<()>>;

/// How long a reply may take. A reply starts when the driver begins waiting for it and ends
/// with the event that completes it; it fails when the server
/// - sends nothing for `reply_timeout`, or
/// - brings fewer than `min_rate × reply_timeout` bytes in a window of `reply_timeout`
///   (windows follow one another from the reply's start).
///
/// A drip of one byte a second therefore fails at the end of its first window; a large message
/// at a fair rate never does, however long it takes; and a rate is judged per window, not
/// averaged over the reply, so a fast start cannot buy hours of drip after it. (The app's sync
/// engine judges a reply the same way: `frontend/src/sync/run.rs`, `check_pace`.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pace {
    pub reply_timeout: Duration,
    /// Bytes per second; 0 checks silence only.
    pub min_rate: u64,
}

/// How a reply ran out of time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timeout {
    /// Nothing arrived for `silent` (with `received` bytes of the reply before).
    Silent { silent: Duration, received: u64 },
    /// Only `received` bytes in a window of `elapsed`: fewer than `min_rate` per second.
    TooSlow {
        received: u64,
        elapsed: Duration,
        min_rate: u64,
    },
}

impl fmt::Display for Timeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Timeout::Silent { silent, received } => write!(
                f,
                "the server sent nothing for {:.1} s ({received} bytes of the reply before)",
                silent.as_secs_f64()
            ),
            Timeout::TooSlow {
                received,
                elapsed,
                min_rate,
            } => write!(
                f,
                "the server sent {received} bytes in {:.1} s, less than the minimum of \
                 {min_rate} bytes/s",
                elapsed.as_secs_f64()
            ),
        }
    }
}

/// What can go wrong in a blocking session. After any of these the session is over.
#[derive(Debug)]
pub enum DriverError {
    /// Reading, writing or the TLS handshake failed.
    Io(io::Error),
    /// The POP3 session failed.
    Pop3(Pop3Error),
    /// A reply took too long (only with a [`Pace`]).
    Timeout(Timeout),
}

impl fmt::Display for DriverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DriverError::Io(e) => write!(f, "I/O error: {e}"),
            DriverError::Pop3(e) => write!(f, "POP3 error: {e}"),
            DriverError::Timeout(t) => write!(f, "timed out: {t}"),
        }
    }
}

impl std::error::Error for DriverError {}

impl From<io::Error> for DriverError {
    fn from(e: io::Error) -> Self {
        DriverError::Io(e)
    }
}

impl From<Pop3Error> for DriverError {
    fn from(e: Pop3Error) -> Self {
        DriverError::Pop3(e)
    }
}

/// The complete answer to one command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    Stat {
        count: u32,
        size: u64,
    },
    List(Vec<(u32, u64)>),
    Uidl(Vec<(u32, String)>),
    /// A RETR or TOP body, dot-unstuffed.
    Message(Vec<u8>),
    Deleted,
    Reset,
    Noop,
    Closed {
        committed: bool,
    },
    Failed(ServerError),
}

/// The deadline of the reply being read, in a session with a [`Pace`].
struct Clock {
    pace: Pace,
    set_read_timeout: Option<SetReadTimeout>,
    reply: Option<ReplyClock>,
}

/// The reply being waited for: when its current window started, when its last byte came,
/// and how many came in the current window.
#[derive(Clone, Copy, Debug)]
struct ReplyClock {
    start: Instant,
    last: Instant,
    received: u64,
}

impl Clock {
    fn new(pace: Pace, set_read_timeout: Option<SetReadTimeout>) -> Clock {
        Clock {
            pace,
            set_read_timeout,
            reply: None,
        }
    }

    /// The driver starts waiting; a reply already under way keeps its clock.
    fn begin(&mut self, now: Instant) {
        self.reply.get_or_insert(ReplyClock {
            start: now,
            last: now,
            received: 0,
        });
    }

    fn received(&mut self, n: usize, now: Instant) {
        if let Some(r) = &mut self.reply {
            r.received += n as u64;
            r.last = now;
        }
    }

    /// Before a read: sets the socket's read timeout to the time left, or says how the reply
    /// ran out of time.
    fn before_read(&mut self, now: Instant) -> Result<(), DriverError> {
        let left = match self.reply.as_mut() {
            Some(reply) => time_left(self.pace, reply, now).map_err(DriverError::Timeout)?,
            None => self.pace.reply_timeout,
        };
        if let Some(set) = self.set_read_timeout.as_mut() {
            // A zero timeout means "none" to `set_read_timeout`: never pass it.
            set(left.max(Duration::from_millis(1)))?;
        }
        Ok(())
    }
}

/// The time `reply` has left at `now` under `pace` (see [`Pace`]), or how it ran out. A window
/// that has passed with enough bytes gives way to the next one.
fn time_left(pace: Pace, reply: &mut ReplyClock, now: Instant) -> Result<Duration, Timeout> {
    let window = pace.reply_timeout;
    let silent = now.saturating_duration_since(reply.last);
    if silent >= window {
        return Err(Timeout::Silent {
            silent,
            received: reply.received,
        });
    }
    let mut left = window - silent;
    if pace.min_rate > 0 {
        let elapsed = now.saturating_duration_since(reply.start);
        if elapsed >= window {
            let needed = pace.min_rate as f64 * window.as_secs_f64();
            if (reply.received as f64) < needed {
                return Err(Timeout::TooSlow {
                    received: reply.received,
                    elapsed,
                    min_rate: pace.min_rate,
                });
            }
            reply.start = now;
            reply.received = 0;
        }
        left = left.min(window - now.saturating_duration_since(reply.start));
    }
    Ok(left)
}

/// Whether `event` completes a reply (the next one gets a new clock).
fn ends_reply(event: &Event) -> bool {
    !matches!(
        event,
        Event::MessageStart { .. } | Event::MessageChunk { .. }
    )
}

/// A logged-in session in the TRANSACTION state.
pub struct Session {
    /// Always `Some`; an `Option` so that `next_event` can move it into a TLS wrapper.
    stream: Option<Box<dyn Stream>>,
    client: Client,
    buf: Vec<u8>,
    /// The mechanism that logged in.
    pub mechanism: AuthMechanism,
    /// The last CAPA reply, if the server has CAPA.
    pub capabilities: Option<Capabilities>,
    /// `LOGIN-DELAY` reported at `Ready`.
    pub login_delay: Option<u32>,
    /// `EXPIRE` reported at `Ready`.
    pub expire: Option<Expire>,
    clock: Option<Clock>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

/// Drives `client` over `stream` until the next event, handling STLS on the way.
fn next_event(
    stream: &mut Option<Box<dyn Stream>>,
    client: &mut Client,
    buf: &mut [u8],
    upgrade: &mut Option<Upgrade<'_>>,
    clock: &mut Option<Clock>,
) -> Result<Event, DriverError> {
    if let Some(clock) = clock.as_mut() {
        clock.begin(Instant::now());
    }
    let event = read_until_event(stream, client, buf, upgrade, clock)?;
    if let Some(clock) = clock.as_mut().filter(|_| ends_reply(&event)) {
        clock.reply = None;
    }
    Ok(event)
}

fn read_until_event(
    stream: &mut Option<Box<dyn Stream>>,
    client: &mut Client,
    buf: &mut [u8],
    upgrade: &mut Option<Upgrade<'_>>,
    clock: &mut Option<Clock>,
) -> Result<Event, DriverError> {
    loop {
        let event = client.next_event();
        let s = stream.as_mut().expect("stream present");
        // Write before looking at the result: a failed SASL exchange still sends its "*".
        if let Some(out) = client.take_outgoing() {
            s.write_all(&out)?;
            s.flush()?;
        }
        match event? {
            Some(Event::StartTls) => {
                let plain = stream.take().expect("stream present");
                let up = upgrade
                    .as_mut()
                    .ok_or_else(|| io::Error::other("STLS without an upgrade function"))?;
                // The handshake gets a whole reply's time (the upgrade bounds it as a whole).
                if let Some(Clock {
                    pace,
                    set_read_timeout: Some(set),
                    ..
                }) = clock.as_mut()
                {
                    set(pace.reply_timeout)?;
                }
                *stream = Some(up(plain)?);
                client.tls_started()?;
                return Ok(Event::StartTls);
            }
            Some(event) => return Ok(event),
            None => {}
        }
        if let Some(clock) = clock.as_mut() {
            clock.before_read(Instant::now())?;
        }
        let n = match s.read(buf) {
            Ok(n) => n,
            // The read timeout fired (or a signal): the clock decides whether time is up.
            Err(e)
                if e.kind() == io::ErrorKind::Interrupted
                    || (clock.is_some()
                        && matches!(
                            e.kind(),
                            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                        )) =>
            {
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        if n == 0 {
            return Err(client.connection_lost().into());
        }
        if let Some(clock) = clock.as_mut() {
            clock.received(n, Instant::now());
        }
        client.receive(&buf[..n]);
    }
}

impl Session {
    /// Runs greeting, CAPA, STLS (through `upgrade`) and login over a connected stream. Replies
    /// may take as long as the stream lets them (its own timeouts, if any).
    pub fn login(
        stream: Box<dyn Stream>,
        config: ClientConfig,
        upgrade: Option<Upgrade<'_>>,
    ) -> Result<Session, DriverError> {
        Session::start(stream, config, upgrade, None)
    }

    /// [`login`](Session::login), and every reply of the session, login included, is held to
    /// `pace`. Without `set_read_timeout` a silent server is noticed only when the stream's own
    /// read timeout fires; a drip is noticed at the next byte either way.
    pub fn login_paced(
        stream: Box<dyn Stream>,
        config: ClientConfig,
        upgrade: Option<Upgrade<'_>>,
        pace: Pace,
        set_read_timeout: Option<SetReadTimeout>,
    ) -> Result<Session, DriverError> {
        let clock = Clock::new(pace, set_read_timeout);
        Session::start(stream, config, upgrade, Some(clock))
    }

    fn start(
        stream: Box<dyn Stream>,
        config: ClientConfig,
        mut upgrade: Option<Upgrade<'_>>,
        mut clock: Option<Clock>,
    ) -> Result<Session, DriverError> {
        let mut client = Client::new(config);
        let mut buf = vec![0; 64 * 1024];
        let mut stream = Some(stream);
        let mut mechanism = None;
        let mut capabilities = None;
        loop {
            match next_event(&mut stream, &mut client, &mut buf, &mut upgrade, &mut clock)? {
                Event::Capabilities(c) => capabilities = Some(c),
                Event::Authenticated { mechanism: m } => mechanism = Some(m),
                Event::Ready {
                    login_delay,
                    expire,
                } => {
                    return Ok(Session {
                        stream,
                        client,
                        buf,
                        mechanism: mechanism.expect("Authenticated precedes Ready"),
                        capabilities,
                        login_delay,
                        expire,
                        clock,
                    });
                }
                _ => {}
            }
        }
    }

    /// The underlying state machine (e.g. to ask whether the server pipelines).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The next event of the session, reading as needed.
    pub fn next_event(&mut self) -> Result<Event, DriverError> {
        next_event(
            &mut self.stream,
            &mut self.client,
            &mut self.buf,
            &mut None,
            &mut self.clock,
        )
    }

    /// Enqueues a command; its reply arrives through [`next_event`](Session::next_event).
    pub fn enqueue(&mut self, command: Command) -> Result<CommandId, DriverError> {
        Ok(self.client.enqueue(command)?)
    }

    /// Sends all `commands` (pipelined when the server allows it) and collects their replies
    /// in order. Bodies are gathered in memory; use `enqueue`/`next_event` to stream them.
    pub fn execute(&mut self, commands: &[Command]) -> Result<Vec<Reply>, DriverError> {
        let ids: Vec<CommandId> = commands
            .iter()
            .map(|c| self.enqueue(c.clone()))
            .collect::<Result<_, _>>()?;
        let mut done: HashMap<CommandId, Reply> = HashMap::new();
        let mut bodies: HashMap<CommandId, Vec<u8>> = HashMap::new();
        while done.len() < ids.len() {
            let (id, reply) = match self.next_event()? {
                Event::Stat { id, count, size } => (id, Reply::Stat { count, size }),
                Event::List { id, entries } => (id, Reply::List(entries)),
                Event::Uidl { id, entries } => (id, Reply::Uidl(entries)),
                Event::MessageStart { id, .. } => {
                    bodies.insert(id, Vec::new());
                    continue;
                }
                Event::MessageChunk { id, bytes } => {
                    bodies.entry(id).or_default().extend_from_slice(&bytes);
                    continue;
                }
                Event::MessageEnd { id } => {
                    (id, Reply::Message(bodies.remove(&id).unwrap_or_default()))
                }
                Event::Deleted { id, .. } => (id, Reply::Deleted),
                Event::Reset { id } => (id, Reply::Reset),
                Event::Noop { id } => (id, Reply::Noop),
                Event::CommandFailed { id, error } => (id, Reply::Failed(error)),
                Event::Closed { committed } => {
                    let id = *ids.last().expect("QUIT is last");
                    (id, Reply::Closed { committed })
                }
                _ => continue,
            };
            done.insert(id, reply);
        }
        Ok(ids
            .iter()
            .map(|id| done.remove(id).expect("every id answered"))
            .collect())
    }

    /// Sends `QUIT` and returns whether the server committed the deletions.
    pub fn quit(mut self) -> Result<bool, DriverError> {
        match self.execute(&[Command::Quit])?.pop() {
            Some(Reply::Closed { committed }) => Ok(committed),
            other => Err(io::Error::other(format!("unexpected reply to QUIT: {other:?}")).into()),
        }
    }

    /// Hands the stream back (e.g. to drop the connection without QUIT in a test).
    pub fn into_stream(self) -> Box<dyn Stream> {
        self.stream.expect("stream present")
    }
}

#[cfg(test)]
mod tests;
