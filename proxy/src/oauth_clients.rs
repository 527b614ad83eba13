//! The OAuth 2 clients the self-hoster registered (Google, Microsoft, a generic OpenID provider
//! such as Keycloak in front of Dovecot), served to the app at `/oauth/clients` so that it can
//! offer "Sign in with ...". The browser runs the authorization code flow with PKCE itself.
//! A public client (no secret) exchanges codes and refreshes at the provider's token endpoint
//! straight from the page, whose origin joins the CSP's `connect-src`
//! ([`OAuthClient::connect_origin`], `static_files.rs`); the proxy sees no code and no token.
//! A confidential client (Google's "Web application" clients want their secret even with
//! PKCE) has a `client_secret` here: the list only says `"confidential": true`, and the app
//! posts its token requests to the proxy's `/oauth/token` (`oauth_token.rs`), which adds the
//! secret and forwards them to [`OAuthClient::token_url`] only.

use actix_web::{HttpResponse, web};
use postbag_protocol::Secret;
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

/// How a confidential client proves itself to the token endpoint (RFC 6749 section 2.3.1):
/// the secret in the form (`client_secret_post`, what Google and Microsoft document) or in an
/// `Authorization: Basic` header (`client_secret_basic`). Providers such as node-oidc-provider
/// accept only the method the client was registered with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuth {
    #[default]
    ClientSecretPost,
    ClientSecretBasic,
}

/// One registered client, as written in the TOML file:
///
/// ```toml
/// [[oauth_clients]]
/// provider = "oidc"
/// client_id = "postbag"
/// issuer = "https://id.example.org/realms/mail"
/// name = "Example Mail"
/// scopes = ["openid", "offline_access", "email"]
/// # A confidential client only:
/// client_secret = "..."
/// token_endpoint = "https://id.example.org/realms/mail/protocol/openid-connect/token"
/// client_auth = "client_secret_basic"
/// ```
///
/// Not `Serialize`: what the app is told is [`Listed`], which has no room for the secret.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
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
    #[serde(default)]
    pub scopes: Vec<String>,
    /// The client's secret, for a confidential client: the proxy adds it to the code exchange
    /// and refresh it forwards (`/oauth/token`). Never served to the app, never logged
    /// (`Debug` prints a redaction).
    #[serde(default)]
    pub client_secret: Option<Secret<String>>,
    /// How the secret is presented; only with `client_secret`.
    #[serde(default)]
    pub client_auth: ClientAuth,
    /// For an `oidc` client with a `client_secret`: the token endpoint the proxy posts to (the
    /// issuer's discovery document names it), on the issuer's origin. Google's and
    /// Microsoft's are fixed.
    #[serde(default)]
    pub token_endpoint: Option<String>,
}

/// What `/oauth/clients` says about a client: the public part only. Spelled out field by
/// field, so that nothing added to [`OAuthClient`] is served unless it is added here.
#[derive(Serialize)]
struct Listed<'a> {
    provider: OAuthProvider,
    client_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    issuer: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    scopes: &'a [String],
    /// The app posts this client's token requests to `/oauth/token`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    confidential: bool,
}

