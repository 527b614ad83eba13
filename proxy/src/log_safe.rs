//! Text a peer chose, made fit for a log line.
//!
//! A host name from an `open` message reaches the log before anyone vouches for it: a raw
//! newline would forge a log line, an escape sequence would reach the operator's terminal, and
//! a 60,000-character name would be logged whole. [`Untrusted`] prints such text quoted,
//! printable ASCII only, and cut at [`MAX_LOGGED_CHARS`].

use std::fmt;

/// Characters of peer text a log line shows; a DNS name has at most 253.
pub const MAX_LOGGED_CHARS: usize = 256;

/// Displays peer text quoted, with `"` and `\` escaped, every character outside printable ASCII
/// as `\u{..}`, and anything past [`MAX_LOGGED_CHARS`] replaced by a count.
pub struct Untrusted<'a>(pub &'a str);

impl fmt::Display for Untrusted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for c in self.0.chars().take(MAX_LOGGED_CHARS) {
            match c {
                '"' | '\\' => write!(f, "\\{c}")?,
                ' '..='~' => write!(f, "{c}")?,
                other => write!(f, "\\u{{{:x}}}", other as u32)?,
            }
        }
        f.write_str("\"")?;
        let total = self.0.chars().count();
        if total > MAX_LOGGED_CHARS {
            write!(f, "... ({total} characters)")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Untrusted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: &str) {
        assert_eq!(Untrusted(input).to_string(), expected, "{input:?}");
    }

    #[test]
    fn control_characters_and_quotes_are_escaped() {
        check("pop.example.org", "\"pop.example.org\"");
        check("a\nINFO forged", "\"a\\u{a}INFO forged\"");
        check("\x1b[2J\r", "\"\\u{1b}[2J\\u{d}\"");
        check("x\" y=\\z", "\"x\\\" y=\\\\z\"");
        check("\u{202e}é", "\"\\u{202e}\\u{e9}\"");
    }

    #[test]
    fn long_text_is_cut() {
        let long = "a".repeat(60_000);
        let shown = Untrusted(&long).to_string();
        assert!(shown.len() < MAX_LOGGED_CHARS + 40, "{}", shown.len());
        assert!(shown.ends_with("... (60000 characters)"), "{shown}");
    }
}
