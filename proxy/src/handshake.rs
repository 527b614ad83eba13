//! What the WebSocket handshake request is checked for before the upgrade: headers a reverse
//! proxy adds, its `Origin`, the access token, the subprotocol to answer, and which client
//! address the tunnel caps count.
//!
//! [`admit`] runs the checks in order for both ways a request reaches the tunnel path: the
//! upgrade itself, and a plain GET (the app's probe after a refused upgrade, which must get the
//! same answer so that the app can tell the user why).

use std::net::{IpAddr, SocketAddr};

use actix_web::dev::RequestHead;
use actix_web::http::{StatusCode, header};
use postbag_protocol::tunnel::{ErrorKind, SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX, TunnelError};

use crate::state::State;

/// A request that passed every check.
#[derive(Debug)]
pub struct Admitted {
    /// The address the tunnel caps count.
    pub client: IpAddr,
    /// The `Sec-WebSocket-Protocol` to answer.
    pub subprotocol: Option<&'static str>,
}

/// A request refused before the upgrade: the status and the typed error for its JSON body.
#[derive(Debug)]
pub struct Refused {
    pub status: StatusCode,
    pub error: TunnelError,
}

/// Headers a reverse proxy adds to say whom (and what) it forwards. Their presence means the
/// proxy is reached through another one, whatever its listen address says. (A reverse proxy
/// that adds none cannot be told from a local client: the README says to declare it.)
pub const FORWARDING_HEADERS: [&str; 6] = [
    "x-forwarded-for",
    "forwarded",
    "x-real-ip",
    "via",
    "x-forwarded-host",
    "x-forwarded-proto",
];

/// What a request through an untrusted reverse proxy is told (the operator reads it in the
/// app's explanation or with curl).
const FORWARDED_UNTRUSTED: &str = "this proxy is reached through a reverse proxy (the request \
     carries X-Forwarded-For, Forwarded, X-Real-IP, Via or X-Forwarded-Host/-Proto) but does \
     not trust one: set \
     trust_forwarded_for (--trust-forwarded-for true, POSTBAG_TRUST_FORWARDED_FOR=true), which \
     also applies the checks for a proxy that other machines reach";

/// Forwarding headers, then Origin, then token, then subprotocol. A refusal is counted and
/// logged (never with the token, nor with anything else the request said).
pub fn admit(state: &State, head: &RequestHead) -> Result<Admitted, Refused> {
    let refuse = |status, kind, message: &str, why: &str| {
        state.metrics.error(kind);
        tracing::info!("tunnel refused: {why}");
        Err(Refused {
            status,
            error: TunnelError::new(kind, message),
        })
    };
    // A loopback proxy behind a reverse proxy that nobody declared is reachable from anywhere
    // while its start-up checks judged it private (exposure.rs): refuse until it is declared.
    if !state.config.trust_forwarded_for && is_forwarded(head) {
        return refuse(
            StatusCode::FORBIDDEN,
            ErrorKind::UntrustedForwarding,
            FORWARDED_UNTRUSTED,
            "forwarded by an untrusted reverse proxy",
        );
    }
    if !state.origins.allow(origin(head)) {
        return refuse(
            StatusCode::FORBIDDEN,
            ErrorKind::ForbiddenOrigin,
            "origin not allowed",
            "origin not allowed",
        );
    }
    let offered = offered_subprotocols(head);
    if let Some(token) = &state.config.token
        && !token_presented(head, &offered, token.expose_secret())
    {
        return refuse(
            StatusCode::UNAUTHORIZED,
            ErrorKind::Unauthorized,
            "missing or wrong access token",
            "missing or wrong token",
        );
    }
    match choose_subprotocol(&offered) {
        Ok(subprotocol) => Ok(Admitted {
            client: client_ip(head, state.config.trust_forwarded_for),
            subprotocol,
        }),
        Err(e) => refuse(
            StatusCode::BAD_REQUEST,
            ErrorKind::BadRequest,
            &e.to_string(),
            "postbag.v1 not offered",
        ),
    }
}

