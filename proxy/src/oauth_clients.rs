//! The OAuth 2 clients the self-hoster registered (Google, Microsoft, a generic OpenID provider
//! such as Keycloak in front of Dovecot), served to the app at `/oauth/clients` so that it can
//! offer "Sign in with ...". Only public clients: the browser runs the authorization code flow
//! with PKCE itself (Google, Microsoft and OpenID providers all allow that for single-page
//! apps), so there is no client secret here to keep, and the proxy sees no code and no token.
//! The app's page may post to each client's token endpoint: its origin joins the CSP's
//! `connect-src` ([`OAuthClient::token_origin`], `static_files.rs`).

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use crate::state::State;

/// Where the app reads the list.
pub const PATH: &str = "/oauth/clients";

/// Which provider a client belongs to: it fixes the endpoints for Google and Microsoft.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OAuthProvider {
    Google,
    Microsoft,
    /// Any OpenID provider, found through `issuer`'s discovery document.
    Oidc,
}

/// One registered public client, as written in the TOML file:
///
/// ```toml
/// [[oauth_clients]]
/// provider = "oidc"
/// client_id = "postbag"
/// issuer = "https://id.example.org/realms/mail"
/// name = "Example Mail"
/// scopes = ["openid", "offline_access", "email"]
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthClient {
    pub provider: OAuthProvider,
    /// The client id the provider gave at registration. Public by nature: it is in every
    /// authorization URL.
    pub client_id: String,
    /// For `oidc` only: the issuer URL (https, or http on a loopback address for tests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// For `oidc` only: the name on the button ("Sign in with <name>").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The scopes the app asks for; empty: the app's defaults for the provider (Google's mail
    /// scope, Microsoft's POP and SMTP scopes, `openid offline_access` for `oidc`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
}

impl OAuthClient {
    /// Why this entry cannot be used, if it cannot: the app would build authorization URLs
    /// from it, so an entry that means something else than it says is refused at start.
    pub fn problem(&self) -> Option<String> {
        let printable =
            |s: &str| !s.is_empty() && s.len() <= 512 && !s.chars().any(char::is_control);
        if !printable(&self.client_id) {
            return Some("client_id is empty, too long or has control characters".into());
        }
        match (self.provider, &self.issuer) {
            (OAuthProvider::Oidc, None) => Some("an oidc client needs its issuer URL".into()),
            (OAuthProvider::Oidc, Some(issuer)) if !issuer_ok(issuer) => Some(format!(
                "issuer {issuer:?} is not an https URL (http only on 127.0.0.1 or localhost)"
            )),
            (OAuthProvider::Google | OAuthProvider::Microsoft, Some(_)) => Some(
                "google and microsoft clients take no issuer (their endpoints are fixed)".into(),
            ),
            _ if self.name.as_deref().is_some_and(|n| !printable(n)) => {
                Some("name is empty, too long or has control characters".into())
            }
            _ if !self.scopes.iter().all(|s| scope_token(s)) => Some(
                "a scope is empty, too long, or has spaces, quotes or backslashes (RFC 6749 3.3)"
                    .into(),
            ),
            _ => None,
        }
    }
}

impl OAuthClient {
    /// What the self-hoster is told at start about an entry that is valid but will not work
    /// (no secret in it, so it can be logged). Google gives tokens to a browser app only with
    /// the client's secret, and the proxy does not do that exchange (README, "Signing in").
    pub fn warning(&self) -> Option<&'static str> {
        (self.provider == OAuthProvider::Google).then_some(
            "a google client cannot sign in yet: Google wants the client's secret for the code \
             exchange, which the proxy does not do (README, Signing in); its button will fail",
        )
    }
}

/// RFC 6749 section 3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`.
fn scope_token(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 512
        && s.bytes()
            .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
}

impl OAuthClient {
    /// The origin the app posts this client's token requests to (codes and refresh tokens),
    /// which the CSP's `connect-src` must allow: the provider's token endpoint for Google and
    /// Microsoft, the issuer's origin for `oidc` (the app refuses a discovery document whose
    /// token endpoint is elsewhere). `None` for an entry `problem` refuses.
    pub fn token_origin(&self) -> Option<String> {
        match self.provider {
            OAuthProvider::Google => Some("https://oauth2.googleapis.com".into()),
            OAuthProvider::Microsoft => Some("https://login.microsoftonline.com".into()),
            OAuthProvider::Oidc => {
                let issuer = self.issuer.as_deref().filter(|i| issuer_ok(i))?;
                let origin = url::Url::parse(issuer).ok()?.origin();
                origin.is_tuple().then(|| origin.ascii_serialization())
            }
        }
    }
}

