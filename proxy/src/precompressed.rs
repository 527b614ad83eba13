//! The app's files in the encoding the browser asks for: the brotli (`.br`) and gzip (`.gz`)
//! copies that the build writes beside each compressible file (`scripts/precompress.mjs`), chosen
//! by `Accept-Encoding`.
//!
//! Compressed at build time rather than here: brotli's best level costs seconds of CPU for the
//! wasm, which every proxy start would pay, and nothing is held in memory. A request names the
//! file it would get without compression; the copy is sent with that file's type and
//! disposition, its own length, and its own `ETag` (from the copy's inode, length and time), so a
//! cache never takes one encoding for the other. Every answer for a file that has a copy says
//! `Vary: Accept-Encoding`.
//!
//! Ranges are only served on the unencoded file: a request with `Range` gets it (with its own
//! `ETag`), and a compressed answer says `Accept-Ranges: none`, so that no client resumes one
//! encoding's bytes with another's.
//!
//! A copy is trusted when the file's name carries Trunk's content hash (it cannot be stale), and
//! otherwise only when it is not older than the file: `index.html` or `sw.js` edited by hand
//! after a build is sent as it now is, uncompressed, never as the build's stale copy.

use std::fs::File;
use std::path::{Path, PathBuf};

use actix_web::HttpResponse;
use actix_web::http::Method;
use actix_web::http::header::{
    self, AcceptEncoding, ContentEncoding, Encoding, HeaderValue, Preference, Quality,
};
use actix_web::{HttpMessage as _, HttpRequest};

use crate::static_files;

/// The encodings the build writes, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Brotli,
    Gzip,
}

impl Coding {
    const ALL: [Coding; 2] = [Coding::Brotli, Coding::Gzip];

    fn suffix(self) -> &'static str {
        match self {
            Coding::Brotli => "br",
            Coding::Gzip => "gz",
        }
    }

    fn content_encoding(self) -> ContentEncoding {
        match self {
            Coding::Brotli => ContentEncoding::Brotli,
            Coding::Gzip => ContentEncoding::Gzip,
        }
    }

    fn encoding(self) -> Encoding {
        Encoding::Known(self.content_encoding())
    }
}

/// What the proxy does with a request for the app's files.
pub enum Answer {
    /// A compressed copy, ready to send.
    Encoded(HttpResponse),
    /// The file has copies but is sent unencoded (not asked for, or a range): the files service
    /// serves it, and the answer gets `Vary: Accept-Encoding`.
    Identity,
    /// Nothing here is negotiated (no copies, another method, not a file of the app).
    NotNegotiated,
}

/// Decides how `req` is answered from `dist`.
pub fn answer(dist: &Path, req: &HttpRequest) -> Answer {
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return Answer::NotNegotiated;
    }
    let Some(name) = file_name(req.path()) else {
        return Answer::NotNegotiated;
    };
    let original = dist.join(name);
    let available = copies(&original, static_files::is_hashed(name));
    if available.is_empty() {
        return Answer::NotNegotiated;
    }
    if req.headers().contains_key(header::RANGE) {
        return Answer::Identity;
    }
    let accept = req.get_header::<AcceptEncoding>();
    let Some(coding) = choose(accept.as_ref(), &available) else {
        return Answer::Identity;
    };
    match send(&original, coding, req) {
        Ok(response) => Answer::Encoded(response),
        // The copy went away between the look and the open (a rebuild): the file itself.
        Err(_) => Answer::Identity,
    }
}

/// The file of `dist` that a request path names, for the paths that can have copies: `/` is
/// `index.html`; otherwise one path segment of the characters Trunk's file names use, which no
/// path can climb out of `dist` with. Anything else is left to the files service.
fn file_name(path: &str) -> Option<&str> {
    let name = path.strip_prefix('/')?;
    if name.is_empty() {
        return Some("index.html");
    }
    let safe = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    (safe && !name.starts_with('.')).then_some(name)
}

/// The encodings whose copies of `original` exist and may be sent, best first.
fn copies(original: &Path, hashed: bool) -> Vec<Coding> {
    let Ok(modified) = original.metadata().and_then(|m| m.modified()) else {
        return Vec::new();
    };
    Coding::ALL
        .into_iter()
        .filter(|c| match copy_path(original, *c).metadata() {
            Ok(copy) if copy.is_file() => {
                hashed || copy.modified().is_ok_and(|copied| copied >= modified)
            }
            _ => false,
        })
        .collect()
}

