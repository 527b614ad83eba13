//! Text to search terms: one normalisation for indexing and for queries, so they always agree.
//!
//! Unicode NFKC (compatibility forms such as "ﬁ", full-width letters and half-width kana fold
//! to their plain forms), then each character's canonical decomposition with its combining
//! marks dropped ("café", "cafe\u{301}" and "cafe" are one term), then Unicode full case
//! folding (`caseless`, CaseFolding.txt: "Straße" and "STRASSE" are one term, and so are
//! "ΣΊΣΥΦΟΣ" and "σίσυφος" with its final sigma). Text is split on everything that is not a
//! letter or a digit.
//!
//! Chinese, Japanese and Korean are written without spaces between words, so a run of those
//! characters is indexed as its overlapping character bigrams ("東京都" is "東京" "京都"), as
//! Lucene's CJK analyser does: a word of two characters or more is found wherever it appears,
//! with no dictionary; a run of one character is indexed as that character. Kana and Hangul
//! keep their composed forms (NFKC): dropping the marks of "ガ" would make it "カ".

use caseless::Caseless;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::{decompose_canonical, is_combining_mark};

/// Terms shorter than this are not indexed: single letters match almost every message (a
/// lone CJK character is the exception, [`indexable`]). Queries check them on the text.
pub const MIN_TERM_CHARS: usize = 2;
/// Terms longer than this are not indexed (base64 runs, tracking ids, hashes), which bounds
/// the index's key size; a query word this long finds nothing rather than everything.
pub const MAX_TERM_CHARS: usize = 32;

/// Whether `c` is written without spaces between words and so indexed by bigrams: Han
/// ideographs (with their iteration marks), Hiragana, Katakana and Hangul.
pub fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{1100}'..='\u{11FF}' // Hangul Jamo
        | '\u{3005}'..='\u{3007}' // 々 〆 〇
        | '\u{3040}'..='\u{30FF}' // Hiragana, Katakana
        | '\u{3130}'..='\u{318F}' // Hangul compatibility Jamo
        | '\u{31F0}'..='\u{31FF}' // Katakana phonetic extensions
        | '\u{3400}'..='\u{4DBF}' // CJK Extension A
        | '\u{4E00}'..='\u{9FFF}' // CJK Unified Ideographs
        | '\u{A960}'..='\u{A97F}' // Hangul Jamo Extended-A
        | '\u{AC00}'..='\u{D7AF}' // Hangul syllables
        | '\u{F900}'..='\u{FAFF}' // CJK compatibility ideographs
        | '\u{20000}'..='\u{3FFFF}' // CJK Extensions B and later
    )
}

/// Cuts normalised characters into terms: words of other scripts whole, CJK runs as bigrams.
struct Splitter<F: FnMut(&str)> {
    each: F,
    word: String,
    /// The previous character of the CJK run under way, and whether the run has only it.
    cjk: Option<char>,
    cjk_alone: bool,
}

impl<F: FnMut(&str)> Splitter<F> {
    fn letter(&mut self, c: char) {
        self.end_cjk();
        self.word.push(c);
    }

    fn cjk(&mut self, c: char) {
        self.end_word();
        match self.cjk.replace(c) {
            Some(prev) => {
                let mut pair = [0u8; 8];
                let a = prev.encode_utf8(&mut pair).len();
                let b = c.encode_utf8(&mut pair[a..]).len();
                (self.each)(std::str::from_utf8(&pair[..a + b]).expect("two chars"));
                self.cjk_alone = false;
            }
            None => self.cjk_alone = true,
        }
    }

    fn end_word(&mut self) {
        if !self.word.is_empty() {
            (self.each)(&self.word);
            self.word.clear();
        }
    }

    fn end_cjk(&mut self) {
        if let Some(c) = self.cjk.take()
            && self.cjk_alone
        {
            (self.each)(c.encode_utf8(&mut [0u8; 4]));
        }
    }

