//! Server text as it may be printed to a terminal (shared by the `fetch` and `send` examples).

/// Server text (a UIDL, a refusal's reason) as it may be printed to a terminal: control
/// characters and quotes escaped, at most 200 characters.
pub fn shown(text: &str) -> String {
    const MAX: usize = 200;
    let mut out: String = text
        .chars()
        .take(MAX)
        .flat_map(char::escape_debug)
        .collect();
    if text.chars().nth(MAX).is_some() {
        out.push_str("...");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_text_is_escaped_for_a_terminal() {
        assert_eq!(shown("plain"), "plain");
        assert_eq!(shown("a\u{1b}[2Jb\r\n"), "a\\u{1b}[2Jb\\r\\n");
        assert_eq!(shown(&"z".repeat(300)), "z".repeat(200) + "...");
    }
}
