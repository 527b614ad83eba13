//! Text to search terms: one normalisation for indexing and for queries, so they always agree.
//!
//! Unicode NFKC (compatibility forms such as "ﬁ", full-width letters and half-width kana fold
//! to their plain forms), then each character's canonical decomposition with its combining
//! marks dropped ("café", "cafe\u{301}" and "cafe" are one term), then Unicode full case
//! folding (CaseFolding.txt: "Straße" and "STRASSE" are one term, and so are "ΣΊΣΥΦΟΣ" and
//! "σίσυφος" with its final sigma). Text is split on everything that is not a letter or a
//! digit.
//!
//! The browser normalises ([`js_sys::JsString::normalize`]) and knows the combining marks (the
//! regular expression `\p{M}`), so the app carries no Unicode tables of its own for them: the
//! unicode-normalization and caseless crates cost about 150 KB of the wasm (docs/toolchain.md).
//! Case folding is core's lowercase mapping (its table is in the wasm anyway) and [`fold`]:
//! on what is left after NFKC and the decomposition, the two differ only for "ß", "ς",
//! Cherokee and nine old Cyrillic letter forms (checked against `caseless` on every code
//! point).
//!
//! Chinese, Japanese and Korean are written without spaces between words, so a run of those
//! characters is indexed as its overlapping character bigrams ("東京都" is "東京" "京都"), as
//! Lucene's CJK analyser does: a word of two characters or more is found wherever it appears,
//! with no dictionary; a run of one character is indexed as that character. Kana and Hangul
//! keep their composed forms (NFKC): dropping the marks of "ガ" would make it "カ".

use js_sys::{JsString, RegExp};

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
    /// Also the last character of every run ([`index_terms_of`]).
    run_ends: bool,
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
            && (self.cjk_alone || self.run_ends)
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
    split(text, false, each);
}

/// [`terms`] as the index takes them: a CJK run also gives its last character, which starts
/// no bigram, so a search for any one character of a run is a prefix look-up ("京" finds
/// "東京" by its run-end "京" and "京都" by its bigram). Phrase checks and highlights use
/// [`terms`], where the positions matter.
pub fn index_terms_of(text: &str, each: impl FnMut(&str)) {
    split(text, true, each);
}

fn split(text: &str, run_ends: bool, each: impl FnMut(&str)) {
    let mut s = Splitter {
        each,
        word: String::new(),
        cjk: None,
        cjk_alone: false,
        run_ends,
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
        for c in without_marks(text).chars() {
            if is_cjk(c) {
                s.cjk(c);
            } else if c.is_alphanumeric() {
                fold(c, |f| s.letter(f));
            } else {
                s.boundary();
            }
        }
    }
    s.boundary();
}

thread_local! {
    /// Every combining mark (general category M), for `replace`.
    static MARKS: RegExp = RegExp::new("\\p{M}", "gu");
    /// One combining mark, for `test` (a global expression would carry `lastIndex` over).
    static MARK: RegExp = RegExp::new("^\\p{M}$", "u");
}

/// Whether `c` is a combining mark (Mn, Mc, Me), which belongs to the letter it follows.
pub fn is_combining_mark(c: char) -> bool {
    !c.is_ascii() && MARK.with(|m| m.test(c.encode_utf8(&mut [0u8; 4])))
}

/// `text` in NFKC, then every character outside CJK runs canonically decomposed, and every
/// combining mark dropped. CJK characters keep their composed forms ("ガ" is not "カ", a
/// Hangul syllable not its jamo); a mark after one is dropped too, as after any letter.
fn without_marks(text: &str) -> String {
    let nfkc = String::from(JsString::from(text).normalize("NFKC"));
    let mut out = String::with_capacity(nfkc.len());
    let mut rest = nfkc.as_str();
    while !rest.is_empty() {
        // One call to the browser per run of other scripts, not per character.
        let other = rest.find(is_cjk).unwrap_or(rest.len());
        let (run, tail) = rest.split_at(other);
        if run.is_ascii() {
            out.push_str(run);
        } else {
            let nfd = JsString::from(run).normalize("NFD");
            out.push_str(&String::from(MARKS.with(|m| nfd.replace_by_pattern(m, ""))));
        }
        let cjk = tail.find(|c| !is_cjk(c)).unwrap_or(tail.len());
        out.push_str(&tail[..cjk]);
        rest = &tail[cjk..];
    }
    out
}

