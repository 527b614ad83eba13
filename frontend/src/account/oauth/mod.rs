//! "Sign in with …": OAuth 2 authorization code with PKCE, run by the app itself. The
//! self-hoster registers the clients and the proxy serves their public part at
//! `/oauth/clients` ([`Client`]). A public client's tokens are asked for at the provider's
//! token endpoint (the proxy sees no code and no token); a confidential client's (one whose
//! secret the proxy holds, Google's "Web application" clients) at the proxy's `/oauth/token`,
//! which adds the secret and forwards the request to that client's token endpoint only
//! ([`TokenEndpoint`]).
//!
//! - `pkce.rs`: the verifier, its S256 challenge, `state` and `nonce`.
//! - `discovery.rs`: where a provider's endpoints are (fixed for Google and Microsoft, the
//!   issuer's `/.well-known/openid-configuration` for an OpenID provider), checked.
//! - `tokens.rs`: the token endpoint's answer as [`Tokens`], refresh, when to refresh, the ID
//!   token's `nonce`; `sealed.rs`: tokens sealed under the passphrase.
//! - `flow.rs`: the popup, the callback page's message (`frontend/oauth-callback.js`), the
//!   code exchange.
//! - `http.rs`: the few HTTP requests this needs, bounded in size and time.
//!
//! No token, code or verifier is ever logged or shown; errors name the step and the
//! provider's error code only.

mod discovery;
mod flow;
mod http;
pub mod pkce;
pub mod sealed;
pub mod tokens;

use serde::Deserialize;

pub use discovery::Endpoints;
pub use flow::{Grant, TokenEndpoint, cancel_sign_in, redirect_uri, sign_in, token_endpoint};
pub use tokens::{Tokens, refresh};

use crate::store::{OAuthLogin, OAuthProvider};
use postbag_protocol::pop3::AuthPolicy;

/// Where the proxy lists the clients.
const CLIENTS_PATH: &str = "/oauth/clients";

/// One client the self-hoster registered, as `/oauth/clients` serves it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Client {
    pub provider: OAuthProvider,
    pub client_id: String,
    #[serde(default)]
    pub issuer: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    /// The scopes to ask; empty: the provider's defaults ([`Client::scope`]).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// The proxy holds this client's secret: its token requests go to the proxy.
    #[serde(default)]
    pub confidential: bool,
}

impl Client {
    /// The name on the button.
    pub fn display_name(&self) -> String {
        match (self.provider, &self.name) {
            (_, Some(name)) => name.clone(),
            (OAuthProvider::Google, None) => "Google".into(),
            (OAuthProvider::Microsoft, None) => "Microsoft".into(),
            (OAuthProvider::Oidc, None) => self.issuer.clone().unwrap_or_default(),
        }
    }

    /// The `scope` parameter: the configured scopes, else what mail needs from each provider
    /// (Google's full mail scope, Microsoft's POP and SMTP scopes; a refresh token through
    /// `offline_access` where the provider wants it asked for).
    pub fn scope(&self) -> String {
        if !self.scopes.is_empty() {
            return self.scopes.join(" ");
        }
        match self.provider {
            OAuthProvider::Google => "openid email https://mail.google.com/",
            OAuthProvider::Microsoft => {
                "openid email offline_access https://outlook.office.com/POP.AccessAsUser.All \
                 https://outlook.office.com/SMTP.Send"
            }
            OAuthProvider::Oidc => "openid offline_access",
        }
        .into()
    }

    /// The account's record of this client (its tokens are added by the caller).
    pub fn login(&self) -> OAuthLogin {
        OAuthLogin {
            provider: self.provider,
            client_id: self.client_id.clone(),
            issuer: self.issuer.clone(),
            name: self.display_name(),
            sealed_tokens: None,
        }
    }

    /// The client behind an account's record, for "Sign in again" (the configured scopes
    /// come from the proxy's list when it still has this client).
    pub fn of_login(login: &OAuthLogin, listed: &[Client]) -> Client {
        listed
            .iter()
            .find(|c| {
                c.provider == login.provider
                    && c.client_id == login.client_id
                    && c.issuer == login.issuer
            })
            .cloned()
            .unwrap_or_else(|| Client {
                provider: login.provider,
                client_id: login.client_id.clone(),
                issuer: login.issuer.clone(),
                name: Some(login.name.clone()),
                scopes: Vec::new(),
                // A client the proxy no longer lists: its secret, if it had one, is gone too.
                confidential: false,
            })
    }
}

