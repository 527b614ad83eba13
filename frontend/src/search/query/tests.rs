use super::*;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

/// The words of `input` as `(index key, prefix)`.
fn check(input: &str, expected: &[(&str, bool)]) -> Query {
    let q = parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
    let got: Vec<(String, bool)> = q.words.iter().map(|w| (w.key(), w.prefix)).collect();
    let want: Vec<(String, bool)> = expected.iter().map(|(k, p)| (k.to_string(), *p)).collect();
    assert_eq!(got, want, "words of {input:?}");
    q
}

#[test]
fn free_words_and_the_one_being_typed() {
    check("Invoice  Café", &[("invoice", false), ("cafe", true)]);
    check("invoice cafe ", &[("invoice", false), ("cafe", false)]);
    check("", &[]);
    check("   ", &[]);
    // One-letter words find nothing useful and are not indexed: left out.
    check("a b cd", &[("cd", true)]);
}

#[test]
fn operators_on_fields() {
    check(
        "from:alice@example.com subject:Résumé to:bob",
        &[
            ("f:alice", false),
            ("f:example", false),
            ("f:com", false),
            ("s:resume", false),
            ("t:bob", true),
        ],
    );
    check("FROM:\"Ann Lee\" x", &[("f:ann", false), ("f:lee", false)]);
    // Not an operator: a word with a colon is words.
    check("re: meeting", &[("re", false), ("meeting", true)]);
}

#[test]
fn filters() {
    let q = check(
        "has:attachment is:unread is:flagged before:2026-03-01 after:2026-02-28 in:Archive",
        &[],
    );
    assert!(q.has_attachment && q.flagged);
    assert_eq!(q.read, Some(false));
    assert_eq!(q.before, Some(1_772_323_200_000.0));
    assert_eq!(q.after, Some(1_772_236_800_000.0));
    assert_eq!(q.folder.as_deref(), Some("archive"));
    assert_eq!(parse("is:read").unwrap().read, Some(true));
    assert!(!parse("is:read").unwrap().is_empty());
    assert!(parse("").unwrap().is_empty());
    assert_eq!(parse("after:1970-01-01").unwrap().after, Some(0.0));
}

#[test]
fn phrases() {
    let q = check(
        "\"Quarterly report\" due",
        &[("quarterly", false), ("report", false), ("due", true)],
    );
    assert_eq!(q.phrases, [phrase(None, &["quarterly", "report"])]);
    // A one-word phrase is a word; a quoted word is never a prefix.
    let q = check("\"report\"", &[("report", false)]);
    assert!(q.phrases.is_empty());
    let q = check("from:\"Ann Lee\"", &[("f:ann", false), ("f:lee", false)]);
    assert_eq!(q.phrases, [phrase(Some(Field::From), &["ann", "lee"])]);
}

fn phrase(field: Option<Field>, terms: &[&str]) -> Phrase {
    Phrase {
        field,
        terms: terms.iter().map(|t| t.to_string()).collect(),
    }
}

#[test]
fn a_phrase_keeps_its_one_letter_words() {
    // "3" is no index term, so "Sender 3" looks up "sender" and checks the whole phrase on
    // the text; without it, every "Sender 30" matched.
    let q = check("\"Sender 3\"", &[("sender", false)]);
    assert_eq!(q.phrases, [phrase(None, &["sender", "3"])]);
    let q = check("\"3\"", &[]);
    assert_eq!(q.phrases, [phrase(None, &["3"])]);
    assert!(
        !q.is_empty(),
        "a quoted digit is a search, not the whole list"
    );
    // Unquoted, a lone letter is still left out.
    assert!(check("sender 3", &[("sender", false)]).phrases.is_empty());
}

#[test]
fn cjk_words_are_bigrams_in_order() {
    let q = check("東京都 ", &[("東京", false), ("京都", false)]);
    assert_eq!(q.phrases, [phrase(None, &["東京", "京都"])]);
    // One bigram, or one character being typed (a prefix of the bigrams it starts).
    assert!(check("東京 ", &[("東京", false)]).phrases.is_empty());
    check("東", &[("東", true)]);
    // One character, typed or not, quoted or not: every bigram it starts, every run it ends.
    check("東 ", &[("東", true)]);
    check("\"東\"", &[("東", true)]);
    check("subject:予定", &[("s:予定", true)]);
}

#[test]
fn case_folds_fully() {
    check("STRASSE Straße ", &[("strasse", false), ("strasse", false)]);
}

#[test]
fn hostile_input() {
    // Unbalanced quotes run to the end.
    let q = check(
        "\"open ended phrase",
        &[("open", false), ("ended", false), ("phrase", false)],
    );
    assert_eq!(q.phrases.len(), 1);
    check("\"", &[]);
    check("\"\"\"\"", &[]);
    check("from:", &[]);
    check("::: from::xy", &[("f:xy", true)]);
    assert_eq!(
        parse(&"x".repeat(MAX_QUERY_CHARS + 1)),
        Err(QueryError::TooLong)
    );
    let many = (0..MAX_QUERY_TERMS + 1)
        .map(|i| format!("w{i}"))
        .collect::<Vec<_>>()
        .join(" ");
    assert_eq!(parse(&many), Err(QueryError::TooManyTerms));
    for bad in [
        "before:yesterday",
        "after:2026-02-30",
        "before:2026-13-01",
        "after:",
        "before:-1-1-1",
    ] {
        assert!(matches!(parse(bad), Err(QueryError::BadDate(_))), "{bad}");
    }
    // Control characters and odd Unicode are just separators or letters.
    check("\u{0}\u{202e}évil\t\r\n", &[("evil", false)]);
}
