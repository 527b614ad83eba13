//! What the client tells its driver.

use super::auth::AuthMechanism;
use super::capabilities::{Capabilities, Expire};
use super::command::CommandId;
use super::error::ServerError;

/// An event from [`Client::next_event`](super::Client::next_event).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The server greeted with `+OK`. `apop_timestamp` is the `<...>` part, if any.
    Greeting {
        apop_timestamp: Option<String>,
        text: String,
    },
    /// A `CAPA` reply (sent after the greeting, after STLS and after login).
    Capabilities(Capabilities),
    /// The server accepted `STLS`: the driver must run the TLS handshake on the same
    /// connection now, then call [`Client::tls_started`](super::Client::tls_started).
    StartTls,
    /// Login succeeded with this mechanism.
    Authenticated { mechanism: AuthMechanism },
    /// The TRANSACTION state is reached: commands may be enqueued. `login_delay` and `expire`
    /// are the server's policies for this user (from CAPA after login when available).
    Ready {
        login_delay: Option<u32>,
        expire: Option<Expire>,
    },
    /// Reply to `STAT`.
    Stat {
        id: CommandId,
        count: u32,
        size: u64,
    },
    /// Reply to `LIST` (all entries) or `LIST n` (one entry).
    List {
        id: CommandId,
        entries: Vec<(u32, u64)>,
    },
    /// Reply to `UIDL` (all entries) or `UIDL n` (one entry). UIDLs are opaque strings.
    Uidl {
        id: CommandId,
        entries: Vec<(u32, String)>,
    },
    /// A `RETR` or `TOP` body begins. `size` is the octet count the server announced on the
    /// `+OK` line, if it did (useful for progress; not trusted for anything else).
    MessageStart {
        id: CommandId,
        msg: u32,
        size: Option<u64>,
    },
    /// Part of a `RETR` or `TOP` body: dot-unstuffed, line ends as sent, at most
    /// `max_chunk` bytes.
    MessageChunk { id: CommandId, bytes: Vec<u8> },
    /// The body is complete.
    MessageEnd { id: CommandId },
    /// `DELE` succeeded: the message is marked, and removed once `QUIT` commits.
    Deleted { id: CommandId, msg: u32 },
    /// `RSET` succeeded.
    Reset { id: CommandId },
    /// `NOOP` succeeded.
    Noop { id: CommandId },
    /// The server answered `-ERR` to a transaction command; the session continues.
    CommandFailed { id: CommandId, error: ServerError },
    /// The reply to `QUIT`: `committed` is true when the UPDATE state removed the messages
    /// marked for deletion (`+OK`), false when the server reported a failure (`-ERR`).
    Closed { committed: bool },
}