/// Unicode full case folding of `c`, a letter or digit without a canonical decomposition:
/// core's lowercase mapping, then where CaseFolding.txt says otherwise. Folding maps to
/// lowercase except that it also folds "ß" (and so "ẞ") to "ss" and a final sigma to a sigma,
/// and that it folds Cherokee to its capitals (the script was capitals only until Unicode 8).
/// The old forms of Cyrillic letters (U+1C80..U+1C88) fold to the letters.
fn fold(c: char, mut each: impl FnMut(char)) {
    for l in c.to_lowercase() {
        match l {
            'ß' => {
                each('s');
                each('s');
            }
            'ς' => each('σ'),
            '\u{AB70}'..='\u{ABBF}' => each(shift(l, 0xAB70, 0x13A0)),
            '\u{13F8}'..='\u{13FD}' => each(shift(l, 0x13F8, 0x13F0)),
            '\u{1C80}' => each('в'),
            '\u{1C81}' => each('д'),
            '\u{1C82}' => each('о'),
            '\u{1C83}' => each('с'),
            '\u{1C84}' | '\u{1C85}' => each('т'),
            '\u{1C86}' => each('ъ'),
            '\u{1C87}' => each('ѣ'),
            '\u{1C88}' => each('\u{A64B}'),
            // Only "İ" lowercases to two characters, "i" and a dot above; it was decomposed
            // and its dot dropped before this.
            '\u{307}' => {}
            _ => each(l),
        }
    }
}

/// `c` moved from the block starting at `from` to the one starting at `to`.
fn shift(c: char, from: u32, to: u32) -> char {
    char::from_u32(c as u32 - from + to).unwrap_or(c)
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
        // The index also takes each run's last character, which starts no bigram.
        let mut indexed = Vec::new();
        index_terms_of("東京都に 猫 東京", |t| indexed.push(t.to_string()));
        assert_eq!(
            indexed,
            ["東京", "京都", "都に", "に", "猫", "東京", "京"],
            "run ends"
        );
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
    fn compatibility_characters_fold_as_they_always_have() {
        // Ligatures, full-width and circled forms, units, fractions: NFKC.
        check(
            "ﬁ ﬂow ＨＥＬＬＯ ｗｏｒｌｄ ① ㎏ ½",
            &["fi", "flow", "hello", "world", "1", "kg", "1", "2"],
        );
        // Signs that are letters: ohm, ångström, kelvin.
        check("\u{2126} \u{212B} \u{212A}", &["ω", "a", "k"]);
        // Sharp s, small and capital, is "ss".
        check("ß ẞ MASSE Maße", &["ss", "ss", "masse", "masse"]);
        // A final sigma is a sigma, alone or in a word.
        check("ΌΣΟΣ όσος ς", &["οσοσ", "οσοσ", "σ"]);
        // Turkish: the dotted capital is "i" once its dot is dropped; the dotless small one
        // stays itself (full case folding, not the Turkish one).
        check(
            "İ ı I i DİYARBAKIR ıstanbul",
            &["i", "ı", "i", "i", "diyarbakir", "ıstanbul"],
        );
        // Combining accents: several on one letter, an enclosing one, one starting the text,
        // one after a CJK character: dropped, and never a word break.
        check(
            "e\u{301}\u{302}t\u{323}e x\u{20DD}y \u{301}abc 東\u{301}京",
            &["ete", "xy", "abc", "東京"],
        );
        // Cherokee folds to its capitals; the old forms of Cyrillic letters to the letters.
        check("ᏸᏹ ᎠᎡ ꭰꭱ ᲀᲂ", &["ᏰᏱ", "ᎠᎡ", "ᎠᎡ", "во"]);
        // Hangul syllables and kana keep their composed forms.
        check("한국 ガ", &["한국", "ガ"]);
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
