//! Fixtures shared by Postbag's integration tests. Everything here is real: a Dovecot POP3
//! server started from its own config file, certificates from a per-run CA, and RFC 5322
//! messages built the way mail clients send them.

pub mod certs;
pub mod dovecot;
pub mod messages;

pub use dovecot::{Dovecot, TestUser};
