//! Types of the WebSocket tunnel between the web app and the proxy (see docs/tunnel-protocol.md).
//!
//! Control messages are JSON in WebSocket text frames, tagged by `"type"`; POP3 bytes travel in
//! binary frames, untouched. Both sides use these types, so the document and the code cannot
//! drift apart silently: the tests below pin the wire form.

use serde::{Deserialize, Serialize};

/// The tunnel protocol version this crate speaks. The proxy refuses other versions with
/// [`ErrorKind::UnsupportedVersion`] so that a stale app learns it must reload.
pub const PROTOCOL_VERSION: u32 = 1;

/// The HTTP path of the WebSocket endpoint.
pub const TUNNEL_PATH: &str = "/tunnel";

/// The `Sec-WebSocket-Protocol` value that carries the access token: the client offers
/// `postbag.token.<TOKEN>` (and the proxy answers with [`SUBPROTOCOL`]). Browsers cannot set
/// headers on a WebSocket, so the subprotocol list is the only header they control.
pub const TOKEN_SUBPROTOCOL_PREFIX: &str = "postbag.token.";

/// The subprotocol the proxy selects when the client offered one.
pub const SUBPROTOCOL: &str = "postbag.v1";

/// Whether `token` can travel as `postbag.token.<token>`: a subprotocol must be an HTTP token
/// (RFC 9110, section 5.6.2), and a browser's `new WebSocket(url, protocols)` throws on any
/// other. Non-empty, letters, digits and ``!#$%&'*+-.^_`|~`` only: no space, `/` or `=`
/// (so not standard base64; hex works). The proxy refuses to start with another token, which
/// no browser could present; the app refuses to send another access code.
pub fn token_is_sendable(token: &str) -> bool {
    !token.is_empty()
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// How the proxy reaches the mail server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TlsMode {
    /// TLS from the first byte (POP3S, port 995).
    Implicit,
    /// Plain TCP first; the app sends `STLS`, then a [`ClientMessage::Starttls`] after `+OK`.
    Starttls,
    /// Plain TCP throughout. The proxy's policy may still allow it (tests, trusted networks).
    None,
    /// Reserved: TLS runs inside the app and the proxy relays ciphertext only. Version 1
    /// proxies answer it with [`ErrorKind::Unsupported`].
    Client,
}

/// The messages the app sends as text frames.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// The first message of every tunnel: where to connect.
    Open(OpenRequest),
    /// Upgrade the upstream connection to TLS in place (only in [`TlsMode::Starttls`], after the
    /// server's `+OK` to `STLS` and before any other byte is sent).
    Starttls,
}

/// Where the tunnel should lead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenRequest {
    /// Must equal [`PROTOCOL_VERSION`].
    pub version: u32,
    /// A DNS name or an IP literal.
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    /// Hex SHA-256 of the server's leaf certificate (DER). When present the proxy accepts
    /// exactly that certificate, whatever its issuer, and nothing else.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin_sha256: Option<String>,
}

/// The messages the proxy sends as text frames.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// The upstream connection is open; binary frames may flow from now on.
    Connected(Connected),
    /// The answer to [`ClientMessage::Starttls`]: the upstream is now TLS.
    Tls(TlsInfo),
    /// Something failed; the proxy closes the WebSocket right after this message.
    Error(TunnelError),
}

/// What the proxy knows of a fresh upstream connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connected {
    pub version: u32,
    /// The address actually connected to, `ip:port`: the one the policy checked.
    pub peer: String,
    /// Present for [`TlsMode::Implicit`]; `None` before a STARTTLS upgrade or in plain mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsInfo>,
}

/// The negotiated TLS session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsInfo {
    /// For example `TLSv1_3`.
    pub protocol: String,
    /// For example `TLS13_AES_256_GCM_SHA384`.
    pub cipher: String,
    pub certificate: CertificateInfo,
    pub verification: Verification,
}

/// The server's leaf certificate as shown to the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateInfo {
    /// The subject distinguished name, for example `CN=mail.example.com, O=Example`.
    pub subject: String,
    /// Lower-case hex SHA-256 of the DER certificate: the value to pin.
    pub sha256: String,
}

/// Why the proxy trusted the certificate. There is no "accepted anyway": a certificate that is
/// neither chained to a trusted root nor pinned fails with [`ErrorKind::TlsVerificationFailed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verification {
    /// Chained to a web PKI root or to a CA from the proxy's configuration, name checked.
    Trusted,
    /// The leaf's SHA-256 equals the client's pin.
    Pinned,
}

/// A typed failure. `message` is for logs and humans; the app branches on `kind`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TunnelError {
    pub kind: ErrorKind,
    pub message: String,
    /// For [`ErrorKind::TlsVerificationFailed`]: the certificate the server presented, so the
    /// app can show it and offer to pin it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<CertificateInfo>,
}

