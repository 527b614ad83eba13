//! The credential texts: how an account logs in (a password or "Sign in with …"), and in
//! words what a refused login, an expired sign-in, a server that cannot prove it knows the
//! password, or the proxy's access code asked for or refused means, with the fix.

use postbag_protocol::pop3::{Pop3Error, ProtocolError, ServerErrorKind};
use postbag_protocol::scram::ScramError;

use super::{Explained, plain};
use crate::store::Account;
use crate::tunnel::Refusal;

/// How an account logs in, which decides what a refused login means: a wrong password, or,
/// for an account signed in with a provider ("Sign in with …"), a grant that has expired or
/// was revoked, which no password typed here can mend.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Credential<'a> {
    Password,
    /// An OAuth account, named by its address (the refusal says which account to sign in).
    SignIn {
        account: &'a str,
    },
}

impl<'a> Credential<'a> {
    /// How `account` logs in to its mail server.
    pub fn of(account: &'a Account) -> Self {
        match account.oauth {
            Some(_) => Credential::SignIn {
                account: &account.email,
            },
            None => Credential::Password,
        }
    }
}

/// What the user reads when the server refuses an OAuth account's token after the one
/// refresh (`model/oauth.rs` `with_one_retry`): the "Sign in again" button beside it is the
/// fix, and "Wrong user name or password" would send them looking for a password they never
/// typed.
pub fn sign_in_expired(account: &str) -> String {
    format!("{account}: the sign-in has expired or was revoked; sign in again.")
}

pub(super) fn refusal(r: Refusal) -> Explained {
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
        Refusal::UntrustedReverseProxy => plain(
            "The Postbag proxy is reached through a reverse proxy that it was not told to trust, \
             so it refuses every connection: its administrator must set trust_forwarded_for \
             (and allowed_origins to the address you opened)."
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

pub(super) fn pop3(p: &Pop3Error) -> Explained {
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
        // SCRAM lets the server prove it knows the password too; one that cannot may not be
        // the user's mail server at all, which matters more than a protocol slip.
        Pop3Error::Protocol(ProtocolError::Scram(
            e @ (ScramError::ServerSignatureMismatch | ScramError::MissingServerSignature),
        )) => {
            let how = match e {
                ScramError::ServerSignatureMismatch => "its SCRAM signature was wrong",
                _ => "it reported success without a SCRAM signature",
            };
            format!(
                "This server could not prove that it knows your password ({how}), so Postbag \
                 stopped before reading mail. Check the server name: it may not be your mail \
                 server."
            )
        }
        Pop3Error::Protocol(e) => format!("The server broke the POP3 protocol: {e}."),
        Pop3Error::Usage(e) => format!("Internal error: {e}."),
    };
    plain(msg, false)
}
