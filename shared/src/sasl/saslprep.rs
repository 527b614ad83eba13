//! SaslPrep (RFC 4013), the stringprep profile SCRAM applies to the user name and password.
//!
//! The steps and their tables are the stringprep crate's (RFC 3454's tables), except the
//! normalisation to NFKC: in the browser it is the JavaScript engine's
//! `String.prototype.normalize`, so the app's wasm carries no Unicode normalisation tables
//! (about 125 KB, docs/toolchain.md); built natively it is the unicode-normalization crate,
//! which stringprep itself uses. The tests below hold this to `stringprep::saslprep`.

use std::borrow::Cow;

use stringprep::tables;

/// Why SaslPrep refused a string. The character is not named: the string may be a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SaslprepError {
    /// A character RFC 4013 section 2.3 prohibits (controls, private use, non-characters,
    /// surrogates, tagging and display-changing characters, non-ASCII spaces).
    #[error("SASLprep prohibits one of its characters")]
    Prohibited,
    /// Right-to-left characters mixed with left-to-right ones, or not at both ends (RFC 3454
    /// section 6).
    #[error("SASLprep refuses its mix of right-to-left and left-to-right text")]
    Bidirectional,
    /// A code point unassigned in Unicode 3.2 (RFC 3454 table A.1).
    #[error("SASLprep refuses a code point unassigned in Unicode 3.2")]
    Unassigned,
}

/// `s` prepared by SaslPrep: non-ASCII spaces mapped to spaces, soft hyphens and the like
/// removed, NFKC, then refused if a prohibited, bidirectionally mixed or unassigned
/// character is left.
pub fn saslprep(s: &str) -> Result<Cow<'_, str>, SaslprepError> {
    // Printable ASCII (most user names and passwords) is its own SaslPrep.
    if s.chars()
        .all(|c| c.is_ascii() && !tables::ascii_control_character(c))
    {
        return Ok(Cow::Borrowed(s));
    }
    let mapped: String = s
        .chars()
        .filter(|&c| !tables::commonly_mapped_to_nothing(c))
        .map(|c| {
            if tables::non_ascii_space_character(c) {
                ' '
            } else {
                c
            }
        })
        .collect();
    let normalized = nfkc(&mapped);
    if normalized.chars().any(prohibited) {
        return Err(SaslprepError::Prohibited);
    }
    if bidi_mixed(&normalized) {
        return Err(SaslprepError::Bidirectional);
    }
    if normalized.chars().any(tables::unassigned_code_point) {
        return Err(SaslprepError::Unassigned);
    }
    Ok(Cow::Owned(normalized))
}

/// RFC 4013 section 2.3: the tables C.1.2 and C.2.1 to C.9 of RFC 3454.
fn prohibited(c: char) -> bool {
    tables::non_ascii_space_character(c)
        || tables::ascii_control_character(c)
        || tables::non_ascii_control_character(c)
        || tables::private_use(c)
        || tables::non_character_code_point(c)
        || tables::surrogate_code(c)
        || tables::inappropriate_for_plain_text(c)
        || tables::inappropriate_for_canonical_representation(c)
        || tables::change_display_properties_or_deprecated(c)
        || tables::tagging_character(c)
}

/// RFC 3454 section 6: text with a right-to-left character has no left-to-right one, and
/// starts and ends with a right-to-left one.
fn bidi_mixed(s: &str) -> bool {
    if !s.contains(tables::bidi_r_or_al) {
        return false;
    }
    s.contains(tables::bidi_l)
        || !s.starts_with(tables::bidi_r_or_al)
        || !s.ends_with(tables::bidi_r_or_al)
}

/// NFKC by the browser's JavaScript engine: the wasm is only ever run by the app.
#[cfg(target_arch = "wasm32")]
fn nfkc(s: &str) -> String {
    String::from(js_sys::JsString::from(s).normalize("NFKC"))
}

/// NFKC by the unicode-normalization crate, for the native drivers and tests.
#[cfg(not(target_arch = "wasm32"))]
fn nfkc(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    s.nfkc().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `input` prepared as `stringprep::saslprep` prepares it, and as `expected` says.
    fn check(input: &str, expected: Result<&str, SaslprepError>) {
        let ours = saslprep(input);
        assert_eq!(ours.as_deref().map_err(|e| *e), expected, "{input:?}");
        let theirs = stringprep::saslprep(input);
        assert_eq!(
            ours.ok().map(Cow::into_owned),
            theirs.ok().map(Cow::into_owned),
            "{input:?} as stringprep prepares it"
        );
    }

    #[test]
    fn rfc_4013_examples() {
        check("I\u{AD}X", Ok("IX"));
        check("user", Ok("user"));
        check("USER", Ok("USER"));
        check("\u{AA}", Ok("a"));
        check("\u{2168}", Ok("IX"));
        check("\u{7}", Err(SaslprepError::Prohibited));
        check("\u{627}\u{31}", Err(SaslprepError::Bidirectional));
    }

    #[test]
    fn mapping_normalisation_and_refusals() {
        check("p\u{A0}w\u{3000}x", Ok("p w x"));
        check("\u{FB01}le \u{FF21}", Ok("file A"));
        check("cafe\u{301}", Ok("caf\u{E9}"));
        check("Stra\u{DF}e", Ok("Stra\u{DF}e"));
        check("STRA\u{1E9E}E", Err(SaslprepError::Unassigned));
        check("\u{130}stanbul", Ok("\u{130}stanbul"));
        check("\u{FF76}\u{FF9E}", Ok("\u{30AC}"));
        check("\u{627}\u{628}\u{62A}", Ok("\u{627}\u{628}\u{62A}"));
        check("\u{627}a\u{628}", Err(SaslprepError::Bidirectional));
        check("a\u{E000}", Err(SaslprepError::Prohibited));
        check("a\u{200E}", Err(SaslprepError::Prohibited));
        check("a\u{E0041}", Err(SaslprepError::Prohibited));
        check("a\u{80}", Err(SaslprepError::Prohibited));
        check("a\u{221}", Err(SaslprepError::Unassigned));
        check("", Ok(""));
    }

    #[test]
    fn every_code_point_alone_and_in_words_as_stringprep() {
        for u in (0..0x3_0000u32).step_by(7).chain(0xE_0000..0xE_0080) {
            let Some(c) = char::from_u32(u) else { continue };
            for s in [c.to_string(), format!("a{c}b"), format!("{c}\u{301}")] {
                let ours = saslprep(&s).ok().map(Cow::into_owned);
                let theirs = stringprep::saslprep(&s).ok().map(Cow::into_owned);
                assert_eq!(ours, theirs, "{s:?}");
            }
        }
    }
}
