//! The client state machine: bytes in, events and bytes out. The caller owns the socket.
//!
//! The session moves through phases (greeting, CAPA, STLS, authentication, transaction,
//! closed); each phase is a variant holding only what that phase needs. The handshake lives
//! in `handshake.rs`, the transaction queue in `transaction.rs`.

mod handshake;
mod transaction;

use std::collections::VecDeque;

use super::capabilities::Capabilities;
use super::command::{Command, CommandId};
use super::config::{ClientConfig, TlsState};
use super::error::{Pop3Error, ProtocolError, UsageError};
use super::event::Event;
use super::framer::Framer;
use handshake::Phase;
use transaction::Transaction;

/// A POP3 client session without I/O.
///
/// Feed received bytes with [`receive`](Client::receive), drain [`next_event`](Client::next_event)
/// until it returns `Ok(None)`, and write whatever [`take_outgoing`](Client::take_outgoing)
/// returns. See the [module documentation](super) for a complete driver loop.
///
/// `Debug` shows the session state but neither buffered mail nor pending output (which may
/// hold a password).
pub struct Client {
    config: ClientConfig,
    framer: Framer,
    outgoing: Vec<u8>,
    events: VecDeque<Event>,
    phase: Phase,
    /// The transport is encrypted (implicit TLS, or STLS completed).
    encrypted: bool,
    /// The latest CAPA reply; `None` while unknown or when the server has no CAPA.
    caps: Option<Capabilities>,
    apop_timestamp: Option<String>,
    transaction: Transaction,
    /// A fatal error ends the session; it is returned again on every later call.
    failed: Option<Pop3Error>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("user", &self.config.user)
            .field("phase", &self.phase)
            .field("encrypted", &self.encrypted)
            .field("framer", &self.framer)
            .field("outgoing_bytes", &self.outgoing.len())
            .field("pending_events", &self.events.len())
            .field("transaction", &self.transaction)
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A new session that waits for the server greeting. Nothing is sent before it arrives.
    pub fn new(config: ClientConfig) -> Client {
        let encrypted = config.tls == TlsState::Implicit;
        Client {
            config,
            framer: Framer::new(),
            outgoing: Vec::new(),
            events: VecDeque::new(),
            phase: Phase::Greeting,
            encrypted,
            caps: None,
            apop_timestamp: None,
            transaction: Transaction::default(),
            failed: None,
        }
    }

    /// Feeds bytes received from the server, in any chunking.
    pub fn receive(&mut self, bytes: &[u8]) {
        self.framer.push(bytes);
    }

    /// The next event, `Ok(None)` when more input is needed (or the session is over), or the
    /// error that ended the session. After an error every call returns that error again.
    pub fn next_event(&mut self) -> Result<Option<Event>, Pop3Error> {
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
                Err(err) => {
                    self.failed = Some(err);
                    self.phase = Phase::Failed;
                }
            }
        }
    }

    /// Bytes to write to the server, if any. Call after every `receive`/`next_event` round and
    /// after `enqueue` and `tls_started`.
    pub fn take_outgoing(&mut self) -> Option<Vec<u8>> {
        if self.outgoing.is_empty() {
            None
        } else {
            Some(std::mem::take(&mut self.outgoing))
        }
    }

    /// The driver completed the TLS handshake that [`Event::StartTls`] asked for. Anything
    /// received in the clear after the server's `+OK` is refused (it may have been injected by
    /// an attacker); the client re-issues CAPA (RFC 2595).
    pub fn tls_started(&mut self) -> Result<(), Pop3Error> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        if !matches!(self.phase, Phase::AwaitTls) {
            return Err(UsageError::UnexpectedTlsStarted.into());
        }
        if self.framer.buffered() > 0 {
            let err: Pop3Error = ProtocolError::DataAfterStartTls.into();
            self.failed = Some(err.clone());
            self.phase = Phase::Failed;
            return Err(err);
        }
        self.encrypted = true;
        self.send_capa(handshake::CapaStage::AfterTls);
        Ok(())
    }

    /// Queues a transaction command and returns its handle. Allowed once [`Event::Ready`] was
    /// produced. Commands are sent in order, several at once when the server announced
    /// PIPELINING (up to `pipeline_window`), otherwise one after the other.
    pub fn enqueue(&mut self, command: Command) -> Result<CommandId, Pop3Error> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        if !matches!(self.phase, Phase::Transaction) {
            return Err(if matches!(self.phase, Phase::Closed) {
                UsageError::Closed
            } else {
                UsageError::NotReady
            }
            .into());
        }
        if command.message_number() == Some(0) {
            return Err(UsageError::InvalidMessageNumber.into());
        }
        let id = self.transaction.enqueue(command)?;
        self.flush_commands();
        Ok(id)
    }

    /// Whether the session reached `Closed` (QUIT answered). A connection that ends after this
    /// point ended normally.
    pub fn is_closed(&self) -> bool {
        matches!(self.phase, Phase::Closed)
    }

    /// How many replies are owed: one per command written (or waiting in the outgoing bytes)
    /// whose reply has not been read to its end, the greeting counted as one. A driver that
    /// times a round trip needs a command written while nothing else was owed: the first
    /// bytes back could otherwise be an earlier reply's.
    pub fn replies_owed(&self) -> usize {
        match self.phase {
            Phase::Transaction => self.transaction.in_flight(),
            Phase::AwaitTls | Phase::Closed | Phase::Failed => 0,
            Phase::Greeting
            | Phase::Capa { .. }
            | Phase::StartTls
            | Phase::UserSent
            | Phase::PassSent
            | Phase::ApopSent
            | Phase::Sasl(..) => 1,
        }
    }

    /// Whether the server announced PIPELINING (so enqueued commands are sent together).
    pub fn is_pipelining(&self) -> bool {
        self.caps.as_ref().is_some_and(|c| c.pipelining)
    }

    /// Whether the transport is encrypted (implicit TLS or completed STLS).
    pub fn is_encrypted(&self) -> bool {
        self.encrypted
    }

    /// The driver saw the connection end (EOF or a transport error). Returns the error that
    /// describes what was lost: the phase and the commands still unanswered. Call
    /// [`is_closed`](Client::is_closed) first: after `Closed` the end is normal.
    pub fn connection_lost(&mut self) -> Pop3Error {
        let err = Pop3Error::ConnectionLost {
            during: self.phase.name(),
            in_flight: self.transaction.unanswered(),
        };
        if self.failed.is_none() && !self.is_closed() {
            self.failed = Some(err.clone());
            self.phase = Phase::Failed;
        }
        err
    }

    /// One unit of progress; `Ok(false)` means more input is needed.
    fn step(&mut self) -> Result<bool, Pop3Error> {
        match self.phase {
            Phase::Transaction => self.step_transaction(),
            Phase::Closed | Phase::Failed => Ok(false),
            Phase::AwaitTls => {
                if self.framer.buffered() > 0 {
                    Err(ProtocolError::DataAfterStartTls.into())
                } else {
                    Ok(false)
                }
            }
            _ => self.step_handshake(),
        }
    }

    /// Reads the next line, if complete.
    fn line(&mut self) -> Result<Option<Vec<u8>>, Pop3Error> {
        Ok(self.framer.line(self.config.max_line)?)
    }

    fn send(&mut self, line: &[u8]) {
        self.outgoing.extend_from_slice(line);
    }
}
