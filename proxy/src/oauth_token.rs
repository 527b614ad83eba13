//! `POST /oauth/token`: a confidential OAuth client's code exchange and refresh, done for the
//! app. Google's "Web application" clients (and any provider that registers the app as a
//! confidential client) want the client's secret at the token endpoint even with PKCE, and a
//! browser app cannot keep one; the self-hoster puts it in the proxy's configuration
//! (`oauth_clients.rs`), and the app posts its token requests here instead.
//!
//! Deny by default, and nothing more than that one request:
//! - the request passes the tunnel's own gate first (forwarding headers, Origin, the access
//!   token as `Authorization: Bearer`, `handshake::admit_request`);
//! - its body is form-encoded, at most [`MAX_REQUEST`] bytes, and holds only the fields of an
//!   `authorization_code` (with PKCE's `code_verifier`) or `refresh_token` grant, each once;
//! - `client_id` must name a configured client with a secret; the request goes to that client's
//!   token URL and nowhere else (no URL comes from the request), rebuilt from the checked
//!   fields plus the secret, never copied;
//! - at most [`MAX_IN_FLIGHT`] run at once; each is bounded in time and in the size of the
//!   answer (`forward.rs`);
//! - one client address (IPv6: its /64, as the tunnel caps count) gets [`RATE_BURST`] requests
//!   at once, then one per [`RATE_EVERY`]; more are refused (429, `Retry-After`) before the
//!   body is read (`limits/rate.rs`, a bounded table);
//! - the answer's status and JSON body go back to the app unchanged; no other header of the
//!   provider's (no cookie) is passed on;
//! - nothing is stored, and the log says which client, which grant, the status and the time,
//!   never a code, token, verifier or secret.

mod forward;

use std::time::Instant;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt as _;
use postbag_protocol::tunnel::ErrorKind;
use tokio::sync::Semaphore;

use crate::handshake;
use crate::limits::{Rate, TooFrequent};
use crate::oauth_clients::{ClientAuth, OAuthClient};
use crate::state::State;

pub use forward::{ForwardError, Forwarded};

/// Where the app posts a confidential client's token requests.
pub const PATH: &str = "/oauth/token";
/// A request's body: a refresh token (real ones are under 4 KiB; the app takes up to 16 KiB)
/// or a code and a verifier, with a redirect URI.
pub const MAX_REQUEST: usize = 24 * 1024;
/// The app sends its few KiB at once; a body still arriving after this is given up (408),
/// so that a dripping client cannot hold the request open.
pub const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// Token requests forwarded at once; more are refused (503) rather than queued, so the proxy
/// cannot be made to hold many slow provider connections.
pub const MAX_IN_FLIGHT: usize = 16;
/// Token requests one client address may make at once. The app makes one per sign-in and one
/// per account per access token's life (an hour at Google and Microsoft), plus one more try
/// after a refused token: ten covers a household signing in several accounts behind one
/// address.
pub const RATE_BURST: u32 = 10;
/// After the burst, one more request per address this often (three a minute): every request
/// forwarded carries the deployment's secret, so one address cannot redeem stolen codes or
/// refresh tokens with it in bulk, nor get the deployment's client throttled by the provider.
pub const RATE_EVERY: std::time::Duration = std::time::Duration::from_secs(20);

/// What `/oauth/token` shares across requests.
#[derive(Debug)]
pub struct TokenRequests {
    in_flight: Semaphore,
    per_address: Rate,
    /// Verifies the provider's certificate against the same roots as a mail server's.
    tls: std::sync::Arc<rustls::ClientConfig>,
}

impl TokenRequests {
    pub fn new(trust: &crate::tls::Trust) -> TokenRequests {
        TokenRequests {
            in_flight: Semaphore::new(MAX_IN_FLIGHT),
            per_address: Rate::new(RATE_BURST, RATE_EVERY),
            tls: trust.https_config(),
        }
    }
}

/// Why a token request was not forwarded, as the app reads it: an RFC 6749 error object, so
/// the app's one reader of token answers names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenRefusal {
    #[error("the body is not form-encoded")]
    NotAForm,
    #[error("the body is larger than {MAX_REQUEST} bytes")]
    TooLarge,
    #[error("a field is unknown, repeated or missing for this grant_type")]
    BadFields,
    #[error("grant_type is neither authorization_code nor refresh_token")]
    UnsupportedGrant,
    #[error("no configured client with a client_secret has this client_id")]
    UnknownClient,
    #[error("too many token requests at once; try again")]
    Busy,
    #[error("the body did not arrive within {} s", BODY_TIMEOUT.as_secs())]
    SlowBody,
    #[error("too many token requests from this address; try again in {retry_after_s} s")]
    TooFrequent { retry_after_s: u64 },
}

