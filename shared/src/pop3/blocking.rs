//! A small blocking driver over any `std::io::Read + Write` stream (feature `blocking`).
//!
//! Used by the `fetch` example and the integration tests. It shows the whole driver contract:
//! write what the client wants sent, read when it needs input, run the TLS handshake when
//! asked. It never touches sockets itself: the caller passes a connected stream and a
//! function that wraps a stream in TLS.

use std::collections::HashMap;
use std::fmt;
use std::io::{self, Read, Write};

use super::{
    AuthMechanism, Capabilities, Client, ClientConfig, Command, CommandId, Event, Expire,
    Pop3Error, ServerError,
};

/// A byte stream the driver can use: a `TcpStream`, a TLS stream over it, a test double.
pub trait Stream: Read + Write {}
impl<T: Read + Write> Stream for T {}

/// Wraps the plain stream in TLS when the server accepted STLS.
pub type Upgrade<'a> = &'a mut dyn FnMut(Box<dyn Stream>) -> io::Result<Box<dyn Stream>>;

/// What can go wrong in a blocking session.
#[derive(Debug)]
pub enum DriverError {
    /// Reading, writing or the TLS handshake failed.
    Io(io::Error),
    /// The POP3 session failed.
    Pop3(Pop3Error),
}

impl fmt::Display for DriverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DriverError::Io(e) => write!(f, "I/O error: {e}"),
            DriverError::Pop3(e) => write!(f, "POP3 error: {e}"),
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
                *stream = Some(up(plain)?);
                client.tls_started()?;
                return Ok(Event::StartTls);
            }
            Some(event) => return Ok(event),
            None => {}
        }
        let n = s.read(buf)?;
        if n == 0 {
            return Err(client.connection_lost().into());
        }
        client.receive(&buf[..n]);
    }
}

impl Session {
    /// Runs greeting, CAPA, STLS (through `upgrade`) and login over a connected stream.
    pub fn login(
        stream: Box<dyn Stream>,
        config: ClientConfig,
        upgrade: Option<Upgrade<'_>>,
    ) -> Result<Session, DriverError> {
        let mut client = Client::new(config);
        let mut buf = vec![0; 64 * 1024];
        let mut stream = Some(stream);
        let mut upgrade = upgrade;
        let mut mechanism = None;
        let mut capabilities = None;
        loop {
            match next_event(&mut stream, &mut client, &mut buf, &mut upgrade)? {
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
        next_event(&mut self.stream, &mut self.client, &mut self.buf, &mut None)
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
