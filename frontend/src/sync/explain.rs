//! Sync and connection-test failures in words a user can act on.

use postbag_protocol::pop3::{Pop3Error, ServerErrorKind};
use postbag_protocol::tunnel::{CertificateInfo, ErrorKind};

use super::engine::SyncError;
use super::transport::{Refusal, TransportError};

#[derive(Clone, Debug, PartialEq)]
pub struct Explained {
    pub message: String,
    /// The mail server is out of reach: the app works from local storage.
    pub offline: bool,
    /// A certificate the user may choose to pin (only for a failed verification).
    pub certificate: Option<CertificateInfo>,
    /// The proxy wants an access code (none was sent, or the one sent is wrong): the view
    /// offers a field for it.
    pub asks_access_code: bool,
}

fn plain(message: String, offline: bool) -> Explained {
    Explained {
        message,
        offline,
        certificate: None,
        asks_access_code: false,
    }
}

pub fn explain(err: &SyncError) -> Explained {
    match err {
        SyncError::Transport(t) => transport(t),
        SyncError::Pop3(p) => pop3(p),
        SyncError::NoUidl => plain(
            "This server does not support UIDL, which Postbag needs to avoid downloading mail twice."
                .into(),
            false,
        ),
        SyncError::Store(e) => plain(
            format!("Local storage failed: {e}. Nothing was deleted on the server."),
            false,
        ),
        SyncError::MessageTooLarge { msg, limit } => plain(
            format!(
                "Message {msg} on the server is larger than {} MB, the most Postbag downloads. \
                 Nothing was deleted on the server.",
                limit >> 20
            ),
            false,
        ),
    }
}

fn transport(t: &TransportError) -> Explained {
    match t {
        TransportError::ProxyUnreachable => plain(
            "The Postbag proxy cannot be reached (no network, or the proxy is down).".into(),
            true,
        ),
        TransportError::Closed { code, .. } => plain(
            format!("Connection lost (code {code}). Nothing was lost; sync again to continue."),
            true,
        ),
        TransportError::Protocol(m) => plain(
            format!("The proxy answered something unexpected: {m}"),
            false,
        ),
        TransportError::Refused(r) => refusal(*r),
        TransportError::Tunnel(e) => {
            let msg = match e.kind {
                ErrorKind::ForbiddenTarget => {
                    format!(
                        "The proxy refused this server: its policy does not allow the target ({}).",
                        e.message
                    )
                }
                ErrorKind::DnsFailure => format!(
                    "Server unreachable: the server name was not found ({}).",
                    e.message
                ),
                ErrorKind::Refused => format!(
                    "Server unreachable: the connection was refused ({}).",
                    e.message
                ),
                ErrorKind::Timeout => format!(
                    "Server unreachable: the connection timed out ({}).",
                    e.message
                ),
                ErrorKind::TlsVerificationFailed => {
                    let cert = e
                        .certificate
                        .as_ref()
                        .map(|c| {
                            format!(
                                " The server presented \"{}\" with SHA-256 fingerprint {}.",
                                c.subject, c.sha256
                            )
                        })
                        .unwrap_or_default();
                    format!("Certificate rejected: {}.{cert}", e.message)
                }
                ErrorKind::TlsHandshakeFailed => {
                    format!("The TLS handshake failed: {}.", e.message)
                }
                ErrorKind::LimitReached => format!(
                    "The proxy is busy (connection limit): {}. Try again shortly.",
                    e.message
                ),
                ErrorKind::ShuttingDown | ErrorKind::IdleTimeout | ErrorKind::UpstreamIo => {
                    format!(
                        "Connection lost: {}. Nothing was lost; sync again to continue.",
                        e.message
                    )
                }
                _ => format!("The proxy reported {}: {}.", e.kind.as_str(), e.message),
            };
            Explained {
                message: msg,
                offline: matches!(
                    e.kind,
                    ErrorKind::ShuttingDown
                        | ErrorKind::UpstreamIo
                        | ErrorKind::DnsFailure
                        | ErrorKind::Refused
                        | ErrorKind::Timeout
                ),
                certificate: e.certificate.clone(),
                asks_access_code: false,
            }
        }
    }
}