/// The SASL mechanism an account signs in with: chosen from what the server offers
/// (OAUTHBEARER, RFC 7628, where offered, else XOAUTH2), except for Microsoft, whose servers
/// take XOAUTH2 only.
pub fn auth_policy(login: &OAuthLogin) -> AuthPolicy {
    match login.provider {
        OAuthProvider::Microsoft => AuthPolicy::XOAuth2,
        OAuthProvider::Google | OAuthProvider::Oidc => AuthPolicy::OAuth,
    }
}

/// The same choice for SMTP submission (RFC 4954 AUTH), with the same token.
pub fn smtp_auth_policy(login: &OAuthLogin) -> postbag_protocol::smtp::AuthPolicy {
    use postbag_protocol::smtp::AuthPolicy as Smtp;
    match auth_policy(login) {
        AuthPolicy::XOAuth2 => Smtp::XOAuth2,
        _ => Smtp::OAuth,
    }
}

/// The clients this deployment offers; an error when the proxy could not be asked (offline).
pub async fn clients() -> Result<Vec<Client>, OAuthError> {
    http::get_json::<Vec<Client>>(CLIENTS_PATH).await
}

/// Why signing in or refreshing did not work, in the user's words.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OAuthError {
    #[error("The browser gives no secure random numbers (the page must be served over HTTPS).")]
    NoRandomness,
    /// The sign-in needs its popup: there is no same-tab redirect to fall back on (which would
    /// reload the app and lose the setup form and this session's passwords and tokens).
    #[error(
        "Allow pop-ups for this site to sign in: the browser blocked the provider's sign-in \
         window. Allow them (the icon at the end of the address bar), then try again."
    )]
    PopupBlocked,
    #[error("Sign-in was cancelled.")]
    Cancelled,
    #[error("Sign-in took too long; try again.")]
    TimedOut,
    #[error("The provider refused the sign-in ({0}).")]
    Refused(String),
    #[error("The sign-in answer did not match this sign-in (state); try again.")]
    StateMismatch,
    #[error("The provider's ID token does not belong to this sign-in ({0}).")]
    BadIdToken(&'static str),
    #[error("The provider's configuration is not usable: {0}.")]
    Discovery(String),
    #[error("The sign-in has expired or was revoked: sign in again.")]
    InvalidGrant,
    #[error("The provider's token endpoint answered {0}.")]
    Token(String),
    #[error("The provider could not be reached ({0}).")]
    Network(String),
    /// The proxy wants its access code for the token request of a client whose secret it
    /// holds, and this session has none (or a wrong one).
    #[error(
        "The Postbag server asks for its access code before it signs you in: press Test \
         connection and enter the code, then sign in again."
    )]
    AccessCode,
}

impl OAuthError {
    /// Whether only a new sign-in can fix this (the grant is gone), as opposed to a failure
    /// worth retrying later.
    pub fn needs_sign_in(&self) -> bool {
        matches!(self, OAuthError::InvalidGrant)
    }
}

/// A provider's error code as it may be shown: RFC 6749 codes are `[\x20-\x7e]` without `"`
/// and `\`; this keeps letters, digits and `_`, at most 64, so that nothing a provider sends
/// can shape the page or the log.
pub(crate) fn error_code(raw: &str) -> String {
    let code: String = raw
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(64)
        .collect();
    if code.is_empty() {
        "no error code".into()
    } else {
        code
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn the_list_the_proxy_serves_reads_as_clients() {
        let listed: Vec<Client> = serde_json::from_str(
            r#"[{"provider":"microsoft","client_id":"0a1b"},
                {"provider":"oidc","client_id":"postbag","issuer":"https://id.example.org","name":"Example","scopes":["openid","offline_access","mail"]}]"#,
        )
        .unwrap();
        assert_eq!(listed[0].display_name(), "Microsoft");
        assert!(listed[0].scope().contains("POP.AccessAsUser.All"));
        assert_eq!(listed[1].display_name(), "Example");
        assert_eq!(listed[1].scope(), "openid offline_access mail");
        assert_eq!(auth_policy(&listed[0].login()), AuthPolicy::XOAuth2);
        assert_eq!(auth_policy(&listed[1].login()), AuthPolicy::OAuth);
        assert_eq!(Client::of_login(&listed[1].login(), &listed), listed[1]);
        assert!(!listed[1].confidential);
        let google: Client = serde_json::from_str(
            r#"{"provider":"google","client_id":"1.apps.googleusercontent.com","confidential":true}"#,
        )
        .unwrap();
        assert!(google.confidential);
    }

    #[test]
    fn provider_error_codes_are_shown_tamed() {
        assert_eq!(error_code("access_denied"), "access_denied");
        assert_eq!(error_code("<img src=x>\n"), "imgsrcx");
        assert_eq!(error_code(""), "no error code");
        assert_eq!(error_code(&"a".repeat(500)).len(), 64);
    }
}
