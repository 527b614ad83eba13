//! `/oauth/token` against a scripted token endpoint: a confidential client's refresh and code
//! exchange reach the configured endpoint with the secret added (in the form or as Basic, as
//! registered), over plain HTTP on loopback and over TLS trusted through `extra_ca_file`; the
//! answer comes back as it was, without the provider's other headers. Nothing else is
//! forwarded: no other client, grant or field, no request from a refused origin or without
//! the access token, no oversized body either way. The log names the client and the status and
//! holds no secret, code or token.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex, OnceLock};

use postbag_proxy::{ClientAuth, OAuthClient, OAuthProvider, Secret};
use postbag_tests::certs::TestPki;
use postbag_tests::proxy_harness::{ProxyHandle, base_config, spawn_proxy};

use super::http::{Response, request};

const SECRET: &str = "GOCSPX-the-deployments-secret";
const REFRESH: &str = "rt-refresh-token-1";
const CODE: &str = "code-from-the-callback";
const VERIFIER: &str = "pkce-verifier-0123456789";
const ACCESS: &str = "at-access-token-granted";

/// What the proxy logs, captured for the whole test binary (one subscriber per process);
/// only this module's unique strings are looked for in it.
fn log() -> &'static Captured {
    static LOG: OnceLock<Captured> = OnceLock::new();
    LOG.get_or_init(|| {
        let log = Captured::default();
        let writer = log.clone();
        tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_max_level(tracing_subscriber::filter::LevelFilter::TRACE)
            .init();
        log
    })
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// One request as the token endpoint received it.
#[derive(Debug, Clone)]
struct Received {
    head: String,
    body: String,
}

/// A token endpoint that records each request and answers every one with `answer` (raw
/// HTTP), over TLS with the test PKI's server certificate when `tls` is given.
struct TokenEndpoint {
    addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
}

impl TokenEndpoint {
    fn start(answer: Vec<u8>, tls: Option<&TestPki>) -> TokenEndpoint {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = received.clone();
        let config = tls.map(server_config);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let (log, answer, config) = (log.clone(), answer.clone(), config.clone());
                std::thread::spawn(move || {
                    let _ = match config {
                        Some(config) => {
                            let conn = rustls::ServerConnection::new(config).unwrap();
                            serve(rustls::StreamOwned::new(conn, stream), &log, &answer)
                        }
                        None => serve(stream, &log, &answer),
                    };
                });
            }
        });
        TokenEndpoint { addr, received }
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

fn server_config(pki: &TestPki) -> Arc<rustls::ServerConfig> {
    use rustls_pki_types::pem::PemObject;
    let cert =
        rustls_pki_types::CertificateDer::from_pem_slice(pki.server_cert_pem.as_bytes()).unwrap();
    let key =
        rustls_pki_types::PrivateKeyDer::from_pem_slice(pki.server_key_pem.as_bytes()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)
            .unwrap(),
    )
}

fn serve(
    mut stream: impl Read + Write,
    log: &Mutex<Vec<Received>>,
    answer: &[u8],
) -> std::io::Result<()> {
    let mut reader = BufReader::new(&mut stream);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    log.lock().unwrap().push(Received {
        head,
        body: String::from_utf8(body).unwrap(),
    });
    stream.write_all(answer)?;
    stream.flush()
}

fn json_answer(status: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nSet-Cookie: provider-session=1\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn granted() -> Vec<u8> {
    json_answer(
        "200 OK",
        &format!(r#"{{"access_token":"{ACCESS}","token_type":"Bearer","expires_in":3600}}"#),
    )
}

fn confidential(endpoint: &TokenEndpoint, auth: ClientAuth, scheme: &str) -> OAuthClient {
    OAuthClient {
        provider: OAuthProvider::Oidc,
        client_id: "postbag-web".into(),
        issuer: Some(format!("{scheme}://127.0.0.1:{}", endpoint.addr.port())),
        name: Some("Test ID".into()),
        scopes: Vec::new(),
        client_secret: Some(Secret::new(SECRET.into())),
        client_auth: auth,
        token_endpoint: Some(format!(
            "{scheme}://127.0.0.1:{}/token",
            endpoint.addr.port()
        )),
    }
}

fn public_client() -> OAuthClient {
    OAuthClient {
        provider: OAuthProvider::Oidc,
        client_id: "postbag-public".into(),
        issuer: Some("https://id.example.org".into()),
        name: None,
        scopes: Vec::new(),
        client_secret: None,
        client_auth: ClientAuth::default(),
        token_endpoint: None,
    }
}

fn proxy_for(
    clients: Vec<OAuthClient>,
    adjust: impl FnOnce(&mut postbag_proxy::Config),
) -> ProxyHandle {
    log();
    let mut config = base_config(None);
    config.oauth_clients = clients;
    adjust(&mut config);
    spawn_proxy(config)
}

/// POSTs `body` to `/oauth/token` as the app's page does (its own origin), with `extra`
/// header lines.
fn post(proxy: &ProxyHandle, body: &str, extra: &str) -> Response {
    let addr = proxy.addr();
    request(
        addr,
        &format!(
            "POST /oauth/token HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://{addr}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n{extra}\
             Connection: close\r\n\r\n{body}",
            body.len()
        ),
    )
}

fn refresh_form(client_id: &str) -> String {
    format!("grant_type=refresh_token&refresh_token={REFRESH}&client_id={client_id}")
}

fn error_code(answer: &Response) -> String {
    let json: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    json["error"].as_str().unwrap().to_string()
}

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

/// Sends `raw` and reads the answer to the end, waiting up to 30 s (the shared helper waits
/// 10 s, shorter than the proxy's own limits measured here).
fn slow_request(addr: SocketAddr, raw: &str) -> Response {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    stream.write_all(raw.as_bytes()).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    let split = answer.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&answer[..split]).into_owned();
    Response {
        status: head.split(' ').nth(1).unwrap().parse().unwrap(),
        headers: Default::default(),
        body: answer[split + 4..].to_vec(),
    }
}

/// The forwarded requests were logged (so the capture works), and nothing secret was.
fn assert_nothing_secret_logged() {
    let text = log().text();
    assert!(
        text.contains("oauth token request"),
        "nothing captured: {text}"
    );
    for secret in [SECRET, REFRESH, CODE, VERIFIER, ACCESS] {
        assert!(!text.contains(secret), "{secret} is in the log");
    }
}
