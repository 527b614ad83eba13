//! What a Maildir says in its paths: which files are messages, and their flags and dates.
//!
//! A Maildir holds one message per file in `cur/` and `new/` (`tmp/` holds deliveries still
//! being written: never read). A file's name is `time.unique[:2,FLAGS]`; the flags are single
//! letters in ASCII order, `S` seen and `F` flagged among them.

/// A message file of a Maildir, read from its path.
#[derive(Clone, Debug, PartialEq)]
pub struct MaildirFile {
    pub seen: bool,
    pub flagged: bool,
    /// Delivery time from the name, in ms since the Unix epoch, when it starts with one.
    pub delivered_ms: Option<f64>,
}

/// `Some` when `path` (slash-separated, as a folder picker reports it) is a message file of a
/// Maildir: directly inside a `cur` or `new` folder, not hidden.
pub fn message_file(path: &str) -> Option<MaildirFile> {
    let mut parts = path.rsplit('/');
    let name = parts.next()?;
    let folder = parts.next()?;
    if !matches!(folder, "cur" | "new") || name.is_empty() || name.starts_with('.') {
        return None;
    }
    let flags = name.rsplit_once(":2,").map_or("", |(_, flags)| flags);
    let delivered_ms = name
        .split('.')
        .next()
        .and_then(|t| t.parse::<u64>().ok())
        .filter(|&t| t > 0 && t < 1 << 40)
        .map(|t| t as f64 * 1000.0);
    Some(MaildirFile {
        seen: flags.contains('S'),
        flagged: flags.contains('F'),
        delivered_ms,
    })
}

/// Files a folder pick holds that a Maildir never counts as mail (`tmp/`, Dovecot's index and
/// list files, dot files): left out quietly rather than reported as not being mail.
pub fn is_bookkeeping(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    path.split('/').any(|part| part == "tmp")
        || name.starts_with('.')
        || name.starts_with("dovecot")
        || matches!(name, "subscriptions" | "maildirfolder" | "courierimapuiddb")
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn flags_and_dates_come_from_the_name() {
        assert_eq!(
            message_file("Mail/cur/1700000000.M1P2.host,S=120:2,FS"),
            Some(MaildirFile {
                seen: true,
                flagged: true,
                delivered_ms: Some(1_700_000_000_000.0)
            })
        );
        assert_eq!(
            message_file("new/1700000001.M3P4.host"),
            Some(MaildirFile {
                seen: false,
                flagged: false,
                delivered_ms: Some(1_700_000_001_000.0)
            })
        );
        assert_eq!(
            message_file("x/cur/name-without-time:2,"),
            Some(MaildirFile {
                seen: false,
                flagged: false,
                delivered_ms: None
            })
        );
    }

    #[test]
    fn only_files_in_cur_and_new_are_messages() {
        assert_eq!(message_file("Mail/tmp/1700000000.M1P2.host"), None);
        assert_eq!(message_file("Mail/dovecot-uidlist"), None);
        assert_eq!(message_file("Mail/cur/.hidden"), None);
        assert_eq!(message_file("cur"), None);
        assert!(is_bookkeeping("Mail/tmp/1.M1.h"));
        assert!(is_bookkeeping("Mail/dovecot.index.log"));
        assert!(!is_bookkeeping("Mail/cur/1.M1.h:2,S"));
    }
}
