//! Opening the connection to the mail server: policy, one DNS resolution, TCP, TLS.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use postbag_protocol::tunnel::{
    Connected, ErrorKind, OpenRequest, PROTOCOL_VERSION, TlsInfo, TlsMode, TunnelError,
};
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::policy::{Denied, Policy};
use crate::read_ahead::ReadAhead;
use crate::tls::{self, Trust};

/// The upstream byte stream, plain or TLS (over a socket read in large pieces).
pub enum Upstream {
    Plain(TcpStream),
    Tls(Box<TlsStream<ReadAhead>>),
}

/// What a tunnel remembers about its target for a later STARTTLS.
#[derive(Debug, Clone)]
pub struct Target {
    pub server_name: ServerName<'static>,
    pub pin: Option<[u8; 32]>,
}

/// Checks the request against the policy, resolves once, checks every address, connects to a
/// checked one, and does the TLS handshake for implicit TLS. Everything runs under `timeout`.
pub async fn open(
    req: &OpenRequest,
    policy: &Policy,
    trust: &Trust,
    timeout: Duration,
    nodelay: bool,
) -> Result<(Upstream, Connected, Target), TunnelError> {
    if req.version != PROTOCOL_VERSION {
        return Err(TunnelError::new(
            ErrorKind::UnsupportedVersion,
            format!("this proxy speaks tunnel protocol version {PROTOCOL_VERSION}"),
        ));
    }
    if req.tls == TlsMode::Client {
        return Err(TunnelError::new(
            ErrorKind::Unsupported,
            "tls mode \"client\" is reserved",
        ));
    }
    let pin = match &req.pin_sha256 {
        Some(text) => Some(tls::parse_pin(text).ok_or_else(|| {
            TunnelError::new(ErrorKind::BadRequest, "pin_sha256 must be 64 hex digits")
        })?),
        None => None,
    };
    let server_name = server_name(&req.host)?;
    policy
        .check_request(&req.host, req.port)
        .map_err(|d| TunnelError::new(ErrorKind::ForbiddenTarget, d.to_string()))?;

    let deadline = tokio::time::Instant::now() + timeout;
    let timed_out = || TunnelError::new(ErrorKind::Timeout, "connect timeout");
    let addrs = tokio::time::timeout_at(deadline, resolve(&req.host, req.port))
        .await
        .map_err(|_| timed_out())??;
    // Every address must pass: a name that mixes public and private answers is refused whole.
    for addr in &addrs {
        policy
            .check_addr(addr.ip())
            .map_err(|d| address_refused(&req.host, d))?;
    }

    let tcp = tokio::time::timeout_at(deadline, connect_any(&addrs, nodelay))
        .await
        .map_err(|_| timed_out())??;
    let peer = tcp.peer_addr().map(|a| a.to_string()).unwrap_or_default();
    let target = Target { server_name, pin };
    let (upstream, tls) = if req.tls == TlsMode::Implicit {
        let (stream, info) = tokio::time::timeout_at(deadline, handshake(tcp, &target, trust))
            .await
            .map_err(|_| timed_out())??;
        (Upstream::Tls(Box::new(stream)), Some(info))
    } else {
        (Upstream::Plain(tcp), None)
    };
    Ok((
        upstream,
        Connected {
            version: PROTOCOL_VERSION,
            peer,
            tls,
        },
        target,
    ))
}

/// Upgrades a plain upstream in place (STARTTLS).
pub async fn starttls(
    upstream: Upstream,
    target: &Target,
    trust: &Trust,
    timeout: Duration,
) -> Result<(Upstream, TlsInfo), TunnelError> {
    let tcp = match upstream {
        Upstream::Plain(tcp) => tcp,
        Upstream::Tls(_) => {
            return Err(TunnelError::new(
                ErrorKind::BadRequest,
                "the connection is already TLS",
            ));
        }
    };
    let (stream, info) = tokio::time::timeout(timeout, handshake(tcp, target, trust))
        .await
        .map_err(|_| TunnelError::new(ErrorKind::Timeout, "TLS handshake timeout"))??;
    Ok((Upstream::Tls(Box::new(stream)), info))
}

/// The refusal of a resolved address. For an IP literal it says which rule refused (the client
/// wrote the address itself); for a name it names neither the address nor its class, which
/// would map the proxy's internal DNS for the client. The operator's log has both.
fn address_refused(host: &str, denied: Denied) -> TunnelError {
    if is_ip_literal(host) {
        return TunnelError::new(ErrorKind::ForbiddenTarget, denied.to_string());
    }
    tracing::info!(reason = %denied, "a name resolved to an address the policy refuses");
    TunnelError::new(
        ErrorKind::ForbiddenTarget,
        "the name resolves to an address that is not allowed (not public and not in \
         allow_private_cidrs)",
    )
}

fn is_ip_literal(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<IpAddr>().is_ok()
}

fn server_name(host: &str) -> Result<ServerName<'static>, TunnelError> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(ServerName::IpAddress(ip.into()));
    }
    ServerName::try_from(host.to_string())
        .map_err(|_| TunnelError::new(ErrorKind::BadRequest, "host is not a valid DNS name or IP"))
}

async fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, TunnelError> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| TunnelError::new(ErrorKind::DnsFailure, format!("cannot resolve: {e}")))?
        .collect();
    if addrs.is_empty() {
        return Err(TunnelError::new(
            ErrorKind::DnsFailure,
            "the name has no address",
        ));
    }
    Ok(addrs)
}

async fn connect_any(addrs: &[SocketAddr], nodelay: bool) -> Result<TcpStream, TunnelError> {
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(tcp) => {
                // POP3 is a conversation of small writes: Nagle plus delayed ACK would add
                // ~40 ms to many replies.
                tcp.set_nodelay(nodelay).ok();
                return Ok(tcp);
            }
            Err(e) => last = Some(e),
        }
    }
    let e = last.map(|e| e.to_string()).unwrap_or_default();
    Err(TunnelError::new(
        ErrorKind::Refused,
        format!("cannot connect: {e}"),
    ))
}

async fn handshake(
    tcp: TcpStream,
    target: &Target,
    trust: &Trust,
) -> Result<(TlsStream<ReadAhead>, TlsInfo), TunnelError> {
    let (config, recorder) = trust.client_config(target.pin);
    let connector = TlsConnector::from(config);
    match connector
        .connect(target.server_name.clone(), ReadAhead::new(tcp))
        .await
    {
        Ok(stream) => {
            let info = tls::session_info(stream.get_ref().1, &recorder);
            Ok((stream, info))
        }
        Err(e) => Err(tls::handshake_error(&e, &recorder)),
    }
}

/// Seconds since `start`, for the connect-latency histogram.
pub fn elapsed_secs(start: Instant) -> f64 {
    start.elapsed().as_secs_f64()
}

impl AsyncRead for Upstream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Upstream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Upstream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Upstream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, b: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Upstream::Plain(s) => Pin::new(s).poll_write(cx, b),
            Upstream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, b),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Upstream::Plain(s) => Pin::new(s).poll_flush(cx),
            Upstream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Upstream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Upstream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}
