//! The planner, case by case. Each test states a server listing, a ledger and a policy, and
//! what the plan must do, through one `check` helper. Pure, so they run natively
//! (`cargo test -p postbag-web --lib`) and in the browser (wasm tests).

use super::*;
// `#[test]` natively; in the browser the same tests run as wasm-bindgen tests.
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

mod headers_first;
mod keep_newest;

const NOW: f64 = 1_780_000_000_000.0;
const DAY: f64 = DAY_MS;

const KEEP: ServerPolicy = ServerPolicy::Leave {
    after_days: None,
    mirror_deletes: false,
};
const DAD: ServerPolicy = ServerPolicy::DeleteAfterDownload;

fn week() -> ServerPolicy {
    ServerPolicy::Leave {
        after_days: Some(7),
        mirror_deletes: false,
    }
}

/// A ledger line stored `age` days before NOW, listed at `size` bytes when stored.
fn line(uidl: &str, age: f64, size: Option<u64>) -> LedgerEntry {
    LedgerEntry {
        account: "a".into(),
        uidl: uidl.into(),
        first_seen: NOW - age * DAY,
        on_server: true,
        size,
        gone_since: None,
        deleted: false,
        partial: false,
        identity: Some(format!("message-id:<{uidl}>")),
    }
}

fn gone(mut l: LedgerEntry, days_ago: f64) -> LedgerEntry {
    l.on_server = false;
    l.gone_since = Some(NOW - days_ago * DAY);
    l
}

fn deleted_on_server(mut l: LedgerEntry) -> LedgerEntry {
    l.on_server = false;
    l.deleted = true;
    l
}

fn pending(uidl: &str) -> PendingDelete {
    PendingDelete {
        account: "a".into(),
        uidl: uidl.into(),
    }
}

/// The largest message in these tests.
const MAX: u64 = 1 << 20;

/// What a plan did, by UIDL, in order. `delete`: confirmed with `TOP n 0`, then deleted;
/// `changed`: listed with another size, confirmed with `TOP n 0` (downloaded only if it is
/// another message).
#[derive(Debug, Default, PartialEq)]
struct Expect<'a> {
    download: &'a [&'a str],
    delete: &'a [&'a str],
    changed: &'a [&'a str],
    too_large: &'a [&'a str],
    shared: &'a [&'a str],
    set_aside: &'a [&'a str],
    /// Downloads DELEd in this session once stored (delete after download, keep at most N).
    stored_then_deleted: &'a [&'a str],
    /// Downloads fetched headers-first (listed above the account's size limit).
    partial: &'a [&'a str],
    /// Due for deletion (by the policy or asked here) but kept: only their start is stored.
    kept_partial: &'a [&'a str],
    updated: &'a [&'a str],
    forget: &'a [&'a str],
}

/// Plans for a listing of `(number, uidl, size)` and compares by UIDL; returns the plan for
/// checks of details.
fn check(
    listing: &[(u32, &str, u64)],
    ledger: &[LedgerEntry],
    pending: &[PendingDelete],
    policy: ServerPolicy,
    expect: Expect<'_>,
) -> Plan {
    check_limited(listing, ledger, pending, policy, None, expect)
}

