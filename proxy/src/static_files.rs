//! Serving the built app (Trunk's `dist/`) with MIME types, cache headers and a strict CSP.
//!
//! Trunk writes an inline `<script type="module">` loader into `index.html` whose text changes
//! with every build. Instead of `'unsafe-inline'`, the CSP lists the SHA-256 of each inline
//! script found in the current `index.html` (re-read when its modification time changes).

use std::path::{Path, PathBuf};
use std::sync::RwLock;
use std::time::SystemTime;

use actix_web::http::header::{self, HeaderValue};
use base64::Engine as _;
use sha2::{Digest, Sha256};

/// Everything in the CSP except `script-src`'s hashes.
///
/// `img-src` admits remote images because mail is shown in a `srcdoc` iframe, which inherits
/// this policy: without them, a user's "load remote content" choice could never take effect.
/// Blocking by default is the mail frame's own job: its CSP meta (frontend/src/mail/sanitize.rs)
/// allows only `data:`/`blob:` images until the user consents for that message. The app's own
/// document never renders mail HTML.
///
/// `frame-src` is `'self'` only: the app frames the reader's `srcdoc` iframe, which no scheme
/// source (`blob:`, `data:`) could match anyway, and the same-origin HTML parser frame
/// ([`PARSER_FRAME_PATH`], hence `'self'`); attachments are saved through a `blob:` link, a
/// download rather than a frame. Allowing more would only widen what injected markup could
/// frame (a `blob:` document even carries the app's origin).
///
/// `connect-src` is `'self'` plus the token endpoints' origins of the configured OAuth
/// clients (see [`Site::new`]): the app exchanges codes and refreshes tokens there itself.
const CSP_TAIL: &str = "default-src 'self'; img-src 'self' data: blob: https: http:; \
     style-src 'self' 'unsafe-inline'; frame-src 'self'; worker-src 'self'; \
     manifest-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; \
     form-action 'none'";

pub const NOT_BUILT: &str = "Postbag: the web app is not built.\n\n\
     The proxy serves the app from its dist directory, which does not exist or has no \
     index.html.\nBuild it with `trunk build --release` (see the README), or point the proxy at \
     it with --dist / POSTBAG_DIST.\n";

/// The app directory and the CSP derived from its `index.html`.
#[derive(Debug)]
pub struct Site {
    pub dist: PathBuf,
    /// The `connect-src` directive.
    connect_src: String,
    csp: RwLock<(Option<SystemTime>, String)>,
}

impl Site {
    /// `connect` are the origins the app may fetch from besides its own (the OAuth token
    /// endpoints'), each already checked to be a plain origin.
    pub fn new(dist: PathBuf, connect: &[String]) -> Site {
        let mut connect_src = String::from("connect-src 'self'");
        for origin in connect {
            if !connect_src.split(' ').any(|o| o == origin) {
                connect_src.push(' ');
                connect_src.push_str(origin);
            }
        }
        Site {
            dist,
            csp: RwLock::new((None, csp_for("", &connect_src))),
            connect_src,
        }
    }

    pub fn index(&self) -> PathBuf {
        self.dist.join("index.html")
    }

    pub fn is_built(&self) -> bool {
        self.index().is_file()
    }

    /// The CSP for the current `index.html`; one `stat` per request, a re-read when it changed.
    pub fn csp(&self) -> String {
        let index = self.index();
        let mtime = std::fs::metadata(&index).and_then(|m| m.modified()).ok();
        {
            let cached = self.csp.read().unwrap();
            if cached.0 == mtime && mtime.is_some() {
                return cached.1.clone();
            }
        }
        let html = std::fs::read_to_string(&index).unwrap_or_default();
        let csp = csp_for(&html, &self.connect_src);
        *self.csp.write().unwrap() = (mtime, csp.clone());
        csp
    }
}

/// The CSP for a page with these inline scripts, with this `connect-src` directive.
pub fn csp_for(index_html: &str, connect_src: &str) -> String {
    let mut script_src = String::from("script-src 'self' 'wasm-unsafe-eval'");
    for body in inline_scripts(index_html) {
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(body));
        script_src.push_str(&format!(" 'sha256-{hash}'"));
    }
    format!("{script_src}; {connect_src}; {CSP_TAIL}")
}

