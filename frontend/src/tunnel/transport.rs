//! The byte pipe the sync engine talks POP3 over, and how it fails.
//!
//! In the app it is the browser WebSocket to the proxy ([`super::TunnelSocket`]); in tests it
//! is an in-memory scripted server. The engine never knows which.
//!
//! Both the trait and its error live here, beside the tunnel, not in the engine: every way the
//! pipe fails (a refused handshake, the proxy's typed errors, a close code) is the tunnel's
//! vocabulary, and the engine only reads it (to tell a cut from a refusal, and to explain it).
//! So `sync` depends on `tunnel` and never the other way round.

use postbag_protocol::tunnel::{TlsInfo, TunnelError};

/// Why the pipe failed. Carries what the UI needs to explain it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TransportError {
    /// The proxy could not be reached at all (no WebSocket), e.g. the app is offline.
    #[error("the proxy could not be reached")]
    ProxyUnreachable,
    /// The proxy answered with a typed error (refused target, DNS, TLS, limits, ...).
    #[error("{}: {}", .0.kind.as_str(), .0.message)]
    Tunnel(TunnelError),
    /// The connection closed; `code` and `reason` are the WebSocket close frame's.
    #[error("connection closed ({code}{})", if reason.is_empty() { String::new() } else { format!(": {reason}") })]
    Closed { code: u16, reason: String },
    /// Opening the tunnel (the WebSocket, then the proxy's connection to the mail server) took
    /// longer than `secs` in all: packets are being dropped somewhere on the way.
    #[error("no answer from the proxy within {secs} s")]
    OpenTimedOut { secs: u32 },
    /// The other side broke the tunnel protocol.
    #[error("tunnel protocol error: {0}")]
    Protocol(String),
    /// The proxy refused the WebSocket before it opened (learnt by asking the tunnel URL again
    /// over plain HTTP, see `tunnel/refusal.rs`).
    #[error("the proxy refused the connection: {0}")]
    Refused(Refusal),
}

/// Why the proxy refused a WebSocket handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// 401 `unauthorized`, and the app sent no access code.
    #[error("an access code is required")]
    AccessCodeMissing,
    /// 401 `unauthorized` to the plain request, and the socket carried an access code. The
    /// plain request carries no code, so a token-protected proxy answers it 401 whatever
    /// refused the socket: a wrong code, but also an origin the proxy does not allow, a reverse
    /// proxy that does not forward upgrades, or a transient drop. Most likely the code.
    #[error("the access code may be wrong")]
    AccessCodeRefused,
    /// 403 `forbidden_origin`: the page's origin is not in the proxy's `allowed_origins`.
    #[error("this page's origin is not allowed")]
    OriginNotAllowed,
    /// 403 `untrusted_forwarding`: the proxy is reached through a reverse proxy it was not told
    /// to trust (`trust_forwarded_for`), so it refuses everything until its operator declares it.
    #[error("the proxy is behind a reverse proxy it does not trust")]
    UntrustedReverseProxy,
    /// The tunnel URL answers plain requests (with HTTP `status`), yet the socket was refused:
    /// the Origin the socket carried (a plain request carries none), or a reverse proxy in front
    /// that does not forward WebSocket upgrades.
    #[error("the WebSocket handshake failed (a plain request gets HTTP {status})")]
    Handshake { status: u16 },
}

/// A bidirectional byte stream with an in-band TLS upgrade.
#[allow(async_fn_in_trait)]
pub trait Transport {
    /// Sends POP3 bytes.
    async fn send(&mut self, bytes: &[u8]) -> Result<(), TransportError>;
    /// The next POP3 bytes, or `None` when the other side closed cleanly.
    ///
    /// Must be cancel-safe: the engine drops a pending `recv` when a commit or a timer wins,
    /// and the bytes it would have returned must come with the next call.
    async fn recv(&mut self) -> Result<Option<Vec<u8>>, TransportError>;
    /// Upgrades the connection after the server's `+OK` to STLS.
    async fn start_tls(&mut self) -> Result<Option<TlsInfo>, TransportError>;
    /// Closes the connection (idempotent).
    fn close(&mut self);
}
