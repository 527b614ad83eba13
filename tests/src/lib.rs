//! Fixtures shared by Postbag's integration tests. Everything here is real: a Dovecot POP3
//! server started from its own config file, a Postfix MTA in front of it, certificates from a
//! per-run CA, and RFC 5322 messages built the way mail clients send them.

pub mod certs;
pub mod dovecot;
// Mail-server stand-ins that stream, answer or hold, for the relay bench.
pub mod fake_upstreams;
// Mail that attacks the reader (cid injection, amplification, hidden parts, remote content).
pub mod hostile_mail;
pub mod messages;
// One POP3 login with an OAuth token over POP3S (the e2e fixture's `oauth-login`, OIDC tests).
pub mod pop3_oauth;
// A private Postfix instance: SMTP submission (STARTTLS and implicit TLS) into Dovecot's Maildirs.
pub mod postfix;
// Starting the proxy (postbag_proxy::run on its own thread) and opening tunnels through it,
// for the proxy tests (tests/tests/proxy.rs) and the e2e fixture.
pub mod proxy_harness;
// Login refusals Dovecot cannot be made to give (LOGIN-DELAY, IN-USE), for the e2e tests.
pub mod scripted_pop3;
// A native client of the proxy tunnel and a POP3 driver over it (proxy tests).
pub mod ws_client;

pub use dovecot::{Dovecot, TestUser};
pub use postfix::Postfix;
