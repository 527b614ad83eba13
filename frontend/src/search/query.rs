//! The search box's language, parsed into a [`Query`]. Pure: no store, no clock.
//!
//! Free words must all match (AND), anywhere in the message. `"quoted phrases"` must appear
//! as consecutive words, checked on the text, so words too short for the index count there
//! (`"Sender 3"` is not "Sender 30"). A CJK word of three characters or more is looked up as
//! its bigrams and checked as a phrase of them (`normalise.rs`). Operators: `from:`, `to:` (To and Cc), `subject:`, `has:attachment`,
//! `is:unread`, `is:read`, `is:flagged`, `before:YYYY-MM-DD`, `after:YYYY-MM-DD`, `in:<folder>`.
//! An operator's value may be quoted (`from:"Ann Lee"`). The last word, while it is being
//! typed (no space after it yet), matches as a prefix. A word before a colon that is no
//! operator ("re:") is a word. An unbalanced quote runs to the end of the input.

use super::document::Field;
use super::normalise::{MAX_TERM_CHARS, indexable, is_cjk, term_list};

/// The longest input parsed (in characters); a pasted novel is refused, not scanned.
pub const MAX_QUERY_CHARS: usize = 1000;
/// The most terms (words, and words of phrases) one query may look up.
pub const MAX_QUERY_TERMS: usize = 16;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QueryError {
    #[error("The search is too long (at most {MAX_QUERY_CHARS} characters).")]
    TooLong,
    #[error("The search has too many words (at most {MAX_QUERY_TERMS}).")]
    TooManyTerms,
    #[error("{0}: wants a date as YYYY-MM-DD, such as 2026-12-31.")]
    BadDate(&'static str),
}

/// One term to look up in the index.
#[derive(Clone, Debug, PartialEq)]
pub struct Word {
    /// `None`: anywhere; else the header field (`From`, `To`, `Subject`).
    pub field: Option<Field>,
    /// Normalised (`normalise::terms`).
    pub term: String,
    /// Match every term that starts with `term` (the word being typed).
    pub prefix: bool,
}

impl Word {
    /// The term as the index keys it (a header field's terms carry the field's prefix).
    pub fn key(&self) -> String {
        match self.field.and_then(Field::prefix) {
            Some(p) => format!("{p}{}", self.term),
            None => self.term.clone(),
        }
    }
}

/// Terms that must appear one after the other in one text of the message (a header field's
/// when `field` is set, else any).
#[derive(Clone, Debug, PartialEq)]
pub struct Phrase {
    pub field: Option<Field>,
    /// Normalised, every one of them (a one-letter word too).
    pub terms: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Query {
    /// Every word the index can look up, including the words of phrases: all must match.
    pub words: Vec<Word>,
    /// What the index alone cannot answer exactly, checked on the candidates' decoded text.
    pub phrases: Vec<Phrase>,
    pub has_attachment: bool,
    pub read: Option<bool>,
    pub flagged: bool,
    /// Milliseconds since the epoch, UTC: `date < before`, `date >= after`.
    pub before: Option<f64>,
    pub after: Option<f64>,
    /// `in:` as typed, lowercased.
    pub folder: Option<String>,
}

impl Query {
    /// Nothing to filter on: the whole list.
    pub fn is_empty(&self) -> bool {
        *self == Query::default()
    }

    /// The terms to mark in the reader (bare, field prefixes dropped).
    pub fn highlight_terms(&self) -> Vec<(String, bool)> {
        self.words
            .iter()
            .map(|w| (w.term.clone(), w.prefix))
            .collect()
    }
}

/// A piece of the input: a bare or quoted value, with the operator before its colon if any.
struct Token {
    op: Option<String>,
    value: String,
    quoted: bool,
}

fn tokens(input: &str) -> (Vec<Token>, bool) {
    let mut out = Vec::new();
    let mut chars = input.chars().peekable();
    let mut ends_in_word = false;
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            ends_in_word = false;
            continue;
        }
        let mut op = None;
        let mut value = String::new();
        let mut quoted = false;
        loop {
            match chars.peek() {
                None => break,
                Some(c) if c.is_whitespace() => break,
                Some('"') => {
                    chars.next();
                    quoted = true;
                    // To the closing quote, or the end of the input.
                    for c in chars.by_ref() {
                        if c == '"' {
                            break;
                        }
                        value.push(c);
                    }
                    break;
                }
                Some(':') if op.is_none() && is_operator(&value) => {
                    chars.next();
                    op = Some(value.to_lowercase());
                    value.clear();
                }
                Some(&c) => {
                    chars.next();
                    value.push(c);
                }
            }
        }
        ends_in_word = !quoted && chars.peek().is_none();
        out.push(Token { op, value, quoted });
    }
    (out, ends_in_word)
}

