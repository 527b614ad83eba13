//! Which message a header block belongs to, independent of what a server adds to it.
//!
//! Some servers rewrite a message after it was read: GNU mailutils adds `Status:` and `X-UID:`
//! headers, so the same message is listed with another size in the next session. The size
//! then no longer tells "the same message, rewritten" from "a new message under a reused
//! UIDL". The headers a server never rewrites do: `Message-ID`, `Date` and `From`, set by the
//! sender's side. Two different messages with all three equal are, for a mail reader, copies
//! of one message (the same delivery twice); two copies of one message differ in none of them.

/// How much of a message is looked at: headers end long before this in real mail.
const MAX_SCAN: usize = 256 << 10;
/// The longest value kept per header (enough for any real Message-ID, Date or From).
const MAX_VALUE: usize = 512;

/// The identity of the message whose header block starts `raw`: its `Message-ID`, `Date` and
/// `From` values (the first of each, unfolded, whitespace collapsed). `None` when it has no
/// Message-ID and not both a Date and a From: such a message cannot be recognised, and callers
/// must not guess (a deletion it was needed for does not happen).
pub fn identity(raw: &[u8]) -> Option<String> {
    let raw = &raw[..raw.len().min(MAX_SCAN)];
    let mut found: [Option<String>; 3] = [None, None, None];
    let mut current: Option<(usize, Vec<u8>)> = None;
    let finish = |current: &mut Option<(usize, Vec<u8>)>, found: &mut [Option<String>; 3]| {
        if let Some((slot, value)) = current.take()
            && found[slot].is_none()
        {
            let text = String::from_utf8_lossy(&value);
            let mut words: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
            if words.len() > MAX_VALUE {
                let mut end = MAX_VALUE;
                while !words.is_char_boundary(end) {
                    end -= 1;
                }
                words.truncate(end);
            }
            found[slot] = Some(words);
        }
    };
    for line in raw.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break; // the end of the header block
        }
        if matches!(line[0], b' ' | b'\t') {
            // A folded continuation of the header before.
            if let Some((_, value)) = current.as_mut() {
                value.push(b' ');
                value.extend_from_slice(line);
            }
            continue;
        }
        finish(&mut current, &mut found);
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let slot = match line[..colon].to_ascii_lowercase().as_slice() {
            b"message-id" => 0,
            b"date" => 1,
            b"from" => 2,
            _ => continue,
        };
        current = Some((slot, line[colon + 1..].to_vec()));
    }
    finish(&mut current, &mut found);
    // A sender alone does not tell two of its messages apart (a notifier without Message-ID
    // or Date sends many): it takes a Message-ID, or both the Date and the sender.
    let recognisable = found[0].is_some() || (found[1].is_some() && found[2].is_some());
    if !recognisable {
        return None;
    }
    let [id, date, from] = found;
    Some(format!(
        "message-id:{}\ndate:{}\nfrom:{}",
        id.unwrap_or_default(),
        date.unwrap_or_default(),
        from.unwrap_or_default()
    ))
}

#[cfg(test)]
mod tests {
    use super::identity;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    const MAIL: &[u8] = b"From: A <a@example.org>\r\nSubject: hi\r\nDate: Mon, 2 Mar 2026\r\n \
        10:00:00 +0000\r\nMessage-ID: <1@example.org>\r\n\r\nFrom: not a header\r\n";

    #[test]
    fn headers_a_server_adds_do_not_change_the_identity() {
        let mut rewritten = b"Status: RO\r\nX-UID: 7\r\n".to_vec();
        rewritten.extend_from_slice(MAIL);
        assert_eq!(identity(MAIL), identity(&rewritten));
        let id = identity(MAIL).unwrap();
        assert!(id.contains("date:Mon, 2 Mar 2026 10:00:00 +0000"), "{id}");
        assert!(
            id.contains("<1@example.org>") && id.contains("a@example.org"),
            "{id}"
        );
    }

    #[test]
    fn another_message_id_is_another_message_and_none_is_unknown() {
        let other = String::from_utf8_lossy(MAIL).replace("<1@", "<2@");
        assert_ne!(identity(MAIL), identity(other.as_bytes()));
        assert_eq!(
            identity(b"Subject: bare\r\n\r\nDate: in the body\r\n"),
            None
        );
        // The mbox separator line is not a From: header.
        assert_eq!(identity(b"From a@b Mon Mar  2 10:00:00 2026\r\n\r\n"), None);
        // A sender alone, or a date alone, recognises nothing: two such notifications from one
        // sender would otherwise be taken for one message (and the unseen one deleted).
        assert_eq!(
            identity(b"From: alerts@example.org\r\nSubject: 1\r\n\r\n"),
            None
        );
        assert_eq!(identity(b"Date: Mon, 2 Mar 2026\r\n\r\n"), None);
        assert!(identity(b"Date: Mon, 2 Mar 2026\r\nFrom: a@example.org\r\n\r\n").is_some());
        assert!(identity(b"Message-ID: <x@example.org>\r\n\r\n").is_some());
    }
}