impl TokenRefusal {
    fn status(self) -> StatusCode {
        match self {
            TokenRefusal::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            TokenRefusal::NotAForm => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            TokenRefusal::Busy => StatusCode::SERVICE_UNAVAILABLE,
            TokenRefusal::SlowBody => StatusCode::REQUEST_TIMEOUT,
            TokenRefusal::TooFrequent { .. } => StatusCode::TOO_MANY_REQUESTS,
            TokenRefusal::UnknownClient => StatusCode::UNAUTHORIZED,
            TokenRefusal::BadFields | TokenRefusal::UnsupportedGrant => StatusCode::BAD_REQUEST,
        }
    }

    /// The RFC 6749 section 5.2 code where one fits, else the proxy's own.
    fn code(self) -> &'static str {
        match self {
            TokenRefusal::BadFields => "invalid_request",
            TokenRefusal::UnsupportedGrant => "unsupported_grant_type",
            TokenRefusal::UnknownClient => "invalid_client",
            TokenRefusal::NotAForm | TokenRefusal::TooLarge | TokenRefusal::SlowBody => {
                "invalid_request"
            }
            TokenRefusal::Busy | TokenRefusal::TooFrequent { .. } => "temporarily_unavailable",
        }
    }
}

/// An RFC 6749 error answer, with the proxy's words in `error_description`.
fn error_answer(status: StatusCode, code: &str, description: &str) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::PRAGMA, HeaderValue::from_static("no-cache")))
        .json(serde_json::json!({ "error": code, "error_description": description }))
}

fn refused(refusal: TokenRefusal) -> HttpResponse {
    let mut answer = error_answer(refusal.status(), refusal.code(), &refusal.to_string());
    if let TokenRefusal::TooFrequent { retry_after_s } = refusal {
        answer
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_s));
    }
    answer
}

/// The fields of each grant the app sends (RFC 6749 sections 4.1.3 and 6, RFC 7636 4.5).
const CODE_FIELDS: [&str; 5] = [
    "grant_type",
    "code",
    "redirect_uri",
    "client_id",
    "code_verifier",
];
const REFRESH_FIELDS: [&str; 3] = ["grant_type", "refresh_token", "client_id"];
/// Optional in a refresh (a narrower scope); never anything else.
const REFRESH_OPTIONAL: [&str; 1] = ["scope"];

/// A checked token request: its grant's fields in a fixed order, each once.
#[derive(PartialEq, Eq)]
pub struct Checked {
    pub client_id: String,
    pub grant_type: &'static str,
    pub fields: Vec<(&'static str, String)>,
}

// Written by hand: the fields hold a code, a verifier or a refresh token.
impl std::fmt::Debug for Checked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checked")
            .field("client_id", &self.client_id)
            .field("grant_type", &self.grant_type)
            .finish_non_exhaustive()
    }
}

