//! The POP3 client (RFC 1939, 2449, 2595, 5034, 3206) as a sans-I/O state machine.
//!
//! The caller owns the connection: it feeds received bytes to [`Client::receive`], drains
//! [`Client::next_event`], writes what [`Client::take_outgoing`] returns, upgrades the transport
//! when asked ([`Event::StartTls`] then [`Client::tls_started`]) and enqueues commands once
//! [`Event::Ready`] arrived. No clock, no socket, no randomness: the same code runs in the
//! browser, in tests and in native tools.
//!
//! ```
//! use postbag_protocol::pop3::{Client, ClientConfig, Command, Event, Secret};
//!
//! let mut config = ClientConfig::new("mrose", Secret::new("tanstaaf".to_string()));
//! config.want_starttls = false;
//! config.allow_plaintext_password = true; // only because this example is not encrypted
//! let mut client = Client::new(config);
//!
//! // A scripted server, one reply per round; a real driver reads from its socket instead.
//! let server: &[&[u8]] = &[
//!     b"+OK POP3 server ready\r\n",
//!     b"+OK\r\nUSER\r\n.\r\n",   // CAPA
//!     b"+OK\r\n",                // USER
//!     b"+OK maildrop has 1 message\r\n", // PASS
//!     b"-ERR\r\n",               // CAPA after login: not supported, fine
//!     b"+OK 5 octets\r\n..hi\r\n.\r\n", // RETR 1
//!     b"+OK bye\r\n",            // QUIT
//! ];
//! let mut message = Vec::new();
//! for reply in server {
//!     client.receive(reply);
//!     while let Some(event) = client.next_event().unwrap() {
//!         match event {
//!             Event::Ready { .. } => {
//!                 client.enqueue(Command::Retr(1)).unwrap();
//!                 client.enqueue(Command::Quit).unwrap();
//!             }
//!             Event::MessageChunk { bytes, .. } => message.extend(bytes),
//!             Event::Closed { committed } => assert!(committed),
//!             _ => {}
//!         }
//!     }
//!     let _to_send = client.take_outgoing(); // write these bytes to the socket
//! }
//! assert_eq!(message, b".hi\r\n");
//! assert!(client.is_closed());
//! ```

mod apop;
mod auth;
mod capabilities;
mod client;
mod command;
mod config;
mod error;
mod event;
mod framer;
pub mod replay;
mod response_code;
mod retr_budget;
mod status;

#[cfg(feature = "blocking")]
pub mod blocking;
#[cfg(any(test, feature = "blocking"))]
crate::sans_io::sans_io!(Client, Event, Pop3Error);

#[cfg(test)]
mod transcript_tests;

/// The crate's one secret type, here too so that `pop3::Secret` keeps working.
pub use crate::secret::Secret;
pub use auth::{AuthMechanism, AuthPolicy};
pub use capabilities::{Capabilities, Expire};
pub use client::Client;
pub use command::{Command, CommandId};
pub use config::{ClientConfig, TlsState};
pub use error::{Pop3Error, ProtocolError, ServerError, ServerErrorKind, UsageError};
pub use event::Event;
pub use framer::{BodyPiece, Framer};
pub use response_code::ResponseCode;
pub use retr_budget::{BudgetLimits, MIN_RETR_CHARGE, RetrBudget};
