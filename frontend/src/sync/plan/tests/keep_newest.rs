//! "Keep at most N messages on the server": the oldest beyond N go, and only what is stored
//! here.

use super::*;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

pub(super) fn keep(count: u32) -> ServerPolicy {
    ServerPolicy::KeepNewest {
        count,
        mirror_deletes: false,
    }
}

/// Keep at most 3 of 5 listed: the two oldest (lowest numbers) go, the stored one after its
/// `TOP n 0` matches, the new one only once this session stored it.
#[test]
fn keep_at_most_n_deletes_the_oldest_beyond_n_only_once_stored() {
    check(
        &[
            (1, "a", 1),
            (2, "b", 1),
            (3, "c", 1),
            (4, "d", 1),
            (5, "e", 1),
        ],
        &[line("a", 1.0, Some(1)), line("c", 9.0, Some(1))],
        &[],
        keep(3),
        Expect {
            download: &["b", "d", "e"],
            delete: &["a"],
            stored_then_deleted: &["b"],
            ..Default::default()
        },
    );
    // The listing's order is the server's, not the ledger's: numbers decide, not first_seen.
    check(
        &[(2, "y", 1), (1, "x", 1)],
        &[line("y", 30.0, Some(1)), line("x", 0.0, Some(1))],
        &[],
        keep(1),
        Expect {
            delete: &["x"],
            ..Default::default()
        },
    );
}

#[test]
fn keep_at_most_n_on_a_first_sync_stores_all_and_deletes_the_oldest() {
    check(
        &[(1, "a", 1), (2, "b", 1), (3, "c", 1), (4, "d", 1)],
        &[],
        &[],
        keep(1),
        Expect {
            download: &["a", "b", "c", "d"],
            stored_then_deleted: &["a", "b", "c"],
            ..Default::default()
        },
    );
}

#[test]
fn keep_at_most_n_with_n_or_fewer_listed_deletes_nothing() {
    for listing in [&[][..], &[(1, "a", 1)][..], &[(1, "a", 1), (2, "b", 1)][..]] {
        check(
            listing,
            &[line("a", 400.0, Some(1))],
            &[],
            keep(2),
            Expect {
                download: if listing.len() == 2 { &["b"] } else { &[] },
                updated: if listing.is_empty() { &["a"] } else { &[] },
                ..Default::default()
            },
        );
    }
}

/// What cannot be stored here is never deleted, and does not make a younger message go in its
/// place: the server keeps more than N rather than lose anything.
#[test]
fn keep_at_most_n_never_deletes_what_is_not_stored_here() {
    check(
        &[
            (1, "huge", MAX + 1),
            (2, "dup", 1),
            (3, "dup", 2),
            (4, "k", 1),
            (5, "n", 1),
        ],
        &[line("k", 0.0, Some(1))],
        &[],
        keep(1),
        Expect {
            download: &["n"],
            delete: &["k"],
            too_large: &["huge"],
            shared: &["dup", "dup"],
            ..Default::default()
        },
    );
    // A reused UIDL among the oldest: the new message is stored first, then deleted; the old
    // copy is set aside.
    check(
        &[(1, "r", 5), (2, "z", 1)],
        &[deleted_on_server(line("r", 3.0, Some(5)))],
        &[],
        keep(1),
        Expect {
            download: &["r", "z"],
            set_aside: &["r"],
            stored_then_deleted: &["r"],
            ..Default::default()
        },
    );
}

#[test]
fn keep_at_most_n_carries_out_deletions_asked_here() {
    check(
        &[(1, "a", 1), (2, "b", 1)],
        &[line("a", 0.0, Some(1)), line("b", 0.0, Some(1))],
        &[pending("b")],
        ServerPolicy::KeepNewest {
            count: 5,
            mirror_deletes: true,
        },
        Expect {
            delete: &["b"],
            ..Default::default()
        },
    );
}
