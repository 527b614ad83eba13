//! Maildir file names for stored messages: `time.Phash.postbag:2,FLAGS`.
//!
//! The unique part is deterministic: the time the message was first stored (its ledger line's
//! `first_seen`, in seconds) and a hash of its account and store key (its UIDL). Writing a
//! message again yields the same name, so a catch-up or a sync that re-writes a file changes
//! nothing; a new message under a reused UIDL is first stored at another time, so it never
//! overwrites the file of the old one. The hash keeps every name within `[0-9A-Za-z.]`
//! whatever the UIDL holds (`/`, `:` and `\` are allowed in a UIDL, not in a file name).
//! Flags follow the Maildir convention: `:2,` then single letters in ASCII order, `F`
//! flagged, `S` seen. A name's flags are those the message had when its file was written:
//! marking it read later does not rename the file (see `mod.rs`).

use sha2::{Digest, Sha256};

/// Bytes of SHA-256 kept in a name: 96 bits, no collision among any one user's mail.
const HASH_BYTES: usize = 12;

/// The unique part of a message's file name (everything before `:2,`).
pub fn unique(account: &str, key: &str, first_seen_ms: f64) -> String {
    let digest = Sha256::new()
        .chain_update(account.as_bytes())
        // A separator no account id holds, so ("ab", "c") and ("a", "bc") differ.
        .chain_update([0])
        .chain_update(key.as_bytes())
        .finalize();
    let hash: String = digest[..HASH_BYTES]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let secs = (first_seen_ms.max(0.0) / 1000.0) as u64;
    format!("{secs}.P{hash}.postbag")
}

/// The file name: the unique part with the message's flags.
pub fn file_name(unique: &str, read: bool, flagged: bool) -> String {
    let flags = match (flagged, read) {
        (true, true) => "FS",
        (true, false) => "F",
        (false, true) => "S",
        (false, false) => "",
    };
    format!("{unique}:2,{flags}")
}

/// The unique part of a file name found in the folder (its flags may differ from ours: another
/// Maildir client may have renamed it).
pub fn unique_of(name: &str) -> &str {
    name.split_once(':').map_or(name, |(unique, _)| unique)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    const T: f64 = 1_764_669_600_123.0;

    #[test]
    fn a_name_is_deterministic_safe_and_unique_per_message() {
        let a = unique("ann@example.org", "1/2:3\\x", T);
        assert_eq!(
            a,
            unique("ann@example.org", "1/2:3\\x", T),
            "same input, same name"
        );
        assert!(a.starts_with("1764669600.P"), "{a}");
        assert!(a.ends_with(".postbag"), "{a}");
        assert!(
            a.chars().all(|c| c.is_ascii_alphanumeric() || c == '.'),
            "{a}"
        );
        // Another account, UIDL or first storing (a reused UIDL) is another file.
        assert_ne!(a, unique("bob@example.org", "1/2:3\\x", T));
        assert_ne!(a, unique("ann@example.org", "1/2:3\\y", T));
        assert_ne!(a, unique("ann@example.org", "1/2:3\\x", T + 5_000.0));
        assert_ne!(unique("ab", "c", T), unique("a", "bc", T));
    }

    #[test]
    fn flags_are_in_ascii_order_and_read_back() {
        let u = unique("a", "b", T);
        assert_eq!(file_name(&u, false, false), format!("{u}:2,"));
        assert_eq!(file_name(&u, true, false), format!("{u}:2,S"));
        assert_eq!(file_name(&u, true, true), format!("{u}:2,FS"));
        assert_eq!(file_name(&u, false, true), format!("{u}:2,F"));
        assert_eq!(unique_of(&file_name(&u, true, true)), u);
        assert_eq!(unique_of("1.2.host"), "1.2.host");
        // What the import's Maildir reader makes of our names.
        let read =
            crate::import::maildir::message_file(&format!("x/cur/{}", file_name(&u, true, false)));
        assert!(read.is_some_and(|f| f.seen && !f.flagged));
    }
}
