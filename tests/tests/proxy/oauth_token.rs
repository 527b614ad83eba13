//! `/oauth/token` against a scripted token endpoint (`token_endpoint.rs`): a confidential
//! client's refresh and code exchange reach the configured endpoint with the secret added (in
//! the form or as Basic, as registered), over plain HTTP on loopback and over TLS trusted
//! through `extra_ca_file`; the answer comes back as it was, without the provider's other
//! headers. Nothing else is forwarded: no other client, grant or field, no request from a
//! refused origin or without the access token, no oversized body either way. The log names
//! the client and the status and holds no secret, code or token.

use std::net::TcpListener;
use std::sync::Arc;

use postbag_proxy::{ClientAuth, Secret};
use postbag_tests::certs::TestPki;

use super::http::request;
use super::token_endpoint::*;

#[test]
fn a_refresh_reaches_the_token_endpoint_with_the_secret_in_the_form() {
    let endpoint = TokenEndpoint::start(granted(), None);
    let proxy = proxy_for(
        vec![
            public_client(),
            confidential(&endpoint, ClientAuth::ClientSecretPost, "http"),
        ],
        |_| {},
    );
    let answer = post(&proxy, &refresh_form("postbag-web"), "");
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    let json: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(json["access_token"], ACCESS);
    assert_eq!(answer.header("cache-control"), "no-store");
    assert!(
        !answer.headers.contains_key("set-cookie"),
        "the provider's cookie is passed on"
    );
    let received = endpoint.received();
    assert_eq!(received.len(), 1);
    assert!(
        received[0].head.starts_with("POST /token HTTP/1.1\r\n"),
        "{}",
        received[0].head
    );
    assert_eq!(
        received[0].body,
        format!(
            "grant_type=refresh_token&refresh_token={REFRESH}&client_id=postbag-web&client_secret={SECRET}"
        )
    );
    // The app's origin and access token are not the provider's business.
    assert!(!received[0].head.to_ascii_lowercase().contains("origin:"));

    // The list the app reads says "confidential", never the secret.
    let listed = super::http::get(proxy.addr(), "/oauth/clients");
    let text = String::from_utf8(listed.body).unwrap();
    assert!(text.contains(r#""confidential":true"#), "{text}");
    assert!(!text.contains(SECRET), "{text}");
    assert_nothing_secret_logged();
}

#[test]
fn a_code_exchange_reaches_a_tls_token_endpoint_with_the_secret_as_basic() {
    let pki = TestPki::generate();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &pki.ca_pem).unwrap();
    let endpoint = TokenEndpoint::start(granted(), Some(&pki));
    let client = confidential(&endpoint, ClientAuth::ClientSecretBasic, "https");
    let form = format!(
        "grant_type=authorization_code&code={CODE}&redirect_uri=http%3A%2F%2F127.0.0.1%2Foauth-callback.html\
         &client_id=postbag-web&code_verifier={VERIFIER}"
    );
    // Without the test CA the provider's certificate is not trusted: nothing is sent.
    let untrusting = proxy_for(vec![client.clone()], |_| {});
    let answer = post(&untrusting, &form, "");
    assert_eq!(answer.status, 502);
    assert_eq!(error_code(&answer), "token_endpoint_unreachable");
    assert!(endpoint.received().is_empty());

    let proxy = proxy_for(vec![client], |c| c.extra_ca_file = Some(ca.clone()));
    let answer = post(&proxy, &form, "");
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    let received = endpoint.received();
    assert_eq!(received.len(), 1);
    assert_eq!(
        received[0].body,
        format!(
            "grant_type=authorization_code&code={CODE}&redirect_uri=http%3A%2F%2F127.0.0.1%2Foauth-callback.html\
             &client_id=postbag-web&code_verifier={VERIFIER}"
        )
    );
    use base64::Engine as _;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("postbag-web:{SECRET}"));
    assert!(
        received[0]
            .head
            .contains(&format!("authorization: Basic {basic}\r\n")),
        "{}",
        received[0].head
    );
    assert_nothing_secret_logged();
}

