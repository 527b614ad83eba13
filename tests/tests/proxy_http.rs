//! The proxy as a web server: the built app with MIME types, cache headers, security headers and
//! a CSP that admits Trunk's inline loader by hash; the notice when the app is not built;
//! `/healthz` and `/metrics`.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use base64::Engine as _;
use postbag_proxy::{Config, ProxyHandle};
use postbag_tests::proxy_harness::spawn_proxy;
use sha2::{Digest, Sha256};

struct Response {
    status: u16,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("no {name} header"))
    }
}

/// One HTTP/1.1 GET, read to the end (the proxy closes after `Connection: close`).
fn get(addr: SocketAddr, path: &str) -> Response {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
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

fn proxy(dist: Option<std::path::PathBuf>) -> ProxyHandle {
    spawn_proxy(Config::for_tests(dist))
}

/// What `trunk build` leaves in dist/, in miniature.
const LOADER: &str = "\nimport init, * as bindings from '/postbag-web-0123456789abcdef.js';\n\
                      const wasm = await init({ module_or_path: '/postbag-web-0123456789abcdef_bg.wasm' });\n";

fn fake_dist() -> tempfile::TempDir {
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
