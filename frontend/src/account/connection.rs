//! The one place an account becomes a connection: where the proxy opens the tunnel to
//! ([`target`]) and how the POP3 client behaves on it ([`client_config`]). Both follow the
//! account's [`Security`]; keeping them together keeps them agreeing.

use postbag_protocol::pop3::{ClientConfig, Secret, TlsState};
use postbag_protocol::tunnel::TlsMode;

use crate::store::{Account, Security};
use crate::tunnel::Target;

/// Where the proxy connects for `account`, and how (TLS mode, pinned certificate).
pub fn target(account: &Account) -> Target {
    Target {
        host: account.host.clone(),
        port: account.port,
        tls: match account.security {
            Security::Tls => TlsMode::Implicit,
            Security::StartTls => TlsMode::Starttls,
            Security::None => TlsMode::None,
        },
        pin_sha256: account.pinned_sha256.clone(),
    }
}

/// The client configuration for an account; `password` (or, for an OAuth account, the access
/// token) is used for this session only.
pub fn client_config(account: &Account, password: Secret<String>) -> ClientConfig {
    let mut config = ClientConfig::new(account.username.clone(), password);
    config.scram_nonce = scram_nonce();
    // An account signed in with OAuth 2 logs in with its access token (the `password` here),
    // by the one mechanism its provider takes; never by a password method.
    if let Some(login) = &account.oauth {
        config.auth = super::oauth::auth_policy(login);
    }
    match account.security {
        Security::Tls => {
            config.tls = TlsState::Implicit;
            config.want_starttls = false;
        }
        Security::StartTls => config.want_starttls = true,
        Security::None => {
            // The user chose "no encryption" after a plain warning.
            config.want_starttls = false;
            config.allow_plaintext_password = true;
        }
    }
    config
}

/// A fresh SCRAM client nonce (18 bytes from the browser's CSPRNG, base64), so that `Auto` logs
/// in with SCRAM where the server offers it. `None` when the browser gives no randomness: then
/// the client does not use SCRAM, rather than send a predictable nonce.
pub fn scram_nonce() -> Option<String> {
    let crypto = crate::global::crypto()?;
    let mut bytes = [0u8; 18];
    crypto.get_random_values_with_u8_array(&mut bytes).ok()?;
    Some(postbag_protocol::scram::nonce_from_random(&bytes))
}
