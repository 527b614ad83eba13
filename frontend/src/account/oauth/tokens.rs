//! The tokens of a grant: the token endpoint's answer read into [`Tokens`] (RFC 6749 section
//! 5.1), the refresh (section 6), when to refresh, and the ID token's claims that tie it to
//! this sign-in (`nonce`, `aud`, `iss`). The ID token's signature is not checked: it came
//! straight from the token endpoint over TLS, which OpenID Connect Core 3.1.3.7 accepts in
//! its place, and it only serves to check the nonce; the mail server judges the access token.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use postbag_protocol::pop3::Secret;
use serde::Deserialize;

use super::{OAuthError, TokenEndpoint, error_code};

/// The longest access or refresh token taken: real ones are under 4 KiB (Microsoft's JWTs
/// are the longest); a SASL line must hold it.
const MAX_TOKEN: usize = 16 * 1024;
/// An answer without `expires_in` is taken to live this long (RFC 6749 leaves it open).
const DEFAULT_LIFETIME_S: f64 = 3600.0;
/// Refresh when less than this is left (or half the token's lifetime, if that is shorter).
pub const REFRESH_MARGIN_MS: f64 = 5.0 * 60_000.0;

#[derive(Clone, Debug, PartialEq)]
pub struct Tokens {
    pub access: Secret<String>,
    /// Absent when the provider gave none: then the grant ends with the access token.
    pub refresh: Option<Secret<String>>,
    /// When the access token expires (ms since the epoch).
    pub expires_at: f64,
    /// How long it lived when issued (ms).
    pub lifetime: f64,
}

impl Tokens {
    /// Whether to refresh before logging in at `now`: less than [`REFRESH_MARGIN_MS`] left, or
    /// less than half the lifetime for tokens that live under ten minutes.
    pub fn needs_refresh(&self, now: f64) -> bool {
        let margin = REFRESH_MARGIN_MS.min(self.lifetime / 2.0);
        self.expires_at - now <= margin
    }
}

#[derive(Deserialize)]
struct Success {
    access_token: String,
    token_type: String,
    #[serde(default)]
    expires_in: Option<f64>,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    id_token: Option<String>,
}

#[derive(Deserialize)]
struct Failure {
    error: String,
}

/// Reads a token endpoint's answer at `now`. `previous_refresh` stays when a refresh answer
/// brings no new one (RFC 6749 section 6: the provider may keep it). Returns the tokens and
/// the ID token, if any.
pub fn read_answer(
    status: u16,
    body: &str,
    now: f64,
    previous_refresh: Option<&Secret<String>>,
) -> Result<(Tokens, Option<String>), OAuthError> {
    if status != 200 {
        let code = serde_json::from_str::<Failure>(body)
            .map(|f| f.error)
            .unwrap_or_default();
        if code == "invalid_grant" {
            return Err(OAuthError::InvalidGrant);
        }
        return Err(OAuthError::Token(format!(
            "HTTP {status}, {}",
            error_code(&code)
        )));
    }
    let ok: Success = serde_json::from_str(body)
        .map_err(|_| OAuthError::Token("an answer without an access token".into()))?;
    if !ok.token_type.eq_ignore_ascii_case("bearer") {
        return Err(OAuthError::Token(
            "a token that is not a bearer token".into(),
        ));
    }
    let usable = |t: &str| {
        !t.is_empty() && t.len() <= MAX_TOKEN && t.bytes().all(|b| (0x21..0x7f).contains(&b))
    };
    if !usable(&ok.access_token) || ok.refresh_token.as_deref().is_some_and(|t| !usable(t)) {
        return Err(OAuthError::Token(
            "a token too long or with spaces or control characters".into(),
        ));
    }
    let lifetime = ok
        .expires_in
        .filter(|s| s.is_finite() && *s > 0.0)
        .unwrap_or(DEFAULT_LIFETIME_S)
        * 1000.0;
    Ok((
        Tokens {
            access: Secret::new(ok.access_token),
            refresh: ok
                .refresh_token
                .map(Secret::new)
                .or_else(|| previous_refresh.cloned()),
            expires_at: now + lifetime,
            lifetime,
        },
        ok.id_token,
    ))
}

#[derive(Deserialize)]
struct Claims {
    #[serde(default)]
    nonce: Option<String>,
    #[serde(default)]
    iss: Option<String>,
    #[serde(default)]
    aud: Option<serde_json::Value>,
}

/// Checks that `id_token` was issued for this sign-in: its `nonce` is the one sent, its
/// audience holds `client_id`, its issuer is `issuer` (when the provider has one issuer).
pub fn check_id_token(
    id_token: &str,
    nonce: &str,
    client_id: &str,
    issuer: Option<&str>,
) -> Result<(), OAuthError> {
    let payload = id_token
        .split('.')
        .nth(1)
        .and_then(|p| B64URL.decode(p.trim_end_matches('=')).ok())
        .ok_or(OAuthError::BadIdToken("malformed"))?;
    let claims: Claims =
        serde_json::from_slice(&payload).map_err(|_| OAuthError::BadIdToken("malformed"))?;
    if claims.nonce.as_deref() != Some(nonce) {
        return Err(OAuthError::BadIdToken("another nonce"));
    }
    let audience_ok = match &claims.aud {
        Some(serde_json::Value::String(a)) => a == client_id,
        Some(serde_json::Value::Array(all)) => all.iter().any(|a| a.as_str() == Some(client_id)),
        _ => false,
    };
    if !audience_ok {
        return Err(OAuthError::BadIdToken("another audience"));
    }
    if let Some(issuer) = issuer
        && claims.iss.as_deref() != Some(issuer)
    {
        return Err(OAuthError::BadIdToken("another issuer"));
    }
    Ok(())
}