/// An issuer the browser may be sent to: https, or plain http on loopback (the tests' provider).
/// Judged on the URL as parsed (WHATWG rules, as the browser reads it), not on its prefix:
/// `http://localhost:@evil.example/` starts like loopback but its host is evil.example.
fn issuer_ok(issuer: &str) -> bool {
    if issuer.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return false;
    }
    let Ok(url) = url::Url::parse(issuer) else {
        return false;
    };
    // Userinfo has no place in an issuer and only serves to disguise the host.
    if !url.username().is_empty() || url.password().is_some() {
        return false;
    }
    match (url.scheme(), url.host()) {
        ("https", Some(_)) => true,
        ("http", Some(url::Host::Domain("localhost"))) => true,
        ("http", Some(url::Host::Ipv4(ip))) => ip == std::net::Ipv4Addr::LOCALHOST,
        _ => false,
    }
}

/// `GET /oauth/clients`: the configured list (empty when none), as JSON.
pub async fn endpoint(state: web::Data<State>) -> HttpResponse {
    HttpResponse::Ok().json(&state.config.oauth_clients)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(toml_entry: &str, problem: Option<&str>) {
        let client: OAuthClient = toml::from_str(toml_entry).unwrap();
        let got = client.problem();
        match problem {
            None => assert_eq!(got, None, "{toml_entry}"),
            Some(words) => assert!(
                got.as_deref().is_some_and(|p| p.contains(words)),
                "{toml_entry}: {got:?}"
            ),
        }
    }

    #[test]
    fn entries_that_mean_what_they_say() {
        check(
            "provider = \"google\"\nclient_id = \"123.apps.googleusercontent.com\"",
            None,
        );
        check("provider = \"microsoft\"\nclient_id = \"0a1b\"", None);
        check(
            "provider = \"oidc\"\nclient_id = \"postbag\"\nissuer = \"https://id.example.org/realms/mail\"\nname = \"Example\"",
            None,
        );
        check(
            "provider = \"oidc\"\nclient_id = \"p\"\nissuer = \"http://127.0.0.1:8443\"",
            None,
        );
        check(
            "provider = \"microsoft\"\nclient_id = \"p\"\nscopes = [\"offline_access\", \"https://outlook.office.com/POP.AccessAsUser.All\"]",
            None,
        );
    }

    #[test]
    fn token_requests_go_to_the_providers_origin_only() {
        let origin = |entry: &str| toml::from_str::<OAuthClient>(entry).unwrap().token_origin();
        assert_eq!(
            origin(
                "provider = \"oidc\"\nclient_id = \"p\"\nissuer = \"https://id.example.org/realms/mail\""
            ),
            Some("https://id.example.org".into())
        );
        assert_eq!(
            origin("provider = \"oidc\"\nclient_id = \"p\"\nissuer = \"http://127.0.0.1:8443/x\""),
            Some("http://127.0.0.1:8443".into())
        );
        assert_eq!(
            origin(
                "provider = \"oidc\"\nclient_id = \"p\"\nissuer = \"http://localhost:@evil.example/\""
            ),
            None
        );
        assert_eq!(
            origin("provider = \"google\"\nclient_id = \"p\""),
            Some("https://oauth2.googleapis.com".into())
        );
    }

    #[test]
    fn entries_that_would_mislead_are_refused() {
        check(
            "provider = \"oidc\"\nclient_id = \"p\"",
            Some("needs its issuer"),
        );
        check(
            "provider = \"oidc\"\nclient_id = \"p\"\nissuer = \"http://id.example.org\"",
            Some("not an https URL"),
        );
        check(
            "provider = \"google\"\nclient_id = \"p\"\nissuer = \"https://evil.example\"",
            Some("take no issuer"),
        );
        // Userinfo hides the real host: these are plain HTTP to evil.example, not loopback.
        for issuer in [
            "http://localhost:@evil.example/",
            "http://127.0.0.1:@evil.example/",
            "http://localhost:x@evil.example/",
            "https://user@id.example.org/",
            "ftp://id.example.org/",
        ] {
            check(
                &format!("provider = \"oidc\"\nclient_id = \"p\"\nissuer = \"{issuer}\""),
                Some("not an https URL"),
            );
        }
        check("provider = \"google\"\nclient_id = \"\"", Some("client_id"));
        check(
            "provider = \"oidc\"\nclient_id = \"p\"\nissuer = \"https://x\"\nname = \"a\\nb\"",
            Some("name"),
        );
        for scope in ["", "a b", "a\\\"b", "x\\\\y"] {
            check(
                &format!("provider = \"google\"\nclient_id = \"p\"\nscopes = [\"{scope}\"]"),
                Some("scope"),
            );
        }
        // A secret has no place here: the proxy keeps none.
        assert!(
            toml::from_str::<OAuthClient>(
                "provider = \"google\"\nclient_id = \"p\"\nclient_secret = \"s\""
            )
            .is_err()
        );
    }

    #[test]
    fn a_google_client_is_warned_about_at_start_and_others_are_not() {
        let client = |text: &str| toml::from_str::<OAuthClient>(text).unwrap();
        let google =
            client("provider = \"google\"\nclient_id = \"123.apps.googleusercontent.com\"");
        assert!(google.problem().is_none(), "valid, so the proxy starts");
        assert!(google.warning().is_some_and(|w| w.contains("google")));
        let microsoft = client("provider = \"microsoft\"\nclient_id = \"0a1b\"");
        assert_eq!(microsoft.warning(), None);
    }
}
