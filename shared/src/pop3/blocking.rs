//! A small blocking driver over any `std::io::Read + Write` stream (feature `blocking`).
//!
//! Used by the `fetch` example and the integration tests. The loop, the stream types and the
//! per-reply time limit ([`Pace`]) are the crate's [`blocking`](crate::blocking) module, shared
//! with the SMTP driver; what is POP3's here is the session: login, commands and their replies.

use std::collections::HashMap;
use std::fmt;
use std::io;

use crate::blocking::{Clock, Conn, Driven, Failure};
pub use crate::blocking::{Pace, SetReadTimeout, Stream, Timeout, Upgrade};

use super::{
    AuthMechanism, Capabilities, Client, ClientConfig, Command, CommandId, Event, Expire,
    Pop3Error, ServerError,
};

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

impl From<Failure<Pop3Error>> for DriverError {
    fn from(f: Failure<Pop3Error>) -> Self {
        match f {
            Failure::Io(e) => DriverError::Io(e),
            Failure::Client(e) => DriverError::Pop3(e),
            Failure::Timeout(t) => DriverError::Timeout(t),
        }
    }
}

impl Driven for Client {
    const STARTTLS: &'static str = "STLS";
    fn replies_read(&self) -> Option<u64> {
        None
    }
    /// A message's body comes in chunks, all part of its RETR reply.
    fn ends_reply(event: &Event) -> bool {
        !matches!(
            event,
            Event::MessageStart { .. } | Event::MessageChunk { .. }
        )
    }
}

/// A logged-in session in the TRANSACTION state.
pub struct Session {
    conn: Conn,
    client: Client,
    /// The mechanism that logged in.
    pub mechanism: AuthMechanism,
    /// The last CAPA reply, if the server has CAPA.
    pub capabilities: Option<Capabilities>,
    /// `LOGIN-DELAY` reported at `Ready`.
    pub login_delay: Option<u32>,
    /// `EXPIRE` reported at `Ready`.
    pub expire: Option<Expire>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("client", &self.client)
            .finish_non_exhaustive()
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
        clock: Option<Clock>,
    ) -> Result<Session, DriverError> {
        let mut client = Client::new(config);
        let mut conn = Conn::new(stream, 64 * 1024, clock);
        let mut mechanism = None;
        let mut capabilities = None;
        loop {
            match conn.next_event(&mut client, &mut upgrade)? {
                Event::Capabilities(c) => capabilities = Some(c),
                Event::Authenticated { mechanism: m } => mechanism = Some(m),
                Event::Ready {
                    login_delay,
                    expire,
                } => {
                    return Ok(Session {
                        conn,
                        client,
                        mechanism: mechanism.expect("Authenticated precedes Ready"),
                        capabilities,
                        login_delay,
                        expire,
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
        Ok(self.conn.next_event(&mut self.client, &mut None)?)
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
        self.conn.into_stream()
    }
}

#[cfg(test)]
mod tests;