impl TunnelError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> TunnelError {
        TunnelError {
            kind,
            message: message.into(),
            certificate: None,
        }
    }
}

/// Every failure the proxy reports, each with its WebSocket close code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The first message was not a valid `open`, or a message came at the wrong time.
    BadRequest,
    /// `version` is not [`PROTOCOL_VERSION`].
    UnsupportedVersion,
    /// A reserved feature (for example [`TlsMode::Client`]).
    Unsupported,
    /// The policy refuses the port, the host name or a resolved address.
    ForbiddenTarget,
    /// The `Origin` header is not allowed (HTTP 403 before the upgrade).
    ForbiddenOrigin,
    /// The request came through a reverse proxy (it carries forwarding headers) that the proxy
    /// was not told to trust (HTTP 403 before the upgrade): its operator must declare it.
    UntrustedForwarding,
    /// The access token is missing or wrong (HTTP 401 before the upgrade).
    Unauthorized,
    /// The name did not resolve.
    DnsFailure,
    /// The server refused the TCP connection (or it was unreachable).
    Refused,
    /// The TCP connect or the TLS handshake took longer than the connect timeout.
    Timeout,
    /// The certificate is not trusted and not pinned; `certificate` says what was presented.
    TlsVerificationFailed,
    /// The TLS handshake failed for another reason (protocol, alert, garbage).
    TlsHandshakeFailed,
    /// Too many tunnels in total or from this client address.
    LimitReached,
    /// A WebSocket message exceeded the proxy's maximum size.
    MessageTooLarge,
    /// No byte moved in either direction for the idle timeout.
    IdleTimeout,
    /// The upstream connection failed after it was established.
    UpstreamIo,
    /// The proxy is shutting down.
    ShuttingDown,
}

impl ErrorKind {
    /// The close code that follows the error message (RFC 6455 section 7.4.1).
    pub fn close_code(self) -> u16 {
        match self {
            ErrorKind::BadRequest | ErrorKind::UnsupportedVersion | ErrorKind::Unsupported => 1002,
            ErrorKind::ForbiddenTarget
            | ErrorKind::ForbiddenOrigin
            | ErrorKind::UntrustedForwarding
            | ErrorKind::Unauthorized => 1008,
            ErrorKind::MessageTooLarge => 1009,
            ErrorKind::LimitReached => 1013,
            ErrorKind::ShuttingDown => 1001,
            ErrorKind::IdleTimeout => 1000,
            ErrorKind::DnsFailure
            | ErrorKind::Refused
            | ErrorKind::Timeout
            | ErrorKind::TlsVerificationFailed
            | ErrorKind::TlsHandshakeFailed
            | ErrorKind::UpstreamIo => 1011,
        }
    }

    /// The `snake_case` name, as on the wire (also used as a metrics label).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::BadRequest => "bad_request",
            ErrorKind::UnsupportedVersion => "unsupported_version",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::ForbiddenTarget => "forbidden_target",
            ErrorKind::ForbiddenOrigin => "forbidden_origin",
            ErrorKind::UntrustedForwarding => "untrusted_forwarding",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::DnsFailure => "dns_failure",
            ErrorKind::Refused => "refused",
            ErrorKind::Timeout => "timeout",
            ErrorKind::TlsVerificationFailed => "tls_verification_failed",
            ErrorKind::TlsHandshakeFailed => "tls_handshake_failed",
            ErrorKind::LimitReached => "limit_reached",
            ErrorKind::MessageTooLarge => "message_too_large",
            ErrorKind::IdleTimeout => "idle_timeout",
            ErrorKind::UpstreamIo => "upstream_io",
            ErrorKind::ShuttingDown => "shutting_down",
        }
    }

    /// All kinds, for metrics that list every label even at zero.
    pub const ALL: [ErrorKind; 17] = [
        ErrorKind::BadRequest,
        ErrorKind::UnsupportedVersion,
        ErrorKind::Unsupported,
        ErrorKind::ForbiddenTarget,
        ErrorKind::ForbiddenOrigin,
        ErrorKind::UntrustedForwarding,
        ErrorKind::Unauthorized,
        ErrorKind::DnsFailure,
        ErrorKind::Refused,
        ErrorKind::Timeout,
        ErrorKind::TlsVerificationFailed,
        ErrorKind::TlsHandshakeFailed,
        ErrorKind::LimitReached,
        ErrorKind::MessageTooLarge,
        ErrorKind::IdleTimeout,
        ErrorKind::UpstreamIo,
        ErrorKind::ShuttingDown,
    ];
}

/// Close code and reason when the upstream server closed the connection normally.
pub const CLOSE_UPSTREAM_CLOSED: (u16, &str) = (1000, "upstream closed");

