//! The proxy as a web server: the built app with MIME types, cache headers, security headers and
//! a CSP that admits Trunk's inline loader by hash; the notice when the app is not built;
//! `/healthz` and `/metrics`; what the tunnel path answers to requests that are not a tunnel.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use base64::Engine as _;
use postbag_tests::proxy_harness::{ProxyHandle, base_config, spawn_proxy};
use sha2::{Digest, Sha256};

pub(super) struct Response {
    pub(super) status: u16,
    pub(super) headers: HashMap<String, String>,
    pub(super) body: Vec<u8>,
}

impl Response {
    pub(super) fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("no {name} header"))
    }
}

/// One HTTP/1.1 GET, read to the end (the proxy closes after `Connection: close`).
pub(super) fn get(addr: SocketAddr, path: &str) -> Response {
    request(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    )
}

/// Handshake headers of a WebSocket upgrade, after the request line.
const UPGRADE: &str = "Connection: Upgrade\r\nUpgrade: websocket\r\n\
                       Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

/// Sends `raw` as is, reads the response to the end.
pub(super) fn request(addr: SocketAddr, raw_request: &str) -> Response {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    stream.write_all(raw_request.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete response");
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Response {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    }
}

pub(super) fn proxy(dist: Option<std::path::PathBuf>) -> ProxyHandle {
    spawn_proxy(base_config(dist))
}

/// What `trunk build` leaves in dist/, in miniature.
pub(super) const LOADER: &str = "\nimport init, * as bindings from '/postbag-web-0123456789abcdef.js';\n\
                      const wasm = await init({ module_or_path: '/postbag-web-0123456789abcdef_bg.wasm' });\n";

pub(super) fn fake_dist() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let index = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Postbag</title>\
         <script type=\"module\">{LOADER}</script>\
         <script src=\"/purify.min.js\"></script></head><body></body></html>"
    );
    let files: [(&str, &[u8]); 6] = [
        ("index.html", index.as_bytes()),
        ("postbag-web-0123456789abcdef_bg.wasm", b"\0asm\x01\0\0\0"),
        (
            "postbag-web-0123456789abcdef.js",
            b"export default function init() {}",
        ),
        ("sw.js", b"self.addEventListener('fetch', () => {});"),
        ("manifest.webmanifest", b"{\"name\":\"Postbag\"}"),
        ("purify.min.js", b"window.DOMPurify = {};"),
    ];
    for (name, body) in files {
        std::fs::write(dir.path().join(name), body).unwrap();
    }
    dir
}

#[test]
fn the_app_is_served_with_types_caching_and_a_hash_based_csp() {
    let dist = fake_dist();
    let proxy = proxy(Some(dist.path().to_path_buf()));
    let addr = proxy.addr();

    let index = get(addr, "/");
    assert_eq!(index.status, 200);
    assert!(index.header("content-type").starts_with("text/html"));
    assert_eq!(index.header("cache-control"), "no-cache");
    assert!(String::from_utf8_lossy(&index.body).contains("<title>Postbag</title>"));

    let csp = index.header("content-security-policy");
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(LOADER));
    assert!(csp.contains(&format!("'sha256-{hash}'")), "{csp}");
    for directive in [
        "default-src 'self'",
        "script-src 'self' 'wasm-unsafe-eval'",
        "connect-src 'self'",
        "img-src 'self' data: blob: https: http:",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        "object-src 'none'",
    ] {
        assert!(csp.contains(directive), "{directive} missing from {csp}");
    }
    let script_src = csp
        .split(';')
        .find(|d| d.trim().starts_with("script-src"))
        .unwrap();
    assert!(!script_src.contains("unsafe-inline"), "{script_src}");
    // The app frames its own parser frame and the reader's srcdoc iframe (which no scheme
    // source matches): no blob: or data: frames.
    let frame_src = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("frame-src"))
        .unwrap();
    assert_eq!(frame_src, "frame-src 'self'", "{csp}");
    assert_eq!(index.header("x-content-type-options"), "nosniff");
    assert_eq!(index.header("referrer-policy"), "no-referrer");

    let wasm = get(addr, "/postbag-web-0123456789abcdef_bg.wasm");
    assert_eq!(wasm.status, 200);
    assert_eq!(wasm.header("content-type"), "application/wasm");
    assert_eq!(
        wasm.header("cache-control"),
        "public, max-age=31536000, immutable"
    );
    let js = get(addr, "/postbag-web-0123456789abcdef.js");
    assert!(
        js.header("content-type").starts_with("text/javascript")
            || js
                .header("content-type")
                .starts_with("application/javascript")
    );
    assert_eq!(
        js.header("cache-control"),
        "public, max-age=31536000, immutable"
    );

    let sw = get(addr, "/sw.js");
    assert_eq!(sw.header("cache-control"), "no-cache");
    let manifest = get(addr, "/manifest.webmanifest");
    assert_eq!(manifest.header("content-type"), "application/manifest+json");
    assert_eq!(get(addr, "/index.html").header("cache-control"), "no-cache");

    // App routes fall back to the app; missing files are 404s.
    let route = get(addr, "/inbox/42");
    assert_eq!(route.status, 200);
    assert!(String::from_utf8_lossy(&route.body).contains("<title>Postbag</title>"));
    assert_eq!(get(addr, "/missing.js").status, 404);
}

