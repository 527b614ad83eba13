//! Hostile and odd servers (issue 11): each test attacks the engine one way and checks the
//! promises: the cause is named, the sync ends by itself within bounded time, no partial
//! message is stored as whole, every whole message is kept, one failing message does not stop
//! the others, and no DELE is sent for a message that is not stored (the fake server checks
//! every DELE against IndexedDB itself).

use std::cell::Cell;
use std::rc::Rc;

use postbag_web::store::ServerPolicy;
use postbag_web::sync::{self, During, Limits, Notice, SyncError};
use wasm_bindgen_test::*;

use super::common::fake_pop3::{Endless, FakeServer, Mailbox, sample};
use super::common::fresh_store;
use super::{ME, NOW, run, run_limited, stored_uidls};

const DAD: ServerPolicy = ServerPolicy::DeleteAfterDownload;
const KEEP: ServerPolicy = ServerPolicy::Leave {
    after_days: None,
    mirror_deletes: false,
};

/// Small limits, so that giving up takes a fraction of a second.
fn quick() -> Limits {
    Limits {
        reply_grace_ms: 300.0,
        min_bytes_per_s: 1000.0,
        cancel_grace_ms: 200.0,
        ..Limits::default()
    }
}

fn now() -> f64 {
    js_sys::Date::now()
}

/// Bytes in the session's replies before the first RETR reply (greeting, CAPA, login, UIDL,
/// LIST) for a mailbox of `n` messages: a bound to place a fault inside message 1 or later.
fn preamble(n: usize) -> usize {
    120 + n * 30
}

/// A server that drips a byte every 20 ms once message 2 has begun (a 1,500-byte message
/// would take 30 s). The sync gives up by itself after the grace, names the cause, keeps
/// message 1 and stores nothing of message 2.
#[wasm_bindgen_test]
async fn a_dripping_server_is_given_up_within_the_deadline() {
    let store = fresh_store("drip").await;
    let mailbox = Mailbox::with(3, 1500);
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    server.pipelining = false;
    server.chunk = 256;
    server.drip = Some((preamble(3) + 1600 + 100, 20));
    let start = now();
    let err = run_limited(
        &mut server,
        &store,
        DAD,
        NOW,
        &quick(),
        |_| {},
        &Cell::new(false),
        &mut |_| {},
    )
    .await
    .unwrap_err();
    let took = now() - start;
    assert!(took < 3000.0, "gave up after {took} ms");
    let SyncError::TooSlow {
        during: During::Message {
            k: 2,
            of: 3,
            msg: 2,
        },
        online: true,
        ..
    } = err
    else {
        panic!("{err:?}");
    };
    let told = sync::explain(&err);
    assert!(
        told.message
            .contains("answered too slowly in the middle of message 2 of 3"),
        "{}",
        told.message
    );
    assert_eq!(stored_uidls(&store, ME).await, ["uid-0001"]);
    let mb = mailbox.borrow();
    assert!(mb.violations.is_empty(), "{:?}", mb.violations);
    assert_eq!(mb.messages.len(), 3, "no QUIT: the server deleted nothing");
}

