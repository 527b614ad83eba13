//! Sends one message file through an SMTP submission server.
//!
//! ```text
//! cargo run -p postbag-protocol --example send -- --host H --port P \
//!     --tls none|starttls|implicit [--user U --password-env VAR] \
//!     [--ca-file PEM | --pin-sha256 HEX] [--auth auto|plain|login|cram-md5|xoauth2|oauthbearer] \
//!     [--allow-plaintext] [--helo NAME] [--timeout S] --from ADDR --to ADDR [--to ADDR...] FILE.eml
//! ```
//!
//! A blocking driver around the sans-I/O client: std `TcpStream`, rustls with the ring
//! provider, webpki-roots plus an optional extra CA, or one pinned certificate (the TLS setup
//! is `fetch`'s, shared in `examples/common/`). The file is sent as it is (line ends made CRLF,
//! dots stuffed); the envelope is `--from` and `--to`, whatever the headers say.
//!
//! Prints the server's answer for every recipient and its queue reply. Exit status: 0 when
//! every recipient was accepted and the message was taken; 1 when it was not sent (refused,
//! or the session failed before the final dot); 3 when it was taken but some recipients were
//! refused; 4 when the connection broke after the final dot, so it **may have been sent**
//! (check before sending it again); 2 is a usage error.

mod report;
#[path = "../common/shown.rs"]
mod shown;
#[path = "../common/tls.rs"]
mod tls;

use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use postbag_protocol::smtp::blocking::{DriverError, Session, Stream};
use postbag_protocol::smtp::{AuthPolicy, ClientConfig, Envelope, Secret, TlsState};

use report::{Verdict, explain, verdict};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Tls {
    None,
    Starttls,
    Implicit,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Auth {
    Auto,
    Plain,
    Login,
    CramMd5,
    Xoauth2,
    Oauthbearer,
}

/// Send FILE.eml from --from to every --to.
#[derive(Debug, Parser)]
struct Args {
    #[arg(long)]
    host: String,
    #[arg(long)]
    port: u16,
    #[arg(long, value_enum)]
    tls: Tls,
    /// Log in as this user (without it, no AUTH: a server that relays by address).
    #[arg(long, requires = "password_env")]
    user: Option<String>,
    /// Name of the environment variable holding the password or token (never pass it on the
    /// command line).
    #[arg(long, requires = "user")]
    password_env: Option<String>,
    /// A PEM file with extra CA certificates to trust (in addition to webpki-roots).
    #[arg(long, conflicts_with = "pin_sha256")]
    ca_file: Option<PathBuf>,
    /// Trust exactly one server certificate: the SHA-256 of its DER form, 64 hex digits
    /// (colons allowed), as `openssl x509 -noout -fingerprint -sha256` prints it.
    #[arg(long, value_name = "HEX", value_parser = tls::parse_pin)]
    pin_sha256: Option<[u8; 32]>,
    #[arg(long, value_enum, default_value = "auto")]
    auth: Auth,
    /// Allow sending the password in the clear with --tls none.
    #[arg(long)]
    allow_plaintext: bool,
    /// The name to give in EHLO (default: the address literal [127.0.0.1]).
    #[arg(long)]
    helo: Option<String>,
    /// Seconds to connect, for the TLS handshake, and for each read and write.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    timeout: u64,
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
    let within = Duration::from_secs(args.timeout.max(1));
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
        Auth::Xoauth2 => AuthPolicy::XOAuth2,
        Auth::Oauthbearer => AuthPolicy::OAuthBearer,
    };
    config.allow_plaintext_password = args.allow_plaintext;
    config.want_starttls = matches!(args.tls, Tls::Starttls);
    if let Some(name) = &args.helo {
        config.client_domain = name.clone();
    }
    let addrs: Vec<_> = (args.host.as_str(), args.port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {}: {e}", args.host))?
        .collect();
    let tcp = addrs
        .iter()
        .find_map(|a| TcpStream::connect_timeout(a, within).ok())
        .ok_or_else(|| format!("cannot connect to {}:{}", args.host, args.port))?;
    // The client has no clock: every read and write of the socket is bounded instead.
    tcp.set_read_timeout(Some(within))
        .and_then(|()| tcp.set_write_timeout(Some(within)))
        .map_err(|e| e.to_string())?;
    let socket = tcp.try_clone().map_err(|e| e.to_string())?;
    let mut set_timeout = move |t: Duration| socket.set_read_timeout(Some(t));
    let verifier = tls::Verifier::new(args.ca_file.as_deref(), args.pin_sha256)?;
    let tls_config = verifier.client_config()?;
    let tls_failed = |e: std::io::Error| {
        let mut why = format!("TLS failed: {e}");
        if let Some(advice) = verifier.advice().filter(|_| why.contains("certificate")) {
            why = format!("{why}; {advice}");
        }
        why
    };
    let host = args.host.clone();
    let stream: Box<dyn Stream> = match args.tls {
        Tls::Implicit => {
            config.tls = TlsState::Implicit;
            tls::wrap_tls(Box::new(tcp), &tls_config, &host, within, &mut set_timeout)
                .map_err(tls_failed)?
        }
        Tls::None | Tls::Starttls => Box::new(tcp),
    };
    let mut upgrade = |s: Box<dyn Stream>| {
        let result = tls::wrap_tls(s, &tls_config, &host, within, &mut set_timeout);
        // Each read is bounded by the whole timeout again once the handshake is done.
        set_timeout(within)?;
        result
    };
    Session::connect(stream, config, Some(&mut upgrade)).map_err(|e| match e {
        DriverError::Io(io) if io.kind() == std::io::ErrorKind::InvalidData => tls_failed(io),
        e => explain(&e),
    })
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
