//! Downloads every message of a POP3 mailbox into a folder of `.eml` files named by UIDL.
//!
//! ```text
//! cargo run -p postbag-protocol --example fetch -- --host H --port P \
//!     --tls none|starttls|implicit --user U --password-env VAR \
//!     [--ca-file PEM | --pin-sha256 HEX] [--auth auto|user|apop|plain|login|cram-md5|scram-sha-1|scram-sha-256] \
//!     [--delete] [--allow-plaintext] [--reply-timeout S] [--min-rate B] [--max-size B] \
//!     [--reconnects N] --out DIR
//! ```
//!
//! A blocking driver around the sans-I/O client: std `TcpStream`, rustls with the ring
//! provider, webpki-roots plus an optional extra CA, or one pinned certificate. Built to
//! survive a hostile server: a message is saved whole or not at all, every reply has a
//! deadline and a minimum rate, no two messages share a file, a message that fails is named
//! and the run goes on to the next (reconnecting if the failure ended the session). Prints one line per saved message and a summary; exits
//! with status 1 if any message was not saved (each named with its cause) or the session
//! failed.

mod names;
mod run;
mod saving;
// Shared with the `send` example.
#[path = "../common/connect.rs"]
mod connect;
#[path = "../common/nonce.rs"]
mod nonce;
#[path = "../common/shown.rs"]
mod shown;
#[path = "../common/tls.rs"]
mod tls;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use postbag_protocol::pop3::blocking::{DriverError, Session, Timeout};
use postbag_protocol::pop3::{
    AuthPolicy, ClientConfig, Pop3Error, Secret, ServerErrorKind, TlsState,
};

use connect::{Tls, TlsFailure};
use shown::shown;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Auth {
    Auto,
    User,
    Apop,
    Plain,
    Login,
    CramMd5,
    ScramSha1,
    ScramSha256,
}

/// Download a POP3 mailbox into DIR/<uidl>.eml.
#[derive(Debug, Parser)]
struct Args {
    #[command(flatten)]
    server: connect::Server,
    #[arg(long)]
    user: String,
    /// Name of the environment variable holding the password (never pass it on the command line).
    #[arg(long)]
    password_env: String,
    #[arg(long, value_enum, default_value = "auto")]
    auth: Auth,
    /// Delete each message on the server after it was saved (committed by QUIT).
    #[arg(long)]
    delete: bool,
    /// Skip (with a notice) every message the server lists as larger than this. A message may
    /// arrive somewhat larger than listed (servers add headers), but a download that grows past
    /// twice its listed size plus 64 KiB is stopped as the server's fault.
    #[arg(long, value_name = "BYTES", default_value_t = 128 << 20)]
    max_size: u64,
    /// After a failure that ends the session (a cut, a timeout, a reply without end), which
    /// costs the message being read, log in again at most this many times for the messages
    /// after it.
    #[arg(long, value_name = "N", default_value_t = 3)]
    reconnects: u32,
    #[arg(long)]
    out: PathBuf,
}

/// One line a person can act on. Everything the server wrote is escaped.
fn explain(err: &DriverError) -> String {
    match err {
        DriverError::Pop3(Pop3Error::Server(e)) => {
            let what = match e.kind {
                ServerErrorKind::AuthFailed => "login failed: wrong user name or password",
                ServerErrorKind::InUse => "mailbox is in use by another session",
                ServerErrorKind::LoginDelay => "logged in too recently; wait and retry",
                ServerErrorKind::TemporaryFailure => "temporary server failure; retry later",
                ServerErrorKind::PermanentFailure => "permanent server failure",
                ServerErrorKind::GreetingRejected => "server refused the connection",
                ServerErrorKind::StartTlsRejected => "server refused STLS",
                ServerErrorKind::CommandRejected => "server refused a command",
            };
            format!("{what} (server said: \"{}\")", shown(&e.text))
        }
        DriverError::Pop3(e @ Pop3Error::ConnectionLost { .. }) => {
            format!("the server closed the connection ({e})")
        }
        DriverError::Pop3(e) => e.to_string(),
        DriverError::Io(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            format!("TLS failed: {e}")
        }
        DriverError::Io(e) => format!("network error: {e}"),
        DriverError::Timeout(t @ Timeout::Silent { .. }) => format!("timed out: {t}"),
        DriverError::Timeout(t) => format!("too slow: {t}"),
    }
}

fn connect(args: &Args) -> Result<Session, String> {
    let password = std::env::var(&args.password_env)
        .map_err(|_| format!("environment variable {} is not set", args.password_env))?;
    let mut config = ClientConfig::new(args.user.clone(), Secret::new(password));
    config.auth = match args.auth {
        Auth::Auto => AuthPolicy::Auto,
        Auth::User => AuthPolicy::User,
        Auth::Apop => AuthPolicy::Apop,
        Auth::Plain => AuthPolicy::Plain,
        Auth::Login => AuthPolicy::Login,
        Auth::CramMd5 => AuthPolicy::CramMd5,
        Auth::ScramSha1 => AuthPolicy::ScramSha1,
        Auth::ScramSha256 => AuthPolicy::ScramSha256,
    };
    config.scram_nonce = nonce::scram_nonce();
    config.allow_plaintext_password = args.server.allow_plaintext;
    config.want_starttls = args.server.tls == Tls::Starttls;
    if args.server.tls == Tls::Implicit {
        config.tls = TlsState::Implicit;
    }
    args.server.session(
        |stream, upgrade, pace, set| {
            Session::login_paced(stream, config, Some(upgrade), pace, Some(set))
        },
        explain,
    )
}

impl TlsFailure for DriverError {
    fn tls_failure(&self) -> Option<&std::io::Error> {
        match self {
            DriverError::Io(e) if e.kind() == std::io::ErrorKind::InvalidData => Some(e),
            _ => None,
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        eprintln!("fetch: cannot create {}: {e}", args.out.display());
        return ExitCode::FAILURE;
    }
    let session = match connect(&args) {
        Ok(session) => session,
        Err(msg) => {
            eprintln!("fetch: {msg}");
            return ExitCode::FAILURE;
        }
    };
    if run::run(&args, session) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