#[test]
fn a_rebuilt_index_gets_a_new_csp() {
    let dist = fake_dist();
    let proxy = proxy(Some(dist.path().to_path_buf()));
    let before = get(proxy.addr(), "/")
        .header("content-security-policy")
        .to_string();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let rebuilt = "<html><head><script type=\"module\">import('/x.js')</script></head></html>";
    std::fs::write(dist.path().join("index.html"), rebuilt).unwrap();
    // Make sure the modification time moves even on coarse clocks.
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(2);
    std::fs::File::options()
        .write(true)
        .open(dist.path().join("index.html"))
        .unwrap()
        .set_modified(later)
        .unwrap();
    let after = get(proxy.addr(), "/")
        .header("content-security-policy")
        .to_string();
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest("import('/x.js')"));
    assert_ne!(before, after);
    assert!(after.contains(&hash), "{after}");
}

#[test]
fn without_a_build_the_proxy_says_so() {
    let proxy = proxy(Some("/nonexistent/postbag-dist".into()));
    let page = get(proxy.addr(), "/");
    assert_eq!(page.status, 503);
    assert!(page.header("content-type").starts_with("text/plain"));
    assert!(String::from_utf8_lossy(&page.body).contains("not built"));
    assert_eq!(page.header("x-content-type-options"), "nosniff");
}

#[test]
fn health_and_metrics() {
    let proxy = proxy(None);
    let health = get(proxy.addr(), "/healthz");
    assert_eq!(health.status, 200);
    assert_eq!(health.body, b"ok\n");
    assert_eq!(health.header("cache-control"), "no-store");
    let metrics = get(proxy.addr(), "/metrics");
    assert_eq!(metrics.status, 200);
    assert!(
        metrics
            .header("content-type")
            .starts_with("text/plain; version=0.0.4")
    );
    let text = String::from_utf8(metrics.body).unwrap();
    for series in [
        "postbag_tunnels_open 0",
        "postbag_bytes_to_upstream_total 0",
        "postbag_bytes_to_client_total 0",
        "postbag_errors_total{kind=\"refused\"} 0",
        "postbag_connect_seconds_bucket{le=\"+Inf\"} 0",
        "postbag_buffered_bytes 0",
    ] {
        assert!(text.contains(series), "{series} missing from {text}");
    }
}

/// With a token, the counters are the token holder's too: who uses the proxy how much, and how
/// its refusals go, is not for anyone who can reach the port.
#[test]
fn metrics_need_the_token_when_one_is_set() {
    const TOKEN: &str = "0123456789abcdef-metrics";
    let mut config = base_config(None);
    config.token = Some(postbag_proxy::Secret::new(TOKEN.into()));
    let proxy = spawn_proxy(config);
    let addr = proxy.addr();
    let refused = get(addr, "/metrics");
    assert_eq!(refused.status, 401);
    assert!(!String::from_utf8_lossy(&refused.body).contains("postbag_"));
    let wrong = request(
        addr,
        &format!(
            "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer nope\r\n\
             Connection: close\r\n\r\n"
        ),
    );
    assert_eq!(wrong.status, 401);
    let bearer = request(
        addr,
        &format!(
            "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {TOKEN}\r\n\
             Connection: close\r\n\r\n"
        ),
    );
    assert_eq!(bearer.status, 200);
    assert!(String::from_utf8_lossy(&bearer.body).contains("postbag_tunnels_open 0"));
    assert_eq!(get(addr, &format!("/metrics?token={TOKEN}")).status, 200);
    // Health stays open: load balancers probe it without credentials.
    assert_eq!(get(addr, "/healthz").status, 200);
}