fn copy_path(original: &Path, coding: Coding) -> PathBuf {
    let mut name = original.as_os_str().to_owned();
    name.push(".");
    name.push(coding.suffix());
    PathBuf::from(name)
}

/// The coding to send, of those `available`, for the request's `Accept-Encoding`; `None` for the
/// unencoded file. q-values rank; `q=0` refuses; without the header, or with one that does not
/// parse, the unencoded file (RFC 9110, 12.5.3). When the header refuses `identity` and lists
/// none of ours, `*` still admits the best of ours that it does not refuse by name; when nothing
/// is acceptable, the unencoded file all the same (the RFC's advice, rather than a 406 for the
/// app's own files).
pub fn choose(accept: Option<&AcceptEncoding>, available: &[Coding]) -> Option<Coding> {
    let accept = accept?;
    let mut supported: Vec<Encoding> = available.iter().map(|c| c.encoding()).collect();
    supported.push(Encoding::identity());
    let chosen = accept.negotiate(supported.iter());
    if let Some(coding) = available
        .iter()
        .copied()
        .find(|c| Some(c.encoding()) == chosen)
    {
        return Some(coding);
    }
    // actix's negotiation lets `*` admit identity even where `identity;q=0` refuses it by name
    // (RFC 9110: the named coding wins), and never lets `*` admit a coding: both here.
    let quality = |wanted: &Preference<Encoding>| {
        accept.iter().find(|q| q.item == *wanted).map(|q| q.quality)
    };
    let star = quality(&Preference::Any);
    let identity = quality(&Preference::Specific(Encoding::identity())).or(star);
    if identity != Some(Quality::ZERO) || star.is_none_or(|q| q == Quality::ZERO) {
        return None;
    }
    available
        .iter()
        .copied()
        .find(|c| quality(&Preference::Specific(c.encoding())) != Some(Quality::ZERO))
}

/// The copy of `original` in `coding`, as the files service would send `original`: its type,
/// disposition, conditional requests and `HEAD`; with the copy's length and `ETag`.
fn send(original: &Path, coding: Coding, req: &HttpRequest) -> std::io::Result<HttpResponse> {
    let copy = File::open(copy_path(original, coding))?;
    let mut response = actix_files::NamedFile::from_file(copy, original)?
        .set_content_encoding(coding.content_encoding())
        .into_response(req);
    let headers = response.headers_mut();
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("none"));
    vary_on_encoding(headers);
    Ok(response)
}

/// Adds `Accept-Encoding` to the response's `Vary`.
pub fn vary_on_encoding(headers: &mut header::HeaderMap) {
    headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(header: &str) -> AcceptEncoding {
        actix_web::test::TestRequest::default()
            .insert_header((header::ACCEPT_ENCODING, header))
            .to_http_request()
            .get_header()
            .unwrap()
    }

    #[test]
    fn accept_encoding_decides() {
        use Coding::*;
        for (header, want) in [
            ("gzip, deflate, br, zstd", Some(Brotli)),
            ("gzip, deflate", Some(Gzip)),
            ("br;q=0.5, gzip", Some(Gzip)),
            ("br;q=0, gzip", Some(Gzip)),
            ("br;q=0, gzip;q=0", None),
            ("identity", None),
            ("", None),
            ("identity;q=0, gzip", Some(Gzip)),
            ("identity;q=0, *", Some(Brotli)),
            ("br;q=0, identity;q=0, *", Some(Gzip)),
            ("*;q=0", None),
            ("deflate", None),
            ("BR", Some(Brotli)),
        ] {
            assert_eq!(
                choose(Some(&parse(header)), &[Brotli, Gzip]),
                want,
                "{header:?}"
            );
        }
        assert_eq!(choose(None, &[Brotli, Gzip]), None);
        // Only what is on disk: a file with a gzip copy alone.
        assert_eq!(choose(Some(&parse("br, gzip;q=0.9")), &[Gzip]), Some(Gzip));
        assert_eq!(choose(Some(&parse("br")), &[Gzip]), None);
    }

    #[test]
    fn only_plain_names_of_dist_can_have_copies() {
        assert_eq!(file_name("/"), Some("index.html"));
        assert_eq!(
            file_name("/postbag-web-0123456789abcdef_bg.wasm"),
            Some("postbag-web-0123456789abcdef_bg.wasm")
        );
        for path in [
            "/../etc/passwd",
            "/a/b.js",
            "/.hidden",
            "/x%2e.js",
            "/..",
            "relative",
        ] {
            assert_eq!(file_name(path), None, "{path}");
        }
    }
}
