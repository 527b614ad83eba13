//! What a sync is asked to do ([`SyncRequest`]) and within which bounds ([`Limits`]), how the
//! user stops it ([`Cancel`]), and what it tells the screen as it goes ([`Observer`]).

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use postbag_protocol::pop3::ClientConfig;
use postbag_protocol::tunnel::TlsInfo;

use super::report::Progress;
use crate::disk_copy::DiskGate;
use crate::store::{Account, Store, Summary};

/// One sync of one account: everything [`super::sync`] needs, in one value.
pub struct SyncRequest<'a> {
    pub store: &'a Store,
    pub account: &'a Account,
    /// The client configuration (`crate::account::client_config`); its password is used for
    /// this session only.
    pub config: ClientConfig,
    /// What the proxy reported about an implicit TLS connection, if it is one.
    pub tls: Option<TlsInfo>,
    /// The driver's clock at the start (ledger dates, the 30 days a gone line is kept).
    pub now_ms: f64,
    pub limits: Limits,
    pub cancel: &'a dyn Cancel,
    pub observer: &'a mut dyn Observer,
    /// The live copy on disk, when it is on: what is committed is also written there, and a
    /// message is DELEd only once it is in the folder too.
    pub disk: Option<&'a DiskGate>,
}

/// The engine's own bounds on time and size. The defaults suit real servers; tests shrink them.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    /// How long a reply may take before its pace is judged (server think time, slow links).
    pub reply_grace_ms: f64,
    /// After that grace a reply must average at least this many bytes per second, or the
    /// session ends ([`super::SyncError::TooSlow`]). A server dripping a byte a second is
    /// caught after the grace; an offline network that never closes the socket likewise.
    pub min_bytes_per_s: f64,
    /// The largest message downloaded. Larger ones are skipped from their listed size.
    pub max_message_bytes: u64,
    /// After Cancel, how long replies still owed (DELE, QUIT) may take before the connection
    /// is closed without QUIT (nothing is then deleted in this session).
    pub cancel_grace_ms: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            reply_grace_ms: 30_000.0,
            min_bytes_per_s: 1024.0,
            max_message_bytes: MAX_MESSAGE_BYTES,
            cancel_grace_ms: 2_000.0,
        }
    }
}

/// The largest message one sync holds in memory (and stores). Far above real mail (providers
/// cap messages at 25-50 MB) and far below what a hostile server could make the tab allocate.
pub const MAX_MESSAGE_BYTES: u64 = 128 << 20;

/// Asked while messages download (per received chunk, and every 100 ms while the network is
/// quiet). Once true, no further downloads start. If a download is under way, the connection
/// is closed at once without QUIT: the server deletes nothing in that session, what was
/// received completely is kept, and the next sync deletes it on the server (per the policy).
/// With nothing under way, the session commits, DELEs and QUITs as usual, unless the server
/// leaves those replies unanswered for [`Limits::cancel_grace_ms`]: then the connection is
/// closed without QUIT too (nothing deleted in this session), so Cancel always ends a sync.
pub trait Cancel {
    fn cancelled(&self) -> bool;
}

/// Nothing cancels (the connection test).
pub struct NeverCancel;

impl Cancel for NeverCancel {
    fn cancelled(&self) -> bool {
        false
    }
}

impl Cancel for Cell<bool> {
    fn cancelled(&self) -> bool {
        self.get()
    }
}

/// The user's Cancel for one run (a sync, an export, an import): the model keeps one clone
/// (its Cancel button sets it), the running work reads the other.
#[derive(Clone, Debug, Default)]
pub struct CancelHandle(Rc<Cell<bool>>);

impl CancelHandle {
    pub fn cancel(&self) {
        self.0.set(true);
    }
}

impl Cancel for CancelHandle {
    fn cancelled(&self) -> bool {
        self.0.get()
    }
}

/// A pending answer from outside the engine.
pub type Answer = Pin<Box<dyn Future<Output = bool>>>;

/// What a sync tells the screen while it runs, and the one thing it asks it.
pub trait Observer {
    /// How far the sync is (see [`Progress`]).
    fn progress(&mut self, _progress: &Progress) {}
    /// A batch's transaction completed: these messages are stored here (in commit order).
    fn committed(&mut self, _summaries: &[Summary]) {}
    /// The server announced `LOGIN-DELAY` (RFC 2449), before or after login: told even when
    /// the login is then refused, so a scheduler never logs in again too soon.
    fn login_delay(&mut self, _seconds: u32) {}
    /// Asked once, when the plan is made and before any download, with the bytes it will
    /// download: whether they fit in the storage left. `false` stops the sync as Cancel does
    /// before a download (nothing is downloaded; confirmations already asked still finish).
    fn room_for(&mut self, _bytes: u64) -> Answer {
        Box::pin(std::future::ready(true))
    }
}

/// Tells nothing, fits everything.
impl Observer for () {}

/// Progress only (tests).
impl<F: FnMut(&Progress)> Observer for F {
    fn progress(&mut self, progress: &Progress) {
        self(progress)
    }
}
