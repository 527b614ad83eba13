//! How often one client address may use `/oauth/token`: a burst of `RATE_BURST` (10)
//! requests, then one per `RATE_EVERY` (20 s); the next is refused with 429, a `Retry-After`
//! and an RFC 6749 error object, before its body is read and without reaching the token
//! endpoint. Addresses are told apart as the tunnel caps tell them (behind a trusted reverse
//! proxy: the last `X-Forwarded-For` entry). The refusal is logged without the request.

use std::time::{Duration, Instant};

use postbag_proxy::{ClientAuth, Secret};

use super::http::{Response, request};
use super::token_endpoint::*;

/// `RATE_BURST` in `proxy/src/oauth_token.rs`.
const BURST: usize = 10;
/// `RATE_EVERY`, in seconds.
const EVERY_S: u64 = 20;

#[test]
fn one_address_gets_a_burst_then_429_before_its_body_is_read() {
    let endpoint = TokenEndpoint::start(granted(), None);
    let proxy = proxy_for(
        vec![confidential(
            &endpoint,
            ClientAuth::ClientSecretPost,
            "http",
        )],
        |_| {},
    );
    for i in 0..BURST {
        let answer = post(&proxy, &refresh_form("postbag-web"), "");
        assert_eq!(answer.status, 200, "request {i} of the burst");
    }
    let answer = post(&proxy, &refresh_form("postbag-web"), "");
    assert_too_frequent(&answer);
    assert_eq!(
        endpoint.received().len(),
        BURST,
        "a refused request reached the token endpoint"
    );
    // Refused ones count too: a client cannot probe for free by sending what is refused.
    let unknown = post(&proxy, &refresh_form("someone-else"), "");
    assert_too_frequent(&unknown);

    // Over the rate, a request is answered at once: its body (announced, never sent) is not
    // waited for, as it would be for 10 s otherwise.
    let addr = proxy.addr();
    let started = Instant::now();
    let answer = slow_request(
        addr,
        &format!(
            "POST /oauth/token HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://{addr}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\
             Connection: close\r\n\r\n"
        ),
    );
    assert_eq!(answer.status, 429);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "answered after {:?}",
        started.elapsed()
    );

    let text = log().text();
    assert!(
        text.contains("oauth token request refused: too many from this address"),
        "{text}"
    );
    assert_nothing_secret_logged();
}

/// Behind a trusted reverse proxy every request comes from its address: the rate counts the
/// last `X-Forwarded-For` entry (the one the reverse proxy appended), so one client over its
/// rate does not lock out the others, and what a client puts before that entry counts for
/// nothing.
#[test]
fn behind_a_reverse_proxy_each_client_has_its_own_rate() {
    const TOKEN: &str = "the-proxys-access-code";
    let endpoint = TokenEndpoint::start(granted(), None);
    let proxy = proxy_for(
        vec![confidential(
            &endpoint,
            ClientAuth::ClientSecretPost,
            "http",
        )],
        |c| {
            c.trust_forwarded_for = true;
            c.allowed_origins = vec!["https://mail.example.org".into()];
            c.token = Some(Secret::new(TOKEN.into()));
        },
    );
    let from = |forwarded_for: &str| {
        let addr = proxy.addr();
        let body = refresh_form("postbag-web");
        request(
            addr,
            &format!(
                "POST /oauth/token HTTP/1.1\r\nHost: mail.example.org\r\n\
                 Origin: https://mail.example.org\r\nAuthorization: Bearer {TOKEN}\r\n\
                 X-Forwarded-For: {forwarded_for}\r\n\
                 Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{body}",
                body.len()
            ),
        )
    };
    for i in 0..BURST {
        // Whatever the client puts first, the last entry is its address.
        let answer = from(&format!("10.0.0.{i}, 198.51.100.7"));
        assert_eq!(answer.status, 200, "request {i} from 198.51.100.7");
    }
    assert_too_frequent(&from("203.0.113.1, 198.51.100.7"));
    assert_eq!(from("198.51.100.7, 198.51.100.8").status, 200);
    // IPv6 clients count by their /64, as for the tunnel caps.
    for _ in 0..BURST {
        assert_eq!(from("2001:db8:1:2::1").status, 200);
    }
    assert_too_frequent(&from("2001:db8:1:2::abcd"));
    assert_eq!(from("2001:db8:1:3::1").status, 200);
    assert_eq!(endpoint.received().len(), 2 * BURST + 2);
}

fn assert_too_frequent(answer: &Response) {
    assert_eq!(
        answer.status,
        429,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    assert_eq!(error_code(answer), "temporarily_unavailable");
    let json: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    let description = json["error_description"].as_str().unwrap();
    assert!(
        description.starts_with("too many token requests from this address; try again in"),
        "{description}"
    );
    let retry_after: u64 = answer.header("retry-after").parse().unwrap();
    assert!((1..=EVERY_S).contains(&retry_after), "{retry_after}");
}