#[test]
fn the_tunnel_path_answers_what_is_not_a_tunnel() {
    let mut config = base_config(None);
    config.allowed_origins = vec!["http://127.0.0.1:1".into()];
    let proxy = spawn_proxy(config);
    let addr = proxy.addr();
    let kind = |r: &Response| -> String {
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        v["kind"].as_str().unwrap().to_string()
    };

    // A plain GET (the app's probe after a refused upgrade) passes the checks and is asked to
    // upgrade.
    let plain = get(addr, "/tunnel");
    assert_eq!(plain.status, 400);
    assert_eq!(kind(&plain), "bad_request");
    assert_eq!(plain.header("cache-control"), "no-store");

    // The same refusal on both ways in: the plain GET and the upgrade itself.
    let foreign = "Origin: http://evil.example\r\n";
    let probe = request(
        addr,
        &format!("GET /tunnel HTTP/1.1\r\nHost: {addr}\r\n{foreign}Connection: close\r\n\r\n"),
    );
    let upgrade = request(
        addr,
        &format!("GET /tunnel HTTP/1.1\r\nHost: {addr}\r\n{foreign}{UPGRADE}\r\n"),
    );
    for refused in [&probe, &upgrade] {
        assert_eq!(refused.status, 403);
        assert_eq!(kind(refused), "forbidden_origin");
        assert_eq!(refused.header("cache-control"), "no-store");
        assert_eq!(refused.header("x-content-type-options"), "nosniff");
        assert!(
            refused
                .header("content-security-policy")
                .contains("default-src")
        );
    }
    assert_eq!(upgrade.header("connection"), "close");

    // Only the tunnel path upgrades.
    let elsewhere = request(
        addr,
        &format!("GET / HTTP/1.1\r\nHost: {addr}\r\n{UPGRADE}\r\n"),
    );
    assert_eq!(elsewhere.status, 404);
    assert_eq!(elsewhere.header("x-content-type-options"), "nosniff");
}

#[test]
fn an_open_sent_with_the_handshake_is_not_lost() {
    let proxy = proxy(None);
    let addr = proxy.addr();
    let open = serde_json::json!({
        "type": "open", "version": 1, "host": "127.0.0.1", "port": 9, "tls": "none"
    })
    .to_string();
    // One write: the request and, right behind it, a masked text frame (all-zero mask).
    let mut bytes = format!("GET /tunnel HTTP/1.1\r\nHost: {addr}\r\n{UPGRADE}\r\n").into_bytes();
    bytes.extend([0x81, 0x80 | open.len() as u8, 0, 0, 0, 0]);
    bytes.extend(open.as_bytes());
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    stream.write_all(&bytes).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw);
    assert!(text.starts_with("HTTP/1.1 101"), "{text}");
    // Port 9 is not allowed: the proxy read the open and refused its target (had the frame
    // been lost with the HTTP layer's buffer, it would have waited and said "no open message").
    assert!(text.contains("forbidden_target"), "{text}");
}

#[test]
fn a_wrong_first_frame_is_answered_then_the_connection_ends_cleanly() {
    let proxy = proxy(None);
    let addr = proxy.addr();
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET /tunnel HTTP/1.1\r\nHost: {addr}\r\n{UPGRADE}\r\n"
    )
    .unwrap();
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 101");
    // A binary frame where `open` must come, then more that the proxy will never read: it
    // answers the first frame with an error and ends the tunnel with bytes still unread.
    let mut frames = Vec::new();
    for _ in 0..8 {
        frames.extend([0x82, 0x80 | 126, 0x40, 0x00, 0, 0, 0, 0]);
        frames.extend(vec![b'x'; 0x4000]);
    }
    stream.write_all(&frames).unwrap();
    // Everything up to a clean end of stream, although the proxy left bytes unread. (On Linux
    // loopback the final frames have left before the close even without the proxy's linger,
    // so this does not show the linger; it shows the ending is whole.)
    let mut rest = Vec::new();
    stream
        .read_to_end(&mut rest)
        .expect("the tunnel ends with its frames and FIN");
    let text = String::from_utf8_lossy(&rest);
    assert!(text.contains("bad_request"), "{text}");
    assert!(rest.contains(&0x88), "no close frame in {text}");
}

/// The app reads the registered OAuth clients from `/oauth/clients`: ids, the provider and, for
/// a generic OpenID provider, its issuer and name; never stored by the browser's cache.
#[test]
fn the_registered_oauth_clients_are_served() {
    use postbag_proxy::{OAuthClient, OAuthProvider};
    let none = proxy(None);
    let answer = get(none.addr(), "/oauth/clients");
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body, b"[]");
    let mut config = base_config(None);
    config.oauth_clients = vec![
        OAuthClient {
            provider: OAuthProvider::Microsoft,
            client_id: "0a1b-spa".into(),
            issuer: None,
            name: None,
            scopes: Vec::new(),
            client_secret: None,
            client_auth: Default::default(),
            token_endpoint: None,
        },
        OAuthClient {
            provider: OAuthProvider::Oidc,
            client_id: "postbag".into(),
            issuer: Some("https://id.example.org/realms/mail".into()),
            name: Some("Example Mail".into()),
            scopes: Vec::new(),
            client_secret: None,
            client_auth: Default::default(),
            token_endpoint: None,
        },
    ];
    let two = spawn_proxy(config);
    let answer = get(two.addr(), "/oauth/clients");
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("cache-control"), "no-store");
    assert!(
        answer
            .header("content-type")
            .starts_with("application/json")
    );
    let listed: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(
        listed,
        serde_json::json!([
            { "provider": "microsoft", "client_id": "0a1b-spa" },
            {
                "provider": "oidc",
                "client_id": "postbag",
                "issuer": "https://id.example.org/realms/mail",
                "name": "Example Mail"
            }
        ])
    );
}
