//! The client state machine: bytes in, events and bytes out. The caller owns the socket.
//!
//! The session moves through phases (greeting, EHLO, STARTTLS, AUTH, ready, closed); each
//! phase is a variant holding only what that phase needs (`handshake.rs`). Once ready, mail
//! transactions run one message at a time from a queue (`mail.rs`).

mod handshake;
mod mail;

use std::collections::VecDeque;

use super::capabilities::Capabilities;
use super::config::{ClientConfig, TlsState};
use super::envelope::{Envelope, prepare};
use super::error::{ProtocolError, ServerError, SmtpError, Stage, UsageError};
use super::event::{Event, MessageId};
use super::reply::{Limits, Reply, ReplyReader};
use handshake::Phase;
use mail::Mail;

/// An SMTP submission session without I/O.
///
/// Feed received bytes with [`receive`](Client::receive), drain [`next_event`](Client::next_event)
/// until it returns `Ok(None)`, and write whatever [`take_outgoing`](Client::take_outgoing)
/// returns. See the [module documentation](super) for a complete driver loop.
///
/// `Debug` shows the session state but neither messages nor pending output (which may hold a
/// password).
pub struct Client {
    config: ClientConfig,
    reader: ReplyReader,
    outgoing: Vec<u8>,
    events: VecDeque<Event>,
    phase: Phase,
    /// The transport is encrypted (implicit TLS, or STARTTLS completed).
    encrypted: bool,
    /// The capabilities in force; reset when TLS starts.
    caps: Capabilities,
    mail: Mail,
    /// A fatal error ends the session; it is returned again on every later call.
    failed: Option<SmtpError>,
    /// Whole replies read so far: a blocking driver gives each reply its own time limit.
    replies_read: u64,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("phase", &self.phase)
            .field("encrypted", &self.encrypted)
            .field("reader", &self.reader)
            .field("outgoing_bytes", &self.outgoing.len())
            .field("pending_events", &self.events.len())
            .field("mail", &self.mail)
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A new session that waits for the server's greeting. Nothing is sent before it arrives.
    pub fn new(config: ClientConfig) -> Client {
        let encrypted = config.tls == TlsState::Implicit;
        Client {
            config,
            reader: ReplyReader::default(),
            outgoing: Vec::new(),
            events: VecDeque::new(),
            phase: Phase::Greeting,
            encrypted,
            caps: Capabilities::default(),
            mail: Mail::default(),
            failed: None,
            replies_read: 0,
        }
    }

    /// Feeds bytes received from the server, in any chunking.
    pub fn receive(&mut self, bytes: &[u8]) {
        self.reader.push(bytes);
    }

    /// The next event, `Ok(None)` when more input is needed (or the session is over), or the
    /// error that ended the session. After an error every call returns that error again.
    pub fn next_event(&mut self) -> Result<Option<Event>, SmtpError> {
        loop {
            if let Some(event) = self.events.pop_front() {
                return Ok(Some(event));
            }
            if let Some(err) = &self.failed {
                return Err(err.clone());
            }
            match self.step() {
                Ok(true) => {}
                Ok(false) => return Ok(None),
                // Events produced before the error are still delivered first.
                Err(err) => self.fail(err),
            }
        }
    }

    /// Bytes to write to the server, if any. Call after every `receive`/`next_event` round
    /// and after `send`, `commit`, `quit` and `tls_started`.
    pub fn take_outgoing(&mut self) -> Option<Vec<u8>> {
        if self.outgoing.is_empty() {
            None
        } else {
            Some(std::mem::take(&mut self.outgoing))
        }
    }

