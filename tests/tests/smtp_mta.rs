//! Submission to a real Postfix (postbag_tests::postfix) in front of the real Dovecot: over
//! STARTTLS and implicit TLS, authenticated through Dovecot, delivered by LMTP into the Maildir
//! that POP3 then serves; and the refusals a client must name: a refused recipient among
//! accepted ones, a message over SIZE, a wrong password.
//!
//! One test binary; the modules live in `tests/tests/smtp/`.

// TLS setup, a raw SMTP conversation, reading a mailbox over POP3.
#[path = "smtp/support.rs"]
mod support;
// A message from alice reaches bob's POP3 mailbox, over each TLS mode.
#[path = "smtp/delivery.rs"]
mod delivery;
// Refusals: recipient (550), size (552), password (535), and no TLS before AUTH.
#[path = "smtp/refusals.rs"]
mod refusals;
