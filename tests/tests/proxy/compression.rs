//! The app sent compressed: the build's brotli and gzip copies chosen by `Accept-Encoding`, with
//! `Vary`, their own length and ETag, ranges from the plain file, and what the service worker
//! caches decoded whole in every encoding.

use std::io::Read;
use std::net::SocketAddr;

use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::http::{LOADER, Response, fake_dist, get, proxy, request};

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
    // Large enough to compress, with the export build_sw.mjs checks the worker's import against.
    let js = "export function f(x) { return x + 1; }\n".repeat(200)
        + "export function background_check() {}\n";
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
