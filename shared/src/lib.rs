//! Postbag's protocol crate: no I/O, no clock, no sockets.
//!
//! - [`pop3`]: the POP3 client as a sans-I/O state machine (bytes in, events and bytes out).
//! - [`smtp`]: the SMTP submission client, in the same shape.
//! - `blocking` (feature `blocking`): what the two blocking drivers share: the stream types,
//!   the per-reply time limit (`Pace`) and the loop that feeds a client from a stream.
//! - [`tunnel`]: the messages the web app and the proxy exchange over the WebSocket tunnel.
//!
//! Architecture invariant: nothing in this crate touches the network, the file system or a
//! clock, so the same code runs in the browser (wasm32), in native tests and in tools.

#[cfg(feature = "blocking")]
pub mod blocking;
pub mod pop3;
#[cfg(any(test, feature = "blocking"))]
mod sans_io;
mod sasl;
mod secret;
pub mod smtp;
mod tls_state;
#[cfg(test)]
mod transcript;
pub mod tunnel;

pub use sasl::SaslMechanism;
/// SCRAM's errors, limits and the nonce helper, for callers that configure a `scram_nonce`.
pub use sasl::scram;
pub use secret::Secret;
pub use tls_state::TlsState;
