//! What of a message is searchable: decoded headers, bodies and attachment names, as terms.
//!
//! mail-parser does the decoding (quoted-printable, base64, charsets, RFC 2047 words); HTML
//! is reduced to its text by mail-parser's `html_to_text`, so markup, attribute values and
//! URLs in links are never terms. Everything is bounded: a message gives at most
//! [`MAX_TERMS`] distinct words and [`MAX_CJK_TERMS`] distinct CJK bigrams and characters,
//! read from at most [`MAX_TEXT_BYTES`] of decoded text.

use std::collections::BTreeSet;

use mail_parser::decoders::html::html_to_text;
use mail_parser::{Address, Message, MimeHeaders, PartType};

use super::normalise::{index_terms_of, indexable, is_cjk, terms};
use super::query::Phrase;

/// Distinct words indexed per message (headers first, then bodies in order).
pub const MAX_TERMS: usize = 1500;
/// Distinct CJK terms (bigrams, run ends) indexed per message, counted apart: a page of
/// Chinese or Japanese is a thousand bigrams or more, which filled the words' bound before
/// the end of a long mail. 6,000 covers about 20,000 characters of running text.
pub const MAX_CJK_TERMS: usize = 6000;
/// Decoded text read per message; a 20 MB log pasted into a mail is searchable in its start.
pub const MAX_TEXT_BYTES: usize = 256 * 1024;
/// Forwarded messages inside forwarded messages: read this deep, no deeper.
const MAX_DEPTH: usize = 3;

/// Where a term was found. Header fields are also indexed under their own prefix, so
/// `from:`, `to:`, `subject:` and attachment names are term look-ups too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    From,
    /// To and Cc.
    To,
    Subject,
    Body,
    /// An attachment's file name.
    Name,
}

impl Field {
    /// The prefix of this field's own terms, or `None` for the body (indexed bare only).
    pub fn prefix(self) -> Option<&'static str> {
        match self {
            Field::From => Some("f:"),
            Field::To => Some("t:"),
            Field::Subject => Some("s:"),
            Field::Name => Some("n:"),
            Field::Body => None,
        }
    }
}

/// Calls `each` with every searchable text of `raw` and its field, headers first. Unparseable
/// bytes give nothing (the message is still listed, by its summary).
pub fn texts(raw: &[u8], mut each: impl FnMut(Field, &str)) {
    if let Some(msg) = crate::mail::parse(raw) {
        let mut budget = MAX_TEXT_BYTES;
        visit(&msg, 0, &mut budget, &mut each);
    }
}

fn addresses(addr: Option<&Address<'_>>, field: Field, each: &mut impl FnMut(Field, &str)) {
    for a in addr.into_iter().flat_map(|a| a.iter()) {
        for text in [a.name(), a.address()].into_iter().flatten() {
            each(field, text);
        }
    }
}

fn visit(msg: &Message<'_>, depth: usize, budget: &mut usize, each: &mut impl FnMut(Field, &str)) {
    addresses(msg.from(), Field::From, each);
    addresses(msg.to(), Field::To, each);
    addresses(msg.cc(), Field::To, each);
    if let Some(subject) = msg.subject() {
        each(Field::Subject, subject);
    }
    for part in &msg.parts {
        if let Some(name) = part.attachment_name() {
            each(Field::Name, name);
        }
    }
    for part in &msg.parts {
        let text = match &part.body {
            PartType::Text(t) => bounded(t, budget).to_string(),
            // Reduced first, then bounded: the budget counts text, not markup.
            PartType::Html(h) => {
                bounded(&html_to_text(bounded(h, &mut (*budget * 4))), budget).to_string()
            }
            PartType::Message(inner) if depth < MAX_DEPTH => {
                visit(inner, depth + 1, budget, each);
                continue;
            }
            _ => continue,
        };
        if !text.is_empty() {
            each(Field::Body, &text);
        }
    }
}

/// The start of `text` within `budget` bytes (on a character boundary), charged to it.
fn bounded<'a>(text: &'a str, budget: &mut usize) -> &'a str {
    let mut end = text.len().min(*budget);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    *budget -= end;
    &text[..end]
}

/// The distinct index terms of `raw`: every term bare, and header and name terms again under
/// their field's prefix ("s:invoice"). At most [`MAX_TERMS`].
pub fn index_terms(raw: &[u8]) -> Vec<String> {
    let mut set = BTreeSet::new();
    // Distinct terms so far (bare and under a field's prefix): words, CJK terms.
    let (mut words, mut cjk) = (0, 0);
    texts(raw, |field, text| {
        index_terms_of(text, |t| {
            if !indexable(t) {
                return;
            }
            let (count, bound) = if t.starts_with(is_cjk) {
                (&mut cjk, MAX_CJK_TERMS)
            } else {
                (&mut words, MAX_TERMS)
            };
            if *count >= bound {
                return;
            }
            if let Some(prefix) = field.prefix() {
                *count += usize::from(set.insert(format!("{prefix}{t}")));
            }
            *count += usize::from(set.insert(t.to_string()));
        });
    });
    set.into_iter().collect()
}

/// Whether `raw` holds every phrase (each a run of normalised terms) as consecutive terms of
/// one text: a header or one body part, the phrase's field if it names one. Phrases that span
/// two parts do not match. Every term counts, one-letter words too: the phrase "Sender 3"
/// is not found in "Sender 30".
pub fn holds_phrases(raw: &[u8], phrases: &[Phrase]) -> bool {
    let mut found = vec![false; phrases.len()];
    texts(raw, |field, text| {
        let mut seq = Vec::new();
        terms(text, |t| seq.push(t.to_string()));
        for (i, phrase) in phrases.iter().enumerate() {
            let wanted = &phrase.terms;
            if !found[i]
                && !wanted.is_empty()
                && phrase.field.is_none_or(|f| f == field)
                && seq.windows(wanted.len()).any(|w| w == wanted.as_slice())
            {
                found[i] = true;
            }
        }
    });
    found.iter().all(|f| *f)
}

#[cfg(test)]
mod tests;
