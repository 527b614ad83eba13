//! What the client tells its driver.

use super::capabilities::Capabilities;
use super::error::ServerError;
use super::reply::Reply;
use crate::sasl::SaslMechanism;

/// The handle of a message given to [`Client::send`](super::Client::send). Handles count up
/// from 1 in one session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MessageId(pub u64);

/// The answer to one `RCPT TO`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recipient {
    /// The address as given in the envelope.
    pub address: String,
    pub status: RecipientStatus,
}

/// Whether the server takes mail for a recipient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecipientStatus {
    /// 250 (or 251/252): the server takes it.
    Accepted(Reply),
    /// Refused: 550 5.1.1 no such user, 450 mailbox busy, ... (`address` is set).
    Refused(ServerError),
}

impl Recipient {
    /// Whether the server took this recipient.
    pub fn accepted(&self) -> bool {
        matches!(self.status, RecipientStatus::Accepted(_))
    }
}

/// An event from [`Client::next_event`](super::Client::next_event).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The server greeted with 220.
    Greeting { text: String },
    /// An EHLO reply (or what a HELO reply tells); sent again after STARTTLS.
    Capabilities(Capabilities),
    /// The server accepted `STARTTLS`: the driver must run the TLS handshake on the same
    /// connection now, then call [`Client::tls_started`](super::Client::tls_started).
    StartTls,
    /// AUTH succeeded with this mechanism.
    Authenticated { mechanism: SaslMechanism },
    /// Messages may be sent. `capabilities` are the ones in force (after STARTTLS, the
    /// encrypted session's).
    Ready { capabilities: Capabilities },
    /// The server took the envelope and said 354; the body is written except its final
    /// `.`. Nothing is delivered until the driver calls
    /// [`Client::commit`](super::Client::commit). Record durably that this message "may have
    /// been sent" first: from the commit on, a cut connection leaves it in doubt.
    ReadyToCommit {
        message: MessageId,
        recipients: Vec<Recipient>,
    },
    /// The server took the message: `reply` is its 250 (usually with a queue id).
    /// `recipients` says who it goes to; refused ones are not among its recipients.
    Accepted {
        message: MessageId,
        reply: Reply,
        recipients: Vec<Recipient>,
    },
    /// The message was not taken, and nothing of it will be delivered. `reply` is the refusal
    /// that decided: the sender's, the first recipient's when every recipient was refused,
    /// DATA's, or the reply to the final `.`.
    Rejected {
        message: MessageId,
        reply: ServerError,
        recipients: Vec<Recipient>,
    },
    /// The reply to `QUIT`: the session is over.
    Closed,
}