    /// The driver completed the TLS handshake that [`Event::StartTls`] asked for. Anything
    /// received in the clear after the server's 220 is refused (it may have been injected);
    /// the client forgets what EHLO said and asks again (RFC 3207 section 4.2).
    pub fn tls_started(&mut self) -> Result<(), SmtpError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        if !matches!(self.phase, Phase::AwaitTls) {
            return Err(UsageError::UnexpectedTlsStarted.into());
        }
        if self.reader.buffered() > 0 {
            let err = SmtpError::from(ProtocolError::DataAfterStartTls);
            self.fail(err.clone());
            return Err(err);
        }
        self.encrypted = true;
        self.caps = Capabilities::default();
        if let Err(err) = self.send_ehlo() {
            self.fail(err.clone());
            return Err(err);
        }
        Ok(())
    }

    /// Queues a message and returns its handle. Allowed once [`Event::Ready`] was produced,
    /// until [`quit`](Client::quit). Messages go one after the other; each ends with
    /// [`Event::Accepted`] or [`Event::Rejected`], after an [`Event::ReadyToCommit`] that
    /// waits for [`commit`](Client::commit) when the server took the envelope.
    ///
    /// A message this server cannot take (no recipient, a bad address, an address that needs
    /// SMTPUTF8, 8-bit content without 8BITMIME, larger than SIZE) is refused here with
    /// [`SmtpError::Unsendable`], before anything is sent; the session goes on.
    pub fn send(&mut self, envelope: Envelope, message: Vec<u8>) -> Result<MessageId, SmtpError> {
        self.check_ready()?;
        if self.mail.quit_requested() {
            return Err(UsageError::Closed.into());
        }
        let prepared = prepare(&envelope, &message, &self.caps)?;
        drop(message);
        let id = self.mail.enqueue(envelope, prepared);
        self.pump();
        Ok(id)
    }

    /// Sends the final `.` of `message`, which waits at the commit point
    /// ([`Event::ReadyToCommit`]). From now until [`Event::Accepted`] or [`Event::Rejected`],
    /// a lost connection leaves the message in doubt ([`in_doubt`](Client::in_doubt)).
    pub fn commit(&mut self, message: MessageId) -> Result<(), SmtpError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        let dot = self.mail.commit(message)?;
        self.put(dot);
        Ok(())
    }

    /// Ends the session once every queued message is done: `QUIT`, then [`Event::Closed`].
    pub fn quit(&mut self) -> Result<(), SmtpError> {
        self.check_ready()?;
        self.mail.request_quit()?;
        self.pump();
        Ok(())
    }

    /// Whether the session reached `Closed` (QUIT answered). A connection that ends after this
    /// point ended normally.
    pub fn is_closed(&self) -> bool {
        matches!(self.phase, Phase::Closed)
    }

    /// Whether the transport is encrypted (implicit TLS or completed STARTTLS).
    pub fn is_encrypted(&self) -> bool {
        self.encrypted
    }

    /// The capabilities in force (empty before the first EHLO reply).
    pub fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    /// The message whose final `.` was sent and whose reply has not come. If the session ends
    /// now, for any reason, this message **may have been sent**.
    pub fn in_doubt(&self) -> Option<MessageId> {
        self.mail.in_doubt()
    }

    /// The driver saw the connection end (EOF or a transport error). Returns the error that
    /// says what was lost: the phase, the message in doubt and the messages not sent. Call
    /// [`is_closed`](Client::is_closed) first: after `Closed` the end is normal.
    pub fn connection_lost(&mut self) -> SmtpError {
        let err = SmtpError::ConnectionLost {
            during: self.phase.name(),
            in_doubt: self.mail.in_doubt(),
            unsent: self.mail.unsent(),
        };
        if self.failed.is_none() && !self.is_closed() {
            self.fail(err.clone());
        }
        err
    }

    fn check_ready(&self) -> Result<(), SmtpError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        match self.phase {
            Phase::Ready => Ok(()),
            Phase::Closed => Err(UsageError::Closed.into()),
            _ => Err(UsageError::NotReady.into()),
        }
    }

    fn fail(&mut self, err: SmtpError) {
        self.failed = Some(err);
        self.phase = Phase::Failed;
    }

    /// One unit of progress; `Ok(false)` means more input is needed.
    fn step(&mut self) -> Result<bool, SmtpError> {
        match self.phase {
            Phase::Closed | Phase::Failed => return Ok(false),
            Phase::AwaitTls if self.reader.buffered() > 0 => {
                return Err(ProtocolError::DataAfterStartTls.into());
            }
            Phase::AwaitTls => return Ok(false),
            _ => {}
        }
        let limits = Limits {
            max_line: self.config.max_line,
            max_lines: self.config.max_reply_lines,
            max_reply: self.config.max_reply,
        };
        let Some(reply) = self.reader.next_reply(limits)? else {
            return Ok(false);
        };
        self.replies_read += 1;
        if matches!(self.phase, Phase::Ready) {
            self.on_mail_reply(reply)?;
        } else {
            self.on_handshake_reply(reply)?;
        }
        Ok(true)
    }

    /// Whole replies read so far (several may come before the next event).
    #[cfg(feature = "blocking")]
    pub(crate) fn replies_read(&self) -> u64 {
        self.replies_read
    }

    /// A 421 ends the session whatever it answers (RFC 5321 section 3.8): the server closes.
    fn closing(&self, stage: Stage, reply: Reply) -> SmtpError {
        SmtpError::Server(ServerError::new(stage, reply, self.encrypted, None))
    }

    fn put(&mut self, bytes: &[u8]) {
        self.outgoing.extend_from_slice(bytes);
    }
}
