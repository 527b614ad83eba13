//! Downloads every message of a POP3 mailbox into a folder of `.eml` files named by UIDL.
//!
//! ```text
//! cargo run -p postbag-protocol --example fetch -- --host H --port P \
//!     --tls none|starttls|implicit --user U --password-env VAR \
//!     [--ca-file PEM | --pin-sha256 HEX] [--auth auto|user|apop|plain|login|cram-md5] \
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
#[path = "../common/shown.rs"]
mod shown;
#[path = "../common/tls.rs"]
mod tls;

use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use postbag_protocol::pop3::blocking::{
    DriverError, Pace, Session, SetReadTimeout, Stream, Timeout,
};
use postbag_protocol::pop3::{
    AuthPolicy, ClientConfig, Pop3Error, Secret, ServerErrorKind, TlsState,
};

use shown::shown;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Tls {
    None,
    Starttls,
    Implicit,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Auth {
    Auto,
    User,
    Apop,
    Plain,
    Login,
    CramMd5,
}

/// Download a POP3 mailbox into DIR/<uidl>.eml.
#[derive(Debug, Parser)]
struct Args {
    #[arg(long)]
    host: String,
    #[arg(long)]
    port: u16,
    #[arg(long, value_enum)]
    tls: Tls,
    #[arg(long)]
    user: String,
    /// Name of the environment variable holding the password (never pass it on the command line).
    #[arg(long)]
    password_env: String,
    /// A PEM file with extra CA certificates to trust (in addition to webpki-roots). A
    /// self-signed server certificate made with `openssl req -x509` is a CA certificate and is
    /// refused here as a server's own (CaUsedAsEndEntity): pin it with --pin-sha256 instead.
    #[arg(long, conflicts_with = "pin_sha256")]
    ca_file: Option<PathBuf>,
    /// Trust exactly one server certificate, whatever its issuer, host name or CA flag: the
    /// SHA-256 of the whole certificate in DER form (not of its public key), 64 hex digits,
    /// colons allowed. This is the value the Postbag app and proxy pin, and what
    /// `openssl x509 -in cert.pem -noout -fingerprint -sha256` prints. The web PKI roots are
    /// not consulted; the server must still prove it holds the certificate's key.
    #[arg(long, value_name = "HEX", value_parser = tls::parse_pin)]
    pin_sha256: Option<[u8; 32]>,
    #[arg(long, value_enum, default_value = "auto")]
    auth: Auth,
    /// Delete each message on the server after it was saved (committed by QUIT).
    #[arg(long)]
    delete: bool,
    /// Allow sending the password in the clear with --tls none.
    #[arg(long)]
    allow_plaintext: bool,
    /// Seconds a reply may stay silent, and the window over which --min-rate is judged (also
    /// the limit for connecting and for the TLS handshake).
    #[arg(long, value_name = "SECONDS", default_value = "60", value_parser = seconds)]
    reply_timeout: Duration,
    /// Bytes per second a reply must keep: every --reply-timeout window of a reply must bring
    /// at least --min-rate x --reply-timeout bytes, so a server that drips (or starts fast,
    /// then drips) is cut after one window, while a long download at a fair rate never is.
    /// 0 checks silence only.
    #[arg(long, value_name = "BYTES_PER_SECOND", default_value_t = 1024)]
    min_rate: u64,
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

fn seconds(text: &str) -> Result<Duration, String> {
    match text.parse::<f64>() {
        Ok(s) if s > 0.0 && s <= 86_400.0 => Ok(Duration::from_secs_f64(s)),
        _ => Err("a number of seconds between 0 and 86400".into()),
    }
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
    let addrs: Vec<_> = (args.host.as_str(), args.port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {}: {e}", args.host))?
        .collect();
    let tcp = addrs
        .iter()
        .find_map(|a| TcpStream::connect_timeout(a, args.reply_timeout).ok())
        .ok_or_else(|| format!("cannot connect to {}:{}", args.host, args.port))?;
    // Writes get the reply timeout as a whole; reads get the time left of the reply being read
    // (the driver sets it through a clone, which shares the socket's options).
    tcp.set_write_timeout(Some(args.reply_timeout))
        .map_err(|e| e.to_string())?;
    let timeout_setter = || -> Result<_, String> {
        let socket = tcp.try_clone().map_err(|e| e.to_string())?;
        Ok(move |t: Duration| socket.set_read_timeout(Some(t)))
    };
    let mut set_timeout = timeout_setter()?;
    let mut upgrade_timeout = timeout_setter()?;
    let set: SetReadTimeout = Box::new(timeout_setter()?);
    set_timeout(args.reply_timeout).map_err(|e| e.to_string())?;

    let mut config = ClientConfig::new(args.user.clone(), Secret::new(password));
    config.auth = match args.auth {
        Auth::Auto => AuthPolicy::Auto,
        Auth::User => AuthPolicy::User,
        Auth::Apop => AuthPolicy::Apop,
        Auth::Plain => AuthPolicy::Plain,
        Auth::Login => AuthPolicy::Login,
        Auth::CramMd5 => AuthPolicy::CramMd5,
    };
    config.allow_plaintext_password = args.allow_plaintext;
    config.want_starttls = matches!(args.tls, Tls::Starttls);
    let verifier = tls::Verifier::new(args.ca_file.as_deref(), args.pin_sha256)?;
    let tls_config = verifier.client_config()?;
    let tls_failed = |e: std::io::Error| {
        let mut why = explain(&DriverError::Io(e));
        if let Some(advice) = verifier.advice().filter(|_| why.contains("certificate")) {
            why = format!("{why}; {advice}");
        }
        why
    };
    let within = args.reply_timeout;
    let host = args.host.clone();
    let stream: Box<dyn Stream> = match args.tls {
        Tls::Implicit => {
            config.tls = TlsState::Implicit;
            tls::wrap_tls(Box::new(tcp), &tls_config, &host, within, &mut set_timeout)
                .map_err(tls_failed)?
        }
        Tls::None | Tls::Starttls => Box::new(tcp),
    };
    let mut upgrade =
        |s: Box<dyn Stream>| tls::wrap_tls(s, &tls_config, &host, within, &mut upgrade_timeout);
    let pace = Pace {
        reply_timeout: args.reply_timeout,
        min_rate: args.min_rate,
    };
    Session::login_paced(stream, config, Some(&mut upgrade), pace, Some(set)).map_err(|e| match e {
        DriverError::Io(io) if io.kind() == std::io::ErrorKind::InvalidData => tls_failed(io),
        e => explain(&e),
    })
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
