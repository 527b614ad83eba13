//! The message list the screen shows, kept in the store's order (newest first) as batches
//! arrive from a running sync, without reading the store again.

use std::cmp::Ordering;

use crate::store::{Summary, newest_first};

/// Adds those of `arrived` (summaries just committed) whose account `shown` accepts to
/// `list`, replacing any line with the same account and UIDL, keeping the order the store
/// gives ([`crate::store::Store::list`] for one account, `list_received` for all).
pub fn merge(list: &mut Vec<Summary>, shown: impl Fn(&str) -> bool, arrived: &[Summary]) {
    for s in arrived.iter().filter(|s| shown(&s.account)) {
        list.retain(|m| !(m.uidl == s.uidl && m.account == s.account));
        let at = list.partition_point(|m| newest_first(m, s) == Ordering::Less);
        list.insert(at, s.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn line(account: &str, uidl: &str, date: f64) -> Summary {
        Summary {
            account: account.into(),
            uidl: uidl.into(),
            from: String::new(),
            to: String::new(),
            subject: uidl.into(),
            date,
            size: 0,
            has_attachments: false,
            snippet: String::new(),
            read: false,
            flagged: false,
            folder: crate::store::INBOX.into(),
            trashed_at: None,
            message_id: None,
            in_reply_to: None,
            references: Vec::new(),
            ids_read: true,
            partial_of: None,
        }
    }

    fn check(list: &[(&str, f64)], arrived: &[(&str, &str, f64)], expected: &[&str]) {
        let mut list: Vec<Summary> = list.iter().map(|(u, d)| line("a", u, *d)).collect();
        let arrived: Vec<Summary> = arrived.iter().map(|(a, u, d)| line(a, u, *d)).collect();
        merge(&mut list, |key| key == "a", &arrived);
        let uidls: Vec<&str> = list.iter().map(|s| s.uidl.as_str()).collect();
        assert_eq!(uidls, expected, "arrived {arrived:?}");
    }

    #[test]
    fn arrivals_take_their_place_newest_first() {
        check(
            &[("c", 30.0), ("a", 10.0)],
            &[("a", "b", 20.0), ("a", "d", 40.0), ("a", "e", 5.0)],
            &["d", "c", "b", "a", "e"],
        );
        // Equal dates: UIDL descending, as the store lists them.
        check(
            &[("x", 1.0), ("m", 1.0)],
            &[("a", "p", 1.0)],
            &["x", "p", "m"],
        );
        check(&[], &[("a", "z", 1.0), ("a", "y", 2.0)], &["y", "z"]);
    }

    #[test]
    fn a_line_arrives_once_and_only_for_its_account() {
        // The same UIDL again (a message downloaded again after a reused UIDL) replaces it.
        check(
            &[("b", 20.0), ("a", 10.0)],
            &[("a", "a", 30.0)],
            &["a", "b"],
        );
        check(&[("a", 10.0)], &[("other", "b", 20.0)], &["a"]);
    }

    #[test]
    fn the_unified_list_merges_every_shown_account_newest_first() {
        let mut list = vec![line("a", "1", 10.0), line("b", "1", 5.0)];
        let arrived = [
            line("b", "2", 20.0),
            line("a", "1", 10.0),
            line("c", "9", 30.0),
        ];
        merge(&mut list, |key| key != "c", &arrived);
        let keys: Vec<(&str, &str)> = list
            .iter()
            .map(|s| (s.account.as_str(), s.uidl.as_str()))
            .collect();
        // The same UIDL in two accounts is two messages; a line arrives once per account.
        assert_eq!(keys, [("b", "2"), ("a", "1"), ("b", "1")]);
    }
}
