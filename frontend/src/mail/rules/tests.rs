//! Rules against real message bytes (through `summarize_filed`), hostile ones included.

use super::*;
use crate::mail::summarize_filed;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn rule(field: RuleField, test: RuleTest, value: &str) -> Rule {
    Rule {
        id: value.into(),
        position: 0,
        field,
        test,
        value: value.into(),
        move_to: Some("lists".into()),
        mark_read: false,
        flag: false,
    }
}

/// Where `raw` is filed by `rules` (only `lists` and `archive` exist), and its read and
/// flagged marks.
fn check(raw: &str, rules: &[Rule], expected: (&str, bool, bool)) {
    let s = summarize_filed(raw.as_bytes(), "a@x", "u1", 0.0, rules, |f| {
        f == "lists" || f == "archive"
    });
    assert_eq!(
        (s.folder.as_str(), s.read, s.flagged),
        expected,
        "rules {rules:?} on {:?}",
        &raw[..raw.len().min(200)]
    );
}

const LIST_MAIL: &str = "From: Ann Lee <ann@example.org>\r\nTo: Team <team@lists.example.org>\r\n\
Cc: bob@example.net\r\nList-Id: Team talk <team.lists.example.org>\r\nSubject: Weekly notes\r\n\r\nBody\r\n";

#[test]
fn each_field_matches_names_and_addresses_case_blind() {
    let inbox = ("inbox", false, false);
    let filed = ("lists", false, false);
    use RuleField::*;
    use RuleTest::*;
    check(LIST_MAIL, &[rule(Sender, Contains, "ANN@example")], filed);
    check(LIST_MAIL, &[rule(Sender, Contains, "ann lee")], filed);
    check(LIST_MAIL, &[rule(Sender, Contains, "bob")], inbox);
    check(
        LIST_MAIL,
        &[rule(Recipient, Contains, "bob@example.net")],
        filed,
    );
    check(LIST_MAIL, &[rule(Recipient, Contains, "team@lists")], filed);
    check(LIST_MAIL, &[rule(Subject, Equals, "weekly notes")], filed);
    check(LIST_MAIL, &[rule(Subject, Equals, "weekly")], inbox);
    check(
        LIST_MAIL,
        &[rule(ListId, Contains, "team.lists.example.org")],
        filed,
    );
    check(LIST_MAIL, &[rule(ListId, Contains, "Team talk")], filed);
    check(
        LIST_MAIL,
        &[rule(ListId, Contains, "other.example.org")],
        inbox,
    );
    let size = LIST_MAIL.len();
    check(
        LIST_MAIL,
        &[rule(Size, GreaterThan, &format!("{}", size - 1))],
        filed,
    );
    check(
        LIST_MAIL,
        &[rule(Size, GreaterThan, &format!("{size}"))],
        inbox,
    );
    check(
        LIST_MAIL,
        &[rule(Size, Equals, &format!("{size} B"))],
        filed,
    );
}

#[test]
fn moves_are_first_wins_and_marks_add_up() {
    let mut first = rule(RuleField::Subject, RuleTest::Contains, "weekly");
    first.move_to = Some("archive".into());
    let mut second = rule(RuleField::Sender, RuleTest::Contains, "ann");
    second.mark_read = true;
    second.flag = true;
    check(
        LIST_MAIL,
        &[first.clone(), second.clone()],
        ("archive", true, true),
    );
    check(LIST_MAIL, &[second, first], ("lists", true, true));
}

#[test]
fn a_deleted_folder_or_an_empty_value_files_nothing() {
    let mut gone = rule(RuleField::Subject, RuleTest::Contains, "weekly");
    gone.move_to = Some("deleted-folder".into());
    gone.mark_read = true;
    check(LIST_MAIL, &[gone], ("inbox", true, false));
    check(
        LIST_MAIL,
        &[rule(RuleField::Subject, RuleTest::Contains, "  ")],
        ("inbox", false, false),
    );
    // "greater than" on text never matches (the editor refuses to save it).
    check(
        LIST_MAIL,
        &[rule(RuleField::Subject, RuleTest::GreaterThan, "a")],
        ("inbox", false, false),
    );
}

#[test]
fn hostile_headers_are_bounded_and_odd_charsets_decode() {
    // A 2 MB subject: matched on its start, in bounded time; what lies past the bound is not.
    let long = format!(
        "From: x@y\r\nSubject: needle {} tail-word\r\n\r\nb\r\n",
        "a".repeat(2 << 20)
    );
    check(
        &long,
        &[rule(RuleField::Subject, RuleTest::Contains, "needle")],
        ("lists", false, false),
    );
    check(
        &long,
        &[rule(RuleField::Subject, RuleTest::Contains, "tail-word")],
        ("inbox", false, false),
    );
    // Latin-1 and an encoded word in a charset nobody knows: the first decodes, the second
    // is kept as it came and matches nothing by accident.
    let latin1 = "From: =?ISO-8859-1?Q?J=F6rg?= <j@example.de>\r\nSubject: =?iso-8859-1?q?Gr=FC=DFe?=\r\n\r\nb\r\n";
    check(
        latin1,
        &[rule(RuleField::Subject, RuleTest::Equals, "GRÜSSE")],
        ("inbox", false, false),
    );
    check(
        latin1,
        &[rule(RuleField::Subject, RuleTest::Equals, "grüße")],
        ("lists", false, false),
    );
    check(
        latin1,
        &[rule(RuleField::Sender, RuleTest::Contains, "jörg")],
        ("lists", false, false),
    );
    let unknown = "From: a@b\r\nSubject: =?x-no-such-charset?B?AAEC?=\r\n\r\nb\r\n";
    check(
        unknown,
        &[rule(RuleField::Subject, RuleTest::Contains, "zzz")],
        ("inbox", false, false),
    );
    // Not mail at all: only the size is known.
    let junk = "\u{0}\u{1}\u{2}";
    check(
        junk,
        &[rule(RuleField::Sender, RuleTest::Contains, "a")],
        ("inbox", false, false),
    );
    check(
        junk,
        &[rule(RuleField::Size, RuleTest::Equals, "3")],
        ("lists", false, false),
    );
}

#[test]
fn what_the_editor_refuses() {
    let ok = rule(RuleField::Size, RuleTest::GreaterThan, "2M");
    assert_eq!(validate(&ok), Ok(()));
    assert_eq!(parse_size("2M"), Some(2 << 20));
    assert_eq!(parse_size("500 kb"), Some(500 << 10));
    assert_eq!(parse_size("99999999999999999999M"), None);
    let mut bad = ok.clone();
    bad.value = "big".into();
    assert!(matches!(validate(&bad), Err(RuleError::BadSize(_))));
    bad.value = " ".into();
    assert_eq!(validate(&bad), Err(RuleError::EmptyValue));
    let text = rule(RuleField::Subject, RuleTest::GreaterThan, "x");
    assert_eq!(validate(&text), Err(RuleError::GreaterThanText));
    let mut idle = rule(RuleField::Subject, RuleTest::Contains, "x");
    idle.move_to = None;
    assert_eq!(validate(&idle), Err(RuleError::NoAction));
}
