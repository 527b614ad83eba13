//! How a sync fails.

use postbag_protocol::pop3::Pop3Error;

use super::report::During;
use crate::store::StoreError;
use crate::tunnel::TransportError;

#[derive(Debug, Clone, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error(transparent)]
    Pop3(#[from] Pop3Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Without UIDL, and without TOP to name messages by their headers, there is no safe way
    /// to know which messages are already here.
    #[error("the server supports neither UIDL nor TOP")]
    NoUidl,
    /// One message without a listed size grew larger than the app keeps in memory before
    /// committing it; the sync stops rather than exhaust the tab. Nothing is deleted for it.
    #[error("message {msg} is larger than {limit} bytes")]
    MessageTooLarge { msg: u32, limit: u64 },
    /// The server sent far more for one message than it listed: its fault (an endless reply),
    /// and the stream cannot be trusted past it. Nothing of that message is stored.
    #[error("message {msg} was listed at {listed} bytes, the server sent over {received}")]
    Overrun {
        msg: u32,
        listed: u64,
        received: u64,
    },
    /// Headers-first: the server sent more than `limit` bytes for the start of a message
    /// (`TOP n 40`), ignoring the line count. Stopped before it sent the whole over a slow or
    /// metered link; nothing of that message is stored.
    #[error("message {msg}: the server sent over {limit} bytes for its start")]
    StartOverrun { msg: u32, limit: u64 },
    /// A reply was too slow: no byte, or fewer than [`super::Limits::min_bytes_per_s`] on
    /// average, after [`super::Limits::reply_grace_ms`].
    #[error("the server answered too slowly during {during:?} ({bytes} bytes in {waited_ms} ms)")]
    TooSlow {
        during: During,
        waited_ms: u64,
        bytes: u64,
        online: bool,
    },
    /// "Download the rest": the server no longer lists the message's UIDL (deleted there, by
    /// another program or an expiry). The partial copy stays as it is.
    #[error("the message is no longer on the server")]
    NotOnServer,
    /// "Download the rest": the server lists the UIDL, but what it sent is another message
    /// (other Message-ID, Date or From than the partial copy's). Nothing was replaced.
    #[error("the server holds another message under this message's UIDL")]
    NotTheSame,
    /// "Download the rest": the whole message is larger than the most one message may be.
    #[error("the whole message ({size} bytes) is larger than {limit} bytes")]
    RestTooLarge { size: u64, limit: u64 },
    /// The connection was established, then ended in the middle of the session. `cause` is
    /// the transport's error (`None`: closed without one); `online` is the browser's view of
    /// the network at that moment.
    #[error("the connection was cut during {during:?}")]
    Cut {
        during: During,
        cause: Option<TransportError>,
        online: bool,
    },
}