    fn boundary(&mut self) {
        self.end_word();
        self.end_cjk();
    }
}

/// Calls `each` with every term of `text`, in order, including terms outside the indexed
/// lengths (phrase checks need the positions); [`indexable`] says which are indexed.
pub fn terms(text: &str, each: impl FnMut(&str)) {
    let mut s = Splitter {
        each,
        word: String::new(),
        cjk: None,
        cjk_alone: false,
    };
    if text.is_ascii() {
        // Most mail: no normalisation or folding table needed.
        for c in text.chars() {
            if c.is_ascii_alphanumeric() {
                s.letter(c.to_ascii_lowercase());
            } else {
                s.boundary();
            }
        }
    } else {
        for c in text.nfkc() {
            if is_combining_mark(c) {
                continue; // one NFKC could not compose into its letter: dropped, not a boundary
            } else if is_cjk(c) {
                s.cjk(c);
            } else if c.is_alphanumeric() {
                let mut base = ['\0'; 4];
                let mut n = 0;
                decompose_canonical(c, |d| {
                    if !is_combining_mark(d) && n < base.len() {
                        base[n] = d;
                        n += 1;
                    }
                });
                for f in base[..n].iter().copied().default_case_fold() {
                    s.letter(f);
                }
            } else {
                s.boundary();
            }
        }
    }
    s.boundary();
}

/// The terms of `text` as owned strings.
pub fn term_list(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    terms(text, |t| out.push(t.to_string()));
    out
}

/// Whether the index holds `term`: its length within the bounds, or one CJK character (a run
/// of one, which has no bigram).
pub fn indexable(term: &str) -> bool {
    let mut chars = term.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => is_cjk(c),
        _ => (MIN_TERM_CHARS..=MAX_TERM_CHARS).contains(&term.chars().count()),
    }
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
        check("İstanbul", &["istanbul"]);
    }

    #[test]
    fn full_case_folding() {
        // Lowercasing leaves ß as it is; case folding makes it "ss", as for STRASSE.
        check(
            "Straße STRASSE strasse STRAẞE",
            &["strasse", "strasse", "strasse", "strasse"],
        );
        check("Fußball", &["fussball"]);
        // A final sigma is a sigma.
        check("ΣΊΣΥΦΟΣ σίσυφος", &["σισυφοσ", "σισυφοσ"]);
    }

    #[test]
    fn cjk_runs_are_bigrams() {
        check("東京都に住む", &["東京", "京都", "都に", "に住", "住む"]);
        check("東京 大阪", &["東京", "大阪"]);
        // A run of one is its character; a script change ends a run.
        check("猫、iPhone東京", &["猫", "iphone", "東京"]);
        check("한국어 사전", &["한국", "국어", "사전"]);
        // Kana keep their marks (ガ is not カ); half-width kana are full-width ones.
        check("ガス ｶﾞｽ", &["ガス", "ガス"]);
        // Words of other scripts are not cut.
        check("Привет мир", &["привет", "мир"]);
    }

    #[test]
    fn split_on_what_is_not_a_letter_or_digit() {
        check("alice@example.com", &["alice", "example", "com"]);
        check(
            "  re: invoice #42/2026 — paid!",
            &["re", "invoice", "42", "2026", "paid"],
        );
        check("Sender 3", &["sender", "3"]);
        check("", &[]);
        check("--- ...", &[]);
    }

    #[test]
    fn only_bounded_terms_are_indexed() {
        assert!(!indexable("a"));
        assert!(!indexable("3"));
        assert!(indexable("ab"));
        assert!(indexable(&"x".repeat(MAX_TERM_CHARS)));
        assert!(!indexable(&"x".repeat(MAX_TERM_CHARS + 1)));
        // Counted in characters, not bytes; one CJK character is a term.
        assert!(indexable("東京"));
        assert!(indexable("猫"));
    }
}
