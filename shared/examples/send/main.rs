//! Sends one message file through an SMTP submission server.
//!
//! ```text
//! cargo run -p postbag-protocol --example send -- --host H --port P \
//!     --tls none|starttls|implicit [--user U --password-env VAR] \
//!     [--ca-file PEM | --pin-sha256 HEX] [--auth auto|plain|login|cram-md5|scram-sha-1|scram-sha-256|xoauth2|oauthbearer] \
//!     [--allow-plaintext] [--helo NAME] [--reply-timeout S] [--min-rate B] \
//!     --from ADDR --to ADDR [--to ADDR...] FILE.eml
//! ```
//!
//! A blocking driver around the sans-I/O client: std `TcpStream`, rustls with the ring
//! provider, webpki-roots plus an optional extra CA, or one pinned certificate (the TLS setup
//! is `fetch`'s, shared in `examples/common/`). Every reply has a deadline and a minimum rate,
//! as in `fetch`, so a server that stops answering or drips cannot hold the send forever. The file is sent as it is (line ends made CRLF,
//! dots stuffed); the envelope is `--from` and `--to`, whatever the headers say.
//!
//! Prints the server's answer for every recipient and its queue reply. Exit status: 0 when
//! every recipient was accepted and the message was taken; 1 when it was not sent (refused,
//! or the session failed before the final dot); 3 when it was taken but some recipients were
//! refused; 4 when the connection broke after the final dot, so it **may have been sent**
//! (check before sending it again); 2 is a usage error.

#[path = "../common/connect.rs"]
mod connect;
#[path = "../common/nonce.rs"]
mod nonce;
mod report;
#[path = "../common/shown.rs"]
mod shown;
#[path = "../common/tls.rs"]
mod tls;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use postbag_protocol::smtp::blocking::{DriverError, Session};
use postbag_protocol::smtp::{AuthPolicy, ClientConfig, Envelope, Secret, TlsState};

use connect::{Tls, TlsFailure};
use report::{Verdict, explain, verdict};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Auth {
    Auto,
    Plain,
    Login,
    CramMd5,
    ScramSha1,
    ScramSha256,
    Xoauth2,
    Oauthbearer,
}

/// Send FILE.eml from --from to every --to.
#[derive(Debug, Parser)]
struct Args {
    #[command(flatten)]
    server: connect::Server,
    /// Log in as this user (without it, no AUTH: a server that relays by address).
    #[arg(long, requires = "password_env")]
    user: Option<String>,
    /// Name of the environment variable holding the password or token (never pass it on the
    /// command line).
    #[arg(long, requires = "user")]
    password_env: Option<String>,
    #[arg(long, value_enum, default_value = "auto")]
    auth: Auth,
    /// The name to give in EHLO (default: the address literal [127.0.0.1]).
    #[arg(long)]
    helo: Option<String>,
    /// The envelope sender (MAIL FROM); empty for the null sender.
    #[arg(long)]
    from: String,
    /// An envelope recipient (RCPT TO); repeat for several.
    #[arg(long, required = true)]
    to: Vec<String>,
    /// The message, as RFC 5322 text.
    file: PathBuf,
}

fn connect(args: &Args) -> Result<Session, String> {
    let mut config = match (&args.user, &args.password_env) {
        (Some(user), Some(var)) => {
            let password =
                std::env::var(var).map_err(|_| format!("environment variable {var} is not set"))?;
            ClientConfig::new(user.clone(), Secret::new(password))
        }
        _ => ClientConfig::without_auth(),
    };
    config.auth = match args.auth {
        Auth::Auto => AuthPolicy::Auto,
        Auth::Plain => AuthPolicy::Plain,
        Auth::Login => AuthPolicy::Login,
        Auth::CramMd5 => AuthPolicy::CramMd5,
        Auth::ScramSha1 => AuthPolicy::ScramSha1,
        Auth::ScramSha256 => AuthPolicy::ScramSha256,
        Auth::Xoauth2 => AuthPolicy::XOAuth2,
        Auth::Oauthbearer => AuthPolicy::OAuthBearer,
    };
    config.scram_nonce = nonce::scram_nonce();
    config.allow_plaintext_password = args.server.allow_plaintext;
    config.want_starttls = args.server.tls == Tls::Starttls;
    if args.server.tls == Tls::Implicit {
        config.tls = TlsState::Implicit;
    }
    if let Some(name) = &args.helo {
        config.client_domain = name.clone();
    }
    args.server.session(
        |stream, upgrade, pace, set| {
            Session::connect_paced(stream, config, Some(upgrade), pace, Some(set))
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
    let message = match std::fs::read(&args.file) {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("send: cannot read {}: {e}", args.file.display());
            return ExitCode::FAILURE;
        }
    };
    let mut session = match connect(&args) {
        Ok(session) => session,
        Err(msg) => {
            eprintln!("send: {msg}");
            return ExitCode::FAILURE;
        }
    };
    let envelope = Envelope::new(args.from.clone(), args.to.clone());
    // Nothing durable to record here: the caller sees exit status 4 if the message is in
    // doubt. The app records "may have been sent" in IndexedDB at this point.
    let result = session.send(envelope, message, |_| Ok(()));
    let in_doubt = session.in_doubt().is_some();
    let Verdict { lines, status } = verdict(&result, in_doubt);
    for line in lines {
        println!("{line}");
    }
    if result.is_ok()
        && let Err(e) = session.quit()
    {
        // The outcome is known; a failed QUIT changes nothing about it.
        eprintln!("send: QUIT failed: {}", explain(&e));
    }
    ExitCode::from(status)
}
