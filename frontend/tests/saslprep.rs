//! SCRAM's SaslPrep in the browser: the protocol crate's NFKC there is the JavaScript engine's
//! `normalize` (shared/src/sasl/saslprep.rs), held here to RFC 4013's examples and to what the
//! native build (the stringprep crate's tables) gives for compatibility characters.

use postbag_protocol::scram::{SaslprepError, saslprep};
use wasm_bindgen_test::{wasm_bindgen_test as test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

fn check(input: &str, expected: Result<&str, SaslprepError>) {
    assert_eq!(
        saslprep(input).as_deref().map_err(|e| *e),
        expected,
        "{input:?}"
    );
}

#[test]
fn rfc_4013_examples_in_the_browser() {
    check("I\u{AD}X", Ok("IX"));
    check("user", Ok("user"));
    check("USER", Ok("USER"));
    check("\u{AA}", Ok("a"));
    check("\u{2168}", Ok("IX"));
    check("\u{7}", Err(SaslprepError::Prohibited));
    check("\u{627}\u{31}", Err(SaslprepError::Bidirectional));
}

#[test]
fn compatibility_characters_in_the_browser() {
    check("p\u{A0}w\u{3000}x", Ok("p w x"));
    check("\u{FB01}le \u{FF21}", Ok("file A"));
    check("cafe\u{301}", Ok("caf\u{E9}"));
    check("Stra\u{DF}e", Ok("Stra\u{DF}e"));
    // The capital sharp s came in Unicode 5.1; SaslPrep knows Unicode 3.2.
    check("STRA\u{1E9E}E", Err(SaslprepError::Unassigned));
    check("\u{130}stanbul", Ok("\u{130}stanbul"));
    check("\u{FF76}\u{FF9E}", Ok("\u{30AC}"));
    check("a\u{E000}", Err(SaslprepError::Prohibited));
    check("a\u{221}", Err(SaslprepError::Unassigned));
}