/// [`check`] for an account whose size limit is `headers_first_above`.
fn check_limited(
    listing: &[(u32, &str, u64)],
    ledger: &[LedgerEntry],
    pending: &[PendingDelete],
    policy: ServerPolicy,
    headers_first_above: Option<u64>,
    expect: Expect<'_>,
) -> Plan {
    let uidls: Vec<(u32, String)> = listing
        .iter()
        .map(|(n, u, _)| (*n, u.to_string()))
        .collect();
    let sizes: Vec<(u32, u64)> = listing.iter().map(|(n, _, s)| (*n, *s)).collect();
    let limits = SizeLimits {
        max_bytes: MAX,
        headers_first_above,
    };
    let p = plan(&uidls, &sizes, ledger, pending, policy, NOW, limits);
    let names = |v: Vec<&str>| v.into_iter().map(str::to_string).collect::<Vec<_>>();
    let confirmed = |f: fn(&Confirm) -> bool| {
        names(
            p.confirm
                .iter()
                .filter(|c| f(c))
                .map(|c| c.download.uidl.as_str())
                .collect(),
        )
    };
    let got = (
        names(p.download.iter().map(|d| d.uidl.as_str()).collect()),
        confirmed(|c| c.delete),
        confirmed(|c| c.size_changed),
        names(p.set_aside.iter().map(|s| s.uidl.as_str()).collect()),
        names(p.ledger_updates.iter().map(|l| l.uidl.as_str()).collect()),
        p.forget.clone(),
        names(p.too_large.iter().map(|d| d.uidl.as_str()).collect()),
        names(p.shared_uidl.iter().map(|d| d.1.as_str()).collect()),
        names(
            p.download
                .iter()
                .filter(|d| p.delete_when_stored.contains(&d.uidl))
                .map(|d| d.uidl.as_str())
                .collect(),
        ),
        names(
            p.download
                .iter()
                .filter(|d| d.partial)
                .map(|d| d.uidl.as_str())
                .collect(),
        ),
        p.kept_partial.clone(),
    );
    let want = (
        names(expect.download.to_vec()),
        names(expect.delete.to_vec()),
        names(expect.changed.to_vec()),
        names(expect.set_aside.to_vec()),
        names(expect.updated.to_vec()),
        names(expect.forget.to_vec()),
        names(expect.too_large.to_vec()),
        names(expect.shared.to_vec()),
        names(expect.stored_then_deleted.to_vec()),
        names(expect.partial.to_vec()),
        names(expect.kept_partial.to_vec()),
    );
    assert_eq!(
        got, want,
        "(download, delete, changed, set_aside, updated, forget, too_large, shared, \
         stored_then_deleted, partial, kept_partial) for {listing:?}"
    );
    // The invariant, whatever the case: no DELE for a message whose whole body is not stored.
    let partial_line = |u: &str| {
        ledger
            .iter()
            .any(|l| l.uidl == u && l.partial && !l.deleted)
    };
    assert!(
        p.confirm
            .iter()
            .all(|c| !(c.delete && partial_line(&c.download.uidl))),
        "a partial copy is never confirmed for deletion"
    );
    assert!(
        p.download
            .iter()
            .all(|d| !(d.partial && p.delete_when_stored.contains(&d.uidl))),
        "a headers-first download is never deleted once stored"
    );
    assert!(
        p.delete_when_stored
            .iter()
            .all(|u| p.download.iter().any(|d| &d.uidl == u)),
        "only a download of this session is deleted once stored"
    );
    assert!(
        p.confirm.iter().all(|c| c.delete || c.size_changed),
        "a confirmation is asked only for a reason"
    );
    p
}

#[test]
fn empty_ledger_downloads_everything_with_sizes_and_deletes_only_once_stored() {
    let p = check(
        &[(1, "a", 100), (2, "b", 200)],
        &[],
        &[],
        DAD,
        Expect {
            download: &["a", "b"],
            stored_then_deleted: &["a", "b"],
            ..Default::default()
        },
    );
    assert_eq!(
        p.download[1],
        Download {
            msg: 2,
            uidl: "b".into(),
            size: Some(200),
            partial: false,
        }
    );
}

#[test]
fn delete_after_download_deletes_known_messages_by_their_number_now() {
    let p = check(
        &[(1, "old", 100), (2, "new", 200)],
        &[line("old", 0.0, Some(100))],
        &[],
        DAD,
        Expect {
            download: &["new"],
            delete: &["old"],
            stored_then_deleted: &["new"],
            ..Default::default()
        },
    );
    assert_eq!(
        (p.confirm[0].download.msg, p.confirm[0].line.uidl.as_str()),
        (1, "old"),
        "deleted by its number in this session, once TOP 1 0 confirms it"
    );
}

#[test]
fn leave_on_server_keeps_known_messages() {
    check(
        &[(1, "old", 100), (2, "new", 200)],
        &[line("old", 400.0, Some(100))],
        &[],
        KEEP,
        Expect {
            download: &["new"],
            ..Default::default()
        },
    );
}

#[test]
fn after_days_deletes_from_exactly_n_days_on() {
    let just_under = LedgerEntry {
        first_seen: NOW - 7.0 * DAY + 1.0,
        ..line("young", 0.0, Some(1))
    };
    check(
        &[(1, "old", 1), (2, "young", 1), (3, "exact", 1)],
        &[
            line("old", 8.0, Some(1)),
            just_under,
            line("exact", 7.0, Some(1)),
        ],
        &[],
        week(),
        Expect {
            delete: &["old", "exact"],
            ..Default::default()
        },
    );
}

