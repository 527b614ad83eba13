//! Mail written to break a reader: each message carries one attack found by review, so that
//! the end-to-end tests open it in the real app and check the defence held.

use base64::Engine as _;

/// A 1x1 PNG (the same as `messages`' pixel).
const PIXEL_PNG_BASE64: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";

fn crlf(text: &str) -> Vec<u8> {
    text.replace("\r\n", "\n")
        .replace('\n', "\r\n")
        .into_bytes()
}

fn head(subject: &str, id: &str, content_type: &str) -> String {
    format!(
        "From: Mallory <mallory@evil.example>\nTo: tester@example.org\nSubject: {subject}\n\
         Date: Tue, 02 Jan 2024 09:00:00 +0000\nMessage-ID: <{id}@evil.example>\n\
         MIME-Version: 1.0\nContent-Type: {content_type}\n\n"
    )
}

/// `cid:` resolved after sanitising reopens attributes: the Content-ID `Q" alt=` matches the
/// text `cid:Q" alt=` of the cleaned `<img src="cid:Q" alt=" onerror=…">`, and a string
/// replacement there would write `<img src="data:…" onerror=…>`.
pub fn cid_attribute_injection() -> Vec<u8> {
    crlf(&format!(
        "{}--r\nContent-Type: text/html; charset=utf-8\n\n\
         <p>Injected logo:</p><img src=\"cid:Q\" alt=\" onerror=document.title='PWNED' x\">\n\
         --r\nContent-Type: image/png\nContent-ID: <Q\" alt=>\nContent-Transfer-Encoding: base64\n\n\
         {PIXEL_PNG_BASE64}\n--r--\n",
        head(
            "cid attribute injection",
            "cid-inject",
            "multipart/related; boundary=r"
        )
    ))
}

/// One image of `image_bytes` referenced `copies` times: inlined naively, the document grows
/// to `copies` times the image's base64.
pub fn cid_amplification(image_bytes: usize, copies: usize) -> Vec<u8> {
    let mut image = base64::engine::general_purpose::STANDARD
        .decode(PIXEL_PNG_BASE64)
        .expect("pixel");
    image.resize(image_bytes.max(image.len()), 0);
    let b64 = base64::engine::general_purpose::STANDARD.encode(&image);
    let wrapped: Vec<&str> = b64
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).expect("base64 is ASCII"))
        .collect();
    let refs = "<img src=\"cid:big@x\" width=\"8\" height=\"8\">".repeat(copies);
    crlf(&format!(
        "{}--r\nContent-Type: text/html; charset=utf-8\n\n<p>Many copies:</p>{refs}\n\
         --r\nContent-Type: image/png\nContent-ID: <big@x>\nContent-Transfer-Encoding: base64\n\n\
         {}\n--r--\n",
        head(
            "cid amplification",
            "cid-amplify",
            "multipart/related; boundary=r"
        ),
        wrapped.join("\n"),
    ))
}

/// Two inline text parts in different charsets: a reader that shows only the first body hides
/// the second, which mail-parser lists neither as an attachment.
pub fn two_text_parts_two_charsets() -> Vec<u8> {
    let mut raw = crlf(&format!(
        "{}--m\nContent-Type: text/plain; charset=utf-8\n\nThe visible part, caf\u{e9}.\n\
         --m\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n\n",
        head(
            "Two charsets",
            "two-charsets",
            "multipart/mixed; boundary=m"
        )
    ));
    raw.extend_from_slice(b"The hidden part, \xe9t\xe9 in Latin-1.\r\n--m--\r\n");
    raw
}

/// An HTML message whose only remote content is of one `kind`: srcset, poster, link,
/// background or style. A reader must offer to load it.
pub fn remote_only(kind: &str) -> Vec<u8> {
    let body = match kind {
        "srcset" => "<img srcset=\"http://tracker.invalid/srcset.png 1x\" alt=\"srcset\">",
        "poster" => "<video poster=\"http://tracker.invalid/poster.png\" width=\"8\"></video>",
        "link" => "<link rel=\"stylesheet\" href=\"http://tracker.invalid/sheet.css\">",
        "background" => {
            "<table background=\"http://tracker.invalid/bg.png\"><tr><td>cell</td></tr></table>"
        }
        "style" => "<style>p{background:url(http://tracker.invalid/style.png)}</style>",
        _ => "<p>unknown kind</p>",
    };
    crlf(&format!(
        "{}<html><head></head><body><p>Only remote: {kind}.</p>{body}</body></html>\n",
        head(
            &format!("Remote by {kind}"),
            &format!("remote-{kind}"),
            "text/html; charset=utf-8"
        )
    ))
}