impl<'a> From<&'a OAuthClient> for Listed<'a> {
    fn from(c: &'a OAuthClient) -> Listed<'a> {
        Listed {
            provider: c.provider,
            client_id: &c.client_id,
            issuer: c.issuer.as_deref(),
            name: c.name.as_deref(),
            scopes: &c.scopes,
            confidential: c.is_confidential(),
        }
    }
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
            _ => self.secret_problem(),
        }
    }

    /// What is wrong with the confidential part (`client_secret`, `token_endpoint`,
    /// `client_auth`), if anything.
    fn secret_problem(&self) -> Option<String> {
        let Some(secret) = &self.client_secret else {
            if self.token_endpoint.is_some() {
                return Some(
                    "token_endpoint is only for a client with a client_secret (a public \
                     client's app reads it from the issuer's discovery document)"
                        .into(),
                );
            }
            if self.client_auth != ClientAuth::default() {
                return Some("client_auth is only for a client with a client_secret".into());
            }
            return None;
        };
        let secret = secret.expose_secret();
        // Never echoed: the message names the rule, not the value.
        if secret.is_empty() || secret.len() > 512 || secret.chars().any(char::is_control) {
            return Some("client_secret is empty, too long or has control characters".into());
        }
        match (self.provider, &self.token_endpoint) {
            (OAuthProvider::Oidc, None) => Some(
                "an oidc client with a client_secret needs its token_endpoint (the proxy posts \
                 only there)"
                    .into(),
            ),
            (OAuthProvider::Oidc, Some(url)) if !issuer_ok(url) => Some(format!(
                "token_endpoint {url:?} is not an https URL (http only on 127.0.0.1 or localhost)"
            )),
            (OAuthProvider::Oidc, Some(url)) if origin_of(url) != self.connect_origin() => {
                Some(format!(
                    "token_endpoint {url:?} is not on the issuer's origin (the app refuses such \
                     a provider too)"
                ))
            }
            (OAuthProvider::Google | OAuthProvider::Microsoft, Some(_)) => {
                Some("google and microsoft clients take no token_endpoint (theirs is fixed)".into())
            }
            _ => None,
        }
    }

    /// Whether the proxy does this client's token requests (it has a secret).
    pub fn is_confidential(&self) -> bool {
        self.client_secret.is_some()
    }

    /// Where the proxy posts a confidential client's token requests: the provider's fixed
    /// token endpoint, or the configured one for `oidc`. `None` for a public client, or an
    /// entry `problem` refuses.
    pub fn token_url(&self) -> Option<url::Url> {
        self.client_secret.as_ref()?;
        let url = match self.provider {
            OAuthProvider::Google => GOOGLE_TOKEN_URL,
            OAuthProvider::Microsoft => MICROSOFT_TOKEN_URL,
            OAuthProvider::Oidc => self.token_endpoint.as_deref().filter(|u| issuer_ok(u))?,
        };
        url::Url::parse(url).ok()
    }
}

/// Google's token endpoint (the app's `discovery.rs` names the same).
const GOOGLE_TOKEN_URL: &str = "https://oauth2.googleapis.com/token";
/// Microsoft's, for any tenant (the app signs in at `common`).
const MICROSOFT_TOKEN_URL: &str = "https://login.microsoftonline.com/common/oauth2/v2.0/token";