/// The bodies of `<script>` elements without a `src` attribute, exactly as the browser hashes
/// them (the text between `>` and `</script>`).
fn inline_scripts(html: &str) -> Vec<&str> {
    let lower = html.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(start) = lower[at..].find("<script").map(|i| i + at) {
        let Some(tag_end) = lower[start..].find('>').map(|i| i + start) else {
            break;
        };
        let Some(close) = lower[tag_end..].find("</script").map(|i| i + tag_end) else {
            break;
        };
        let tag = &lower[start..tag_end];
        if !has_src(tag) {
            out.push(&html[tag_end + 1..close]);
        }
        at = close + 1;
    }
    out
}

fn has_src(tag: &str) -> bool {
    tag.split(|c: char| c.is_ascii_whitespace())
        .any(|attr| attr.starts_with("src="))
}

/// Cache policy by file name: Trunk's hashed assets never change; everything else revalidates.
pub fn cache_control(path: &str) -> &'static str {
    let name = path.rsplit('/').next().unwrap_or("");
    if is_hashed(name) {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    }
}

/// `postbag-web-1a2b3c4d5e6f7a8b_bg.wasm`, `main-0123456789abcdef.css`: a run of at least 16 hex
/// digits after the last `-` of the stem (Trunk's content hash).
pub fn is_hashed(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or("");
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    match stem.rsplit_once('-') {
        Some((_, hash)) => hash.len() >= 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
        None => false,
    }
}

/// Headers every response carries: `csp`, and framing by nobody.
pub fn security_headers(headers: &mut header::HeaderMap, csp: &str) {
    if let Ok(v) = HeaderValue::from_str(csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    common_headers(headers, "DENY");
}

/// The app's HTML parser frame (frontend/parse.html): mail HTML is sanitised in its realm.
pub const PARSER_FRAME_PATH: &str = "/parse.html";

/// The parser frame's policy: it may run nothing at all (`sandbox` without `allow-scripts`),
/// stays same-origin so that the app can use its parser, and may be framed by the app only.
/// It has no `script-src`: the inert documents made from its parser inherit this policy, and
/// with one Chromium would report every event handler in a mail as a violation as it parses.
pub const PARSER_FRAME_CSP: &str = "sandbox allow-same-origin; frame-ancestors 'self'";

/// Headers of the parser frame's document, in place of [`security_headers`]: its own policy,
/// and framing by the app's own pages only.
pub fn parser_frame_headers(headers: &mut header::HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PARSER_FRAME_CSP),
    );
    common_headers(headers, "SAMEORIGIN");
}

fn common_headers(headers: &mut header::HeaderMap, frame_options: &'static str) {
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static(frame_options),
    );
}

/// Whether a request path names a file in `dist` (as opposed to an app route that falls back to
/// `index.html`).
pub fn looks_like_file(path: &str) -> bool {
    Path::new(path).extension().is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_script_hashes() {
        let html = "<html><head><script type=\"module\">import init from '/a.js';init();</script>\
                    <script src=\"/purify.min.js\"></script><SCRIPT>x()</SCRIPT></head></html>";
        assert_eq!(
            inline_scripts(html),
            vec!["import init from '/a.js';init();", "x()"]
        );
        let csp = csp_for(html, "connect-src 'self'");
        let expected = base64::engine::general_purpose::STANDARD
            .encode(Sha256::digest("import init from '/a.js';init();"));
        assert!(csp.starts_with(&format!(
            "script-src 'self' 'wasm-unsafe-eval' 'sha256-{expected}' 'sha256-"
        )));
        assert!(!csp.contains("unsafe-inline'; object") && csp.contains("frame-ancestors 'none'"));
        assert!(!csp_for("", "connect-src 'self'").contains("sha256"));
        // The OAuth token endpoints' origins join connect-src, once each.
        let site = Site::new(
            PathBuf::from("/nonexistent"),
            &[
                "https://id.example.org".into(),
                "https://id.example.org".into(),
            ],
        );
        assert!(
            site.csp()
                .contains("; connect-src 'self' https://id.example.org; default-src 'self'"),
            "{}",
            site.csp()
        );
    }

    #[test]
    fn cache_classes() {
        for (path, immutable) in [
            ("/postbag-web-9f86d081884c7d65_bg.wasm", true),
            ("/postbag-web-9f86d081884c7d65.js", true),
            ("/main-0123456789abcdef.css", true),
            ("/index.html", false),
            ("/sw.js", false),
            ("/purify.min.js", false),
            ("/manifest.webmanifest", false),
            ("/icon-192.png", false),
        ] {
            let want = if immutable {
                "public, max-age=31536000, immutable"
            } else {
                "no-cache"
            };
            assert_eq!(cache_control(path), want, "{path}");
        }
    }
}
