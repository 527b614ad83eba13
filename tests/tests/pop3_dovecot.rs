//! The POP3 client core against a real Dovecot: every transport (plain, STLS, POP3S), every
//! login method Dovecot offers, byte-exact RETR and TOP, UIDL stability, DELE semantics,
//! typed login errors, pipelined vs lockstep, and the `fetch` example end to end.
//!
//! The client runs through `postbag_protocol::pop3::blocking`, the library's own small driver
//! over `std::net::TcpStream` + rustls.
//!
//! One test binary; the modules live in `tests/tests/pop3/`.

// TLS setup, the login builder, small helpers.
#[path = "pop3/support.rs"]
mod support;
// Logins over every transport, byte-exact RETR, TOP, UIDL stability, DELE/QUIT semantics.
#[path = "pop3/session.rs"]
mod session;
// SCRAM-SHA-256 and SCRAM-SHA-1 logins, for a user stored as a SCRAM hash too.
#[path = "pop3/scram.rs"]
mod scram;
// The `fetch` example end to end.
#[path = "pop3/fetch_example.rs"]
mod fetch_example;
// The `fetch` example against hostile scripted servers (no Dovecot): whole files only, bounded
// time, distinct safe names, past a failing message; a pinned self-signed certificate.
#[path = "pop3/fetch_hostile.rs"]
mod fetch_hostile;
// Recorded transcripts replayed whole and byte by byte (fuzz seeds); a scripted server.
#[path = "pop3/transcripts.rs"]
mod transcripts;
