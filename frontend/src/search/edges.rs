//! Edge terms: each indexed term's first [`EDGE_CHARS`] characters, indexed as a term of
//! their own (`^ter` for "terrace", `s:^ter` for it in a subject), so a short prefix being
//! typed is one key range over a few edge blocks instead of every term it starts.
//!
//! A prefix is a key range over terms: `ter` ranged over a few hundred distinct terms in
//! every indexer slice, and IndexedDB handing back 20,000 block records took most of its
//! 450-580 ms at 100,000 messages (`docs/search-index.md`). Prefixes of four characters or
//! more start few terms and keep the plain range (`lant`: 50-70 ms).
//!
//! `^` never occurs in a term (terms are runs of letters and digits, `normalise.rs`), so an
//! edge key never collides with a word's, and no plain range (a typed prefix of four or more
//! characters) reaches into the edges.

/// Characters of a term its edge keeps: prefixes up to this long read edges.
pub const EDGE_CHARS: usize = 3;

/// What marks an edge term, after a header field's prefix (`f:`, `s:`...).
const MARK: char = '^';

/// Splits a key as the index writes it into its field prefix (`"s:"`, or `""` for a free
/// word) and the word.
fn split(key: &str) -> (&str, &str) {
    match key.split_once(':') {
        Some((field, _)) => key.split_at(field.len() + 1),
        None => ("", key),
    }
}

/// The edge term of an indexed term (`"terrace"` → `"^ter"`, `"s:te"` → `"s:^te"`).
pub fn edge_of(term: &str) -> String {
    let (field, word) = split(term);
    let end = word
        .char_indices()
        .nth(EDGE_CHARS)
        .map_or(word.len(), |(at, _)| at);
    format!("{field}{MARK}{}", &word[..end])
}

/// The key whose prefix range answers the prefix `key` from edge blocks, when it is short
/// enough to be one (`"ter"` → `"^ter"`, `"s:t"` → `"s:^t"`); `None` for longer prefixes.
pub fn edge_prefix(key: &str) -> Option<String> {
    let (_, word) = split(key);
    (word.chars().count() <= EDGE_CHARS).then(|| edge_of(key))
}

/// `terms` (a message's indexed terms) with their edge terms added, sorted, each once.
pub fn with_edges(terms: Vec<String>) -> Vec<String> {
    let edges: Vec<String> = terms.iter().map(|t| edge_of(t)).collect();
    let mut all = terms;
    all.extend(edges);
    all.sort_unstable();
    all.dedup();
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn an_edge_is_the_first_three_characters_after_the_field() {
        assert_eq!(edge_of("terrace"), "^ter");
        assert_eq!(edge_of("ter"), "^ter");
        assert_eq!(edge_of("te"), "^te");
        assert_eq!(edge_of("s:terrace"), "s:^ter");
        assert_eq!(edge_of("f:ann"), "f:^ann");
        // Characters, not bytes.
        assert_eq!(edge_of("übermut"), "^übe");
        assert_eq!(edge_of("東京都庁"), "^東京都");
        assert_eq!(edge_of("京"), "^京");
    }

    #[test]
    fn short_prefixes_read_edges_longer_ones_do_not() {
        assert_eq!(edge_prefix("t").as_deref(), Some("^t"));
        assert_eq!(edge_prefix("ter").as_deref(), Some("^ter"));
        assert_eq!(edge_prefix("s:te").as_deref(), Some("s:^te"));
        assert_eq!(edge_prefix("lant"), None);
        assert_eq!(edge_prefix("s:lant"), None);
        assert_eq!(edge_prefix("東京").as_deref(), Some("^東京"));
    }

    #[test]
    fn every_term_keeps_its_edge_and_each_edge_comes_once() {
        let terms = ["terrace", "terse", "s:terse", "te"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            with_edges(terms),
            ["^te", "^ter", "s:^ter", "s:terse", "te", "terrace", "terse"]
        );
    }

    #[test]
    fn no_term_holds_the_mark() {
        let mut seen = Vec::new();
        crate::search::normalise::index_terms_of("a^b x^^y ^^^ 5^6 s:^ter", |t| {
            seen.push(t.to_string());
        });
        assert!(seen.iter().all(|t| !t.contains(MARK)), "{seen:?}");
    }
}
