//! The sync engine: drives the protocol crate's POP3 client over a [`crate::tunnel::Transport`]
//! and keeps the store's UIDL ledger.
//!
//! - `engine`: the two entry points, [`probe`] and [`sync`] (one [`SyncRequest`]).
//! - `request`: what a sync is asked ([`SyncRequest`], [`Limits`]), how the user stops it
//!   ([`Cancel`], [`CancelHandle`]) and what it tells the screen ([`Observer`]); `report`:
//!   what it reports ([`Progress`], [`Outcome`] with its [`Notice`]s, [`Session`]); `error`:
//!   how it fails ([`SyncError`], [`During`]).
//! - `run`: one session as a state machine (LoggingIn → Listing → Downloading → Quitting, or
//!   Aborted), its loop and bounds (the pace of replies, Cancel, `TOP n 0` confirmations);
//!   `batch`: messages awaiting their commit; `wait`: waiting for bytes, a commit or the
//!   timer tick at once.
//! - `plan`: what to download, confirm, delete, keep or forget (pure); `explain`: errors,
//!   notices and progress in the user's words.
//!
//! Imports go one way: `engine` → `run` → (`request`, `report`, `error`, `batch`, `wait`,
//! `plan`); `sync` → `tunnel`, `store`, `mail`; nothing here imports the model or views.

mod batch;
mod engine;
mod error;
mod explain;
mod plan;
mod report;
mod request;
mod run;
mod wait;

pub use engine::{download_rest, probe, sync};
pub use error::SyncError;
pub use explain::{
    Credential, Explained, explain, explain_for, identity_note, notice, sign_in_expired,
};
pub use plan::{
    Confirm, Download, GONE_GRACE_MS, PARTIAL_GUESS, Plan, SetAside, SizeLimits, plan,
    set_aside_key,
};
pub use report::{During, Notice, Outcome, Progress, Session};
pub use request::{
    Answer, Cancel, CancelHandle, Limits, MAX_MESSAGE_BYTES, NeverCancel, Observer, SyncRequest,
};
pub use wait::unless_cancelled;
