//! A small blocking driver over any `std::io::Read + Write` stream (feature `blocking`).
//!
//! Used by the `send` example and the native tests. It shows the whole driver contract:
//! write what the client wants sent, read when it needs input, run the TLS handshake when
//! asked, and record a message as "may have been sent" before committing it. It never touches
//! sockets itself: the caller passes a connected stream (with its own read and write timeouts:
//! the client has no clock) and a function that wraps a stream in TLS.

use std::fmt;
use std::io;

/// The same stream and upgrade types as the POP3 driver, so one TLS setup serves both.
pub use crate::pop3::blocking::{Stream, Upgrade};

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
}

impl fmt::Display for DriverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DriverError::Io(e) => write!(f, "I/O error: {e}"),
            DriverError::Smtp(e) => write!(f, "SMTP error: {e}"),
            DriverError::NotRecorded(e) => {
                write!(f, "could not record the message before sending it: {e}")
            }
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
    /// Always `Some`; an `Option` so that the STARTTLS upgrade can move it.
    stream: Option<Box<dyn Stream>>,
    client: Client,
    buf: Vec<u8>,
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

/// Drives `client` over `stream` until the next event, handling STARTTLS on the way.
fn next_event(
    stream: &mut Option<Box<dyn Stream>>,
    client: &mut Client,
    buf: &mut [u8],
    upgrade: &mut Option<Upgrade<'_>>,
) -> Result<Event, DriverError> {
    loop {
        let event = client.next_event();
        let s = stream.as_mut().expect("stream present");
        // Write before looking at the result: a cancelled SASL exchange still sends its "*".
        if let Some(out) = client.take_outgoing() {
            s.write_all(&out)?;
            s.flush()?;
        }
        match event? {
            Some(Event::StartTls) => {
                let plain = stream.take().expect("stream present");
                let up = upgrade
                    .as_mut()
                    .ok_or_else(|| io::Error::other("STARTTLS without an upgrade function"))?;
                *stream = Some(up(plain)?);
                client.tls_started()?;
                return Ok(Event::StartTls);
            }
            Some(event) => return Ok(event),
            None => {}
        }
        let n = match s.read(buf) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        if n == 0 {
            return Err(client.connection_lost().into());
        }
        client.receive(&buf[..n]);
    }
}

impl Session {
    /// Runs greeting, EHLO, STARTTLS (through `upgrade`) and AUTH over a connected stream.
    pub fn connect(
        stream: Box<dyn Stream>,
        config: ClientConfig,
        mut upgrade: Option<Upgrade<'_>>,
    ) -> Result<Session, DriverError> {
        let mut client = Client::new(config);
        let mut buf = vec![0; 16 * 1024];
        let mut stream = Some(stream);
        let mut mechanism = None;
        loop {
            match next_event(&mut stream, &mut client, &mut buf, &mut upgrade)? {
                Event::Authenticated { mechanism: m } => mechanism = Some(m),
                Event::Ready { capabilities } => {
                    return Ok(Session {
                        stream,
                        client,
                        buf,
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
        next_event(&mut self.stream, &mut self.client, &mut self.buf, &mut None)
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
        self.stream.expect("stream present")
    }
}

#[cfg(test)]
mod tests;
