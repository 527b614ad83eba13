//! The ids conversations are built from (`model/threads.rs`): Message-ID, In-Reply-To and
//! References, bounded, read when a summary is built or back-filled from stored bytes.

use mail_parser::{HeaderValue, Message, MessageParser};

/// References kept per message: the first (the conversation's root) and the last ones (the
/// nearest ancestors), which is what threading needs when messages are missing. A hostile
/// message can list thousands; every stored summary is in memory while the list is shown.
pub const MAX_REFERENCES: usize = 6;
/// Longer ids are not ids anyone wrote to be matched; they are dropped.
pub const MAX_ID_BYTES: usize = 250;
/// The header part read when ids are back-filled from stored bytes: far more than real
/// headers take, bounded for hostile ones (a header cut here is left out whole).
pub const HEADER_BYTES: usize = 128 * 1024;

/// What a message says about its place in a conversation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ThreadIds {
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
}

fn id(text: &str) -> Option<String> {
    let t = text
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim();
    (!t.is_empty() && t.len() <= MAX_ID_BYTES && !t.chars().any(char::is_whitespace))
        .then(|| t.to_string())
}

fn ids<'a>(value: &'a HeaderValue<'_>) -> impl Iterator<Item = &'a str> {
    value
        .as_text_list()
        .unwrap_or_default()
        .iter()
        .map(|c| c.as_ref())
}

/// The ids of a parsed message, References capped at [`MAX_REFERENCES`].
pub fn thread_ids(msg: &Message<'_>) -> ThreadIds {
    let all: Vec<String> = ids(msg.references()).filter_map(id).collect();
    let references = if all.len() <= MAX_REFERENCES {
        all
    } else {
        let tail = &all[all.len() - (MAX_REFERENCES - 1)..];
        std::iter::once(all[0].clone())
            .chain(tail.iter().cloned())
            .collect()
    };
    ThreadIds {
        message_id: msg.message_id().and_then(id),
        // The last id: some clients list the whole chain here too.
        in_reply_to: ids(msg.in_reply_to()).last().and_then(id),
        references,
    }
}

/// The ids of stored bytes, from their header part only (at most [`HEADER_BYTES`]).
pub fn thread_ids_of(raw: &[u8]) -> ThreadIds {
    let end = memchr::memmem::find(raw, b"\r\n\r\n")
        .or_else(|| memchr::memmem::find(raw, b"\n\n"))
        .map_or(raw.len(), |at| at + 2);
    // Cut at a line's end: a header cut in the middle would read as a shorter one.
    let end = if end > HEADER_BYTES {
        memchr::memrchr(b'\n', &raw[..HEADER_BYTES]).map_or(0, |at| at + 1)
    } else {
        end
    };
    MessageParser::default()
        .parse_headers(&raw[..end])
        .map(|m| thread_ids(&m))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn check(headers: &str, expected: ThreadIds) {
        let raw = format!("{headers}\r\nSubject: x\r\n\r\nbody <not@an.id>\r\n");
        assert_eq!(thread_ids_of(raw.as_bytes()), expected, "{headers}");
    }

    #[test]
    fn ids_are_read_without_brackets() {
        check(
            "Message-ID: <c@x>\r\nIn-Reply-To: <b@x>\r\nReferences: <a@x> <b@x>",
            ThreadIds {
                message_id: Some("c@x".into()),
                in_reply_to: Some("b@x".into()),
                references: vec!["a@x".into(), "b@x".into()],
            },
        );
        check("From: a@x", ThreadIds::default());
    }

    #[test]
    fn ten_thousand_references_keep_the_first_and_the_last() {
        let refs: Vec<String> = (0..10_000).map(|i| format!("<r{i}@x>")).collect();
        let raw = format!("References: {}\r\n\r\nbody\r\n", refs.join(" "));
        // As a message just downloaded is read (whole), and as stored mail is back-filled.
        let ids = thread_ids(&MessageParser::default().parse(raw.as_bytes()).unwrap());
        assert_eq!(ids, thread_ids_of(raw.as_bytes()));
        let expected: Vec<String> = ["r0@x", "r9995@x", "r9996@x", "r9997@x", "r9998@x"]
            .iter()
            .chain(&["r9999@x"])
            .map(|s| s.to_string())
            .collect();
        assert_eq!(ids.references, expected);
    }

    #[test]
    fn an_overlong_id_is_dropped() {
        let long = "a".repeat(MAX_ID_BYTES + 1);
        check(&format!("Message-ID: <{long}@x>"), ThreadIds::default());
    }

    #[test]
    fn only_the_header_part_is_read() {
        let mut raw = b"Subject: x\r\n".to_vec();
        raw.extend(std::iter::repeat_n(b'x', HEADER_BYTES));
        raw.extend(b"\r\nMessage-ID: <late@x>\r\n\r\n");
        assert_eq!(thread_ids_of(&raw).message_id, None);
        // A header that does not end within the part read is not read cut short.
        let mut raw = b"Message-ID: <".to_vec();
        raw.extend(std::iter::repeat_n(b'x', HEADER_BYTES));
        raw.extend(b"@x>\r\n\r\n");
        assert_eq!(thread_ids_of(&raw), ThreadIds::default());
    }
}