fn refusal(r: Refusal) -> Explained {
    let asks = |message: &str| Explained {
        asks_access_code: true,
        ..plain(message.into(), false)
    };
    match r {
        Refusal::AccessCodeMissing => asks(
            "This Postbag server needs an access code. Enter the code its administrator gave you.",
        ),
        // Only "may": the probe cannot tell a wrong code from a socket refused for another
        // reason (see tunnel/probe.rs).
        Refusal::AccessCodeRefused => asks(
            "The proxy refused the connection: the access code may be wrong (or this page's \
             address is not allowed). Check the code with the administrator of this Postbag \
             server and enter it again.",
        ),
        Refusal::OriginNotAllowed => plain(
            "This page's origin is not allowed by the Postbag proxy: its administrator must add \
             the address you opened to allowed_origins."
                .into(),
            false,
        ),
        Refusal::Handshake { status } => plain(
            format!(
                "The Postbag proxy answers but refused the connection from this page (HTTP \
                 {status} to a plain request). Most likely its allowed_origins does not list the \
                 address you opened, or a reverse proxy in front of it does not forward \
                 WebSocket upgrades."
            ),
            false,
        ),
    }
}

fn pop3(p: &Pop3Error) -> Explained {
    let msg = match p {
        Pop3Error::Server(e) => match e.kind {
            ServerErrorKind::AuthFailed => {
                format!("Wrong user name or password (the server said: {}).", e.text)
            }
            ServerErrorKind::LoginDelay => {
                format!(
                    "Login delay: the server asks you to wait between logins ({}).",
                    e.text
                )
            }
            ServerErrorKind::InUse => {
                format!("The mailbox is in use by another session ({}).", e.text)
            }
            ServerErrorKind::TemporaryFailure => {
                format!("Temporary server problem; try again later ({}).", e.text)
            }
            ServerErrorKind::PermanentFailure => {
                format!("The server reported a permanent problem ({}).", e.text)
            }
            ServerErrorKind::GreetingRejected => {
                format!("The server refused the connection ({}).", e.text)
            }
            ServerErrorKind::StartTlsRejected => {
                format!("The server refused STARTTLS ({}).", e.text)
            }
            ServerErrorKind::CommandRejected => {
                format!("The server refused a command ({}).", e.text)
            }
        },
        Pop3Error::PlaintextRefused => {
            "Refusing to send the password unencrypted: choose SSL/TLS or STARTTLS.".into()
        }
        Pop3Error::StartTlsUnavailable => {
            "The server does not offer STARTTLS; choose SSL/TLS (port 995) instead.".into()
        }
        Pop3Error::NoAcceptableAuth { offered } => {
            format!(
                "No usable login method (the server offers: {}).",
                offered.join(", ")
            )
        }
        Pop3Error::ConnectionLost { during, .. } => {
            return plain(
                format!(
                    "Connection lost during {during}. Nothing was lost; sync again to continue."
                ),
                true,
            );
        }
        Pop3Error::Protocol(e) => format!("The server broke the POP3 protocol: {e}."),
        Pop3Error::Usage(e) => format!("Internal error: {e}."),
    };
    plain(msg, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    // `#[test]` natively; in the browser the same tests run as wasm-bindgen tests.
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// `err` is explained with `words` in the message, and with these flags.
    fn check(err: TransportError, words: &str, offline: bool, asks_access_code: bool) {
        let ex = explain(&SyncError::Transport(err.clone()));
        assert!(ex.message.contains(words), "{err:?}: {}", ex.message);
        assert_eq!(
            (ex.offline, ex.asks_access_code),
            (offline, asks_access_code),
            "{err:?}"
        );
    }

    #[test]
    fn handshake_refusals_say_what_to_do() {
        use Refusal::*;
        use TransportError::Refused;
        check(
            Refused(AccessCodeMissing),
            "needs an access code",
            false,
            true,
        );
        check(
            Refused(AccessCodeRefused),
            "the access code may be wrong (or this page's address is not allowed)",
            false,
            true,
        );
        check(
            Refused(OriginNotAllowed),
            "origin is not allowed",
            false,
            false,
        );
        check(
            Refused(Handshake { status: 400 }),
            "does not forward WebSocket upgrades",
            false,
            false,
        );
        check(
            TransportError::ProxyUnreachable,
            "cannot be reached",
            true,
            false,
        );
    }
}