/// Trades the refresh token for a new access token (and, with rotation, a new refresh token)
/// at `token_endpoint` (the provider's, or the proxy's for a confidential client).
pub async fn refresh(
    token_endpoint: &TokenEndpoint,
    client_id: &str,
    tokens: &Tokens,
) -> Result<Tokens, OAuthError> {
    let Some(refresh) = &tokens.refresh else {
        return Err(OAuthError::InvalidGrant);
    };
    let answer = token_endpoint
        .post(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh.expose_secret()),
            ("client_id", client_id),
        ])
        .await?;
    let now = js_sys::Date::now();
    read_answer(answer.status, &answer.body, now, Some(refresh)).map(|(t, _)| t)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    const NOW: f64 = 1_700_000_000_000.0;

    fn read(status: u16, body: &str) -> Result<Tokens, OAuthError> {
        read_answer(status, body, NOW, None).map(|(t, _)| t)
    }

    #[test]
    fn an_answer_becomes_tokens_with_their_expiry() {
        let t = read(
            200,
            r#"{"access_token":"at","token_type":"Bearer","expires_in":12,"refresh_token":"rt"}"#,
        )
        .unwrap();
        assert_eq!(t.access.expose_secret(), "at");
        assert_eq!(t.refresh.as_ref().unwrap().expose_secret(), "rt");
        assert_eq!((t.expires_at, t.lifetime), (NOW + 12_000.0, 12_000.0));
        // A refresh answer without a refresh token keeps the old one.
        let old = Secret::new("old".to_string());
        let (t, _) = read_answer(
            200,
            r#"{"access_token":"at2","token_type":"bearer"}"#,
            NOW,
            Some(&old),
        )
        .unwrap();
        assert_eq!(t.refresh, Some(old));
        assert_eq!(t.lifetime, 3_600_000.0);
    }

    #[test]
    fn refusals_and_odd_answers_are_named() {
        assert_eq!(
            read(400, r#"{"error":"invalid_grant"}"#),
            Err(OAuthError::InvalidGrant)
        );
        assert_eq!(
            read(
                401,
                r#"{"error":"invalid_client","error_description":"<b>x</b>"}"#
            ),
            Err(OAuthError::Token("HTTP 401, invalid_client".into()))
        );
        assert!(matches!(read(502, "<html>"), Err(OAuthError::Token(_))));
        assert!(matches!(
            read(200, r#"{"access_token":"at","token_type":"mac"}"#),
            Err(OAuthError::Token(_))
        ));
        assert!(matches!(
            read(200, r#"{"access_token":"a t","token_type":"Bearer"}"#),
            Err(OAuthError::Token(_))
        ));
        let long = format!(
            r#"{{"access_token":"{}","token_type":"Bearer"}}"#,
            "a".repeat(MAX_TOKEN + 1)
        );
        assert!(matches!(read(200, &long), Err(OAuthError::Token(_))));
    }

    #[test]
    fn tokens_are_refreshed_ahead_of_expiry() {
        let hour = Tokens {
            access: Secret::new("a".into()),
            refresh: None,
            expires_at: NOW + 3_600_000.0,
            lifetime: 3_600_000.0,
        };
        assert!(!hour.needs_refresh(NOW));
        assert!(!hour.needs_refresh(NOW + 3_600_000.0 - REFRESH_MARGIN_MS - 1.0));
        assert!(hour.needs_refresh(NOW + 3_600_000.0 - REFRESH_MARGIN_MS));
        // A 12 s token: refreshed once half of it is gone, not at once.
        let short = Tokens {
            expires_at: NOW + 12_000.0,
            lifetime: 12_000.0,
            ..hour
        };
        assert!(!short.needs_refresh(NOW + 5_000.0));
        assert!(short.needs_refresh(NOW + 6_000.0));
    }

    fn id_token(claims: &str) -> String {
        format!("eyJhbGciOiJSUzI1NiJ9.{}.c2ln", B64URL.encode(claims))
    }

    #[test]
    fn an_id_token_must_carry_this_sign_ins_nonce_audience_and_issuer() {
        let good = id_token(r#"{"nonce":"n1","aud":"app","iss":"https://id"}"#);
        assert_eq!(
            check_id_token(&good, "n1", "app", Some("https://id")),
            Ok(())
        );
        let listed = id_token(r#"{"nonce":"n1","aud":["other","app"],"iss":"x"}"#);
        assert_eq!(check_id_token(&listed, "n1", "app", None), Ok(()));
        let check = |t: &str| check_id_token(t, "n1", "app", Some("https://id"));
        assert_eq!(
            check(&good.replace('.', "")),
            Err(OAuthError::BadIdToken("malformed"))
        );
        assert_eq!(
            check(&id_token(
                r#"{"nonce":"n2","aud":"app","iss":"https://id"}"#
            )),
            Err(OAuthError::BadIdToken("another nonce"))
        );
        assert_eq!(
            check(&id_token(r#"{"aud":"app","iss":"https://id"}"#)),
            Err(OAuthError::BadIdToken("another nonce"))
        );
        assert_eq!(
            check(&id_token(
                r#"{"nonce":"n1","aud":"evil","iss":"https://id"}"#
            )),
            Err(OAuthError::BadIdToken("another audience"))
        );
        assert_eq!(
            check(&id_token(
                r#"{"nonce":"n1","aud":"app","iss":"https://evil"}"#
            )),
            Err(OAuthError::BadIdToken("another issuer"))
        );
    }
}
