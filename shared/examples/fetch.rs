//! Downloads every message of a POP3 mailbox into a folder of `.eml` files named by UIDL.
//!
//! ```text
//! cargo run -p postbag-protocol --example fetch -- --host H --port P \
//!     --tls none|starttls|implicit --user U --password-env VAR [--ca-file PEM] \
//!     [--auth auto|user|apop|plain|login|cram-md5] [--delete] [--allow-plaintext] --out DIR
//! ```
//!
//! A blocking driver around the sans-I/O client: std `TcpStream`, rustls with the ring
//! provider, webpki-roots plus an optional extra CA. Prints one line per message and a
//! summary; exits with status 1 and a one-line reason on any failure.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use postbag_protocol::pop3::blocking::{DriverError, Reply, Session, Stream};
use postbag_protocol::pop3::{
    AuthPolicy, ClientConfig, Command, CommandId, Event, Pop3Error, Secret, ServerErrorKind,
    TlsState,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};

/// Connect and read timeouts: long enough for a slow server, short enough for a tool.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
const IO_TIMEOUT: Duration = Duration::from_secs(60);

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
    /// A PEM file with extra CA certificates to trust (in addition to webpki-roots).
    #[arg(long)]
    ca_file: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "auto")]
    auth: Auth,
    /// Delete each message on the server after it was saved (committed by QUIT).
    #[arg(long)]
    delete: bool,
    /// Allow sending the password in the clear with --tls none.
    #[arg(long)]
    allow_plaintext: bool,
    #[arg(long)]
    out: PathBuf,
}

/// A file name for a UIDL: bytes outside `[A-Za-z0-9._-]` are percent-encoded, and so is a
/// leading dot, so the name can be neither hidden nor a path.
fn file_name(uidl: &str) -> String {
    let mut name = String::new();
    for (i, b) in uidl.bytes().enumerate() {
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || (b == b'.' && i > 0) {
            name.push(b as char);
        } else {
            name.push_str(&format!("%{b:02X}"));
        }
    }
    name + ".eml"
}

fn tls_config(ca_file: Option<&Path>) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(path) = ca_file {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
            .and_then(|it| it.collect())
            .map_err(|e| format!("cannot read CA file {}: {e}", path.display()))?;
        if certs.is_empty() {
            return Err(format!("no certificate in CA file {}", path.display()));
        }
        for cert in certs {
            roots
                .add(cert)
                .map_err(|e| format!("bad CA certificate in {}: {e}", path.display()))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Wraps `stream` in TLS and completes the handshake now, so certificate errors surface here.
fn wrap_tls(
    stream: Box<dyn Stream>,
    config: &Arc<rustls::ClientConfig>,
    host: &str,
) -> std::io::Result<Box<dyn Stream>> {
    let name = ServerName::try_from(host.to_string())
        .map_err(|e| std::io::Error::other(format!("bad host name: {e}")))?;
    let conn =
        rustls::ClientConnection::new(config.clone(), name).map_err(std::io::Error::other)?;
    let mut tls = rustls::StreamOwned::new(conn, stream);
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock)?;
    }
    Ok(Box::new(tls))
}

/// One line a person can act on.
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
            format!("{what} (server said: {})", e.text)
        }
        DriverError::Pop3(e) => e.to_string(),
        DriverError::Io(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            format!("TLS failed: {e}")
        }
        DriverError::Io(e) => format!("network error: {e}"),
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
        .find_map(|a| TcpStream::connect_timeout(a, CONNECT_TIMEOUT).ok())
        .ok_or_else(|| format!("cannot connect to {}:{}", args.host, args.port))?;
    tcp.set_read_timeout(Some(IO_TIMEOUT))
        .map_err(|e| e.to_string())?;
    tcp.set_write_timeout(Some(IO_TIMEOUT))
        .map_err(|e| e.to_string())?;

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
    let tls = tls_config(args.ca_file.as_deref())?;
    let host = args.host.clone();
    let mut upgrade = |s: Box<dyn Stream>| wrap_tls(s, &tls, &host);
    let stream: Box<dyn Stream> = match args.tls {
        Tls::Implicit => {
            config.tls = TlsState::Implicit;
            wrap_tls(Box::new(tcp), &tls, &args.host).map_err(|e| explain(&DriverError::Io(e)))?
        }
        Tls::None | Tls::Starttls => Box::new(tcp),
    };
    Session::login(stream, config, Some(&mut upgrade)).map_err(|e| explain(&e))
}