#[cfg(test)]
mod tests {
    use super::*;

    /// The wire form is the contract with docs/tunnel-protocol.md: each example there is here.
    fn check_client(json: &str, expected: ClientMessage) {
        let parsed: ClientMessage = serde_json::from_str(json).unwrap();
        assert_eq!(parsed, expected);
        let back: serde_json::Value = serde_json::to_value(&expected).unwrap();
        assert_eq!(
            back,
            serde_json::from_str::<serde_json::Value>(json).unwrap()
        );
    }

    fn check_server(json: &str, expected: ServerMessage) {
        let parsed: ServerMessage = serde_json::from_str(json).unwrap();
        assert_eq!(parsed, expected);
        let back: serde_json::Value = serde_json::to_value(&expected).unwrap();
        assert_eq!(
            back,
            serde_json::from_str::<serde_json::Value>(json).unwrap()
        );
    }

    #[test]
    fn open_messages() {
        check_client(
            r#"{"type":"open","version":1,"host":"pop.example.com","port":995,"tls":"implicit"}"#,
            ClientMessage::Open(OpenRequest {
                version: 1,
                host: "pop.example.com".into(),
                port: 995,
                tls: TlsMode::Implicit,
                pin_sha256: None,
            }),
        );
        check_client(
            r#"{"type":"open","version":1,"host":"10.1.2.3","port":110,"tls":"starttls","pin_sha256":"ab01"}"#,
            ClientMessage::Open(OpenRequest {
                version: 1,
                host: "10.1.2.3".into(),
                port: 110,
                tls: TlsMode::Starttls,
                pin_sha256: Some("ab01".into()),
            }),
        );
        check_client(r#"{"type":"starttls"}"#, ClientMessage::Starttls);
    }

    #[test]
    fn server_messages() {
        let tls = TlsInfo {
            protocol: "TLSv1_3".into(),
            cipher: "TLS13_AES_256_GCM_SHA384".into(),
            certificate: CertificateInfo {
                subject: "CN=localhost".into(),
                sha256: "00ff".into(),
            },
            verification: Verification::Trusted,
        };
        check_server(
            r#"{"type":"connected","version":1,"peer":"127.0.0.1:995","tls":{"protocol":"TLSv1_3","cipher":"TLS13_AES_256_GCM_SHA384","certificate":{"subject":"CN=localhost","sha256":"00ff"},"verification":"trusted"}}"#,
            ServerMessage::Connected(Connected {
                version: 1,
                peer: "127.0.0.1:995".into(),
                tls: Some(tls.clone()),
            }),
        );
        check_server(
            r#"{"type":"connected","version":1,"peer":"127.0.0.1:110"}"#,
            ServerMessage::Connected(Connected {
                version: 1,
                peer: "127.0.0.1:110".into(),
                tls: None,
            }),
        );
        check_server(
            r#"{"type":"tls","protocol":"TLSv1_3","cipher":"TLS13_AES_256_GCM_SHA384","certificate":{"subject":"CN=localhost","sha256":"00ff"},"verification":"trusted"}"#,
            ServerMessage::Tls(tls),
        );
        check_server(
            r#"{"type":"error","kind":"tls_verification_failed","message":"unknown issuer","certificate":{"subject":"CN=x","sha256":"aa"}}"#,
            ServerMessage::Error(TunnelError {
                kind: ErrorKind::TlsVerificationFailed,
                message: "unknown issuer".into(),
                certificate: Some(CertificateInfo {
                    subject: "CN=x".into(),
                    sha256: "aa".into(),
                }),
            }),
        );
    }

    #[test]
    fn every_kind_has_its_wire_name_and_a_close_code() {
        for kind in ErrorKind::ALL {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            assert!((1000..=1015).contains(&kind.close_code()));
        }
    }

    #[test]
    fn the_reserved_client_mode_parses() {
        let tls: TlsMode = serde_json::from_str("\"client\"").unwrap();
        assert_eq!(tls, TlsMode::Client);
    }

    #[test]
    fn a_token_is_sendable_only_as_an_http_token() {
        for ok in ["s3cret", "0123abcdef", "a-b.c_d~e", "!#$%&'*+-.^_`|~"] {
            assert!(token_is_sendable(ok), "{ok}");
        }
        for refused in [
            "",
            "with space",
            "b64/x=",
            "a,b",
            "é",
            "tab\t",
            "semi;colon",
            "\"q\"",
        ] {
            assert!(!token_is_sendable(refused), "{refused:?}");
        }
    }

    #[test]
    fn unknown_fields_and_types_are_errors() {
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"launch"}"#).is_err());
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"open","host":"x"}"#).is_err());
    }
}
