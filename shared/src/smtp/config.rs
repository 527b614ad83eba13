//! What the caller decides before connecting.

use super::auth::AuthPolicy;
use crate::secret::Secret;
pub use crate::tls_state::TlsState;

/// The login for SMTP AUTH.
#[derive(Clone, Debug)]
pub struct Credentials {
    /// The login name.
    pub user: String,
    /// The password, or the access token for XOAUTH2/OAUTHBEARER.
    pub password: Secret<String>,
}

/// Session settings. Build with [`ClientConfig::new`] (or [`ClientConfig::without_auth`]) and
/// adjust fields.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// The name the client gives in EHLO. A browser has no name of its own, so the default is
    /// the address literal `[127.0.0.1]` (what privacy-minded clients send); it tells the
    /// server nothing.
    pub client_domain: String,
    /// Log in with these; `None` sends without AUTH (a server that relays by address).
    pub credentials: Option<Credentials>,
    /// Which authentication methods are allowed.
    pub auth: AuthPolicy,
    /// Allow methods that reveal the password (PLAIN, LOGIN, OAuth) on an unencrypted
    /// connection. Off by default.
    pub allow_plaintext_password: bool,
    /// A fresh client nonce for SCRAM (printable ASCII without commas, at least 16 characters;
    /// [`nonce_from_random`](crate::scram::nonce_from_random) makes one from random bytes). This
    /// crate has no randomness of its own; without a nonce `Auto` does not use SCRAM. Use a new
    /// one for every session.
    pub scram_nonce: Option<String>,
    /// Whether the transport is already encrypted.
    pub tls: TlsState,
    /// On a plain connection, upgrade with STARTTLS before anything else; if the server does
    /// not offer it the session fails ([`SmtpError::StartTlsUnavailable`]) instead of
    /// continuing in the clear.
    ///
    /// [`SmtpError::StartTlsUnavailable`]: super::SmtpError::StartTlsUnavailable
    pub want_starttls: bool,
    /// Longest accepted reply line, line end excluded. RFC 5321 section 4.5.3.1.5 says 512
    /// octets with the CRLF; real servers stay far below.
    pub max_line: usize,
    /// Most lines in one reply (an EHLO reply has one per extension).
    pub max_reply_lines: usize,
    /// Largest reply, in bytes, all lines together.
    pub max_reply: usize,
}

impl ClientConfig {
    /// Defaults: log in as `user`, `Auto` authentication, no password in the clear, plain TCP
    /// upgraded with STARTTLS, replies of at most 64 lines of 4096 bytes (eight times the
    /// RFC's line) and 64 KiB in all.
    pub fn new(user: impl Into<String>, password: Secret<String>) -> ClientConfig {
        ClientConfig {
            credentials: Some(Credentials {
                user: user.into(),
                password,
            }),
            ..ClientConfig::without_auth()
        }
    }

    /// The defaults of [`new`](ClientConfig::new), without a login.
    pub fn without_auth() -> ClientConfig {
        ClientConfig {
            client_domain: "[127.0.0.1]".into(),
            credentials: None,
            auth: AuthPolicy::Auto,
            allow_plaintext_password: false,
            scram_nonce: None,
            tls: TlsState::None,
            want_starttls: true,
            max_line: 4096,
            max_reply_lines: 64,
            max_reply: 64 * 1024,
        }
    }
}
