//! Helpers shared by the POP3 integration tests: TLS setup and a login builder over the
//! library's blocking driver.

pub use std::net::TcpStream;
pub use std::path::PathBuf;
pub use std::sync::Arc;
pub use std::time::{Duration, Instant};

pub use postbag_protocol::pop3::blocking::{DriverError, Reply, Session, Stream};
pub use postbag_protocol::pop3::{
    AuthMechanism, AuthPolicy, ClientConfig, Command, Pop3Error, Secret, ServerErrorKind, TlsState,
};
pub use postbag_tests::{Dovecot, TestUser, messages};

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Transport {
    Plain,
    StartTls,
    Implicit,
}

#[path = "../common/tls.rs"]
mod tls;
pub use tls::{tcp, tls_config, wrap_tls};

/// Logs in with the given transport and settings.
pub struct Login<'a> {
    pub dovecot: &'a Dovecot,
    user: &'a TestUser,
    transport: Transport,
    auth: AuthPolicy,
    allow_plaintext: bool,
    window: usize,
    scram_nonce: Option<String>,
}

impl<'a> Login<'a> {
    pub fn new(dovecot: &'a Dovecot, user: &'a TestUser) -> Login<'a> {
        Login {
            dovecot,
            user,
            transport: Transport::StartTls,
            auth: AuthPolicy::Auto,
            allow_plaintext: false,
            window: 16,
            scram_nonce: None,
        }
    }

    pub fn transport(mut self, t: Transport) -> Self {
        self.transport = t;
        self
    }

    pub fn auth(mut self, a: AuthPolicy) -> Self {
        self.auth = a;
        self
    }

    pub fn allow_plaintext(mut self) -> Self {
        self.allow_plaintext = true;
        self
    }

    /// Lets the client use SCRAM with this nonce.
    pub fn scram_nonce(mut self, nonce: &str) -> Self {
        self.scram_nonce = Some(nonce.to_string());
        self
    }

    pub fn window(mut self, w: usize) -> Self {
        self.window = w;
        self
    }

    pub fn password(&self, password: &str) -> Result<Session, DriverError> {
        let mut config =
            ClientConfig::new(self.user.name.clone(), Secret::new(password.to_string()));
        config.auth = self.auth;
        config.allow_plaintext_password = self.allow_plaintext;
        config.pipeline_window = self.window;
        config.scram_nonce = self.scram_nonce.clone();
        config.want_starttls = self.transport == Transport::StartTls;
        let tls = tls_config(self.dovecot.ca_der());
        let mut upgrade = |s: Box<dyn Stream>| wrap_tls(s, &tls);
        let stream: Box<dyn Stream> = match self.transport {
            Transport::Implicit => {
                config.tls = TlsState::Implicit;
                wrap_tls(Box::new(tcp(self.dovecot.pop3s_addr())), &tls).unwrap()
            }
            _ => Box::new(tcp(self.dovecot.pop3_addr())),
        };
        Session::login(stream, config, Some(&mut upgrade))
    }

    pub fn ok(&self) -> Session {
        self.password(&self.user.password)
            .unwrap_or_else(|e| panic!("login failed: {e}\n{}", self.dovecot.log()))
    }
}

pub fn exec(session: &mut Session, commands: &[Command]) -> Vec<Reply> {
    session.execute(commands).unwrap()
}

pub fn retr_all(session: &mut Session, count: u32) -> Vec<Vec<u8>> {
    let cmds: Vec<Command> = (1..=count).map(Command::Retr).collect();
    exec(session, &cmds)
        .into_iter()
        .map(|r| match r {
            Reply::Message(m) => m,
            other => panic!("RETR: {other:?}"),
        })
        .collect()
}

pub fn wait_until(mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < deadline, "condition not reached in 10 s");
        std::thread::sleep(Duration::from_millis(100));
    }
}
