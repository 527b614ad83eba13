//! Above the account's size limit: headers-first downloads, and partial copies never deleted.

use super::*;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use super::keep_newest::keep;

/// A partial copy (headers-first) stored `age` days ago, the whole listed at `size`.
fn partial_line(uidl: &str, age: f64, size: u64) -> LedgerEntry {
    LedgerEntry {
        partial: true,
        ..line(uidl, age, Some(size))
    }
}

/// The size limit: above it, a message is fetched headers-first; at or under it, whole. The
/// hard cap still wins: a message over it is skipped, not fetched headers-first.
#[test]
fn above_the_size_limit_a_message_comes_headers_first() {
    let p = check_limited(
        &[
            (1, "small", 100),
            (2, "at", 1000),
            (3, "big", 1001),
            (4, "huge", MAX + 1),
        ],
        &[],
        &[],
        KEEP,
        Some(1000),
        Expect {
            download: &["small", "at", "big"],
            partial: &["big"],
            too_large: &["huge"],
            ..Default::default()
        },
    );
    let big = &p.download[2];
    assert_eq!(big.size, Some(1001), "the whole's size, for the reader");
    assert_eq!(
        big.expected(),
        Some(1001),
        "a small one expects no more than its size"
    );
    let large = Download {
        size: Some(5_000_000),
        ..big.clone()
    };
    assert_eq!(
        large.expected(),
        Some(PARTIAL_GUESS),
        "charged as headers, not the whole"
    );
    // No limit: everything whole, as before.
    check_limited(
        &[(1, "big", 1001)],
        &[],
        &[],
        KEEP,
        None,
        Expect {
            download: &["big"],
            ..Default::default()
        },
    );
}

/// Delete after download, keep at most N: a headers-first download is stored, never DELEd;
/// the whole ones beside it are DELEd once stored.
#[test]
fn a_headers_first_download_is_never_deleted_once_stored() {
    check_limited(
        &[(1, "big", 5000), (2, "small", 10)],
        &[],
        &[],
        DAD,
        Some(1000),
        Expect {
            download: &["big", "small"],
            partial: &["big"],
            stored_then_deleted: &["small"],
            kept_partial: &["big"],
            ..Default::default()
        },
    );
    check_limited(
        &[(1, "big", 5000), (2, "old", 10), (3, "new", 10)],
        &[],
        &[],
        keep(1),
        Some(1000),
        Expect {
            download: &["big", "old", "new"],
            partial: &["big"],
            stored_then_deleted: &["old"],
            kept_partial: &["big"],
            ..Default::default()
        },
    );
    // A UIDL the server reused after deleting the old message: the new one, above the limit,
    // comes headers-first and stays.
    check_limited(
        &[(1, "r", 5000)],
        &[deleted_on_server(line("r", 3.0, Some(10)))],
        &[],
        DAD,
        Some(1000),
        Expect {
            download: &["r"],
            set_aside: &["r"],
            partial: &["r"],
            kept_partial: &["r"],
            ..Default::default()
        },
    );
}

/// A partial copy stored earlier: no policy (after download, after N days, keep at most N)
/// and no deletion asked here sends DELE for it, whatever the limit is now; it is reported.
/// Listed with another size it is still confirmed (a reused UIDL is downloaded), never deleted.
#[test]
fn a_partial_copy_is_never_deleted_by_any_policy() {
    let stored = [partial_line("p", 400.0, 5000), line("w", 400.0, Some(10))];
    for policy in [
        DAD,
        week(),
        keep(0),
        ServerPolicy::Leave {
            after_days: None,
            mirror_deletes: true,
        },
    ] {
        for limit in [Some(1000), None] {
            let asked = [pending("p"), pending("w")];
            let pending: &[PendingDelete] = if policy.mirrors_deletes() {
                &asked
            } else {
                &[]
            };
            check_limited(
                &[(1, "p", 5000), (2, "w", 10)],
                &stored,
                pending,
                policy,
                limit,
                Expect {
                    delete: &["w"],
                    kept_partial: &["p"],
                    ..Default::default()
                },
            );
        }
    }
    let p = check_limited(
        &[(1, "p", 5200)],
        &[partial_line("p", 1.0, 5000)],
        &[],
        DAD,
        Some(1000),
        Expect {
            changed: &["p"],
            kept_partial: &["p"],
            ..Default::default()
        },
    );
    assert!(
        !p.confirm[0].delete,
        "confirmed for its size, never to delete it"
    );
}

/// Once the whole body is stored (the line no longer partial), the policy applies again.
#[test]
fn a_copy_made_whole_is_deleted_as_any_other() {
    check_limited(
        &[(1, "p", 5000)],
        &[line("p", 1.0, Some(5000))],
        &[],
        DAD,
        Some(1000),
        Expect {
            delete: &["p"],
            ..Default::default()
        },
    );
}
