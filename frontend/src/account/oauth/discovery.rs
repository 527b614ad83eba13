//! Where a provider's endpoints are. Google and Microsoft have fixed ones; an OpenID
//! provider publishes them at `<issuer>/.well-known/openid-configuration` (OpenID Connect
//! Discovery 1.0), which is read and checked before the browser is sent anywhere: the
//! document must name the configured issuer exactly (section 4.3, so a document served for
//! another issuer is refused), the endpoints must be https (http only on a loopback issuer,
//! the tests' provider), and the token endpoint must be on the issuer's origin: it is the one
//! origin the proxy's CSP lets the app post to (`connect-src`), and tokens go nowhere else.

use serde::Deserialize;

use super::{Client, OAuthError, http};
use crate::store::OAuthProvider;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoints {
    pub authorization: String,
    pub token: String,
    /// The `iss` an ID token must carry; `None` where it varies per tenant (Microsoft's
    /// `common` endpoint).
    pub issuer: Option<String>,
}

#[derive(Deserialize)]
struct Document {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    #[serde(default)]
    code_challenge_methods_supported: Option<Vec<String>>,
}

/// The endpoints of `client`'s provider.
pub async fn endpoints(client: &Client) -> Result<Endpoints, OAuthError> {
    match client.provider {
        OAuthProvider::Google => Ok(Endpoints {
            authorization: "https://accounts.google.com/o/oauth2/v2/auth".into(),
            token: "https://oauth2.googleapis.com/token".into(),
            issuer: Some("https://accounts.google.com".into()),
        }),
        OAuthProvider::Microsoft => Ok(Endpoints {
            authorization: "https://login.microsoftonline.com/common/oauth2/v2.0/authorize".into(),
            token: "https://login.microsoftonline.com/common/oauth2/v2.0/token".into(),
            issuer: None,
        }),
        OAuthProvider::Oidc => {
            let issuer = client
                .issuer
                .as_deref()
                .ok_or_else(|| OAuthError::Discovery("no issuer configured".into()))?;
            let url = format!(
                "{}/.well-known/openid-configuration",
                issuer.trim_end_matches('/')
            );
            let text: serde_json::Value = http::get_json(&url).await?;
            check(issuer, &text.to_string())
        }
    }
}

/// The origin of `url` when it is https, or http on a loopback host.
fn allowed_origin(url: &str) -> Option<String> {
    let parsed = web_sys::Url::new(url).ok()?;
    if !parsed.username().is_empty() || !parsed.password().is_empty() {
        return None;
    }
    let loopback = matches!(
        parsed.hostname().as_str(),
        "127.0.0.1" | "localhost" | "[::1]"
    );
    match parsed.protocol().as_str() {
        "https:" => Some(parsed.origin()),
        "http:" if loopback => Some(parsed.origin()),
        _ => None,
    }
}

/// Checks the discovery document `json` of `issuer`.
pub fn check(issuer: &str, json: &str) -> Result<Endpoints, OAuthError> {
    let bad = |why: &str| OAuthError::Discovery(why.into());
    let doc: Document =
        serde_json::from_str(json).map_err(|_| bad("the discovery document is malformed"))?;
    if doc.issuer != issuer {
        return Err(bad("the discovery document names another issuer"));
    }
    let origin = allowed_origin(issuer).ok_or_else(|| bad("the issuer is not an https URL"))?;
    if allowed_origin(&doc.authorization_endpoint).is_none() {
        return Err(bad("the authorization endpoint is not an https URL"));
    }
    if allowed_origin(&doc.token_endpoint).as_deref() != Some(origin.as_str()) {
        return Err(bad("the token endpoint is not on the issuer's origin"));
    }
    if let Some(methods) = &doc.code_challenge_methods_supported
        && !methods.iter().any(|m| m == "S256")
    {
        return Err(bad("the provider does not offer PKCE with S256"));
    }
    Ok(Endpoints {
        authorization: doc.authorization_endpoint,
        token: doc.token_endpoint,
        issuer: Some(doc.issuer),
    })
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test as test;

    const ISSUER: &str = "https://id.example.org/realms/mail";

    fn doc(issuer: &str, auth: &str, token: &str, methods: &str) -> String {
        format!(
            r#"{{"issuer":"{issuer}","authorization_endpoint":"{auth}","token_endpoint":"{token}"{methods}}}"#
        )
    }

    fn refused(json: &str, words: &str) {
        match check(ISSUER, json) {
            Err(OAuthError::Discovery(why)) => assert!(why.contains(words), "{why}"),
            other => panic!("{json}: {other:?}"),
        }
    }

    #[test]
    fn a_document_for_its_issuer_gives_its_endpoints() {
        let json = doc(
            ISSUER,
            "https://id.example.org/realms/mail/auth",
            "https://id.example.org/realms/mail/token",
            r#","code_challenge_methods_supported":["plain","S256"]"#,
        );
        assert_eq!(
            check(ISSUER, &json),
            Ok(Endpoints {
                authorization: "https://id.example.org/realms/mail/auth".into(),
                token: "https://id.example.org/realms/mail/token".into(),
                issuer: Some(ISSUER.into()),
            })
        );
        // The tests' provider: plain http on loopback.
        let local = "http://127.0.0.1:4000";
        let json = doc(
            local,
            "http://127.0.0.1:4000/auth",
            "http://127.0.0.1:4000/token",
            "",
        );
        assert!(check(local, &json).is_ok());
    }

    #[test]
    fn a_document_that_would_send_codes_or_tokens_elsewhere_is_refused() {
        let auth = "https://id.example.org/auth";
        let token = "https://id.example.org/token";
        refused(
            &doc("https://evil.example", auth, token, ""),
            "another issuer",
        );
        refused(
            &doc(ISSUER, "http://id.example.org/auth", token, ""),
            "authorization",
        );
        refused(
            &doc(ISSUER, auth, "https://evil.example/token", ""),
            "token endpoint",
        );
        refused(
            &doc(ISSUER, auth, "http://id.example.org/token", ""),
            "token endpoint",
        );
        refused(
            &doc(ISSUER, auth, "https://x@id.example.org/token", ""),
            "token endpoint",
        );
        refused(
            &doc(
                ISSUER,
                auth,
                token,
                r#","code_challenge_methods_supported":["plain"]"#,
            ),
            "S256",
        );
        refused("{\"issuer\": 1}", "malformed");
    }
}
