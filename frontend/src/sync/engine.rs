//! The sync engine's public face: what a session reports, how it fails, and the two entry points
//! ([`probe`], [`sync`]). The session itself runs in [`super::run`].
//!
//! Architecture invariant: `Command::Dele` is enqueued only (a) for a UIDL the ledger already
//! holds (its message's transaction completed in an earlier session) AND whose `TOP n 0`
//! headers in this session show the same message as the stored one (Message-ID, Date, From:
//! `crate::store::identity`; a server may reuse a UIDL even at the same size), or (b) for the
//! messages of a batch whose [`crate::store::Commit`] has resolved, i.e. whose transaction
//! fired `complete`. A connection lost at any point therefore loses nothing: POP3 only removes
//! messages when QUIT commits, and everything marked before was already stored.
//!
//! Every sync ends by itself: the protocol crate has no clock, so the engine bounds time here
//! ([`Limits`]: a grace per reply and a minimum rate after it), and bounds what a reply may
//! hold (a message beyond its listed size is the server's fault). Cancel always ends it: at
//! once during a download, after [`Limits::cancel_grace_ms`] while deletions are answered.

use postbag_protocol::pop3::{
    AuthMechanism, Capabilities, ClientConfig, Pop3Error, Secret, TlsState,
};
use postbag_protocol::tunnel::TlsInfo;

use super::run::{Run, SyncCtx};
use super::transport::{Transport, TransportError};
use crate::store::{Account, Security, Store, StoreError};

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

pub(super) struct NeverCancel;

impl Cancel for NeverCancel {
    fn cancelled(&self) -> bool {
        false
    }
}

impl Cancel for std::cell::Cell<bool> {
    fn cancelled(&self) -> bool {
        self.get()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionMode {
    /// Log in, report what the server offers, STAT, QUIT. Touches nothing.
    Probe,
    /// Download new messages and apply the account's server policy.
    Sync,
}

/// What the session learnt about the server (shown by "test connection").
#[derive(Clone, Debug, Default)]
pub struct Session {
    pub tls: Option<TlsInfo>,
    pub greeting: String,
    pub capabilities: Option<Capabilities>,
    pub mechanism: Option<AuthMechanism>,
    pub login_delay: Option<u32>,
    pub pipelining: bool,
    pub count: Option<u32>,
    pub size: Option<u64>,
}

/// Reported when the plan is known, then at most every 50 ms while bytes arrive, and when the
/// last message is in.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Progress {
    pub done: u32,
    pub total: u32,
    pub bytes: u64,
    pub total_bytes: u64,
    /// Messages to delete on the server in this session (known when the plan is).
    pub deleting: u32,
}

impl Progress {
    /// What the sync is doing, in the user's words ("Downloading 2 of 5 · 1 MB of 3 MB",
    /// "Removing 3 messages from the server"). Never "Downloading 1 of 0".
    pub fn describe(&self) -> String {
        super::explain::progress(self)
    }
}

/// Something one message's sync did not do, told to the user with the result.
#[derive(Clone, Debug, PartialEq)]
pub enum Notice {
    /// Listed larger than the most one message may be: not downloaded, left on the server.
    TooLarge { msg: u32, size: u64, limit: u64 },
    /// The server answered `-ERR` to its `RETR`; `reason` is the server's text, escaped and
    /// truncated. Left on the server; the next sync tries again.
    NotDownloaded {
        msg: u32,
        size: Option<u64>,
        reason: String,
    },
    /// These messages share one UIDL: left alone (neither downloaded nor deleted).
    SharedUidl { msgs: Vec<u32> },
    /// Due for deletion, but its headers could not be compared with the stored message's (no
    /// `TOP`, or no Message-ID, Date or From on either side): left on the server.
    NotConfirmed { msg: u32 },
}

#[derive(Clone, Debug, Default)]
pub struct Outcome {
    pub session: Session,
    /// Messages stored here (committed) in this session.
    pub downloaded: u32,
    pub failed: u32,
    pub deleted_on_server: u32,
    pub cancelled: bool,
    /// What was not done for single messages, and why (see [`Notice`]).
    pub notices: Vec<Notice>,
}

/// Where in a session something happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum During {
    /// Greeting, capabilities, STARTTLS, login.
    Login,
    /// UIDL and LIST.
    Listing,
    /// Downloading the `k`th of the `of` messages of this sync (number `msg` on the server).
    Message { k: u32, of: u32, msg: u32 },
    /// Comparing headers (`TOP n 0`) of messages already stored.
    Checking,
    /// Marking messages for deletion (DELE).
    Deleting,
    /// QUIT, which commits the deletions.
    Closing,
}

