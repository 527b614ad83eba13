//! The sync engine's public face: what a session reports, how it fails, and the two entry points
//! ([`probe`], [`sync`]). The session itself runs in [`super::run`].
//!
//! Architecture invariant: `Command::Dele` is enqueued only (a) for a UIDL the ledger already
//! holds with the listed size, i.e. whose message transaction completed in an earlier session,
//! or (b) for the messages of a batch whose [`crate::store::Commit`] has resolved, i.e. whose
//! transaction fired `complete`. A connection lost at any point therefore loses nothing: POP3
//! only removes messages when QUIT commits, and everything marked before was already stored.

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
/// With nothing under way, the session commits, DELEs and QUITs as usual.
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
}

#[derive(Clone, Debug, Default)]
pub struct Outcome {
    pub session: Session,
    /// Messages stored here (committed) in this session.
    pub downloaded: u32,
    pub failed: u32,
    pub deleted_on_server: u32,
    pub cancelled: bool,
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
    /// One message is larger than the app keeps in memory before committing it; the sync stops
    /// rather than exhaust the tab. Nothing is deleted for it.
    #[error("message {msg} is larger than {limit} bytes")]
    MessageTooLarge { msg: u32, limit: u64 },
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
    let mut run = Run::new(config, tls, SessionMode::Probe);
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
    let mut run = Run::new(config, tls, SessionMode::Sync);
    let ctx = SyncCtx {
        store,
        account,
        now_ms,
    };
    run.drive(transport, Some(&ctx), cancel, on_progress)
        .await?;
    Ok(run.outcome)
}
