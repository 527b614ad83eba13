//! The proxy as a web server: the built app with MIME types, cache headers, security headers and
//! a CSP that admits Trunk's inline loader by hash; the notice when the app is not built;
//! `/healthz` and `/metrics`; what the tunnel path answers to requests that are not a tunnel.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use base64::Engine as _;
use postbag_tests::proxy_harness::{ProxyHandle, base_config, spawn_proxy};
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
    request(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    )
}

/// Handshake headers of a WebSocket upgrade, after the request line.
const UPGRADE: &str = "Connection: Upgrade\r\nUpgrade: websocket\r\n\
                       Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

/// Sends `raw` as is, reads the response to the end.
fn request(addr: SocketAddr, raw_request: &str) -> Response {
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

fn proxy(dist: Option<std::path::PathBuf>) -> ProxyHandle {
    spawn_proxy(base_config(dist))
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

/// The repository's root, where the build's scripts live.
fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Runs one of the build's node scripts on `dist`, as Trunk's post-build hook does.
fn run_build_script(script: &str, dist: &std::path::Path) {
    let status = std::process::Command::new("node")
        .arg(repo_root().join(script))
        .arg(dist)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("node runs the build's scripts (it is on PATH wherever the app is built)");
    assert!(status.success(), "{script} failed");
}

/// A dist large enough to compress, after the post-build hook: the service worker (build_sw.mjs),
/// then the brotli and gzip copies (precompress.mjs), in that order.
fn compressed_dist() -> tempfile::TempDir {
    let dist = fake_dist();
    // Wasm-like bytes that compress as the real module does (repeated, not constant).
    let wasm: Vec<u8> = b"\0asm\x01\0\0\0"
        .iter()
        .copied()
        .chain((0..200_000u32).map(|i| (i % 251) as u8 ^ (i / 4096) as u8))
        .collect();
    std::fs::write(dist.path().join(WASM), &wasm).unwrap();
    let js = "export function f(x) { return x + 1; }\n".repeat(200);
    std::fs::write(dist.path().join(JS), js).unwrap();
    run_build_script("frontend/pwa/build_sw.mjs", dist.path());
    run_build_script("scripts/precompress.mjs", dist.path());
    dist
}

const WASM: &str = "postbag-web-0123456789abcdef_bg.wasm";
const JS: &str = "postbag-web-0123456789abcdef.js";
const BROWSER: &str = "gzip, deflate, br, zstd";

/// One request with extra header lines.
fn get_with(addr: SocketAddr, method: &str, path: &str, headers: &str) -> Response {
    request(
        addr,
        &format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}Connection: close\r\n\r\n"),
    )
}

fn accepting(addr: SocketAddr, path: &str, accept_encoding: &str) -> Response {
    get_with(
        addr,
        "GET",
        path,
        &format!("Accept-Encoding: {accept_encoding}\r\n"),
    )
}

/// The body as the browser sees it: decoded by its `Content-Encoding`.
fn decoded(response: &Response) -> Vec<u8> {
    let mut out = Vec::new();
    match response.headers.get("content-encoding").map(String::as_str) {
        Some("br") => {
            brotli_decompressor::Decompressor::new(&response.body[..], 4096)
                .read_to_end(&mut out)
                .unwrap();
        }
        Some("gzip") => {
            flate2::read::GzDecoder::new(&response.body[..])
                .read_to_end(&mut out)
                .unwrap();
        }
        None | Some("identity") => out = response.body.clone(),
        Some(other) => panic!("unexpected content-encoding {other}"),
    }
    out
}

fn varies_on_encoding(response: &Response) -> bool {
    response
        .headers
        .get("vary")
        .is_some_and(|v| v.to_ascii_lowercase().contains("accept-encoding"))
}

#[test]
fn the_app_goes_out_compressed_as_the_browser_asks() {
    let dist = compressed_dist();
    let proxy = proxy(Some(dist.path().to_path_buf()));
    let addr = proxy.addr();
    let original = std::fs::read(dist.path().join(WASM)).unwrap();
    let path = format!("/{WASM}");

    let br = accepting(addr, &path, BROWSER);
    assert_eq!(br.status, 200);
    assert_eq!(br.header("content-encoding"), "br");
    assert_eq!(br.header("content-type"), "application/wasm");
    assert_eq!(
        br.header("cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert!(varies_on_encoding(&br));
    assert_eq!(br.header("content-length"), br.body.len().to_string());
    assert!(
        br.body.len() < original.len() / 2,
        "{} bytes",
        br.body.len()
    );
    assert_eq!(decoded(&br), original);
    // The same security headers as the file itself.
    assert!(br.header("content-security-policy").contains("default-src"));
    assert_eq!(br.header("x-content-type-options"), "nosniff");
    // Its bytes are not the file's: no range of them is offered.
    assert_eq!(br.header("accept-ranges"), "none");

    let gzip = accepting(addr, &path, "gzip, deflate");
    assert_eq!(gzip.header("content-encoding"), "gzip");
    assert!(varies_on_encoding(&gzip));
    assert_eq!(gzip.header("content-length"), gzip.body.len().to_string());
    assert_eq!(decoded(&gzip), original);

    let plain = get(addr, &path);
    assert!(!plain.headers.contains_key("content-encoding"));
    assert!(
        varies_on_encoding(&plain),
        "the unencoded answer varies too"
    );
    assert_eq!(plain.body, original);
    assert_eq!(plain.header("content-length"), original.len().to_string());

    // One ETag per encoding, so no cache answers a revalidation with the other's bytes; each
    // revalidates on its own.
    let etags = [&br, &gzip, &plain].map(|r| r.header("etag").to_string());
    assert!(
        etags[0] != etags[1] && etags[1] != etags[2] && etags[0] != etags[2],
        "{etags:?}"
    );
    let revalidated = get_with(
        addr,
        "GET",
        &path,
        &format!("Accept-Encoding: br\r\nIf-None-Match: {}\r\n", etags[0]),
    );
    assert_eq!(revalidated.status, 304);
    let other = get_with(
        addr,
        "GET",
        &path,
        &format!("Accept-Encoding: br\r\nIf-None-Match: {}\r\n", etags[2]),
    );
    assert_eq!(other.status, 200);
    assert_eq!(decoded(&other), original);

    // q-values decide; q=0 refuses; `*` admits ours where identity is refused.
    for (accept, want) in [
        ("br;q=0, gzip", Some("gzip")),
        ("gzip;q=0.5, br;q=0.9", Some("br")),
        ("br;q=0, gzip;q=0", None),
        ("identity", None),
        ("deflate", None),
        ("identity;q=0, *", Some("br")),
        ("*;q=0, gzip", Some("gzip")),
        ("", None),
    ] {
        let r = accepting(addr, &path, accept);
        assert_eq!(r.status, 200, "{accept}");
        assert_eq!(
            r.headers.get("content-encoding").map(String::as_str),
            want,
            "{accept}"
        );
        assert_eq!(decoded(&r), original, "{accept}");
    }

    // HEAD: the headers of the compressed answer, its length, no body.
    let head = get_with(
        addr,
        "HEAD",
        &path,
        &format!("Accept-Encoding: {BROWSER}\r\n"),
    );
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-encoding"), "br");
    assert_eq!(head.header("content-length"), br.body.len().to_string());
    assert!(head.body.is_empty());

    // A range is of the unencoded file, whatever the browser accepts.
    let range = get_with(
        addr,
        "GET",
        &path,
        &format!("Accept-Encoding: {BROWSER}\r\nRange: bytes=100-199\r\n"),
    );
    assert_eq!(range.status, 206);
    assert_ne!(
        range.headers.get("content-encoding").map(String::as_str),
        Some("br")
    );
    assert_eq!(range.body, &original[100..200]);
    assert_eq!(
        range.header("content-range"),
        format!("bytes 100-199/{}", original.len())
    );
    assert!(varies_on_encoding(&range));

    // The JS and the page itself, with its CSP.
    let js = accepting(addr, &format!("/{JS}"), BROWSER);
    assert_eq!(js.header("content-encoding"), "br");
    assert!(js.header("content-type").contains("javascript"));
    assert_eq!(decoded(&js), std::fs::read(dist.path().join(JS)).unwrap());
    let index = accepting(addr, "/", BROWSER);
    assert_eq!(index.header("content-encoding"), "br");
    assert!(index.header("content-type").starts_with("text/html"));
    assert_eq!(index.header("cache-control"), "no-cache");
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(LOADER));
    assert!(index.header("content-security-policy").contains(&hash));
    assert_eq!(
        decoded(&index),
        std::fs::read(dist.path().join("index.html")).unwrap()
    );

    // Small files go as they are; nothing else is changed (no copies to find).
    let manifest = accepting(addr, "/manifest.webmanifest", BROWSER);
    assert!(!manifest.headers.contains_key("content-encoding"));
    assert_eq!(manifest.header("content-type"), "application/manifest+json");
    assert_eq!(accepting(addr, "/missing.js", BROWSER).status, 404);
    let route = accepting(addr, "/inbox/42", BROWSER);
    assert_eq!(route.status, 200);
    assert!(String::from_utf8_lossy(&decoded(&route)).contains("<title>Postbag</title>"));
}

/// The service worker precaches what the build lists and gets each file whole, decoded, in any
/// encoding; the compressed copies are not in its list; and a file changed after the build (a
/// hand-edited `sw.js`) is sent as it is now, never as its stale copy.
#[test]
fn the_service_worker_gets_what_it_caches() {
    let dist = compressed_dist();
    let proxy = proxy(Some(dist.path().to_path_buf()));
    let addr = proxy.addr();
    let sw = accepting(addr, "/sw.js", BROWSER);
    assert_eq!(sw.header("content-encoding"), "br");
    assert_eq!(sw.header("cache-control"), "no-cache");
    let worker = String::from_utf8(decoded(&sw)).unwrap();
    assert_eq!(
        worker.as_bytes(),
        std::fs::read(dist.path().join("sw.js")).unwrap()
    );
    let build = worker
        .lines()
        .find_map(|l| l.strip_prefix("const BUILD = "))
        .expect("the build line");
    let build: serde_json::Value = serde_json::from_str(build.trim_end_matches(';')).unwrap();
    let files: Vec<&str> = build["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert!(
        files.contains(&WASM) && files.contains(&"index.html"),
        "{files:?}"
    );
    for file in &files {
        assert!(!file.ends_with(".br") && !file.ends_with(".gz"), "{file}");
        let on_disk = std::fs::read(dist.path().join(file)).unwrap();
        for accept in [BROWSER, "gzip", "identity"] {
            let r = accepting(addr, &format!("/{file}"), accept);
            assert_eq!(r.status, 200, "{file} {accept}");
            assert_eq!(decoded(&r), on_disk, "{file} {accept}");
        }
    }

    // sw.js edited after the build: its copies are older, so the file goes as it now is.
    let edited = format!("{worker}\n// edited\n");
    std::fs::write(dist.path().join("sw.js"), &edited).unwrap();
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(2);
    std::fs::File::options()
        .write(true)
        .open(dist.path().join("sw.js"))
        .unwrap()
        .set_modified(later)
        .unwrap();
    let now = accepting(addr, "/sw.js", BROWSER);
    assert!(!now.headers.contains_key("content-encoding"));
    assert_eq!(now.body, edited.as_bytes());
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
        },
        OAuthClient {
            provider: OAuthProvider::Oidc,
            client_id: "postbag".into(),
            issuer: Some("https://id.example.org/realms/mail".into()),
            name: Some("Example Mail".into()),
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