/// The same checks for a plain HTTP request that acts for the app (`/oauth/token`): forwarding
/// headers, Origin, then the access token as `Authorization: Bearer` (fetch cannot send a
/// subprotocol). Counted and logged as the tunnel's refusals are, without the token. Admitted:
/// the client address its rate counts, as the tunnel caps count it.
pub fn admit_request(state: &State, head: &RequestHead) -> Result<IpAddr, Refused> {
    let refuse = |status, kind, message: &str| {
        state.metrics.error(kind);
        tracing::info!(path = %head.uri.path(), "request refused: {message}");
        Err(Refused {
            status,
            error: TunnelError::new(kind, message),
        })
    };
    if !state.config.trust_forwarded_for && is_forwarded(head) {
        return refuse(
            StatusCode::FORBIDDEN,
            ErrorKind::UntrustedForwarding,
            FORWARDED_UNTRUSTED,
        );
    }
    if !state.origins.allow(origin(head)) {
        return refuse(
            StatusCode::FORBIDDEN,
            ErrorKind::ForbiddenOrigin,
            "origin not allowed",
        );
    }
    if let Some(token) = &state.config.token
        && !metrics_token_presented(head, token.expose_secret())
    {
        return refuse(
            StatusCode::UNAUTHORIZED,
            ErrorKind::Unauthorized,
            "missing or wrong access token",
        );
    }
    Ok(client_ip(head, state.config.trust_forwarded_for))
}

/// Whether the request carries any of [`FORWARDING_HEADERS`].
fn is_forwarded(req: &RequestHead) -> bool {
    FORWARDING_HEADERS
        .iter()
        .any(|name| req.headers().contains_key(*name))
}

/// The request's `Origin` header, if it is text.
fn origin(req: &RequestHead) -> Option<&str> {
    req.headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
}

fn offered_subprotocols(req: &RequestHead) -> Vec<String> {
    req.headers()
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

/// The token comes in the subprotocol list (what browsers can set) or the `token` query
/// parameter (for other clients; it may end up in access logs, so prefer the subprotocol).
fn token_presented(req: &RequestHead, offered: &[String], token: &str) -> bool {
    let from_protocol = offered
        .iter()
        .filter_map(|p| p.strip_prefix(TOKEN_SUBPROTOCOL_PREFIX))
        .any(|t| ct_eq(t, token));
    let from_query =
        actix_web::web::Query::<std::collections::HashMap<String, String>>::from_query(
            req.uri.query().unwrap_or_default(),
        )
        .ok()
        .and_then(|q| q.get("token").map(|t| ct_eq(t, token)))
        .unwrap_or(false);
    from_protocol || from_query
}

/// The client offered subprotocols, but not `postbag.v1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("offer the postbag.v1 subprotocol (next to the token, if any)")]
pub struct NoPostbagProtocol;

/// The `Sec-WebSocket-Protocol` to answer: `postbag.v1` when offered, nothing when nothing was
/// offered. Any other offer is refused rather than echoed: the other protocol on offer is
/// usually `postbag.token.<TOKEN>`, and a secret in a response header ends up in logs and
/// intermediaries. (A browser that offered protocols fails the handshake when none is chosen
/// anyway, so answering nothing would not help it either.)
fn choose_subprotocol(offered: &[String]) -> Result<Option<&'static str>, NoPostbagProtocol> {
    if offered.is_empty() {
        Ok(None)
    } else if offered.iter().any(|p| p == SUBPROTOCOL) {
        Ok(Some(SUBPROTOCOL))
    } else {
        Err(NoPostbagProtocol)
    }
}

/// Whether a request for `/metrics` presents `token`: `Authorization: Bearer <token>` (what
/// Prometheus sends with `authorization` or `bearer_token`) or the `token` query parameter.
pub fn metrics_token_presented(req: &RequestHead, token: &str) -> bool {
    let bearer = req
        .headers()
        .get_all(header::AUTHORIZATION)
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.strip_prefix("Bearer "))
        .any(|t| ct_eq(t.trim(), token));
    bearer || token_presented(req, &[], token)
}

