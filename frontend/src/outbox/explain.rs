//! Why a message did not go, in words a user can act on, named as the sync's errors are
//! (`sync/explain.rs`, whose words for the tunnel's own refusals are reused).

use postbag_protocol::scram::ScramError;
use postbag_protocol::smtp::{ProtocolError, ServerErrorKind, SmtpError, UnsendableError};

use super::session::SendError;
use crate::sync::{Credential, SyncError, explain as explain_sync, sign_in_expired};
use crate::tunnel::TransportError;

/// A send failure for people.
#[derive(Clone, Debug, PartialEq)]
pub struct Explained {
    pub message: String,
    /// The network or the proxy is out of reach: the message waits for it.
    pub offline: bool,
    /// The server refused the login: the outbox asks for the password again (an OAuth
    /// account: one refresh, then "Sign in again").
    pub login_refused: bool,
    /// The proxy wants an access code.
    pub asks_access_code: bool,
}

fn plain(message: String) -> Explained {
    Explained {
        message,
        offline: false,
        login_refused: false,
        asks_access_code: false,
    }
}

/// [`explain_for`] an account that sends with a password.
pub fn explain(err: &SendError) -> Explained {
    explain_for(err, Credential::Password)
}

/// `err` in words for an account that logs in to its submission server with `credential`:
/// a refused OAuth token means the grant is gone, not a wrong password.
pub fn explain_for(err: &SendError, credential: Credential<'_>) -> Explained {
    if let (SendError::Smtp(SmtpError::Server(s)), Credential::SignIn { account }) =
        (err, credential)
        && s.kind == ServerErrorKind::AuthFailed
    {
        return Explained {
            login_refused: true,
            ..plain(sign_in_expired(account))
        };
    }
    match err {
        SendError::Transport(t) => transport(t),
        SendError::Smtp(e) => smtp(e),
        SendError::Store(e) => plain(format!(
            "Local storage failed before the message went out ({e}); nothing was sent."
        )),
        SendError::Silent { secs } => plain(format!(
            "The submission server stopped answering (nothing for {secs} s)."
        )),
        SendError::Closed => plain("The submission server closed the connection.".into()),
    }
}

fn transport(t: &TransportError) -> Explained {
    match t {
        TransportError::ProxyUnreachable => Explained {
            offline: true,
            ..plain(
                "The Postbag proxy cannot be reached (no network, or the proxy is down).".into(),
            )
        },
        TransportError::Closed { code, .. } => plain(format!(
            "The connection to the Postbag proxy was lost (code {code})."
        )),
        TransportError::OpenTimedOut { secs } => plain(format!(
            "No connection to the submission server within {secs} s: the network, the Postbag \
             proxy or the server is not answering."
        )),
        // The proxy's typed errors (a refused target, DNS, TLS) and a refused handshake read
        // the same for sending as for receiving.
        other => {
            let e = explain_sync(&SyncError::Transport(other.clone()));
            Explained {
                offline: e.offline,
                asks_access_code: e.asks_access_code,
                ..plain(e.message)
            }
        }
    }
}

fn smtp(e: &SmtpError) -> Explained {
    match e {
        SmtpError::Server(s) => {
            let said = peer_text(&s.reply.to_string(), 200);
            use ServerErrorKind::*;
            let message = match s.kind {
                AuthFailed => {
                    return Explained {
                        login_refused: true,
                        ..plain(format!(
                            "Wrong password: the submission server refused the login (it said \
                             \"{said}\"). Check the login in Settings, Sending."
                        ))
                    };
                }
                RecipientRejected => format!(
                    "Recipient refused: the server will not take mail for {} (it said \"{said}\").",
                    s.address
                        .as_deref()
                        .map(|a| peer_text(a, 120))
                        .unwrap_or_default()
                ),
                MessageTooLarge => format!(
                    "Message too large: the server refuses messages this big (it said \"{said}\")."
                ),
                MailboxFull => {
                    format!("The recipient's mailbox is full (the server said \"{said}\").")
                }
                SenderRejected => format!(
                    "The server refused the sending address (it said \"{said}\"). Check the \
                     address in Settings, Sending."
                ),
                EncryptionRequired => format!(
                    "The server wants an encrypted connection (it said \"{said}\"). Choose \
                     STARTTLS or TLS in Settings, Sending."
                ),
                AuthRequired => {
                    format!("The server wants a login before it takes mail (it said \"{said}\").")
                }
                AuthMechanismTooWeak => format!(
                    "The server wants a stronger login method than it offered (it said \"{said}\")."
                ),
                Temporary | ServiceUnavailable => format!(
                    "The server is busy or unavailable for now (it said \"{said}\"); the outbox \
                     tries again."
                ),
                MessageRejected => format!("The server refused the message (it said \"{said}\")."),
                GreetingRefused | EhloRejected | StartTlsRejected | CommandRejected => {
                    format!("The submission server refused the session (it said \"{said}\").")
                }
            };
            plain(message)
        }
        SmtpError::Unsendable(u) => plain(match u {
            UnsendableError::TooLarge { size, limit } => format!(
                "Message too large: it is {} and the server takes at most {} (its SIZE).",
                crate::mail::human_size(*size),
                crate::mail::human_size(*limit)
            ),
            UnsendableError::InvalidAddress { address } => format!(
                "\"{}\" cannot be used as an address on this server.",
                peer_text(address, 120)
            ),
            other => format!("This server cannot take the message: {other}."),
        }),
        SmtpError::StartTlsUnavailable => plain(
            "TLS problem: the server does not offer STARTTLS, and Postbag never sends a password \
             unencrypted. Choose implicit TLS (usually port 465) in Settings, Sending."
                .into(),
        ),
        SmtpError::PlaintextRefused => plain(
            "Postbag refuses to send the password over an unencrypted connection. Choose STARTTLS \
             or TLS in Settings, Sending."
                .into(),
        ),
        SmtpError::NoAcceptableAuth { offered } => plain(format!(
            "The server offers no login method Postbag accepts (it offers: {}).",
            peer_text(&offered.join(", "), 120)
        )),
        SmtpError::ConnectionLost { during, .. } => {
            plain(format!("The connection was lost during the {during}."))
        }
        // As for POP3 (sync/explain.rs): a server that cannot prove it knows the password may
        // not be the user's server, and nothing was sent to it.
        SmtpError::Protocol(ProtocolError::Scram(
            ScramError::ServerSignatureMismatch | ScramError::MissingServerSignature,
        )) => plain(
            "The submission server could not prove that it knows your password (SCRAM), so \
             Postbag sent nothing to it. Check the server name: it may not be your mail server."
                .into(),
        ),
        SmtpError::Protocol(p) => plain(format!("The submission server broke the protocol: {p}.")),
        SmtpError::Usage(u) => plain(format!("Postbag misused the SMTP client: {u}.")),
    }
}

