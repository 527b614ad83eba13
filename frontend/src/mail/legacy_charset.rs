//! Legacy multi-byte charsets (Shift_JIS, ISO-2022-JP, EUC-JP, EUC-KR, GBK, GB18030, Big5, and
//! a few single-byte ones) decoded by the browser.
//!
//! mail-parser decodes these only with its `full_encoding` feature, which compiles
//! encoding_rs's tables (hundreds of KB) into the app; without it they come out as lossy UTF-8,
//! so a Japanese or Chinese message would be unreadable. Every browser (and service worker)
//! already carries those tables behind `TextDecoder` (the WHATWG Encoding Standard, the same
//! decoders encoding_rs implements), so after mail-parser has parsed a message, the text parts
//! and header encoded words in such a charset are decoded again from their raw bytes by it.
//!
//! Headers are mended by rewriting each such encoded word as a UTF-8 one and letting
//! mail-parser parse the header again, so addresses, groups and parameters keep its parsing.

use std::borrow::Cow;

use mail_parser::decoders::base64::base64_decode;
use mail_parser::decoders::quoted_printable::quoted_printable_decode;
use mail_parser::{Encoding, HeaderValue, Message, MessageParser, MimeHeaders, PartType};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// The WHATWG `TextDecoder` (window and workers alike).
    type TextDecoder;

    #[wasm_bindgen(constructor, catch)]
    fn new(label: &str) -> Result<TextDecoder, JsValue>;

    /// The canonical name the label resolved to ("shift_jis", "euc-kr", …).
    #[wasm_bindgen(method, getter)]
    fn encoding(this: &TextDecoder) -> String;

    /// Never throws (not `fatal`): malformed sequences become U+FFFD.
    #[wasm_bindgen(method)]
    fn decode(this: &TextDecoder, bytes: &[u8]) -> String;
}

/// The encodings (by their WHATWG names) mail-parser decodes lossily without `full_encoding`.
const LOSSY: [&str; 11] = [
    "shift_jis",
    "euc-jp",
    "iso-2022-jp",
    "euc-kr",
    "gbk",
    "gb18030",
    "big5",
    "windows-874",
    "ibm866",
    "x-mac-cyrillic",
    "x-user-defined",
];

/// The browser's decoder for `label`, when mail-parser would have decoded it lossily.
fn decoder_for(label: &str) -> Option<TextDecoder> {
    let label = label.trim();
    // Labels are short ASCII tokens; anything else is not one the browser knows either.
    if label.is_empty() || label.len() > 40 || !label.is_ascii() {
        return None;
    }
    let decoder = TextDecoder::new(label).ok()?;
    LOSSY
        .contains(&decoder.encoding().as_str())
        .then_some(decoder)
}

/// Parses `raw` like `MessageParser::default().parse`, then mends what a legacy charset made
/// unreadable (see the module's comment). Mail without such charsets is returned untouched.
pub fn parse(raw: &[u8]) -> Option<Message<'_>> {
    let mut msg = MessageParser::default().parse(raw)?;
    mend(&mut msg);
    Some(msg)
}

fn mend(msg: &mut Message<'_>) {
    // Borrowed apart: the parts change while the raw bytes are read (no copy of a forwarded
    // message's bytes, which are owned).
    let Message {
        parts, raw_message, ..
    } = msg;
    let raw: &[u8] = raw_message;
    for part in parts.iter_mut() {
        for header in part.headers.iter_mut() {
            let value = raw
                .get(header.offset_start as usize..header.offset_end as usize)
                .unwrap_or_default();
            if let Some(mended) = mend_header(header.name.as_str(), value) {
                header.value = mended;
            }
        }
        match &mut part.body {
            PartType::Message(inner) => mend(inner),
            PartType::Text(_) | PartType::Html(_) => {
                let Some(decoder) = part
                    .content_type()
                    .and_then(|ct| ct.attribute("charset"))
                    .and_then(decoder_for)
                else {
                    continue;
                };
                let body = raw
                    .get(part.offset_body as usize..part.offset_end as usize)
                    .unwrap_or_default();
                let bytes = transfer_decoded(part.encoding, body);
                let text: Cow<'static, str> = decoder.decode(&bytes).into();
                part.body = match part.body {
                    PartType::Html(_) => PartType::Html(text),
                    _ => PartType::Text(text),
                };
            }
            _ => {}
        }
    }
}

