//! A small blocking driver over any `std::io::Read + Write` stream (feature `blocking`).
//!
//! Used by the `send` example and the native tests. It shows the whole driver contract:
//! write what the client wants sent, read when it needs input, run the TLS handshake when
//! asked, and record a message as "may have been sent" before committing it. The loop, the
//! stream types and the per-reply time limit ([`Pace`]) are the crate's
//! [`blocking`](crate::blocking) module, shared with the POP3 driver (so one TLS setup serves
//! both); what is SMTP's here is the session: connect, send with its commit point, quit.

use std::fmt;
use std::io;

use crate::blocking::{Clock, Conn, Driven, Failure};
pub use crate::blocking::{Pace, SetReadTimeout, Stream, Timeout, Upgrade};

use super::{
    AuthMechanism, Capabilities, Client, ClientConfig, Envelope, Event, MessageId, Recipient,
    Reply, ServerError, SmtpError,
};

/// What can go wrong in a blocking session.
#[derive(Debug)]
pub enum DriverError {
    /// Reading, writing or the TLS handshake failed (a read timeout of the stream included).
    /// If [`Session::in_doubt`] names a message, it may have been sent.
    Io(io::Error),
    /// The SMTP session failed, or (`SmtpError::Unsendable`) the message cannot go to this
    /// server, in which case the session goes on.
    Smtp(SmtpError),
    /// The function called before the commit failed: the message was not committed, and the
    /// session is left at its commit point (drop it; the server discards the message).
    NotRecorded(io::Error),
    /// A reply took too long (only with a [`Pace`]). If [`Session::in_doubt`] names a
    /// message, it may have been sent.
    Timeout(Timeout),
}

impl fmt::Display for DriverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DriverError::Io(e) => write!(f, "I/O error: {e}"),
            DriverError::Smtp(e) => write!(f, "SMTP error: {e}"),
            DriverError::NotRecorded(e) => {
                write!(f, "could not record the message before sending it: {e}")
            }
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

impl From<SmtpError> for DriverError {
    fn from(e: SmtpError) -> Self {
        DriverError::Smtp(e)
    }
}

impl From<Failure<SmtpError>> for DriverError {
    fn from(f: Failure<SmtpError>) -> Self {
        match f {
            Failure::Io(e) => DriverError::Io(e),
            Failure::Client(e) => DriverError::Smtp(e),
            Failure::Timeout(t) => DriverError::Timeout(t),
        }
    }
}

impl Driven for Client {
    const STARTTLS: &'static str = "STARTTLS";
    fn replies_read(&self) -> Option<u64> {
        Some(Client::replies_read(self))
    }
    /// Every SMTP event comes from one whole reply (a multi-line reply is read to its last line).
    fn ends_reply(_: &Event) -> bool {
        true
    }
}

/// How one message ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The server took it: `reply` is its 250 (usually with a queue id). Refused recipients,
    /// if any, are among `recipients`.
    Accepted {
        reply: Reply,
        recipients: Vec<Recipient>,
    },
    /// It was not taken, and nothing of it will be delivered.
    Rejected {
        reply: ServerError,
        recipients: Vec<Recipient>,
    },
}

/// A session that is ready to send (greeting, EHLO, STARTTLS and AUTH done).
pub struct Session {
    conn: Conn,
    client: Client,
    /// The mechanism that logged in, if the session logged in.
    pub mechanism: Option<AuthMechanism>,
    /// The capabilities in force.
    pub capabilities: Capabilities,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Runs greeting, EHLO, STARTTLS (through `upgrade`) and AUTH over a connected stream.
    /// Replies may take as long as the stream lets them (its own timeouts, if any).
    pub fn connect(
        stream: Box<dyn Stream>,
        config: ClientConfig,
        upgrade: Option<Upgrade<'_>>,
    ) -> Result<Session, DriverError> {
        Session::start(stream, config, upgrade, None)
    }

    /// [`connect`](Session::connect), and every reply of the session, the greeting included,
    /// is held to `pace`. Without `set_read_timeout` a silent server is noticed only when the
    /// stream's own read timeout fires; a drip is noticed at the next byte either way.
    pub fn connect_paced(
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
        let mut conn = Conn::new(stream, 16 * 1024, clock);
        let mut mechanism = None;
        loop {
            match conn.next_event(&mut client, &mut upgrade)? {
                Event::Authenticated { mechanism: m } => mechanism = Some(m),
                Event::Ready { capabilities } => {
                    return Ok(Session {
                        conn,
                        client,
                        mechanism,
                        capabilities,
                    });
                }
                _ => {}
            }
        }
    }

    /// The underlying state machine.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The message whose final `.` was sent without a reply yet: after an error, it may have
    /// been sent.
    pub fn in_doubt(&self) -> Option<MessageId> {
        self.client.in_doubt()
    }

    fn next_event(&mut self) -> Result<Event, DriverError> {
        Ok(self.conn.next_event(&mut self.client, &mut None)?)
    }

    /// Sends one message and waits for its outcome. At the commit point `before_commit` is
    /// called with the message's handle: record durably that it may have been sent, then
    /// return `Ok`; an `Err` stops before the final `.` ([`DriverError::NotRecorded`]).
    pub fn send(
        &mut self,
        envelope: Envelope,
        message: Vec<u8>,
        before_commit: impl FnOnce(MessageId) -> io::Result<()>,
    ) -> Result<Outcome, DriverError> {
        let id = self.client.send(envelope, message)?;
        let mut before_commit = Some(before_commit);
        loop {
            match self.next_event()? {
                Event::ReadyToCommit { message, .. } if message == id => {
                    let record = before_commit.take().expect("one commit point per message");
                    record(id).map_err(DriverError::NotRecorded)?;
                    self.client.commit(id)?;
                }
                Event::Accepted {
                    message,
                    reply,
                    recipients,
                } if message == id => return Ok(Outcome::Accepted { reply, recipients }),
                Event::Rejected {
                    message,
                    reply,
                    recipients,
                } if message == id => return Ok(Outcome::Rejected { reply, recipients }),
                _ => {}
            }
        }
    }

    /// Sends `QUIT` and waits for the reply. A server that closes the connection instead of
    /// answering has still ended the session: nothing was pending.
    pub fn quit(mut self) -> Result<(), DriverError> {
        self.client.quit()?;
        loop {
            match self.next_event() {
                Ok(Event::Closed) => return Ok(()),
                Ok(_) => {}
                Err(DriverError::Smtp(SmtpError::ConnectionLost {
                    in_doubt: None,
                    unsent,
                    ..
                })) if unsent.is_empty() => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    }

    /// Hands the stream back (e.g. to drop the connection without QUIT in a test).
    pub fn into_stream(self) -> Box<dyn Stream> {
        self.conn.into_stream()
    }
}

#[cfg(test)]
mod pace_tests;
#[cfg(test)]
mod tests;
