//! The server flags `fetch` and `send` share, and the connection they open: TCP with a deadline,
//! implicit TLS or a later STLS/STARTTLS upgrade, and every reply held to a [`Pace`].

use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::ValueEnum;
use postbag_protocol::blocking::{Pace, SetReadTimeout, Stream, Upgrade};

use crate::tls;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Tls {
    None,
    Starttls,
    Implicit,
}

/// Where the server is, whom to trust, and how long a reply may take.
#[derive(Debug, clap::Args)]
pub struct Server {
    #[arg(long)]
    pub host: String,
    #[arg(long)]
    pub port: u16,
    #[arg(long, value_enum)]
    pub tls: Tls,
    /// A PEM file with extra CA certificates to trust (in addition to webpki-roots). A
    /// self-signed server certificate made with `openssl req -x509` is a CA certificate and is
    /// refused here as a server's own (CaUsedAsEndEntity): pin it with --pin-sha256 instead.
    #[arg(long, conflicts_with = "pin_sha256")]
    pub ca_file: Option<PathBuf>,
    /// Trust exactly one server certificate, whatever its issuer, host name or CA flag: the
    /// SHA-256 of the whole certificate in DER form (not of its public key), 64 hex digits,
    /// colons allowed. This is the value the Postbag app and proxy pin, and what
    /// `openssl x509 -in cert.pem -noout -fingerprint -sha256` prints. The web PKI roots are
    /// not consulted; the server must still prove it holds the certificate's key.
    #[arg(long, value_name = "HEX", value_parser = tls::parse_pin)]
    pub pin_sha256: Option<[u8; 32]>,
    /// Allow sending the password in the clear with --tls none.
    #[arg(long)]
    pub allow_plaintext: bool,
    /// Seconds a reply may stay silent, and the window over which --min-rate is judged (also
    /// the limit for connecting, for the TLS handshake and for each write).
    #[arg(long, alias = "timeout", value_name = "SECONDS", default_value = "60",
          value_parser = seconds)]
    pub reply_timeout: Duration,
    /// Bytes per second a reply must keep: every --reply-timeout window of a reply must bring
    /// at least --min-rate x --reply-timeout bytes, so a server that drips (or starts fast,
    /// then drips) is cut after one window, while a long download at a fair rate never is.
    /// 0 checks silence only.
    #[arg(long, value_name = "BYTES_PER_SECOND", default_value_t = 1024)]
    pub min_rate: u64,
}

fn seconds(text: &str) -> Result<Duration, String> {
    match text.parse::<f64>() {
        Ok(s) if s > 0.0 && s <= 86_400.0 => Ok(Duration::from_secs_f64(s)),
        _ => Err("a number of seconds between 0 and 86400".into()),
    }
}

/// A driver's error that may be a failed TLS handshake (told with the certificate's
/// fingerprint rather than in the driver's words).
pub trait TlsFailure {
    fn tls_failure(&self) -> Option<&std::io::Error>;
}

/// A connected stream (already under TLS with `--tls implicit`), ready for a paced session.
pub struct Connection {
    pub stream: Box<dyn Stream>,
    pub pace: Pace,
    /// Bounds each read of the socket by the time the reply has left.
    pub set_read_timeout: SetReadTimeout,
    /// Runs the STLS/STARTTLS handshake and explains a failed one.
    pub tls: Upgrader,
}

/// What a later TLS handshake needs, and who explains its failure.
pub struct Upgrader {
    verifier: Arc<tls::Verifier>,
    config: Arc<rustls::ClientConfig>,
    host: String,
    within: Duration,
    set_read_timeout: Box<dyn FnMut(Duration) -> std::io::Result<()>>,
}

impl Upgrader {
    /// Wraps `stream` in TLS, the handshake bounded by the reply timeout as a whole.
    pub fn upgrade(&mut self, stream: Box<dyn Stream>) -> std::io::Result<Box<dyn Stream>> {
        let within = self.within;
        tls::wrap_tls(
            stream,
            &self.config,
            &self.host,
            within,
            &mut self.set_read_timeout,
        )
    }

    /// A failed handshake in words, with the certificate's fingerprint when it was refused.
    pub fn failed(&self, e: &std::io::Error) -> String {
        let mut why = format!("TLS failed: {e}");
        if let Some(advice) = self
            .verifier
            .advice()
            .filter(|_| why.contains("certificate"))
        {
            why = format!("{why}; {advice}");
        }
        why
    }
}

impl Server {
    pub fn pace(&self) -> Pace {
        Pace {
            reply_timeout: self.reply_timeout,
            min_rate: self.min_rate,
        }
    }

    /// Connects, then runs `start` (a driver's login) over the stream with the upgrade, the
    /// pace and the read-timeout setter; a failure in words, a TLS one with the fingerprint.
    pub fn session<S, E: TlsFailure>(
        &self,
        start: impl FnOnce(Box<dyn Stream>, Upgrade<'_>, Pace, SetReadTimeout) -> Result<S, E>,
        explain: impl FnOnce(&E) -> String,
    ) -> Result<S, String> {
        let Connection {
            stream,
            pace,
            set_read_timeout,
            mut tls,
        } = self.connect()?;
        let mut upgrade = |s: Box<dyn Stream>| tls.upgrade(s);
        start(stream, &mut upgrade, pace, set_read_timeout).map_err(|e| match e.tls_failure() {
            Some(io) => tls.failed(io),
            None => explain(&e),
        })
    }

    /// Connects within the reply timeout and, with `--tls implicit`, runs the handshake.
    pub fn connect(&self) -> Result<Connection, String> {
        let within = self.reply_timeout;
        let addrs: Vec<_> = (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve {}: {e}", self.host))?
            .collect();
        let tcp = addrs
            .iter()
            .find_map(|a| TcpStream::connect_timeout(a, within).ok())
            .ok_or_else(|| format!("cannot connect to {}:{}", self.host, self.port))?;
        // Writes get the reply timeout as a whole; reads get the time left of the reply being
        // read (the driver sets it through a clone, which shares the socket's options).
        tcp.set_write_timeout(Some(within))
            .and_then(|()| tcp.set_read_timeout(Some(within)))
            .map_err(|e| e.to_string())?;
        let timeout_setter = || -> Result<_, String> {
            let socket = tcp.try_clone().map_err(|e| e.to_string())?;
            Ok(move |t: Duration| socket.set_read_timeout(Some(t)))
        };
        let verifier = tls::Verifier::new(self.ca_file.as_deref(), self.pin_sha256)?;
        let mut tls = Upgrader {
            config: verifier.client_config()?,
            verifier,
            host: self.host.clone(),
            within,
            set_read_timeout: Box::new(timeout_setter()?),
        };
        let set_read_timeout: SetReadTimeout = Box::new(timeout_setter()?);
        let stream: Box<dyn Stream> = match self.tls {
            Tls::Implicit => tls.upgrade(Box::new(tcp)).map_err(|e| tls.failed(&e))?,
            Tls::None | Tls::Starttls => Box::new(tcp),
        };
        Ok(Connection {
            stream,
            pace: self.pace(),
            set_read_timeout,
            tls,
        })
    }
}