/// Reads a form body into a [`Checked`] request, or says why not. Pure.
pub fn check_form(body: &[u8]) -> Result<Checked, TokenRefusal> {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let value = |name: &str| -> Result<Option<&str>, TokenRefusal> {
        let mut found = pairs.iter().filter(|(k, _)| k == name);
        match (found.next(), found.next()) {
            (Some(_), Some(_)) => Err(TokenRefusal::BadFields),
            (Some((_, v)), None) if v.is_empty() || v.chars().any(char::is_control) => {
                Err(TokenRefusal::BadFields)
            }
            (Some((_, v)), None) => Ok(Some(v.as_str())),
            (None, _) => Ok(None),
        }
    };
    let (grant_type, required, optional): (&'static str, &[&'static str], &[&'static str]) =
        match value("grant_type")? {
            Some("authorization_code") => ("authorization_code", &CODE_FIELDS, &[]),
            Some("refresh_token") => ("refresh_token", &REFRESH_FIELDS, &REFRESH_OPTIONAL),
            Some(_) => return Err(TokenRefusal::UnsupportedGrant),
            None => return Err(TokenRefusal::BadFields),
        };
    if pairs
        .iter()
        .any(|(k, _)| !required.contains(&k.as_str()) && !optional.contains(&k.as_str()))
    {
        return Err(TokenRefusal::BadFields);
    }
    let mut fields = Vec::new();
    for name in required.iter().chain(optional) {
        match value(name)? {
            Some(v) => fields.push((*name, v.to_string())),
            None if optional.contains(name) => {}
            None => return Err(TokenRefusal::BadFields),
        }
    }
    let client_id = value("client_id")?.unwrap_or_default().to_string();
    Ok(Checked {
        client_id,
        grant_type,
        fields,
    })
}

/// The body and headers sent to the token endpoint: the checked fields, and the secret as
/// the client was registered to present it.
pub fn upstream_request(client: &OAuthClient, checked: &Checked) -> (String, Option<String>) {
    let secret = client
        .client_secret
        .as_ref()
        .map(|s| s.expose_secret().as_str())
        .unwrap_or_default();
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in &checked.fields {
        form.append_pair(name, value);
    }
    match client.client_auth {
        ClientAuth::ClientSecretPost => {
            form.append_pair("client_secret", secret);
            (form.finish(), None)
        }
        ClientAuth::ClientSecretBasic => {
            // RFC 6749 section 2.3.1: id and secret are form-encoded before they are joined.
            use base64::Engine as _;
            let enc =
                |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            let pair = format!("{}:{}", enc(&client.client_id), enc(secret));
            let basic = base64::engine::general_purpose::STANDARD.encode(pair);
            (form.finish(), Some(format!("Basic {basic}")))
        }
    }
}

/// Reads the request body up to [`MAX_REQUEST`] bytes.
async fn read_body(mut payload: web::Payload) -> Result<Vec<u8>, TokenRefusal> {
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| TokenRefusal::BadFields)?;
        if body.len() + chunk.len() > MAX_REQUEST {
            return Err(TokenRefusal::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `POST /oauth/token`.
pub async fn endpoint(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<State>,
) -> HttpResponse {
    let client = match handshake::admit_request(&state, req.head()) {
        Ok(client) => client,
        Err(refusal) => {
            let code = serde_json::to_value(refusal.error.kind)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default();
            return error_answer(refusal.status, &code, &refusal.error.message);
        }
    };
    // Charged for every admitted request, before anything of it is read: a refused one costs
    // the proxy little, but a client sending many cannot be told from one probing.
    if let Err(TooFrequent { retry_after_s }) = state
        .token_requests
        .per_address
        .take(client, Instant::now())
    {
        state.metrics.error(ErrorKind::LimitReached);
        tracing::info!(client = %client, retry_after_s, "oauth token request refused: too many from this address");
        return refused(TokenRefusal::TooFrequent { retry_after_s });
    }
    let form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !form {
        return refused(TokenRefusal::NotAForm);
    }
    // Announced too large: refused before a byte of the body is read.
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > MAX_REQUEST as u64) {
        return refused(TokenRefusal::TooLarge);
    }
    let body = tokio::time::timeout(BODY_TIMEOUT, read_body(payload))
        .await
        .unwrap_or(Err(TokenRefusal::SlowBody));
    let checked = match body.and_then(|b| check_form(&b)) {
        Ok(c) => c,
        Err(refusal) => return refused(refusal),
    };
    let Some((client, url)) = state
        .config
        .oauth_clients
        .iter()
        .filter(|c| c.client_id == checked.client_id)
        .find_map(|c| Some((c, c.token_url()?)))
    else {
        return refused(TokenRefusal::UnknownClient);
    };
    let Ok(_permit) = state.token_requests.in_flight.try_acquire() else {
        return refused(TokenRefusal::Busy);
    };
    let (body, authorization) = upstream_request(client, &checked);
    let started = Instant::now();
    let result = forward::post(&url, &state.token_requests.tls, body, authorization).await;
    let ms = started.elapsed().as_millis();
    // The client id is public (it is in every authorization URL); nothing else of the
    // request or the answer is logged.
    let (client_id, grant) = (&client.client_id, checked.grant_type);
    match result {
        Ok(Forwarded { status, body }) => {
            tracing::info!(client_id = %client_id, grant, status, ms, "oauth token request forwarded");
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
            HttpResponse::build(status)
                .content_type("application/json")
                .insert_header((header::PRAGMA, HeaderValue::from_static("no-cache")))
                .body(body)
        }
        Err(e) => {
            tracing::warn!(client_id = %client_id, grant, ms, "oauth token request failed: {e}");
            let status = match e {
                ForwardError::TimedOut => StatusCode::GATEWAY_TIMEOUT,
                _ => StatusCode::BAD_GATEWAY,
            };
            error_answer(status, e.code(), &e.to_string())
        }
    }
}

#[cfg(test)]
mod tests;
