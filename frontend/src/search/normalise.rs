//! Text to search terms: one normalisation for indexing and for queries, so they always agree.
//!
//! Unicode NFKD, combining marks dropped (so "café", "cafe\u{301}" and "cafe" are one term,
//! and compatibility forms such as "ﬁ" or full-width letters fold to their plain letters),
//! lowercase, split on everything that is not a letter or a digit.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Terms shorter than this are not indexed: single letters match almost every message.
pub const MIN_TERM_CHARS: usize = 2;
/// Terms longer than this are not indexed (base64 runs, tracking ids, hashes), which bounds
/// the index's key size; a query word this long finds nothing rather than everything.
pub const MAX_TERM_CHARS: usize = 32;

/// Calls `each` with every term of `text`, in order, including terms outside the indexed
/// lengths (phrase checks need the positions); [`indexable`] says which are indexed.
pub fn terms(text: &str, mut each: impl FnMut(&str)) {
    let mut term = String::new();
    for c in text.nfkd() {
        if is_combining_mark(c) {
            continue; // a diacritic folded away: "é" is "e" + U+0301
        }
        if c.is_alphanumeric() {
            term.extend(c.to_lowercase());
        } else if !term.is_empty() {
            each(&term);
            term.clear();
        }
    }
    if !term.is_empty() {
        each(&term);
    }
}

/// The terms of `text` as owned strings.
pub fn term_list(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    terms(text, |t| out.push(t.to_string()));
    out
}

/// Whether the index holds `term` (its length within the bounds).
pub fn indexable(term: &str) -> bool {
    let n = term.chars().count();
    (MIN_TERM_CHARS..=MAX_TERM_CHARS).contains(&n)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn check(text: &str, expected: &[&str]) {
        assert_eq!(term_list(text), expected, "terms of {text:?}");
    }

    #[test]
    fn diacritics_fold_and_case_goes() {
        check("Café CAFÉ cafe\u{301}", &["cafe", "cafe", "cafe"]);
        check(
            "Zürich, Ærøskøbing; Łódź",
            &["zurich", "ærøskøbing", "łodz"],
        );
        check("ﬁle ＡＢＣ", &["file", "abc"]);
    }

    #[test]
    fn split_on_what_is_not_a_letter_or_digit() {
        check("alice@example.com", &["alice", "example", "com"]);
        check(
            "  re: invoice #42/2026 — paid!",
            &["re", "invoice", "42", "2026", "paid"],
        );
        check("Привет мир 東京", &["привет", "мир", "東京"]);
        check("", &[]);
        check("--- ...", &[]);
    }

    #[test]
    fn only_bounded_terms_are_indexed() {
        assert!(!indexable("a"));
        assert!(indexable("ab"));
        assert!(indexable(&"x".repeat(MAX_TERM_CHARS)));
        assert!(!indexable(&"x".repeat(MAX_TERM_CHARS + 1)));
        // Counted in characters, not bytes.
        assert!(indexable("東京"));
    }
}
