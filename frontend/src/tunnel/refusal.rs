//! Why a WebSocket closed before it opened. A browser hides the HTTP answer to a refused
//! handshake (the socket just closes with 1006), so the app asks the tunnel URL again with a
//! plain same-origin `fetch` and reads the status and the proxy's typed JSON body.
//!
//! What a plain GET can tell: the proxy checks `Origin`, then the token, then the upgrade
//! (`tunnel_endpoint` in proxy/src/server.rs). A same-origin GET carries no `Origin`, so it
//! passes the first check whatever the proxy allows; it carries no token either (a fetch cannot
//! set `Sec-WebSocket-Protocol`, and `?token=` would write the code into access logs), so a
//! proxy with a token answers it 401. Hence:
//!
//! - 401 `unauthorized`: the proxy wants an access code. If the socket carried one, it may be
//!   wrong, but nothing here proves it: every other refusal of that socket (its origin, a
//!   reverse proxy not forwarding the upgrade, a transient drop) gets the same 401 to the plain
//!   GET, so the message names the code as the likely cause, not the certain one.
//! - 403 `forbidden_origin`: the origin is refused (only if the browser sent one after all).
//! - 403 `untrusted_forwarding`: a reverse proxy in front forwards the requests, and the proxy
//!   was not told to trust it; the plain GET passes through it too, so this is certain.
//! - 502, 503, 504: a reverse proxy answers for a Postbag proxy that is down.
//! - anything else (the proxy's own 400 "WebSocket upgrade is expected", a 401 without the
//!   proxy's JSON from HTTP auth in front): the URL answers, but refused the socket, which
//!   carried an `Origin`: the origin is not allowed, or a reverse proxy does not forward
//!   the upgrade.
//! - no answer at all: the proxy cannot be reached.

use postbag_protocol::tunnel::{ErrorKind, TunnelError};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, RequestCache, RequestInit, Response};

use super::transport::{Refusal, TransportError};

/// How long the question may take; the socket has already failed, the user is waiting.
const ASK_TIMEOUT_MS: u32 = 10_000;

/// What the tunnel URL answered to a plain GET: the status and, if it was JSON, the body.
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub json: Option<String>,
}

/// The `http:`/`https:` form of a `ws:`/`wss:` URL (anything else unchanged).
pub fn http_url(ws_url: &str) -> String {
    if let Some(rest) = ws_url.strip_prefix("wss://") {
        format!("https://{rest}")
    } else if let Some(rest) = ws_url.strip_prefix("ws://") {
        format!("http://{rest}")
    } else {
        ws_url.to_string()
    }
}

/// The typed error for a socket that closed before opening, given what the question got back
/// (`None`: no answer) and whether the socket offered an access code.
pub fn classify(answer: Option<&Answer>, code_sent: bool) -> TransportError {
    let Some(answer) = answer else {
        return TransportError::ProxyUnreachable;
    };
    let kind = answer
        .json
        .as_deref()
        .and_then(|body| serde_json::from_str::<TunnelError>(body).ok())
        .map(|e| e.kind);
    match (answer.status, kind) {
        (401, Some(ErrorKind::Unauthorized)) if code_sent => {
            TransportError::Refused(Refusal::AccessCodeRefused)
        }
        (401, Some(ErrorKind::Unauthorized)) => TransportError::Refused(Refusal::AccessCodeMissing),
        (403, Some(ErrorKind::ForbiddenOrigin)) => {
            TransportError::Refused(Refusal::OriginNotAllowed)
        }
        (403, Some(ErrorKind::UntrustedForwarding)) => {
            TransportError::Refused(Refusal::UntrustedReverseProxy)
        }
        (502..=504, _) => TransportError::ProxyUnreachable,
        (status, _) => TransportError::Refused(Refusal::Handshake { status }),
    }
}

