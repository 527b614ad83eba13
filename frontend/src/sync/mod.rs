//! The sync engine: drives the protocol crate's POP3 client over a [`Transport`] and keeps the
//! store's UIDL ledger.

mod engine;
mod explain;
mod plan;
mod transport;

pub use engine::{
    Cancel, Outcome, Progress, Session, SessionMode, SyncError, client_config, probe, sync,
};
pub use explain::{Explained, explain};
pub use plan::{Plan, plan};
pub use transport::{Transport, TransportError};
