//! The sync engine: drives the protocol crate's POP3 client over a [`Transport`] and keeps the
//! store's UIDL ledger.
//!
//! - `engine`: the public types and entry points ([`probe`], [`sync`], [`sync_with`] and its
//!   [`Limits`]), what a sync reports ([`Progress`], [`Outcome`] with its [`Notice`]s) and how
//!   it fails ([`SyncError`], [`During`]).
//! - `run`: one session's loop and event handling (the pace of replies, Cancel, `TOP n 0`
//!   confirmations); `batch`: messages awaiting their commit; `wait`: waiting for bytes, a
//!   commit or the timer tick at once.
//! - `plan`: what to download, confirm, delete, keep or forget (pure); `explain`: errors,
//!   notices and progress in the user's words.

mod batch;
mod engine;
mod explain;
mod plan;
mod run;
mod transport;
mod wait;

pub use engine::{
    Cancel, During, Limits, MAX_MESSAGE_BYTES, Notice, Outcome, Progress, Session, SessionMode,
    SyncError, client_config, probe, sync, sync_with,
};
pub use explain::{Explained, explain, notice};
pub use plan::{Confirm, Download, GONE_GRACE_MS, Plan, SetAside, plan, set_aside_key};
pub use transport::{Refusal, Transport, TransportError};
pub use wait::{unless_cancelled, within};