/// The engine's own bounds on time and size. The defaults suit real servers; tests shrink them.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    /// How long a reply may take before its pace is judged (server think time, slow links).
    pub reply_grace_ms: f64,
    /// After that grace a reply must average at least this many bytes per second, or the
    /// session ends ([`SyncError::TooSlow`]). A server dripping a byte a second is caught
    /// after the grace; an offline network that never closes the socket likewise.
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

#[derive(Debug, Clone, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error(transparent)]
    Pop3(#[from] Pop3Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Without UIDL there is no safe way to know which messages are already here.
    #[error("the server does not support UIDL")]
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
    /// A reply was too slow: no byte, or fewer than [`Limits::min_bytes_per_s`] on average,
    /// after [`Limits::reply_grace_ms`].
    #[error("the server answered too slowly during {during:?} ({bytes} bytes in {waited_ms} ms)")]
    TooSlow {
        during: During,
        waited_ms: u64,
        bytes: u64,
        online: bool,
    },
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

/// The largest message one sync holds in memory (and stores). Far above real mail (providers
/// cap messages at 25-50 MB) and far below what a hostile server could make the tab allocate.
pub const MAX_MESSAGE_BYTES: u64 = 128 << 20;

/// The client configuration for an account; `password` is used for this session only.
pub fn client_config(account: &Account, password: Secret<String>) -> ClientConfig {
    let mut config = ClientConfig::new(account.username.clone(), password);
    match account.security {
        Security::Tls => {
            config.tls = TlsState::Implicit;
            config.want_starttls = false;
        }
        Security::StartTls => config.want_starttls = true,
        Security::None => {
            // The user chose "no encryption" after a plain warning.
            config.want_starttls = false;
            config.allow_plaintext_password = true;
        }
    }
    config
}

/// Logs in and reports what the server offers, without changing anything.
pub async fn probe<T: Transport>(
    transport: &mut T,
    config: ClientConfig,
    tls: Option<TlsInfo>,
) -> Result<Session, SyncError> {
    let mut run = Run::new(config, tls, SessionMode::Probe, Limits::default());
    run.drive(transport, None, &NeverCancel, &mut |_| {})
        .await?;
    Ok(run.outcome.session)
}

/// Downloads what the ledger lacks into `store` and applies the account's server policy.
#[allow(clippy::too_many_arguments)]
pub async fn sync<T: Transport>(
    transport: &mut T,
    store: &Store,
    account: &Account,
    config: ClientConfig,
    tls: Option<TlsInfo>,
    now_ms: f64,
    cancel: &dyn Cancel,
    on_progress: &mut dyn FnMut(&Progress),
) -> Result<Outcome, SyncError> {
    let limits = Limits::default();
    sync_with(
        transport,
        store,
        account,
        config,
        tls,
        now_ms,
        &limits,
        cancel,
        on_progress,
    )
    .await
}

/// [`sync`] within other [`Limits`] (tests make them small).
#[allow(clippy::too_many_arguments)]
pub async fn sync_with<T: Transport>(
    transport: &mut T,
    store: &Store,
    account: &Account,
    config: ClientConfig,
    tls: Option<TlsInfo>,
    now_ms: f64,
    limits: &Limits,
    cancel: &dyn Cancel,
    on_progress: &mut dyn FnMut(&Progress),
) -> Result<Outcome, SyncError> {
    let mut run = Run::new(config, tls, SessionMode::Sync, limits.clone());
    let ctx = SyncCtx {
        store,
        account,
        now_ms,
    };
    run.drive(transport, Some(&ctx), cancel, on_progress)
        .await?;
    Ok(run.outcome)
}
