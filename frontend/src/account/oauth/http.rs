//! The HTTP requests of the flow: the proxy's client list, a provider's discovery document,
//! the token endpoint. Each is bounded in time ([`TIMEOUT_MS`]) and in the size of the body
//! read ([`MAX_BODY`]); no cookie is sent to a provider (`credentials: omit`).

use serde::de::DeserializeOwned;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, RequestCache, RequestCredentials, RequestInit, Response};

use super::OAuthError;

/// A provider that has not answered in this time will not: the user is told and may retry.
const TIMEOUT_MS: u32 = 20_000;
/// Discovery documents are a few KiB, token responses (with an ID token) a few more.
const MAX_BODY: usize = 256 * 1024;

/// An answer: its status and body text.
pub struct Answer {
    pub status: u16,
    pub body: String,
}

fn network(e: wasm_bindgen::JsValue) -> OAuthError {
    // The browser's own words for a failed fetch (a TypeError naming no URL, or the timeout's
    // AbortError): they carry no token.
    let text = js_sys::Error::from(e)
        .message()
        .as_string()
        .unwrap_or_default();
    OAuthError::Network(text.chars().take(120).collect())
}

async fn send(url: &str, init: RequestInit) -> Result<Answer, OAuthError> {
    let window = web_sys::window().ok_or(OAuthError::Network("no window".into()))?;
    init.set_cache(RequestCache::NoStore);
    init.set_credentials(RequestCredentials::Omit);
    init.set_signal(Some(&AbortSignal::timeout_with_u32(TIMEOUT_MS)));
    let response: Response = JsFuture::from(window.fetch_with_str_and_init(url, &init))
        .await
        .map_err(network)?
        .dyn_into()
        .map_err(network)?;
    let status = response.status();
    let text = JsFuture::from(response.text().map_err(network)?)
        .await
        .map_err(network)?
        .as_string()
        .unwrap_or_default();
    if text.len() > MAX_BODY {
        return Err(OAuthError::Network(format!(
            "an answer of {} bytes, more than {MAX_BODY}",
            text.len()
        )));
    }
    Ok(Answer { status, body: text })
}

/// GETs `url` and reads its JSON body (status 200 only).
pub async fn get_json<T: DeserializeOwned>(url: &str) -> Result<T, OAuthError> {
    let init = RequestInit::new();
    init.set_method("GET");
    let answer = send(url, init).await?;
    if answer.status != 200 {
        return Err(OAuthError::Network(format!("HTTP {}", answer.status)));
    }
    serde_json::from_str(&answer.body)
        .map_err(|_| OAuthError::Discovery("the answer is not the JSON expected".into()))
}

/// POSTs `fields` form-encoded to `url` (a token endpoint), with `bearer` as
/// `Authorization: Bearer` (the proxy's access code, for its own route only).
pub async fn post_form(
    url: &str,
    fields: &[(&str, &str)],
    bearer: Option<&str>,
) -> Result<Answer, OAuthError> {
    let body = web_sys::UrlSearchParams::new().map_err(network)?;
    for (k, v) in fields {
        body.append(k, v);
    }
    let init = RequestInit::new();
    init.set_method("POST");
    let headers = web_sys::Headers::new().map_err(network)?;
    headers
        .set("content-type", "application/x-www-form-urlencoded")
        .map_err(network)?;
    headers.set("accept", "application/json").map_err(network)?;
    if let Some(code) = bearer {
        headers
            .set("authorization", &format!("Bearer {code}"))
            .map_err(network)?;
    }
    init.set_headers(&headers);
    init.set_body(&body.to_string().into());
    send(url, init).await
}