/// The origin of `url`, as the browser would serialise it.
fn origin_of(url: &str) -> Option<String> {
    let origin = url::Url::parse(url).ok()?.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

impl OAuthClient {
    /// What the self-hoster is told at start about an entry that is valid but will not work
    /// (no secret in it, so it can be logged). Google gives tokens to a browser app only with
    /// the client's secret (its "Web application" clients), which the proxy then adds.
    pub fn warning(&self) -> Option<&'static str> {
        (self.provider == OAuthProvider::Google && !self.is_confidential()).then_some(
            "a google client without its client_secret cannot sign in: Google wants the \
             secret for the code exchange and refresh; add client_secret to this entry and \
             the proxy does those requests for the app (docs/oauth.md)",
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
    /// The origin the app's page fetches from for this client, which the CSP's `connect-src`
    /// must allow: the provider's token endpoint for a public Google or Microsoft client (codes
    /// and refresh tokens), the issuer's origin for `oidc` (its discovery document, and a
    /// public client's token endpoint, which the app refuses elsewhere). A confidential
    /// Google or Microsoft client needs none: its token requests go to the proxy's own
    /// `/oauth/token`. `None` as well for an entry `problem` refuses.
    pub fn connect_origin(&self) -> Option<String> {
        match self.provider {
            _ if self.provider != OAuthProvider::Oidc && self.is_confidential() => None,
            OAuthProvider::Google => Some("https://oauth2.googleapis.com".into()),
            OAuthProvider::Microsoft => Some("https://login.microsoftonline.com".into()),
            OAuthProvider::Oidc => origin_of(self.issuer.as_deref().filter(|i| issuer_ok(i))?),
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

/// `GET /oauth/clients`: the configured list (empty when none), as JSON, public parts only.
pub async fn endpoint(state: web::Data<State>) -> HttpResponse {
    let listed: Vec<Listed<'_>> = state
        .config
        .oauth_clients
        .iter()
        .map(Listed::from)
        .collect();
    HttpResponse::Ok().json(listed)
}

/// Two confidential clients with the same id would leave `/oauth/token` unable to tell which
/// secret and endpoint a request is for: the index of the second, if there is one.
pub fn ambiguous(clients: &[OAuthClient]) -> Option<usize> {
    clients.iter().enumerate().position(|(i, c)| {
        c.is_confidential()
            && clients[..i]
                .iter()
                .any(|o| o.is_confidential() && o.client_id == c.client_id)
    })
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
        let origin = |entry: &str| {
            toml::from_str::<OAuthClient>(entry)
                .unwrap()
                .connect_origin()
        };
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
        // A confidential Google client's token requests go to the proxy: no origin to allow.
        assert_eq!(
            origin("provider = \"google\"\nclient_id = \"p\"\nclient_secret = \"s\""),
            None
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
    }

    const OIDC: &str =
        "provider = \"oidc\"\nclient_id = \"p\"\nissuer = \"https://id.example.org/realms/mail\"\n";

    #[test]
    fn a_confidential_client_posts_only_to_its_token_endpoint() {
        let client = |text: &str| toml::from_str::<OAuthClient>(text).unwrap();
        let google =
            client("provider = \"google\"\nclient_id = \"p\"\nclient_secret = \"GOCSPX-s\"");
        assert_eq!(google.problem(), None);
        assert_eq!(
            google.token_url().map(String::from),
            Some("https://oauth2.googleapis.com/token".into())
        );
        assert!(
            !format!("{google:?}").contains("GOCSPX-s"),
            "the secret leaks through Debug"
        );
        let oidc = client(&format!(
            "{OIDC}client_secret = \"s\"\ntoken_endpoint = \"https://id.example.org/realms/mail/token\"\nclient_auth = \"client_secret_basic\""
        ));
        assert_eq!(oidc.problem(), None);
        assert_eq!(oidc.client_auth, ClientAuth::ClientSecretBasic);
        assert_eq!(
            oidc.token_url().map(String::from),
            Some("https://id.example.org/realms/mail/token".into())
        );
        // A public client: the proxy posts nowhere for it.
        assert_eq!(client(OIDC).token_url(), None);
        assert!(!client(OIDC).is_confidential());
    }

    #[test]
    fn confidential_entries_that_would_mislead_are_refused() {
        check(
            &format!("{OIDC}client_secret = \"s\""),
            Some("needs its token_endpoint"),
        );
        check(
            &format!(
                "{OIDC}client_secret = \"s\"\ntoken_endpoint = \"https://evil.example/token\""
            ),
            Some("not on the issuer's origin"),
        );
        check(
            &format!(
                "{OIDC}client_secret = \"s\"\ntoken_endpoint = \"http://id.example.org/token\""
            ),
            Some("not an https URL"),
        );
        check(
            &format!("{OIDC}token_endpoint = \"https://id.example.org/token\""),
            Some("only for a client with a client_secret"),
        );
        check(
            &format!("{OIDC}client_auth = \"client_secret_basic\""),
            Some("only for a client with a client_secret"),
        );
        check(
            "provider = \"google\"\nclient_id = \"p\"\nclient_secret = \"s\"\ntoken_endpoint = \"https://evil.example/token\"",
            Some("take no token_endpoint"),
        );
        for secret in ["", "a\\nb"] {
            let entry =
                format!("provider = \"google\"\nclient_id = \"p\"\nclient_secret = \"{secret}\"");
            let problem = toml::from_str::<OAuthClient>(&entry)
                .unwrap()
                .problem()
                .unwrap();
            assert!(problem.contains("client_secret is empty"), "{problem}");
        }
        assert!(
            toml::from_str::<OAuthClient>(
                "provider = \"google\"\nclient_id = \"p\"\nclient_auth = \"private_key_jwt\""
            )
            .is_err()
        );
        let twice = [
            toml::from_str::<OAuthClient>(
                "provider = \"google\"\nclient_id = \"p\"\nclient_secret = \"a\"",
            )
            .unwrap(),
            toml::from_str::<OAuthClient>("provider = \"google\"\nclient_id = \"p\"").unwrap(),
            toml::from_str::<OAuthClient>(
                "provider = \"google\"\nclient_id = \"p\"\nclient_secret = \"b\"",
            )
            .unwrap(),
        ];
        assert_eq!(ambiguous(&twice), Some(2));
        assert_eq!(ambiguous(&twice[..2]), None);
    }

    #[test]
    fn the_list_the_app_reads_has_no_secret() {
        let client = toml::from_str::<OAuthClient>(&format!(
            "{OIDC}client_secret = \"hunter2\"\ntoken_endpoint = \"https://id.example.org/t\""
        ))
        .unwrap();
        let listed = serde_json::to_value(Listed::from(&client)).unwrap();
        assert_eq!(
            listed,
            serde_json::json!({
                "provider": "oidc", "client_id": "p",
                "issuer": "https://id.example.org/realms/mail", "confidential": true
            })
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
        let confidential =
            client("provider = \"google\"\nclient_id = \"p\"\nclient_secret = \"s\"");
        assert_eq!(confidential.warning(), None, "with its secret it works");
    }
}
