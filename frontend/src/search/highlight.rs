//! The reader's text cut into runs that match the search and runs that do not. The view
//! wraps matched runs in `<mark>` as text nodes: nothing of the mail becomes markup.

use super::normalise::{is_cjk, is_combining_mark, term_list};

/// One run of the text: matched or not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    pub text: String,
    pub matched: bool,
}

/// `(term, prefix)` pairs from [`super::Query::highlight_terms`].
pub type Terms = [(String, bool)];

/// Whether one word of the text (as typed there) matches a search term.
pub fn matches(word: &str, terms: &Terms) -> bool {
    let folded = term_list(word).concat();
    !folded.is_empty()
        && terms
            .iter()
            .any(|(t, prefix)| folded == *t || (*prefix && folded.starts_with(t.as_str())))
}

/// What a stretch of the text is to the search.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Gap,
    Word,
    /// One CJK character: the index holds CJK runs as bigrams, so each character is marked
    /// when a bigram it is part of matches.
    Cjk,
}

/// Whether the CJK character `chars[k]` is part of a matched bigram (or is a matched lone
/// character, or starts the prefix being typed).
fn cjk_matched(chars: &[(usize, char)], k: usize, terms: &Terms) -> bool {
    let c = chars[k].1;
    let near = |j: Option<usize>| {
        j.and_then(|j| chars.get(j))
            .map(|x| x.1)
            .filter(|c| is_cjk(*c))
    };
    let mut forms = vec![c.to_string()];
    if let Some(p) = near(k.checked_sub(1)) {
        forms.push(format!("{p}{c}"));
    }
    if let Some(n) = near(Some(k + 1)) {
        forms.push(format!("{c}{n}"));
    }
    forms.iter().any(|f| matches(f, terms))
}

/// Splits `text` into runs; adjacent unmatched text stays one run. Without terms, one run.
pub fn runs(text: &str, terms: &Terms) -> Vec<Run> {
    let mut out: Vec<Run> = Vec::new();
    let mut push = |s: &str, matched: bool| match out.last_mut() {
        Some(last) if last.matched == matched && !matched => last.text.push_str(s),
        _ => out.push(Run {
            text: s.to_string(),
            matched,
        }),
    };
    if terms.is_empty() {
        push(text, false);
        return out;
    }
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let matched = |kind: Kind, s: &str, k: usize| match kind {
        Kind::Gap => false,
        Kind::Word => matches(s, terms),
        Kind::Cjk => cjk_matched(&chars, k, terms),
    };
    // The stretch under way: its start in bytes, its first character's index, its kind.
    let (mut start, mut first, mut kind) = (0, 0, Kind::Gap);
    for (k, &(i, c)) in chars.iter().enumerate() {
        let next = if is_cjk(c) {
            Kind::Cjk
        } else if c.is_alphanumeric()
            // Combining marks belong to the word they follow ("cafe\u{301}").
            || (kind == Kind::Word && is_combining_mark(c))
        {
            Kind::Word
        } else {
            Kind::Gap
        };
        if next != kind || next == Kind::Cjk {
            if i > start {
                let s = &text[start..i];
                push(s, matched(kind, s, first));
            }
            (start, first, kind) = (i, k, next);
        }
    }
    if start < text.len() {
        let s = &text[start..];
        push(s, matched(kind, s, first));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn marked(text: &str, terms: &[(&str, bool)]) -> String {
        let terms: Vec<(String, bool)> = terms.iter().map(|(t, p)| (t.to_string(), *p)).collect();
        runs(text, &terms)
            .into_iter()
            .map(|r| {
                if r.matched {
                    format!("[{}]", r.text)
                } else {
                    r.text
                }
            })
            .collect()
    }

    #[test]
    fn marks_whole_words_folded() {
        assert_eq!(
            marked("Le Café, CAFE and cafeteria.", &[("cafe", false)]),
            "Le [Café], [CAFE] and cafeteria."
        );
        assert_eq!(
            marked("cafeteria caf", &[("caf", true)]),
            "[cafeteria] [caf]"
        );
        assert_eq!(marked("<b>x</b>", &[("b", false)]), "<[b]>x</[b]>");
        assert_eq!(marked("nothing here", &[]), "nothing here");
        assert_eq!(marked("", &[("x", false)]), "");
    }

    #[test]
    fn cjk_bigrams_are_marked_where_they_stand() {
        // "東京都" searched is "東京" and "京都"; "大阪" elsewhere in the run is not.
        assert_eq!(
            marked("東京都と大阪", &[("東京", false), ("京都", false)]),
            "[東][京][都]と大阪"
        );
        assert_eq!(marked("京都へ", &[("東", true)]), "京都へ");
        // Typing "東" finds the bigrams it starts: "東京" is marked whole.
        assert_eq!(marked("東京へ", &[("東", true)]), "[東][京]へ");
        assert_eq!(marked("Straße", &[("strasse", false)]), "[Straße]");
    }

    #[test]
    fn compatibility_characters_are_marked_as_typed() {
        assert_eq!(marked("the ﬁle", &[("file", false)]), "the [ﬁle]");
        assert_eq!(marked("ＡＢＣ abc", &[("abc", false)]), "[ＡＢＣ] [abc]");
        assert_eq!(
            marked("MASSE, Maße, MAẞE", &[("masse", false)]),
            "[MASSE], [Maße], [MAẞE]"
        );
        assert_eq!(marked("ΌΣΟΣ όσος", &[("οσοσ", false)]), "[ΌΣΟΣ] [όσος]");
        assert_eq!(
            marked(
                "DİYARBAKIR ıstanbul",
                &[("diyarbakir", false), ("ist", true)]
            ),
            "[DİYARBAKIR] ıstanbul"
        );
        // A word's combining marks are marked with it; text around stays unmarked.
        assert_eq!(
            marked(
                "(e\u{301}\u{302}te) x\u{20DD}y",
                &[("ete", false), ("xy", false)]
            ),
            "([e\u{301}\u{302}te]) [x\u{20DD}y]"
        );
    }

    #[test]
    fn runs_join_back_to_the_text() {
        let text = "Ünïcödé: e\u{301}té, 東京 — ok";
        let terms = vec![("ete".to_string(), false), ("東京".to_string(), false)];
        let r = runs(text, &terms);
        assert_eq!(r.iter().map(|r| r.text.as_str()).collect::<String>(), text);
        let matched: String = r
            .iter()
            .filter(|r| r.matched)
            .map(|r| r.text.as_str())
            .collect();
        assert_eq!(matched, "e\u{301}té東京");
    }
}