/// Server text fit to show: control characters escaped, at most `max` characters.
fn peer_text(text: &str, max: usize) -> String {
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == max {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use postbag_protocol::smtp::{EnhancedCode, Reply, ServerError};
    use postbag_protocol::tunnel::{ErrorKind, TunnelError};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn server(kind: ServerErrorKind, code: u16, e: (u8, u16, u16), text: &str) -> SendError {
        SendError::Smtp(SmtpError::Server(ServerError {
            kind,
            reply: Reply {
                code,
                enhanced: Some(EnhancedCode {
                    class: e.0,
                    subject: e.1,
                    detail: e.2,
                }),
                lines: vec![text.into()],
            },
            address: (kind == ServerErrorKind::RecipientRejected)
                .then(|| "nobody@example.org".into()),
        }))
    }

    fn check(err: SendError, starts: &str, contains: &str) -> Explained {
        let ex = explain(&err);
        assert!(ex.message.starts_with(starts), "{:?}", ex.message);
        assert!(ex.message.contains(contains), "{:?}", ex.message);
        ex
    }

    #[test]
    fn a_server_without_the_password_gets_nothing() {
        check(
            SendError::Smtp(SmtpError::Protocol(ProtocolError::Scram(
                ScramError::ServerSignatureMismatch,
            ))),
            "The submission server could not prove that it knows your password",
            "sent nothing",
        );
    }

    /// An OAuth account that sends with its own login: the submission server refusing its
    /// token (after the one refresh) asks for a new sign-in, not for a password.
    #[test]
    fn a_refused_token_asks_to_sign_in_again_not_for_a_password() {
        use ServerErrorKind::AuthFailed;
        let refused = server(AuthFailed, 535, (5, 7, 8), "authentication failed");
        let oauth = explain_for(
            &refused,
            Credential::SignIn {
                account: "ann@example.org",
            },
        );
        assert_eq!(
            oauth.message,
            "ann@example.org: the sign-in has expired or was revoked; sign in again."
        );
        assert!(oauth.login_refused);
        let password = explain_for(&refused, Credential::Password);
        assert!(password.message.starts_with("Wrong password"));
        assert_eq!(explain(&refused), password);
    }

    #[test]
    fn each_failure_is_named_as_the_sync_names_its_own() {
        use ServerErrorKind::*;
        let ex = check(
            server(AuthFailed, 535, (5, 7, 8), "authentication failed"),
            "Wrong password",
            "535 5.7.8 authentication failed",
        );
        assert!(ex.login_refused);
        check(
            server(RecipientRejected, 550, (5, 1, 1), "User unknown"),
            "Recipient refused",
            "nobody@example.org",
        );
        check(
            server(MessageTooLarge, 552, (5, 3, 4), "too big"),
            "Message too large",
            "552 5.3.4",
        );
        check(
            SendError::Smtp(SmtpError::Unsendable(UnsendableError::TooLarge {
                size: 30 << 20,
                limit: 20 << 20,
            })),
            "Message too large",
            "at most 20.0 MB",
        );
        check(
            SendError::Smtp(SmtpError::StartTlsUnavailable),
            "TLS problem",
            "STARTTLS",
        );
        let ex = check(
            SendError::Transport(TransportError::ProxyUnreachable),
            "The Postbag proxy cannot be reached",
            "",
        );
        assert!(ex.offline);
        check(
            SendError::Transport(TransportError::Tunnel(TunnelError {
                kind: ErrorKind::ForbiddenTarget,
                message: "port 25 is not allowed".into(),
                certificate: None,
            })),
            "The proxy refused this server",
            "port 25 is not allowed",
        );
        // Server text is shown escaped: no line breaks or escapes reach the screen.
        check(
            server(MessageRejected, 554, (5, 7, 1), "spam\r\n\u{1b}[31m"),
            "The server refused the message",
            "spam\\r\\n\\u{1b}[31m",
        );
    }
}