fn ct_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The address the tunnel caps and `/oauth/token`'s rate count: the peer, or, behind a reverse proxy that appends it, the
/// last entry of the last `X-Forwarded-For` line. Everything before it is whatever the client
/// sent: HAProxy adds its own line rather than extending the client's, so a forged first line
/// must not pick the bucket.
fn client_ip(req: &RequestHead, trust_forwarded_for: bool) -> IpAddr {
    if trust_forwarded_for {
        let last = req
            .headers()
            .get_all("x-forwarded-for")
            .last()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|ip| ip.trim().parse().ok());
        if let Some(ip) = last {
            return ip;
        }
    }
    req.peer_addr
        .map(|a: SocketAddr| a.ip())
        .unwrap_or(IpAddr::from([0, 0, 0, 0]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offered(list: &[&str]) -> Vec<String> {
        list.iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn the_token_is_never_the_answered_subprotocol() {
        for (list, expected) in [
            (&[][..], Ok(None)),
            (&["postbag.v1"], Ok(Some("postbag.v1"))),
            (
                &["postbag.token.s3cret", "postbag.v1"],
                Ok(Some("postbag.v1")),
            ),
            (&["postbag.token.s3cret"], Err(NoPostbagProtocol)),
            (&["chat"], Err(NoPostbagProtocol)),
        ] {
            assert_eq!(choose_subprotocol(&offered(list)), expected, "{list:?}");
        }
    }

    fn head(headers: &[(&str, &str)]) -> RequestHead {
        let mut head = RequestHead::default();
        head.peer_addr = Some("192.0.2.1:40000".parse().unwrap());
        for (name, value) in headers {
            let name = header::HeaderName::from_bytes(name.as_bytes()).unwrap();
            let value = header::HeaderValue::from_str(value).unwrap();
            head.headers_mut().append(name, value);
        }
        head
    }

    #[test]
    fn the_last_address_of_the_last_forwarded_for_line_is_the_client() {
        for (lines, expected) in [
            (&["198.51.100.7"][..], "198.51.100.7"),
            (&["203.0.113.9, 198.51.100.7"], "198.51.100.7"),
            // HAProxy appends its own line: the client's forged line comes first.
            (&["203.0.113.9", "198.51.100.7"], "198.51.100.7"),
            (
                &["1.1.1.1, 2.2.2.2", "3.3.3.3, 198.51.100.7"],
                "198.51.100.7",
            ),
            (&["not an address"], "192.0.2.1"),
            (&[], "192.0.2.1"),
        ] {
            let headers: Vec<_> = lines.iter().map(|l| ("x-forwarded-for", *l)).collect();
            let ip: IpAddr = expected.parse().unwrap();
            assert_eq!(client_ip(&head(&headers), true), ip, "{lines:?}");
            assert_eq!(
                client_ip(&head(&headers), false),
                "192.0.2.1".parse::<IpAddr>().unwrap()
            );
        }
    }

    #[test]
    fn forwarding_headers_are_recognised() {
        for name in FORWARDING_HEADERS {
            assert!(is_forwarded(&head(&[(name, "1.0 proxy")])), "{name}");
        }
        assert!(!is_forwarded(&head(&[("origin", "http://127.0.0.1:1")])));
    }

    #[test]
    fn the_metrics_token_comes_as_a_bearer_or_in_the_query() {
        let token = "0123456789abcdef";
        assert!(metrics_token_presented(
            &head(&[("authorization", "Bearer 0123456789abcdef")]),
            token
        ));
        let mut query = head(&[]);
        query.uri = "/metrics?token=0123456789abcdef".parse().unwrap();
        assert!(metrics_token_presented(&query, token));
        for wrong in [
            &[][..],
            &[("authorization", "Bearer nope")],
            &[("authorization", token)],
        ] {
            assert!(!metrics_token_presented(&head(wrong), token), "{wrong:?}");
        }
    }
}