#[test]
fn the_provider_refusal_comes_back_as_it_was() {
    let endpoint = TokenEndpoint::start(
        json_answer(
            "400 Bad Request",
            r#"{"error":"invalid_grant","error_description":"grant request is invalid"}"#,
        ),
        None,
    );
    let proxy = proxy_for(
        vec![confidential(
            &endpoint,
            ClientAuth::ClientSecretPost,
            "http",
        )],
        |_| {},
    );
    let answer = post(&proxy, &refresh_form("postbag-web"), "");
    assert_eq!(answer.status, 400);
    assert_eq!(error_code(&answer), "invalid_grant");
}

#[test]
fn no_other_client_grant_field_origin_or_caller_is_forwarded() {
    let endpoint = TokenEndpoint::start(granted(), None);
    let client = confidential(&endpoint, ClientAuth::ClientSecretPost, "http");
    let proxy = proxy_for(vec![public_client(), client.clone()], |_| {});
    let refused = |body: &str, extra: &str, status: u16, code: &str| {
        let answer = post(&proxy, body, extra);
        assert_eq!(
            answer.status,
            status,
            "{body}: {}",
            String::from_utf8_lossy(&answer.body)
        );
        assert_eq!(error_code(&answer), code, "{body}");
    };
    // A public client's requests are the app's own business; an unknown id has no secret.
    refused(&refresh_form("postbag-public"), "", 401, "invalid_client");
    refused(&refresh_form("someone-else"), "", 401, "invalid_client");
    // No field names a URL or anything else the proxy would pass on.
    refused(
        &format!(
            "{}&token_endpoint=http%3A%2F%2F127.0.0.1%3A9%2F",
            refresh_form("postbag-web")
        ),
        "",
        400,
        "invalid_request",
    );
    refused(
        &format!("{}&client_secret=guess", refresh_form("postbag-web")),
        "",
        400,
        "invalid_request",
    );
    refused(
        "grant_type=client_credentials&client_id=postbag-web",
        "",
        400,
        "unsupported_grant_type",
    );
    refused(
        "grant_type=password&username=u&password=p&client_id=postbag-web",
        "",
        400,
        "unsupported_grant_type",
    );
    // Another page's origin.
    let addr = proxy.addr();
    let body = refresh_form("postbag-web");
    let answer = request(
        addr,
        &format!(
            "POST /oauth/token HTTP/1.1\r\nHost: {addr}\r\nOrigin: https://evil.example\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert_eq!(answer.status, 403);
    assert_eq!(error_code(&answer), "forbidden_origin");
    // Not a form; not a POST.
    let answer = request(
        addr,
        &format!(
            "POST /oauth/token HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
             Content-Length: 2\r\nConnection: close\r\n\r\n{{}}"
        ),
    );
    assert_eq!(answer.status, 415);
    let answer = request(
        addr,
        &format!("GET /oauth/token?{body} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    );
    // A GET is not a token request: it gets whatever any other path gets (here the notice
    // that the app is not built), and forwards nothing.
    assert!(!String::from_utf8_lossy(&answer.body).contains(ACCESS));

    // With an access token configured, only a request that presents it.
    let guarded = proxy_for(vec![client], |c| {
        c.token = Some(Secret::new("the-proxys-access-code".into()))
    });
    let answer = post(&guarded, &body, "");
    assert_eq!(answer.status, 401);
    assert_eq!(error_code(&answer), "unauthorized");
    let answer = post(&guarded, &body, "Authorization: Bearer wrong\r\n");
    assert_eq!(answer.status, 401);
    assert!(
        endpoint.received().is_empty(),
        "a refused request reached the token endpoint"
    );
    let answer = post(
        &guarded,
        &body,
        "Authorization: Bearer the-proxys-access-code\r\n",
    );
    assert_eq!(answer.status, 200);
    assert_eq!(endpoint.received().len(), 1);
}

#[test]
fn request_and_answer_sizes_are_bounded() {
    // The request: announced too large, or sent chunked past the bound.
    let endpoint = TokenEndpoint::start(granted(), None);
    let proxy = proxy_for(
        vec![confidential(
            &endpoint,
            ClientAuth::ClientSecretPost,
            "http",
        )],
        |_| {},
    );
    let huge = format!(
        "grant_type=refresh_token&refresh_token={}&client_id=postbag-web",
        "r".repeat(30 * 1024)
    );
    let answer = post(&proxy, &huge, "");
    assert_eq!(answer.status, 413);
    let addr = proxy.addr();
    let chunk = "r".repeat(8 * 1024);
    let mut chunked = format!(
        "POST /oauth/token HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    for _ in 0..4 {
        chunked.push_str(&format!("{:x}\r\n{chunk}\r\n", chunk.len()));
    }
    chunked.push_str("0\r\n\r\n");
    assert_eq!(request(addr, &chunked).status, 413);
    assert!(endpoint.received().is_empty());

    // The answer: announced too large, or streamed past the bound without a length.
    let big = format!(
        r#"{{"access_token":"{}","token_type":"Bearer"}}"#,
        "a".repeat(70 * 1024)
    );
    let announced = TokenEndpoint::start(json_answer("200 OK", &big), None);
    let proxy = proxy_for(
        vec![confidential(
            &announced,
            ClientAuth::ClientSecretPost,
            "http",
        )],
        |_| {},
    );
    let answer = post(&proxy, &refresh_form("postbag-web"), "");
    assert_eq!(answer.status, 502);
    assert_eq!(error_code(&answer), "token_endpoint_answer_too_large");
    let streamed = TokenEndpoint::start(
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{big}"
        )
        .into_bytes(),
        None,
    );
    let proxy = proxy_for(
        vec![confidential(
            &streamed,
            ClientAuth::ClientSecretPost,
            "http",
        )],
        |_| {},
    );
    let answer = post(&proxy, &refresh_form("postbag-web"), "");
    assert_eq!(answer.status, 502);
    assert_eq!(error_code(&answer), "token_endpoint_answer_too_large");
    // Not JSON (a login page, a proxy's error page): not passed on.
    let html = TokenEndpoint::start(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 6\r\nConnection: close\r\n\r\n<html>"
            .to_vec(),
        None,
    );
    let proxy = proxy_for(
        vec![confidential(&html, ClientAuth::ClientSecretPost, "http")],
        |_| {},
    );
    let answer = post(&proxy, &refresh_form("postbag-web"), "");
    assert_eq!(answer.status, 502);
    assert_eq!(error_code(&answer), "token_endpoint_bad_answer");
    // A redirect is not followed.
    let redirect = TokenEndpoint::start(
        b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:9/\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            .to_vec(),
        None,
    );
    let proxy = proxy_for(
        vec![confidential(
            &redirect,
            ClientAuth::ClientSecretPost,
            "http",
        )],
        |_| {},
    );
    assert_eq!(post(&proxy, &refresh_form("postbag-web"), "").status, 502);
    assert_nothing_secret_logged();
}

/// A token endpoint that takes the request and never answers: the app hears 504 once the
/// proxy's 15 s are up, not its own timeout (20 s), and a client that drips its body is cut
/// off after 10 s.
#[test]
fn a_silent_token_endpoint_or_a_dripping_client_is_given_up() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let silent = TokenEndpoint {
        addr: listener.local_addr().unwrap(),
        received: Arc::default(),
    };
    let held = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        std::thread::sleep(std::time::Duration::from_secs(25));
        drop(stream);
    });
    let proxy = proxy_for(
        vec![confidential(&silent, ClientAuth::ClientSecretPost, "http")],
        |_| {},
    );
    let started = std::time::Instant::now();
    let addr = proxy.addr();
    let body = refresh_form("postbag-web");
    let answer = slow_request(
        addr,
        &format!(
            "POST /oauth/token HTTP/1.1\r\nHost: {addr}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    let waited = started.elapsed().as_secs_f64();
    assert_eq!(answer.status, 504);
    assert_eq!(error_code(&answer), "token_endpoint_timeout");
    assert!((14.0..20.0).contains(&waited), "gave up after {waited} s");

    // Half a body, then nothing.
    let started = std::time::Instant::now();
    let answer = slow_request(
        addr,
        &format!(
            "POST /oauth/token HTTP/1.1\r\nHost: {addr}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{}",
            body.len(),
            &body[..body.len() / 2]
        ),
    );
    let waited = started.elapsed().as_secs_f64();
    assert_eq!(
        answer.status,
        408,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    assert!((9.0..15.0).contains(&waited), "gave up after {waited} s");
    drop(held);
}