/// The network goes away in the middle of a message without closing the socket (what a
/// browser sees when the device goes offline): the sync ends by itself.
#[wasm_bindgen_test]
async fn a_network_gone_silent_mid_message_ends_the_sync_by_itself() {
    let store = fresh_store("silent").await;
    let mailbox = Mailbox::with(3, 3000);
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    server.pipelining = false;
    server.chunk = 512;
    server.stall_after_bytes = Some(preamble(3) + 3100 + 1000);
    let start = now();
    let err = run_limited(
        &mut server,
        &store,
        DAD,
        NOW,
        &quick(),
        |_| {},
        &Cell::new(false),
        &mut |_| {},
    )
    .await
    .unwrap_err();
    assert!(now() - start < 3000.0);
    assert!(
        matches!(
            err,
            SyncError::TooSlow {
                during: During::Message { k: 2, .. },
                bytes: 0,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        sync::explain(&err)
            .message
            .contains("stopped answering in the middle of message 2 of 3"),
        "{}",
        sync::explain(&err).message
    );
    assert_eq!(stored_uidls(&store, ME).await, ["uid-0001"]);
    assert!(mailbox.borrow().violations.is_empty());
}

/// Cancel while the server owes the answers to DELE (its network gone): Cancel still ends the
/// sync, promptly, without QUIT, so nothing is deleted.
#[wasm_bindgen_test]
async fn cancel_works_during_the_deletions() {
    let store = fresh_store("cancel-dele").await;
    let mailbox = Mailbox::with(3, 500);
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    run(&mut server, &store, KEEP, NOW).await.unwrap();

    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    server.stall_on = Some("DELE");
    // The user presses Cancel a moment later: by then DELE and QUIT are sent, unanswered.
    let cancel = Rc::new(Cell::new(false));
    let later = cancel.clone();
    wasm_bindgen_futures::spawn_local(async move {
        gloo_timers::future::TimeoutFuture::new(150).await;
        later.set(true);
    });
    let patient = Limits {
        // Only Cancel can end this sync quickly.
        reply_grace_ms: 60_000.0,
        ..quick()
    };
    let start = now();
    let out = run_limited(
        &mut server,
        &store,
        DAD,
        NOW,
        &patient,
        |_| {},
        &*cancel,
        &mut |_| {},
    )
    .await
    .unwrap();
    let took = now() - start;
    assert!(took < 3000.0, "Cancel took {took} ms");
    assert!(out.cancelled);
    assert_eq!(out.deleted_on_server, 0);
    let mb = mailbox.borrow();
    assert!(
        mb.count("DELE") > 0,
        "the deletions were under way: {:?}",
        mb.log
    );
    assert_eq!(
        mb.messages.len(),
        3,
        "no QUIT was answered: nothing deleted"
    );
    assert!(mb.violations.is_empty());
}

/// A message over the cap (a 200 MB message in real life; here the cap is small) is skipped
/// from its LIST size: never requested, reported by number and size, and the messages after
/// it arrive, are committed and deleted as usual (QUIT commits their deletions).
#[wasm_bindgen_test]
async fn a_message_over_the_cap_is_skipped_and_the_rest_arrive() {
    let store = fresh_store("cap").await;
    let mailbox = Mailbox::with(4, 2000);
    mailbox.borrow_mut().messages[1].1 = sample(2, 40_000);
    let limits = Limits {
        max_message_bytes: 10_000,
        ..Limits::default()
    };
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    let out = run_limited(
        &mut server,
        &store,
        DAD,
        NOW,
        &limits,
        |_| {},
        &Cell::new(false),
        &mut |_| {},
    )
    .await
    .unwrap();
    assert_eq!((out.downloaded, out.deleted_on_server), (3, 3));
    let [
        Notice::TooLarge {
            msg: 2,
            size,
            limit: 10_000,
        },
    ] = out.notices[..]
    else {
        panic!("{:?}", out.notices);
    };
    assert!(size >= 40_000);
    let text = sync::notice(&out.notices[0]);
    assert!(text.contains("message 2 on the server (40.0 KB)"), "{text}");
    let mb = mailbox.borrow();
    assert!(!mb.log.iter().any(|l| l == "RETR 2"), "{:?}", mb.log);
    assert_eq!(mb.uidls(), ["uid-0002"], "only the large one stays");
    assert!(mb.violations.is_empty());
}

/// One RETR answers -ERR: the messages after it still arrive; it is reported with the
/// server's reason (escaped) and its number; it is never deleted.
#[wasm_bindgen_test]
async fn a_refused_retr_is_reported_and_the_later_ones_still_come() {
    let store = fresh_store("retr-err").await;
    let mailbox = Mailbox::with(4, 800);
    let size = mailbox.borrow().messages[1].1.len() as u64;
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    server
        .retr_err
        .insert(2, "[SYS/TEMP] cannot read \u{1b}[31mdisk\u{7}".into());
    let out = run(&mut server, &store, DAD, NOW).await.unwrap();
    assert_eq!(
        (out.downloaded, out.failed, out.deleted_on_server),
        (3, 1, 3)
    );
    let [
        Notice::NotDownloaded {
            msg: 2,
            size: Some(listed),
            ref reason,
        },
    ] = out.notices[..]
    else {
        panic!("{:?}", out.notices);
    };
    assert_eq!(listed, size);
    assert!(!reason.chars().any(char::is_control), "{reason:?}");
    let text = sync::notice(&out.notices[0]);
    assert!(
        text.contains(&format!(
            "message 2 on the server ({size} B) could not be downloaded"
        )) && text.contains(r"[SYS/TEMP] cannot read \u{1b}[31mdisk\u{7}"),
        "{text}"
    );
    assert_eq!(
        stored_uidls(&store, ME).await,
        ["uid-0001", "uid-0003", "uid-0004"]
    );
    let mb = mailbox.borrow();
    assert_eq!(mb.uidls(), ["uid-0002"]);
    assert!(mb.violations.is_empty());
}

/// The server hangs up cleanly in the middle of a message: told as such (not "offline"), the
/// whole ones kept, nothing of the cut one.
#[wasm_bindgen_test]
async fn a_cut_inside_a_message_is_told_as_a_cut() {
    let store = fresh_store("cut-clean").await;
    let mailbox = Mailbox::with(3, 2000);
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    server.pipelining = false;
    server.cut_clean = true;
    server.cut_after_bytes = Some(preamble(3) + 2100 + 1000);
    let err = run(&mut server, &store, DAD, NOW).await.unwrap_err();
    assert!(
        matches!(
            err,
            SyncError::Cut {
                during: During::Message {
                    k: 2,
                    of: 3,
                    msg: 2
                },
                cause: None,
                online: true
            }
        ),
        "{err:?}"
    );
    let told = sync::explain(&err);
    assert!(!told.offline);
    assert!(
        told.message.contains(
            "Connected, then the connection was cut in the middle of message 2 of 3 (number 2 on \
             the server): the mail server closed it"
        ),
        "{}",
        told.message
    );
    assert_eq!(stored_uidls(&store, ME).await, ["uid-0001"]);
    assert_eq!(store.raw(ME, "uid-0002").await.unwrap(), None);
    assert!(mailbox.borrow().violations.is_empty());
}

/// A line that never ends, a reply that never ends, a message that never ends: each is refused
/// once past its bound, named, and stores nothing partial.
#[wasm_bindgen_test]
async fn endless_lines_replies_and_messages_are_refused_by_their_bounds() {
    // The greeting line never ends.
    let store = fresh_store("endless-line").await;
    let mailbox = Mailbox::with(2, 500);
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    server.endless_greeting();
    let err = run(&mut server, &store, DAD, NOW).await.unwrap_err();
    assert!(
        sync::explain(&err)
            .message
            .contains("server sent a line longer than 8192 bytes"),
        "{err:?}"
    );
    assert!(
        server.delivered() < 4 << 20,
        "read {} bytes",
        server.delivered()
    );

    // The UIDL listing never ends.
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    server.endless = Some(Endless::Reply);
    server.chunk = 16 << 10;
    let err = run_limited(
        &mut server,
        &store,
        DAD,
        NOW,
        &Limits::default(),
        |c| c.max_reply = 64 << 10,
        &Cell::new(false),
        &mut |_| {},
    )
    .await
    .unwrap_err();
    assert!(
        sync::explain(&err)
            .message
            .contains("multi-line reply larger than 65536 bytes"),
        "{err:?}"
    );

    // Message 2 never ends: the server's fault once far beyond its listed size.
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    server.endless = Some(Endless::Message(2));
    server.chunk = 16 << 10;
    let err = run(&mut server, &store, DAD, NOW).await.unwrap_err();
    let SyncError::Overrun {
        msg: 2,
        listed,
        received,
    } = err
    else {
        panic!("{err:?}");
    };
    assert_eq!(listed, mailbox.borrow().messages[1].1.len() as u64);
    assert!(received < 200_000, "{received}");
    let told = sync::explain(&err).message;
    assert!(
        told.contains(&format!(
            "The mail server is at fault: it listed message 2 at {listed} B"
        )),
        "{told}"
    );
    assert_eq!(stored_uidls(&store, ME).await, ["uid-0001"]);
    let mb = mailbox.borrow();
    assert!(mb.violations.is_empty());
    assert_eq!(mb.messages.len(), 2, "no QUIT after a broken reply");
}

/// Two different messages under one UIDL: neither downloaded, neither deleted, both reported;
/// every listed message is accounted for in the result.
#[wasm_bindgen_test]
async fn two_messages_sharing_a_uidl_are_left_alone_and_reported() {
    let store = fresh_store("dup-uidl").await;
    let mailbox = Mailbox::with(3, 600);
    mailbox.borrow_mut().messages[1].0 = "dup".into();
    mailbox.borrow_mut().messages[2].0 = "dup".into();
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    let out = run(&mut server, &store, DAD, NOW).await.unwrap();
    assert_eq!((out.downloaded, out.deleted_on_server), (1, 1));
    assert_eq!(out.notices, [Notice::SharedUidl { msgs: vec![2, 3] }]);
    assert!(
        sync::notice(&out.notices[0]).contains("messages 2, 3 on the server share one identifier"),
        "{}",
        sync::notice(&out.notices[0])
    );
    assert_eq!(stored_uidls(&store, ME).await, ["uid-0001"]);
    let mb = mailbox.borrow();
    assert_eq!(mb.uidls(), ["dup", "dup"]);
    assert!(!mb.log.iter().any(|l| l == "RETR 2" || l == "RETR 3"));
    assert!(mb.violations.is_empty());
}

/// UIDLs are opaque: `/`, `..` and control characters are kept exactly, stored under exactly
/// that key, not downloaded twice, and deleted only once confirmed.
#[wasm_bindgen_test]
async fn uidls_with_slashes_dots_and_control_characters_are_opaque_keys() {
    let store = fresh_store("odd-uidl").await;
    let mailbox = Mailbox::with(5, 700);
    let odd = ["a/b", "..", "../../etc/passwd", "c\u{1}d", "e\u{1b}[0mf"];
    for (m, uidl) in mailbox.borrow_mut().messages.iter_mut().zip(odd) {
        m.0 = uidl.into();
    }
    let originals = mailbox.borrow().messages.clone();
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    assert_eq!(
        run(&mut server, &store, KEEP, NOW)
            .await
            .unwrap()
            .downloaded,
        5
    );
    for (uidl, raw) in &originals {
        assert_eq!(
            store.raw(ME, uidl).await.unwrap().as_ref(),
            Some(raw),
            "{uidl:?}"
        );
    }
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    assert_eq!(
        run(&mut server, &store, KEEP, NOW)
            .await
            .unwrap()
            .downloaded,
        0
    );
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    let out = run(&mut server, &store, DAD, NOW).await.unwrap();
    assert_eq!((out.downloaded, out.deleted_on_server), (0, 5));
    let mb = mailbox.borrow();
    assert!(mb.messages.is_empty());
    assert!(mb.violations.is_empty());
    assert_eq!(mb.count("RETR"), 5);
}

/// An RFC 1939 server without CAPA (and so without PIPELINING): the sync works, in lockstep.
#[wasm_bindgen_test]
async fn a_server_without_capa_is_synced() {
    let store = fresh_store("no-capa").await;
    let mailbox = Mailbox::with(3, 900);
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    server.no_capa = true;
    let out = run(&mut server, &store, DAD, NOW).await.unwrap();
    assert_eq!((out.downloaded, out.deleted_on_server), (3, 3));
    assert!(!out.session.pipelining);
    let mb = mailbox.borrow();
    assert!(mb.messages.is_empty());
    assert!(mb.violations.is_empty());
}

/// A sync that only deletes says so ("Removing 2 messages from the server"), never
/// "Downloading 1 of 0".
#[wasm_bindgen_test]
async fn a_sync_that_only_deletes_says_so() {
    let store = fresh_store("only-dele").await;
    let mailbox = Mailbox::with(2, 500);
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    run(&mut server, &store, KEEP, NOW).await.unwrap();
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    let mut seen = Vec::new();
    let out = run_limited(
        &mut server,
        &store,
        DAD,
        NOW,
        &Limits::default(),
        |_| {},
        &Cell::new(false),
        &mut |p| seen.push(p.describe()),
    )
    .await
    .unwrap();
    assert_eq!(out.deleted_on_server, 2);
    assert!(!seen.is_empty());
    for text in &seen {
        assert_eq!(text, "Removing 2 messages from the server…");
    }
}

/// The network goes away while the proxy upgrades to TLS (STARTTLS): that wait, outside the
/// byte loop, is bounded as well.
#[wasm_bindgen_test]
async fn a_tls_upgrade_that_never_completes_ends_the_sync_by_itself() {
    let store = fresh_store("stls-hang").await;
    let mailbox = Mailbox::with(1, 500);
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    server.stls_hangs = true;
    let start = now();
    let err = run_limited(
        &mut server,
        &store,
        DAD,
        NOW,
        &quick(),
        |c| {
            c.want_starttls = true;
            c.allow_plaintext_password = false;
        },
        &Cell::new(false),
        &mut |_| {},
    )
    .await
    .unwrap_err();
    assert!(now() - start < 3000.0);
    assert!(
        matches!(
            err,
            SyncError::TooSlow {
                during: During::Login,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        sync::explain(&err)
            .message
            .contains("stopped answering while logging in"),
        "{}",
        sync::explain(&err).message
    );
}

/// A message that breaks the session every time (here its reply never ends) is retried after
/// the others by the next sync, so the messages after it still arrive.
#[wasm_bindgen_test]
async fn a_message_that_breaks_the_session_is_retried_last() {
    let store = fresh_store("broken-last").await;
    let mailbox = Mailbox::with(4, 500);
    for attempt in 1..=2 {
        let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
        server.endless = Some(Endless::Message(2));
        server.chunk = 16 << 10;
        let err = run(&mut server, &store, DAD, NOW).await.unwrap_err();
        assert!(
            matches!(err, SyncError::Overrun { msg: 2, .. }),
            "attempt {attempt}: {err:?}"
        );
    }
    assert_eq!(
        stored_uidls(&store, ME).await,
        ["uid-0001", "uid-0003", "uid-0004"],
        "the second sync downloaded 3 and 4 before trying 2 again"
    );
    let mb = mailbox.borrow();
    assert!(mb.violations.is_empty());
    assert_eq!(mb.messages.len(), 4, "no QUIT after a broken reply");
}