#[test]
fn pending_deletes_are_carried_out_under_any_policy_and_kept_while_unlisted() {
    let ledger = [
        line("x", 1.0, Some(1)),
        line("y", 1.0, Some(1)),
        gone(line("z", 1.0, Some(1)), 2.0),
    ];
    let queued = [pending("x"), pending("z")];
    for policy in [KEEP, week()] {
        check(
            &[(1, "x", 1), (2, "y", 1)],
            &ledger,
            &queued,
            policy,
            Expect {
                delete: &["x"],
                ..Default::default()
            },
        );
    }
}

/// Two messages under one UIDL: which one a ledger line, a DELE or the next session means
/// cannot be known, so neither is downloaded nor deleted, and both are reported (under any
/// policy, known or not).
#[test]
fn messages_sharing_a_uidl_are_both_left_alone_and_reported() {
    for policy in [DAD, KEEP, week()] {
        check(
            &[(1, "dup", 10), (2, "dup", 20), (3, "k", 5), (4, "n", 7)],
            &[line("k", 0.0, Some(5)), line("dup", 30.0, Some(10))],
            &[pending("dup")],
            policy,
            Expect {
                download: &["n"],
                delete: if policy == DAD { &["k"] } else { &[] },
                stored_then_deleted: if policy == DAD { &["n"] } else { &[] },
                shared: &["dup", "dup"],
                ..Default::default()
            },
        );
    }
}

#[test]
fn an_unlisted_line_is_marked_gone_not_forgotten() {
    let p = check(
        &[],
        &[line("w", 3.0, Some(9))],
        &[],
        KEEP,
        Expect {
            updated: &["w"],
            ..Default::default()
        },
    );
    let l = &p.ledger_updates[0];
    assert_eq!(
        (l.gone_since, l.on_server, l.size),
        (Some(NOW), false, Some(9))
    );
}

#[test]
fn a_gone_line_is_forgotten_only_after_the_grace_period() {
    check(
        &[],
        &[
            gone(line("recent", 40.0, Some(1)), 29.9),
            gone(line("exact", 40.0, Some(1)), 30.0),
            gone(line("old", 400.0, None), 365.0),
        ],
        &[pending("exact")],
        KEEP,
        Expect {
            forget: &["exact", "old"],
            ..Default::default()
        },
    );
}

#[test]
fn a_message_that_comes_back_with_its_size_is_not_downloaded_again() {
    let back = gone(line("back", 3.0, Some(50)), 1.0);
    let p = check(
        &[(1, "back", 50)],
        std::slice::from_ref(&back),
        &[],
        KEEP,
        Expect {
            updated: &["back"],
            ..Default::default()
        },
    );
    let l = &p.ledger_updates[0];
    assert_eq!((l.gone_since, l.on_server), (None, true));
    assert_eq!(
        l.first_seen, back.first_seen,
        "its age still counts for after-N-days"
    );
    // Under delete-after-download it is stored here, so it goes.
    check(
        &[(1, "back", 50)],
        &[back],
        &[],
        DAD,
        Expect {
            delete: &["back"],
            updated: &["back"],
            ..Default::default()
        },
    );
}

#[test]
fn a_line_without_size_is_the_same_message_and_learns_the_size() {
    let p = check(
        &[(1, "v2", 77)],
        &[gone(line("v2", 3.0, None), 1.0)],
        &[],
        KEEP,
        Expect {
            updated: &["v2"],
            ..Default::default()
        },
    );
    assert_eq!(p.ledger_updates[0].size, Some(77));
}

#[test]
fn a_listed_line_that_changes_nothing_is_not_rewritten() {
    check(
        &[(1, "k", 5)],
        &[line("k", 0.0, Some(5))],
        &[],
        KEEP,
        Expect::default(),
    );
}

