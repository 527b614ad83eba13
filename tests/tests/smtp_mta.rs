//! The SMTP client (`postbag_protocol::smtp`, its blocking driver) and the `send` example
//! against a real Postfix (postbag_tests::postfix) in front of the real Dovecot: over STARTTLS
//! and implicit TLS, authenticated through Dovecot, delivered by LMTP into the Maildir that POP3
//! then serves; and the refusals a client must name: a refused recipient among accepted ones,
//! a message over SIZE, a wrong password.
//!
//! One test binary; the modules live in `tests/tests/smtp/`.

// The servers, TLS setup, a client session, reading a mailbox over POP3.
#[path = "smtp/support.rs"]
mod support;
// A hand-written SMTP conversation, for the MTA's own refusals.
#[path = "smtp/raw.rs"]
mod raw;
// A message from alice reaches bob's POP3 mailbox, over each TLS mode and login method.
#[path = "smtp/delivery.rs"]
mod delivery;
// Refusals as the client reports them: recipient (550), SIZE, password (535).
#[path = "smtp/refusals.rs"]
mod refusals;
// The MTA itself: 552 declared and undeclared, TLS before AUTH, no relaying without login.
#[path = "smtp/mta.rs"]
mod mta;
// The `send` example end to end: delivered, a refused recipient, a wrong password.
#[path = "smtp/send_example.rs"]
mod send_example;
