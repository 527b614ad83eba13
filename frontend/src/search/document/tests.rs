use super::*;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn has(raw: &[u8], term: &str) -> bool {
    index_terms(raw).iter().any(|t| t == term)
}

const MIXED: &[u8] = b"From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <jm@example.org>\r\n\
To: Alice <alice@example.com>\r\n\
Cc: bob@example.net\r\n\
Subject: =?ISO-8859-1?Q?R=E9sum=E9?= attached\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b\"\r\n\
\r\n\
--b\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\
\r\n\
The word qpword=C3=A9t and a soft=\r\nbreak.\r\n\
--b\r\n\
Content-Type: text/html; charset=iso-8859-1\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
PHA+PGI+aHRtbHdvcmQ8L2I+IGNhZulzPC9wPjxhIGhyZWY9Imh0dHA6Ly90cmFja2VyLmV4YW1wbGUiPmxpbms8L2E+\r\n\
--b\r\n\
Content-Type: application/pdf; name=\"Quarterly-Report.pdf\"\r\n\
Content-Disposition: attachment; filename=\"Quarterly-Report.pdf\"\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
JVBERi0xLjQK\r\n\
--b--\r\n";

#[test]
fn decoded_headers_under_their_field_and_bare() {
    for term in [
        "jurgen", "f:jurgen", "f:muller", "f:jm", "t:alice", "t:bob", "s:resume",
    ] {
        assert!(has(MIXED, term), "{term}");
    }
    assert!(has(MIXED, "resume") && has(MIXED, "alice"));
    assert!(!has(MIXED, "s:alice"), "a To word is no subject word");
}

#[test]
fn bodies_decoded_whatever_their_encoding() {
    // Quoted-printable UTF-8 with a soft line break, base64 Latin-1 HTML reduced to text.
    assert!(has(MIXED, "qpwordet"), "{:?}", index_terms(MIXED));
    assert!(has(MIXED, "softbreak"));
    assert!(has(MIXED, "htmlword") && has(MIXED, "cafes"));
    // Markup and link targets are not text.
    assert!(!has(MIXED, "href") && !has(MIXED, "tracker"));
    assert!(!has(MIXED, "s:htmlword"));
}

#[test]
fn attachment_names_are_terms() {
    assert!(has(MIXED, "n:quarterly") && has(MIXED, "quarterly") && has(MIXED, "n:pdf"));
}

#[test]
fn bounded_per_message() {
    let mut raw = b"Subject: many\r\n\r\n".to_vec();
    for i in 0..20_000 {
        raw.extend_from_slice(format!("w{i} ").as_bytes());
    }
    raw.extend_from_slice(&[b'x'; 100]);
    let terms = index_terms(&raw);
    assert_eq!(terms.len(), MAX_TERMS);
    assert!(terms.iter().all(|t| t.chars().count() <= 34));
    // Not mail at all: nothing, no panic.
    assert!(index_terms(b"").is_empty());
}

/// The phrases of the search box's text `query`.
fn phrases(query: &str) -> Vec<Phrase> {
    crate::search::parse(query).unwrap().phrases
}

#[test]
fn phrases_are_consecutive_terms_of_one_text() {
    let p = |s: &str| phrases(&format!("\"{s}\""));
    assert!(holds_phrases(MIXED, &p("htmlword cafés")));
    assert!(!holds_phrases(MIXED, &p("cafés htmlword")));
    assert!(holds_phrases(MIXED, &p("Résumé attached")));
    // Across two texts (the subject's end, the body's start): no.
    assert!(!holds_phrases(MIXED, &p("attached the word")));
}

const SENDER_30: &[u8] = b"From: Sender 30 <s30@example.org>\r\nTo: Alice <alice@example.com>\r\n\
Subject: Weekly 3\r\n\r\nA body by Sender 30, page 3 of 4.\r\n";

#[test]
fn a_one_letter_word_of_a_phrase_counts() {
    // "3" is not indexed, but the phrase is checked on every term of the text.
    assert!(!holds_phrases(SENDER_30, &phrases("\"Sender 3\"")));
    assert!(holds_phrases(SENDER_30, &phrases("\"Sender 30\"")));
    assert!(holds_phrases(SENDER_30, &phrases("\"page 3\"")));
    assert!(!holds_phrases(SENDER_30, &phrases("\"page 4\"")));
    assert!(holds_phrases(SENDER_30, &phrases("\"3\"")));
    // A field's phrase is looked for in that field only.
    assert!(holds_phrases(SENDER_30, &phrases("from:\"Sender 30\"")));
    assert!(!holds_phrases(SENDER_30, &phrases("subject:\"Sender 30\"")));
    assert!(holds_phrases(SENDER_30, &phrases("subject:\"weekly 3\"")));
}

const GERMAN_AND_CJK: &[u8] = b"From: =?UTF-8?Q?J=C3=BCrgen?= <j@example.de>\r\n\
Subject: =?UTF-8?B?5p2x5Lqs6YO944Gu5LqI5a6a?=\r\nContent-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: 8bit\r\n\r\nDie Stra\xc3\x9fe ist gesperrt. \xe5\xa4\xa7\xe9\x98\xaa\xe3\x81\xb8\r\n";

#[test]
fn eszett_and_cjk_are_searchable() {
    // The subject is "東京都の予定", the body "Die Straße ist gesperrt. 大阪へ".
    assert!(
        has(GERMAN_AND_CJK, "strasse"),
        "{:?}",
        index_terms(GERMAN_AND_CJK)
    );
    for term in ["東京", "京都", "s:東京", "s:予定", "大阪", "阪へ"] {
        assert!(
            has(GERMAN_AND_CJK, term),
            "{term}: {:?}",
            index_terms(GERMAN_AND_CJK)
        );
    }
    assert!(holds_phrases(GERMAN_AND_CJK, &phrases("東京都")));
    assert!(holds_phrases(GERMAN_AND_CJK, &phrases("\"STRASSE ist\"")));
    assert!(!holds_phrases(GERMAN_AND_CJK, &phrases("東京大阪")));
}

/// A message whose body is `body`, in UTF-8.
fn utf8_mail(body: &str) -> Vec<u8> {
    format!(
        "Subject: cjk\r\nContent-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

/// `n` distinct CJK characters in a row.
fn han(from: u32, n: u32) -> String {
    (from..from + n).filter_map(char::from_u32).collect()
}

#[test]
fn cjk_terms_are_bounded_apart_from_words() {
    // 3,000 distinct bigrams, then words: more than the words' bound, within the CJK one.
    let run = han(0x4E00, 3001);
    let terms = index_terms(&utf8_mail(&format!("{run} tailword")));
    let last_pair: String = run.chars().skip(2999).collect();
    let last: String = run.chars().skip(3000).collect();
    assert!(terms.contains(&last_pair), "the run's last bigram");
    assert!(terms.contains(&last), "the run's last character");
    assert!(terms.contains(&"tailword".to_string()), "words after it");
    // Still bounded.
    let terms = index_terms(&utf8_mail(&han(0x4E00, 20_000)));
    let cjk = terms
        .iter()
        .filter(|t| t.starts_with(super::is_cjk))
        .count();
    assert_eq!(cjk, MAX_CJK_TERMS);
}
