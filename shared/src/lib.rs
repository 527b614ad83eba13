//! Postbag's protocol crate: no I/O, no clock, no sockets.
//!
//! - [`pop3`]: the POP3 client as a sans-I/O state machine (bytes in, events and bytes out).
//! - [`smtp`]: the SMTP submission client, in the same shape.
//! - [`tunnel`]: the messages the web app and the proxy exchange over the WebSocket tunnel.
//!
//! Architecture invariant: nothing in this crate touches the network, the file system or a
//! clock, so the same code runs in the browser (wasm32), in native tests and in tools.

pub mod pop3;
mod sasl;
mod secret;
pub mod smtp;
pub mod tunnel;

pub use sasl::SaslMechanism;
pub use secret::Secret;
