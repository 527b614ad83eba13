//! Which attribute values load something, and from where: the rules behind the "Load remote
//! content" offer and `cid:` resolution. Pure string work, tested below.
//!
//! The offer must appear whenever consent would load anything, whatever the element: an image,
//! a `srcset` candidate, a video poster, a table background, a stylesheet link, a CSS `url()`
//! in a `style` attribute or a `<style>` block. Erring towards "remote" only shows a button that
//! changes nothing; erring the other way leaves content the user cannot choose to see.

/// Attributes whose value is a URL the browser may fetch on its own (links are only followed).
pub const URL_ATTRIBUTES: &[&str] = &[
    "src",
    "srcset",
    "poster",
    "background",
    "href",
    "xlink:href",
    "data",
    "lowsrc",
    "dynsrc",
];

/// What a URL attribute's value would load.
#[derive(Debug, PartialEq)]
pub enum UrlUse {
    /// Nothing outside the message (empty, `data:`, a fragment).
    Local,
    /// A part of this message (`cid:`), by its Content-ID (percent-decoded, RFC 2392).
    Cid(String),
    /// Anything else: a remote or relative URL, loaded only with consent.
    Remote,
}

pub fn url_use(value: &str) -> UrlUse {
    let v = value.trim();
    let lower = v.to_ascii_lowercase();
    if v.is_empty() || lower.starts_with("data:") || v.starts_with('#') {
        UrlUse::Local
    } else if lower.starts_with("cid:") {
        UrlUse::Cid(percent_decode(&v[4..]))
    } else {
        UrlUse::Remote
    }
}

/// Whether any candidate of a `srcset` is remote. Candidates are split as the HTML standard
/// splits them (a URL runs to whitespace, so a `data:` URL may hold commas), not at every comma.
pub fn srcset_has_remote(srcset: &str) -> bool {
    let mut rest = srcset;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == ',');
        if rest.is_empty() {
            return false;
        }
        let end = rest
            .find(|c: char| c.is_ascii_whitespace())
            .unwrap_or(rest.len());
        let (url, after) = rest.split_at(end);
        if url_use(url.trim_end_matches(',')) == UrlUse::Remote {
            return true;
        }
        // A URL that ended with commas has no descriptors; otherwise skip them to the comma.
        rest = if url.ends_with(',') {
            after
        } else {
            after.split_once(',').map_or("", |(_, next)| next)
        };
    }
}

/// Whether CSS text may load something remote: `@import`, a `url()` that is not `data:`, or
/// an `image-set()`. CSS escapes can spell these in other ways, so any backslash counts too.
pub fn css_has_remote(css: &str) -> bool {
    let lower = css.to_ascii_lowercase();
    if lower.contains("@import") || lower.contains("image-set(") || lower.contains('\\') {
        return true;
    }
    lower.match_indices("url(").any(|(at, _)| {
        let arg = lower[at + 4..].trim_start().trim_start_matches(['"', '\'']);
        !(arg.starts_with("data:") || arg.starts_with('#'))
    })
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

    #[wasm_bindgen_test]
    fn url_uses() {
        let cases = [
            ("", UrlUse::Local),
            ("data:image/png;base64,AA", UrlUse::Local),
            ("  DATA:image/gif,x", UrlUse::Local),
            ("#top", UrlUse::Local),
            (
                "cid:logo@example.org",
                UrlUse::Cid("logo@example.org".into()),
            ),
            ("CID:a%40b%3E", UrlUse::Cid("a@b>".into())),
            ("http://t.example/p.gif", UrlUse::Remote),
            ("//t.example/p.gif", UrlUse::Remote),
            ("p.gif", UrlUse::Remote),
        ];
        for (value, expected) in cases {
            assert_eq!(url_use(value), expected, "{value:?}");
        }
    }

    #[wasm_bindgen_test]
    fn srcsets() {
        assert!(srcset_has_remote("https://e.example/1.png 1x"));
        assert!(srcset_has_remote(
            "data:image/png,a 1x, https://e.example/2.png 2x"
        ));
        assert!(!srcset_has_remote("data:image/png,a 1x"));
        assert!(!srcset_has_remote(
            "data:image/png,a 1x,data:image/png,b 2x"
        ));
        assert!(srcset_has_remote("  , //e.example/c.png"));
    }

    #[wasm_bindgen_test]
    fn css() {
        for remote in [
            "background:url(https://e.example/b.png)",
            "background: URL( 'http://e.example/b.png')",
            "@import 'x.css';",
            "background-image:image-set('a.png' 1x)",
            "background:u\\72l(https://e.example)",
        ] {
            assert!(css_has_remote(remote), "{remote}");
        }
        for local in [
            "color:red",
            "background:url(data:image/png;base64,AA)",
            "fill:url(#g)",
        ] {
            assert!(!css_has_remote(local), "{local}");
        }
    }
}