fn is_operator(word: &str) -> bool {
    matches!(
        word.to_lowercase().as_str(),
        "from" | "to" | "subject" | "has" | "is" | "before" | "after" | "in"
    )
}

/// Parses the search box's text.
pub fn parse(input: &str) -> Result<Query, QueryError> {
    if input.chars().count() > MAX_QUERY_CHARS {
        return Err(QueryError::TooLong);
    }
    let (tokens, typing) = tokens(input);
    let mut q = Query::default();
    let last = tokens.len().saturating_sub(1);
    for (i, t) in tokens.into_iter().enumerate() {
        let field = match t.op.as_deref() {
            None => None,
            Some("from") => Some(Field::From),
            Some("to") => Some(Field::To),
            Some("subject") => Some(Field::Subject),
            Some("has") => {
                // has:attachment (and the plural); any other value is a word to find.
                if t.value.to_lowercase().starts_with("attachment") {
                    q.has_attachment = true;
                    continue;
                }
                None
            }
            Some("is") => {
                match t.value.to_lowercase().as_str() {
                    "unread" => q.read = Some(false),
                    "read" => q.read = Some(true),
                    "flagged" | "starred" => q.flagged = true,
                    _ => {}
                }
                continue;
            }
            Some(op @ ("before" | "after")) => {
                let name = if op == "before" { "before" } else { "after" };
                let day = day_ms(t.value.trim()).ok_or(QueryError::BadDate(name))?;
                if name == "before" {
                    q.before = Some(day);
                } else {
                    q.after = Some(day);
                }
                continue;
            }
            Some(_in) => {
                let folder = t.value.trim().to_lowercase();
                q.folder = (!folder.is_empty()).then_some(folder);
                continue;
            }
        };
        let all = term_list(&t.value);
        // Checked on the text: quoted words that are more than one indexed term, or hold a
        // word the index leaves out ("Sender 3": "3"), and CJK words of more than one bigram
        // ("東京都": "東京" then "京都", not apart).
        let exact = if t.quoted {
            all.len() > 1 || all.iter().any(|w| !looked_up(w))
        } else {
            all.len() > 1 && t.value.chars().any(is_cjk)
        };
        if exact {
            q.phrases.push(Phrase {
                field,
                terms: all.clone(),
            });
        }
        let terms: Vec<String> = all.into_iter().filter(|w| looked_up(w)).collect();
        let n = terms.len();
        for (j, term) in terms.into_iter().enumerate() {
            // One CJK character is every bigram it starts and every run it ends
            // (`normalise::index_terms_of`): a prefix, typed or not.
            let lone_cjk = term.chars().count() == 1 && term.starts_with(is_cjk);
            q.words.push(Word {
                field,
                prefix: lone_cjk || (typing && i == last && j + 1 == n && !t.quoted),
                term,
            });
        }
        if q.words.len() > MAX_QUERY_TERMS {
            return Err(QueryError::TooManyTerms);
        }
    }
    Ok(q)
}

/// Whether a query term is looked up in the index: the terms it holds, and words too long for
/// it (which find nothing, rather than everything). One letter or digit alone is not.
fn looked_up(term: &str) -> bool {
    indexable(term) || term.chars().count() > MAX_TERM_CHARS
}

/// Midnight UTC of `YYYY-MM-DD`, in milliseconds since the epoch.
fn day_ms(text: &str) -> Option<f64> {
    let mut parts = text.splitn(3, '-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let d: u32 = parts.next()?.parse().ok()?;
    let days_in = [
        31,
        if leap(y) { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=9999).contains(&y) || !(1..=12).contains(&m) || d == 0 || d > days_in[m as usize - 1] {
        return None;
    }
    Some(days_from_civil(y, m, d) as f64 * 86_400_000.0)
}

fn leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests;