/// The part's bytes without their transfer encoding, as mail-parser would have handed them to
/// a charset decoder; the line break before the next boundary is not the part's.
fn transfer_decoded(encoding: Encoding, body: &[u8]) -> Cow<'_, [u8]> {
    match encoding {
        Encoding::Base64 => base64_decode(body).map(Cow::Owned),
        Encoding::QuotedPrintable => quoted_printable_decode(body).map(Cow::Owned),
        Encoding::None => None,
    }
    .unwrap_or_else(|| {
        let body = body.strip_suffix(b"\n").unwrap_or(body);
        Cow::Borrowed(body.strip_suffix(b"\r").unwrap_or(body))
    })
}

/// The header parsed again with its legacy-charset encoded words rewritten in UTF-8, or
/// `None` when it has none.
fn mend_header(name: &str, value: &[u8]) -> Option<HeaderValue<'static>> {
    let rewritten = rewrite_encoded_words(value).or_else(|| raw_iso_2022_jp(value))?;
    let mut field = Vec::with_capacity(name.len() + rewritten.len() + 6);
    field.extend_from_slice(name.as_bytes());
    field.push(b':');
    field.extend_from_slice(&rewritten);
    field.extend_from_slice(b"\r\n\r\n");
    let parsed = MessageParser::default().parse_headers(&field)?;
    let header = parsed
        .parts
        .into_iter()
        .next()?
        .headers
        .into_iter()
        .next()?;
    Some(header.value.into_owned())
}

/// A header written in raw ISO-2022-JP, without encoded words (older Japanese mailers do this;
/// the charset is 7-bit, so it passes every relay), as UTF-8, which mail-parser reads in
/// headers (RFC 6532). Its escape sequences name it; outside them it is ASCII, unchanged.
fn raw_iso_2022_jp(value: &[u8]) -> Option<Vec<u8>> {
    const ESCAPES: [&[u8]; 3] = [b"\x1b$B", b"\x1b$@", b"\x1b(J"];
    if !ESCAPES.iter().any(|e| find(value, e).is_some()) {
        return None;
    }
    let decoder = decoder_for("iso-2022-jp")?;
    Some(decoder.decode(value).into_bytes())
}

/// `value` with every RFC 2047 encoded word in a lossy charset replaced by the same text as a
/// UTF-8 base64 encoded word; `None` when there is no such word.
fn rewrite_encoded_words(value: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(value.len() * 2);
    let mut rest = value;
    let mut changed = false;
    while let Some(start) = find(rest, b"=?") {
        out.extend_from_slice(&rest[..start]);
        rest = &rest[start..];
        match encoded_word(rest) {
            Some((len, Some(text))) => {
                out.extend_from_slice(b"=?UTF-8?B?");
                out.extend_from_slice(base64_encode(text.as_bytes()).as_bytes());
                out.extend_from_slice(b"?=");
                changed = true;
                rest = &rest[len..];
            }
            Some((len, None)) => {
                out.extend_from_slice(&rest[..len]);
                rest = &rest[len..];
            }
            None => {
                out.extend_from_slice(b"=?");
                rest = &rest[2..];
            }
        }
    }
    out.extend_from_slice(rest);
    changed.then_some(out)
}

/// The encoded word at the start of `s` (`=?charset[*lang]?B|Q?text?=`): its length, and its
/// text when its charset is a lossy one (`None` for a word mail-parser decodes well itself).
fn encoded_word(s: &[u8]) -> Option<(usize, Option<String>)> {
    let inner = s.strip_prefix(b"=?")?;
    let q1 = inner.iter().position(|&b| b == b'?')?;
    let charset = std::str::from_utf8(&inner[..q1]).ok()?;
    let charset = charset.split('*').next().unwrap_or_default();
    let after = &inner[q1 + 1..];
    let (&kind, after) = after.split_first()?;
    let text = after.strip_prefix(b"?")?;
    let end = find(text, b"?=")?;
    let payload = &text[..end];
    // Encoded words hold no white space (RFC 2047 section 2); a "?=" after one is not its end.
    if payload.iter().any(|b| b.is_ascii_whitespace()) {
        return None;
    }
    let len = 2 + q1 + 1 + 1 + 1 + end + 2;
    let Some(decoder) = decoder_for(charset) else {
        return Some((len, None));
    };
    let bytes = match kind.to_ascii_uppercase() {
        b'B' => base64_decode(payload)?,
        b'Q' => q_decode(payload),
        _ => return None,
    };
    Some((len, Some(decoder.decode(&bytes))))
}

/// RFC 2047 "Q": quoted-printable where `_` is a space.
fn q_decode(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len());
    let mut i = 0;
    while i < payload.len() {
        match payload[i] {
            b'_' => out.push(b' '),
            b'=' => {
                let hex = payload
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok());
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'='),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests;
