//! The SMTP submission client (RFC 5321, RFC 6409) as a sans-I/O state machine, in the shape
//! of the POP3 one: bytes in, events and bytes out, no clock, no socket.
//!
//! The caller owns the connection: it feeds received bytes to [`Client::receive`], drains
//! [`Client::next_event`], writes what [`Client::take_outgoing`] returns, upgrades the transport
//! when asked ([`Event::StartTls`] then [`Client::tls_started`]) and sends messages once
//! [`Event::Ready`] arrived. Extensions: multi-line replies with enhanced status codes
//! (RFC 2034, 3463), STARTTLS (RFC 3207), AUTH PLAIN, LOGIN, CRAM-MD5, XOAUTH2, OAUTHBEARER
//! (RFC 4954), PIPELINING (RFC 2920), SIZE (RFC 1870), 8BITMIME (RFC 6152), SMTPUTF8
//! (RFC 6531).
//!
//! **The final `.` is a commit point the driver controls.** After the server's 354 the client
//! writes the body and stops before the `.` that ends it: [`Event::ReadyToCommit`]. The driver
//! records durably that the message *may have been sent*, then calls [`Client::commit`]. The
//! server's reply to the `.` becomes [`Event::Accepted`] or [`Event::Rejected`]; a connection
//! that breaks before that reply leaves the message in doubt
//! ([`SmtpError::ConnectionLost`]'s `in_doubt`, [`Client::in_doubt`]), and it must never be
//! sent again silently. A message that was not committed was not delivered.
//!
//! ```
//! use postbag_protocol::smtp::{Client, ClientConfig, Envelope, Event, Secret};
//!
//! let mut config = ClientConfig::new("alice", Secret::new("wonderland".to_string()));
//! config.want_starttls = false;
//! config.allow_plaintext_password = true; // only because this example is not encrypted
//! let mut client = Client::new(config);
//!
//! // A scripted server, one reply per round; a real driver reads from its socket instead.
//! let server: &[&[u8]] = &[
//!     b"220 mail.example.org ESMTP\r\n",
//!     b"250-mail.example.org\r\n250-PIPELINING\r\n250-SIZE 1000000\r\n250 AUTH PLAIN\r\n",
//!     b"235 2.7.0 Authentication successful\r\n",
//!     b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n",
//!     b"250 2.0.0 Ok: queued as 4XyZ\r\n",
//!     b"221 2.0.0 Bye\r\n",
//! ];
//! let mut wire = Vec::new();
//! let mut queued = None;
//! for reply in server {
//!     client.receive(reply);
//!     while let Some(event) = client.next_event().unwrap() {
//!         match event {
//!             Event::Ready { .. } => {
//!                 let envelope = Envelope::new("alice@example.org", ["bob@example.org"]);
//!                 client.send(envelope, b"Subject: hi\n\n.hello\n".to_vec()).unwrap();
//!             }
//!             Event::ReadyToCommit { message, .. } => {
//!                 // Here the app records "may have been sent" durably, then commits.
//!                 client.commit(message).unwrap();
//!             }
//!             Event::Accepted { reply, .. } => {
//!                 queued = Some(reply.text());
//!                 client.quit().unwrap();
//!             }
//!             _ => {}
//!         }
//!     }
//!     if let Some(bytes) = client.take_outgoing() {
//!         wire.extend(bytes); // write these bytes to the socket
//!     }
//! }
//! assert_eq!(queued.as_deref(), Some("Ok: queued as 4XyZ"));
//! assert!(client.is_closed());
//! let wire = String::from_utf8(wire).unwrap();
//! assert!(wire.contains("MAIL FROM:<alice@example.org> SIZE=23\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n"));
//! assert!(wire.ends_with("Subject: hi\r\n\r\n..hello\r\n.\r\nQUIT\r\n"));
//! ```

mod auth;
mod capabilities;
mod client;
mod config;
mod envelope;
mod error;
mod event;
mod reply;

#[cfg(feature = "blocking")]
pub mod blocking;
#[cfg(any(test, feature = "blocking"))]
crate::sans_io::sans_io!(Client, Event, SmtpError);

#[cfg(test)]
mod transcript_tests;

/// The SASL mechanisms; the same type the POP3 client maps its SASL methods to.
pub use crate::sasl::SaslMechanism as AuthMechanism;
/// The crate's one secret type, here too for symmetry with `pop3::Secret`.
pub use crate::secret::Secret;
pub use auth::AuthPolicy;
pub use capabilities::Capabilities;
pub use client::Client;
pub use config::{ClientConfig, Credentials, TlsState};
pub use envelope::Envelope;
pub use error::{
    ProtocolError, ServerError, ServerErrorKind, SmtpError, UnsendableError, UsageError,
};
pub use event::{Event, MessageId, Recipient, RecipientStatus};
pub use reply::{EnhancedCode, Reply};