#[test]
fn a_reused_uidl_is_downloaded_and_never_deleted_unseen() {
    // The old message under "r" was stored, deleted here (queued for the server) and deleted
    // on the server; the server now lists a different message under "r".
    let old = deleted_on_server(line("r", 10.0, Some(100)));
    for policy in [DAD, KEEP, week()] {
        let p = check(
            &[(4, "r", 101)],
            std::slice::from_ref(&old),
            &[pending("r")],
            policy,
            Expect {
                download: &["r"],
                set_aside: &["r"],
                // Deleted only as any download is: once stored here, under delete-after-download.
                stored_then_deleted: if policy == DAD { &["r"] } else { &[] },
                ..Default::default()
            },
        );
        assert_eq!(p.set_aside[0].key, set_aside_key("r", old.first_seen));
        assert!(p.set_aside[0].key.contains(' '), "never a server UIDL");
        assert_eq!(p.download[0].size, Some(101));
    }
}

#[test]
fn a_uidl_listed_again_after_the_server_deleted_it_is_a_new_message_even_at_the_same_size() {
    // Deleted by our DELE, confirmed by QUIT, unlisted for a while (or not), then listed again
    // with the very same size: the server reused the UIDL; the new message must not be DELEd
    // unseen, and the old local copy must not be overwritten.
    for old in [
        deleted_on_server(line("s", 10.0, Some(100))),
        gone(deleted_on_server(line("s", 10.0, Some(100))), 2.0),
        deleted_on_server(line("s", 10.0, None)),
    ] {
        check(
            &[(1, "s", 100)],
            std::slice::from_ref(&old),
            &[],
            DAD,
            Expect {
                download: &["s"],
                set_aside: &["s"],
                stored_then_deleted: &["s"],
                ..Default::default()
            },
        );
    }
}

#[test]
fn an_unknown_listed_size_means_the_same_message() {
    let uidls = vec![(1, "k".to_string())];
    let limits = SizeLimits {
        max_bytes: MAX,
        headers_first_above: None,
    };
    let p = plan(
        &uidls,
        &[],
        &[line("k", 0.0, Some(5))],
        &[],
        DAD,
        NOW,
        limits,
    );
    assert!(p.download.is_empty() && p.set_aside.is_empty());
    assert_eq!(p.confirm.len(), 1);
    assert!(p.confirm[0].delete && !p.confirm[0].size_changed);
}

#[test]
fn a_pending_deletion_without_a_ledger_line_is_dropped() {
    check(
        &[(1, "stray", 5)],
        &[],
        &[pending("stray"), pending("k replaced 12")],
        KEEP,
        Expect {
            download: &["stray"],
            forget: &["stray", "k replaced 12"],
            ..Default::default()
        },
    );
}

/// GNU mailutils adds headers to a message once it was read, so the next session lists it with
/// another size. That is a question for `TOP n 0`, not a new message: before, every such
/// message was downloaded again (a duplicate each sync).
#[test]
fn another_listed_size_is_confirmed_not_downloaded_again() {
    let p = check(
        &[(1, "m", 130), (2, "k", 5)],
        &[line("m", 0.0, Some(100)), line("k", 0.0, Some(5))],
        &[],
        KEEP,
        Expect {
            changed: &["m"],
            ..Default::default()
        },
    );
    assert_eq!(p.confirm[0].download.size, Some(130));
    assert_eq!(p.confirm[0].line.size, Some(100));
    // Due for deletion as well: deleted only once confirmed.
    check(
        &[(1, "m", 130)],
        &[line("m", 8.0, Some(100))],
        &[],
        week(),
        Expect {
            delete: &["m"],
            changed: &["m"],
            ..Default::default()
        },
    );
}

/// A message over the cap is skipped from its listed size (before, a 200 MB message was
/// downloaded up to the cap each sync, failed, and blocked every message after it).
#[test]
fn a_message_over_the_cap_is_skipped_from_its_listed_size_and_blocks_nothing() {
    let p = check(
        &[
            (1, "a", 10),
            (2, "huge", MAX + 1),
            (3, "b", MAX),
            (4, "r", MAX + 5),
        ],
        &[deleted_on_server(line("r", 3.0, Some(1)))],
        &[],
        DAD,
        Expect {
            download: &["a", "b"],
            too_large: &["huge", "r"],
            stored_then_deleted: &["a", "b"],
            ..Default::default()
        },
    );
    assert_eq!(p.too_large[0].msg, 2);
    assert_eq!(p.too_large[0].size, Some(MAX + 1));
}
