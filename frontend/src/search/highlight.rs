//! The reader's text cut into runs that match the search and runs that do not. The view
//! wraps matched runs in `<mark>` as text nodes: nothing of the mail becomes markup.

use super::normalise::term_list;

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
    let mut start = 0;
    let mut in_word = false;
    for (i, c) in text.char_indices() {
        // Combining marks belong to the word they follow ("cafe\u{301}").
        let word_char =
            c.is_alphanumeric() || (in_word && unicode_normalization::char::is_combining_mark(c));
        if word_char != in_word {
            if i > start {
                let s = &text[start..i];
                push(s, in_word && matches(s, terms));
            }
            start = i;
            in_word = word_char;
        }
    }
    if start < text.len() {
        let s = &text[start..];
        push(s, in_word && matches(s, terms));
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
    fn runs_join_back_to_the_text() {
        let text = "Ünïcödé: e\u{301}té, 東京 — ok";
        let terms = vec![("ete".to_string(), false), ("東京".to_string(), false)];
        let r = runs(text, &terms);
        assert_eq!(r.iter().map(|r| r.text.as_str()).collect::<String>(), text);
        assert_eq!(r.iter().filter(|r| r.matched).count(), 2);
    }
}