struct Download {
    msg: u32,
    uidl: String,
    part: PathBuf,
    path: PathBuf,
    file: Option<BufWriter<File>>,
    bytes: u64,
}

fn run(args: &Args) -> Result<(), String> {
    fs::create_dir_all(&args.out)
        .map_err(|e| format!("cannot create {}: {e}", args.out.display()))?;
    let mut session = connect(args)?;
    let uidls = match session
        .execute(&[Command::Uidl(None)])
        .map_err(|e| explain(&e))?
        .pop()
    {
        Some(Reply::Uidl(entries)) => entries,
        Some(Reply::Failed(e)) => return Err(format!("server refused UIDL: {}", e.text)),
        other => return Err(format!("unexpected reply to UIDL: {other:?}")),
    };

    // All RETRs are enqueued at once; the client pipelines them if the server allows.
    let mut downloads: HashMap<CommandId, Download> = HashMap::new();
    for (msg, uidl) in &uidls {
        let name = file_name(uidl);
        let id = session
            .enqueue(Command::Retr(*msg))
            .map_err(|e| explain(&e))?;
        downloads.insert(
            id,
            Download {
                msg: *msg,
                uidl: uidl.clone(),
                part: args.out.join(format!("{name}.part")),
                path: args.out.join(name),
                file: None,
                bytes: 0,
            },
        );
    }
    let (mut saved, mut total_bytes, mut deleted, mut pending) =
        (0usize, 0u64, 0usize, downloads.len());
    let mut dele_pending = 0usize;
    while pending > 0 || dele_pending > 0 {
        match session.next_event().map_err(|e| explain(&e))? {
            Event::MessageStart { id, .. } => {
                let d = downloads
                    .get_mut(&id)
                    .ok_or("reply to an unknown command")?;
                let file = File::create(&d.part)
                    .map_err(|e| format!("cannot write {}: {e}", d.part.display()))?;
                d.file = Some(BufWriter::new(file));
            }
            Event::MessageChunk { id, bytes } => {
                let d = downloads
                    .get_mut(&id)
                    .ok_or("reply to an unknown command")?;
                d.bytes += bytes.len() as u64;
                d.file
                    .as_mut()
                    .ok_or("chunk before start")?
                    .write_all(&bytes)
                    .map_err(|e| e.to_string())?;
            }
            Event::MessageEnd { id } => {
                let mut d = downloads.remove(&id).ok_or("reply to an unknown command")?;
                let file = d.file.take().ok_or("end before start")?;
                file.into_inner()
                    .map_err(|e| e.to_string())?
                    .sync_all()
                    .map_err(|e| e.to_string())?;
                fs::rename(&d.part, &d.path).map_err(|e| e.to_string())?;
                println!(
                    "{:>5} {:>10} bytes  {}  ->  {}",
                    d.msg,
                    d.bytes,
                    d.uidl,
                    d.path.display()
                );
                saved += 1;
                total_bytes += d.bytes;
                pending -= 1;
                // Delete only what is safely on disk.
                if args.delete {
                    session
                        .enqueue(Command::Dele(d.msg))
                        .map_err(|e| explain(&e))?;
                    dele_pending += 1;
                }
            }
            Event::Deleted { .. } => {
                deleted += 1;
                dele_pending -= 1;
            }
            Event::CommandFailed { id, error } => match downloads.remove(&id) {
                Some(d) => return Err(format!("server refused RETR {}: {}", d.msg, error.text)),
                None => return Err(format!("server refused DELE: {}", error.text)),
            },
            _ => {}
        }
    }
    let committed = session.quit().map_err(|e| explain(&e))?;
    if args.delete && !committed {
        return Err(format!(
            "saved {saved} messages, but the server did not commit the deletions"
        ));
    }
    println!(
        "{saved} message(s), {total_bytes} bytes saved to {}; {deleted} deleted{}",
        args.out.display(),
        if args.delete { " (committed)" } else { "" }
    );
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("fetch: {msg}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::file_name;

    #[test]
    fn uidl_file_names_are_safe() {
        assert_eq!(file_name("00000001575d6f1b"), "00000001575d6f1b.eml");
        assert_eq!(file_name("a/b\\c d"), "a%2Fb%5Cc%20d.eml");
        assert_eq!(file_name(".."), "%2E..eml");
        assert_eq!(file_name("x.y_z-1"), "x.y_z-1.eml");
    }
}
