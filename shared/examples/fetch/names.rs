//! Names for what a server chose: a UIDL becomes a file name, and anything the server sent
//! becomes text that is safe to print.

use std::collections::HashSet;

use md5::{Digest, Md5};

/// Encoded UIDLs longer than this are cut (file systems allow 255 bytes per name).
const MAX_STEM: usize = 160;

/// The stem a UIDL is saved under: bytes outside `[A-Za-z0-9._-]` are percent-encoded, and so
/// is a leading dot, so the name can be neither hidden nor a path (`/`, `..`) nor carry
/// control characters. `%` itself is encoded, so two UIDLs never encode alike. A stem longer
/// than 160 bytes is cut and ends in `~` and a hash of the whole UIDL.
pub fn stem(uidl: &str) -> String {
    let mut name = String::new();
    for (i, b) in uidl.bytes().enumerate() {
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || (b == b'.' && i > 0) {
            name.push(b as char);
        } else {
            name.push_str(&format!("%{b:02X}"));
        }
    }
    if name.is_empty() {
        // Not a UIDL the parser lets through, but never let it make a hidden ".eml".
        name.push('~');
    }
    if name.len() > MAX_STEM {
        // Never cut inside a %XX escape: all of it is ASCII, so any index is a char boundary.
        let mut cut = MAX_STEM;
        while name[..cut].ends_with('%') || name[..cut - 1].ends_with('%') {
            cut -= 1;
        }
        let hash = Md5::digest(uidl.as_bytes());
        let hex: String = hash[..8].iter().map(|b| format!("{b:02x}")).collect();
        name = format!("{}~{hex}", &name[..cut]);
    }
    name
}

/// Hands out one file name per message of a run. A message gets `<stem>.eml`, or, when that
/// name is taken in this run (a server that lists one UIDL twice, or UIDLs that differ only in
/// case, which a case-insensitive disk would merge), `<stem>~<msg>.eml`. `~` never appears in
/// an encoded UIDL, so the second form cannot be another UIDL's name.
#[derive(Debug, Default)]
pub struct Names {
    /// Lower-cased names already given out.
    taken: HashSet<String>,
}

impl Names {
    pub fn assign(&mut self, msg: u32, uidl: &str) -> String {
        let stem = stem(uidl);
        let mut name = format!("{stem}.eml");
        let mut n = 1;
        while !self.taken.insert(name.to_lowercase()) {
            name = match n {
                1 => format!("{stem}~{msg}.eml"),
                _ => format!("{stem}~{msg}-{n}.eml"),
            };
            n += 1;
        }
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uidl_stems_are_safe() {
        assert_eq!(stem("00000001575d6f1b"), "00000001575d6f1b");
        assert_eq!(stem("a/b\\c d"), "a%2Fb%5Cc%20d");
        assert_eq!(stem(".."), "%2E.");
        assert_eq!(stem("../../etc/passwd"), "%2E.%2F..%2Fetc%2Fpasswd");
        assert_eq!(stem("x.y_z-1"), "x.y_z-1");
        assert_eq!(stem("\u{1b}[31m\u{7}"), "%1B%5B31m%07");
        assert_eq!(stem("a%2F"), "a%252F");
        assert_eq!(stem("ü"), "%C3%BC");
    }

    #[test]
    fn long_uidls_are_cut_and_stay_distinct() {
        let a = stem(&"x".repeat(1000));
        let b = stem(&("x".repeat(999) + "y"));
        assert!(a.len() <= MAX_STEM + 17, "{}", a.len());
        assert_ne!(a, b);
        // A cut never splits an escape.
        for len in 150..170 {
            let s = stem(&"/".repeat(len));
            let (kept, _) = s.rsplit_once('~').unwrap();
            assert!(kept.len() % 3 == 0, "{s}");
        }
    }

    #[test]
    fn no_two_messages_share_a_name() {
        let mut names = Names::default();
        assert_eq!(names.assign(1, "same"), "same.eml");
        assert_eq!(names.assign(2, "same"), "same~2.eml");
        assert_eq!(names.assign(3, "SAME"), "SAME~3.eml");
        assert_eq!(names.assign(4, "other"), "other.eml");
        // A server can list the same number twice, too.
        assert_eq!(names.assign(2, "same"), "same~2-2.eml");
    }
}
