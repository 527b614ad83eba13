//! Helpers for the SMTP tests: the servers, TLS with the run's CA, a session of the library's
//! SMTP client (`postbag_protocol::smtp::blocking`), and a mailbox read back over POP3.

pub use std::sync::Arc;

use postbag_protocol::pop3;
use postbag_protocol::pop3::blocking::Reply as Pop3Reply;
pub use postbag_protocol::smtp::blocking::{DriverError, Outcome, Session, Stream};
pub use postbag_protocol::smtp::{
    AuthMechanism, AuthPolicy, ClientConfig, Envelope, RecipientStatus, Secret, ServerErrorKind,
    SmtpError, TlsState, UnsendableError,
};
pub use postbag_tests::postfix::{self, Postfix};
pub use postbag_tests::{Dovecot, TestUser};

/// How the session reaches TLS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tls {
    /// The submission port (587 role): plain, then STARTTLS before anything else.
    StartTls,
    /// The submissions port (465 role): TLS before the greeting.
    Implicit,
}

/// Dovecot and Postfix for one test, and two users.
pub struct Servers {
    // Postfix first: it is dropped before the Dovecot it delivers to.
    pub postfix: Postfix,
    pub dovecot: Dovecot,
    pub alice: TestUser,
    pub bob: TestUser,
}

impl Servers {
    pub fn start() -> Servers {
        let dovecot = Dovecot::start();
        let postfix = Postfix::start(&dovecot);
        let alice = dovecot.new_user();
        let bob = dovecot.new_user();
        Servers {
            postfix,
            dovecot,
            alice,
            bob,
        }
    }

    pub fn tls(&self) -> Arc<rustls::ClientConfig> {
        tls_config(self.dovecot.ca_der())
    }

    /// An SMTP session of the library's client logged in as `user` with `password`.
    pub fn login(
        &self,
        tls: Tls,
        user: &TestUser,
        password: &str,
        auth: AuthPolicy,
    ) -> Result<Session, DriverError> {
        let mut config = ClientConfig::new(user.name.clone(), Secret::new(password.to_string()));
        config.auth = auth;
        // SCRAM needs a client nonce; the other policies keep Auto's choice without SCRAM.
        if matches!(auth, AuthPolicy::ScramSha1 | AuthPolicy::ScramSha256) {
            config.scram_nonce = Some("c210cC1ub25jZS0xMjM0NTY3OA".into());
        }
        let config_tls = self.tls();
        let mut upgrade = |s: Box<dyn Stream>| wrap_tls(s, &config_tls);
        let stream: Box<dyn Stream> = match tls {
            Tls::StartTls => {
                config.want_starttls = true;
                Box::new(tcp(self.postfix.submission_addr()))
            }
            Tls::Implicit => {
                config.want_starttls = false;
                config.tls = TlsState::Implicit;
                wrap_tls(Box::new(tcp(self.postfix.submissions_addr())), &config_tls).unwrap()
            }
        };
        Session::connect(stream, config, Some(&mut upgrade))
    }

    /// Logged in as alice, or the test fails with Postfix's log.
    pub fn alice(&self, tls: Tls) -> Session {
        self.login(tls, &self.alice, &self.alice.password, AuthPolicy::Auto)
            .unwrap_or_else(|e| panic!("login: {e}\n{}", self.postfix.log()))
    }

    /// Sends one message from alice to `to` in `session`, with nothing to record at the
    /// commit. A failure shows Postfix's log.
    pub fn send(&self, session: &mut Session, to: &[String], message: &[u8]) -> Outcome {
        let envelope = Envelope::new(address(&self.alice), to.to_vec());
        session
            .send(envelope, message.to_vec(), |_| Ok(()))
            .unwrap_or_else(|e| panic!("send: {e}\n{}", self.postfix.log()))
    }

    /// Every message in `user`'s mailbox, as POP3 RETR serves it, once `count` have arrived.
    pub fn mailbox(&self, user: &TestUser, count: usize) -> Vec<Vec<u8>> {
        self.postfix.wait_for_messages(&self.dovecot, user, count);
        let mut config =
            pop3::ClientConfig::new(user.name.clone(), Secret::new(user.password.clone()));
        config.want_starttls = true;
        let tls = self.tls();
        let mut upgrade = |s: Box<dyn Stream>| wrap_tls(s, &tls);
        let stream = Box::new(tcp(self.dovecot.pop3_addr()));
        let mut session = pop3::blocking::Session::login(stream, config, Some(&mut upgrade))
            .unwrap_or_else(|e| panic!("POP3 login of {}: {e}", user.name));
        let retr: Vec<pop3::Command> = (1..=count as u32).map(pop3::Command::Retr).collect();
        let messages = session
            .execute(&retr)
            .unwrap()
            .into_iter()
            .map(|reply| match reply {
                Pop3Reply::Message(m) => m,
                other => panic!("RETR: {other:?}"),
            })
            .collect();
        assert!(session.quit().unwrap());
        messages
    }
}

#[path = "../common/tls.rs"]
mod tls;
pub use tls::{tcp, tls_config, wrap_tls};

/// The address of `user`'s mailbox.
pub fn address(user: &TestUser) -> String {
    Postfix::address(user)
}

/// A message as a mail client would submit it, with a line that needs dot-stuffing.
pub fn message(from: &str, to: &str, subject: &str) -> Vec<u8> {
    format!(
        "From: Alice <{from}>\r\n\
         To: Bob <{to}>\r\n\
         Subject: {subject}\r\n\
         Date: Wed, 02 Dec 2026 10:00:00 +0000\r\n\
         Message-ID: <{subject}@client.postbag.test>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         \r\n\
         Hello Bob,\r\n\
         .a line that starts with a dot\r\n\
         \r\n\
         -- \r\n\
         Alice\r\n"
    )
    .into_bytes()
}

/// The delivered copy is the submitted message with trace fields before it, and nothing else
/// changed: Postfix adds Received, Dovecot's LMTP Return-Path, Delivered-To and Received.
pub fn assert_delivered_intact(delivered: &[u8], submitted: &[u8], envelope_from: &str) {
    assert!(
        delivered.ends_with(submitted),
        "the delivered message does not end with the submitted one:\n{}",
        String::from_utf8_lossy(delivered)
    );
    let trace = String::from_utf8_lossy(&delivered[..delivered.len() - submitted.len()]);
    assert!(
        trace.starts_with(&format!("Return-Path: <{envelope_from}>\r\n")),
        "{trace}"
    );
    for line in trace.lines().filter(|l| !l.starts_with([' ', '\t'])) {
        let name = line.split(':').next().unwrap();
        assert!(
            ["Return-Path", "Delivered-To", "Received"].contains(&name),
            "unexpected field added in delivery: {line}"
        );
    }
}