/// Asks `ws_url` again over HTTP; `None` when nothing answered (offline, proxy down, timeout).
pub async fn ask(ws_url: &str) -> Option<Answer> {
    let init = RequestInit::new();
    init.set_method("GET");
    init.set_cache(RequestCache::NoStore);
    init.set_signal(Some(&AbortSignal::timeout_with_u32(ASK_TIMEOUT_MS)));
    let promise = crate::global::fetch(&http_url(ws_url), &init)?;
    let response: Response = JsFuture::from(promise).await.ok()?.dyn_into().ok()?;
    let status = response.status();
    let is_json = response
        .headers()
        .get("content-type")
        .ok()
        .flatten()
        .is_some_and(|t| t.starts_with("application/json"));
    // Only the proxy's own small JSON errors are read; anything else (an HTML error page of a
    // reverse proxy) is judged by its status alone.
    let json = if is_json {
        match response.text() {
            Ok(text) => JsFuture::from(text).await.ok().and_then(|t| t.as_string()),
            Err(_) => None,
        }
    } else {
        None
    };
    Some(Answer { status, json })
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// The proxy's bodies, as `refuse` in proxy/src/server.rs writes them.
    const UNAUTHORIZED: &str =
        r#"{"kind":"unauthorized","message":"missing or wrong access token"}"#;
    const FORBIDDEN: &str = r#"{"kind":"forbidden_origin","message":"origin not allowed"}"#;
    const UNTRUSTED_FORWARDING: &str =
        r#"{"kind":"untrusted_forwarding","message":"set trust_forwarded_for"}"#;

    fn check(status: Option<(u16, Option<&str>)>, code_sent: bool, expected: TransportError) {
        let answer = status.map(|(status, json)| Answer {
            status,
            json: json.map(str::to_string),
        });
        assert_eq!(
            classify(answer.as_ref(), code_sent),
            expected,
            "{answer:?}, code sent: {code_sent}"
        );
    }

    #[test]
    fn the_proxy_refusals_become_typed_errors() {
        use Refusal::*;
        use TransportError::Refused;
        check(
            Some((401, Some(UNAUTHORIZED))),
            false,
            Refused(AccessCodeMissing),
        );
        check(
            Some((401, Some(UNAUTHORIZED))),
            true,
            Refused(AccessCodeRefused),
        );
        check(
            Some((403, Some(FORBIDDEN))),
            false,
            Refused(OriginNotAllowed),
        );
        check(
            Some((403, Some(FORBIDDEN))),
            true,
            Refused(OriginNotAllowed),
        );
        check(
            Some((403, Some(UNTRUSTED_FORWARDING))),
            true,
            Refused(UntrustedReverseProxy),
        );
    }

    #[test]
    fn a_plain_request_that_passes_means_the_socket_itself_was_refused() {
        // What the proxy answers a GET without Upgrade once Origin and token checks pass.
        check(
            Some((400, None)),
            false,
            TransportError::Refused(Refusal::Handshake { status: 400 }),
        );
        // HTTP auth in front of the proxy is not the proxy's access code.
        check(
            Some((401, None)),
            true,
            TransportError::Refused(Refusal::Handshake { status: 401 }),
        );
        check(
            Some((401, Some("{not json"))),
            false,
            TransportError::Refused(Refusal::Handshake { status: 401 }),
        );
    }

    #[test]
    fn no_answer_or_a_gateway_error_means_unreachable() {
        check(None, true, TransportError::ProxyUnreachable);
        for status in [502, 503, 504] {
            check(
                Some((status, None)),
                false,
                TransportError::ProxyUnreachable,
            );
        }
    }

    #[test]
    fn the_question_goes_to_the_http_form_of_the_tunnel_url() {
        assert_eq!(
            http_url("ws://127.0.0.1:8080/tunnel"),
            "http://127.0.0.1:8080/tunnel"
        );
        assert_eq!(
            http_url("wss://mail.example.org/tunnel"),
            "https://mail.example.org/tunnel"
        );
    }
}
