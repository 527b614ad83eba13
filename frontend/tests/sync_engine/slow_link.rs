//! Slow and metered links: an account's size limit. A message listed above it arrives
//! headers-first (`TOP n 40`), stored as a partial copy that no policy DELEs; "Download the
//! rest" (`sync::download_rest`) fetches it whole with `RETR` and replaces the copy byte for
//! byte, and only then may delete-after-download DELE it. Every DELE is checked by the scripted
//! server against the bytes committed in IndexedDB, so a DELE of a partial copy is a violation.

use std::cell::RefCell;
use std::rc::Rc;

use postbag_protocol::pop3::Secret;
use postbag_web::account::client_config;
use postbag_web::store::{Account, PARTIAL_LINES, ServerPolicy, Store};
use postbag_web::sync::{self, Limits, Notice, Outcome, SyncError, SyncRequest};
use wasm_bindgen_test::*;

use super::common::fake_pop3::{FakeServer, Mailbox, sample};
use super::common::{account, fresh_store};
use super::{DAY, ME, NOW};

const DAD: ServerPolicy = ServerPolicy::DeleteAfterDownload;
/// The account's size limit in these tests; the large message is listed well above it.
const LIMIT: u64 = 10_000;
const LARGE: usize = 60_000;

fn limited(policy: ServerPolicy) -> Account {
    Account {
        headers_first_above: Some(LIMIT),
        ..account(policy)
    }
}

/// Three messages, the second one above the limit.
fn mailbox() -> Rc<RefCell<Mailbox>> {
    let mailbox = Mailbox::with(3, 2000);
    mailbox.borrow_mut().messages[1].1 = sample(2, LARGE);
    mailbox
}

fn request<'a>(
    store: &'a Store,
    acc: &'a Account,
    now: f64,
    observer: &'a mut (),
) -> SyncRequest<'a> {
    SyncRequest {
        store,
        account: acc,
        config: client_config(acc, Secret::new("pw".into())),
        tls: None,
        now_ms: now,
        limits: Limits::default(),
        cancel: &NEVER,
        observer,
        disk: None,
    }
}

static NEVER: sync::NeverCancel = sync::NeverCancel;

async fn sync_once(
    mailbox: &Rc<RefCell<Mailbox>>,
    store: &Store,
    acc: &Account,
    now: f64,
) -> Result<Outcome, SyncError> {
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    let mut seen = ();
    sync::sync(&mut server, request(store, acc, now, &mut seen)).await
}

async fn rest(
    mailbox: &Rc<RefCell<Mailbox>>,
    store: &Store,
    acc: &Account,
    uidl: &str,
) -> Result<Outcome, SyncError> {
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    let mut seen = ();
    sync::download_rest(&mut server, request(store, acc, NOW + DAY, &mut seen), uidl).await
}

/// The headers and the first `PARTIAL_LINES` lines of `raw`, as `TOP n 40` gives them.
fn start_of(raw: &[u8]) -> Vec<u8> {
    let mut end = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    for _ in 0..PARTIAL_LINES {
        end += raw[end..].windows(2).position(|w| w == b"\r\n").unwrap() + 2;
    }
    raw[..end].to_vec()
}

#[wasm_bindgen_test]
async fn above_the_limit_a_message_comes_headers_first_and_is_never_deleted_until_whole() {
    let store = fresh_store("slow-link").await;
    let mailbox = mailbox();
    let large = mailbox.borrow().messages[1].1.clone();
    let acc = limited(DAD);

    let out = sync_once(&mailbox, &store, &acc, NOW).await.unwrap();
    assert_eq!((out.downloaded, out.deleted_on_server), (3, 2));
    assert_eq!(out.notices, [Notice::KeptPartial { count: 1 }]);
    let text = sync::notice(&out.notices[0]);
    assert!(text.contains("1 message stays on the server"), "{text}");
    {
        let mb = mailbox.borrow();
        assert!(
            mb.violations.is_empty(),
            "DELE of a partial: {:?}",
            mb.violations
        );
        assert!(mb.log.iter().any(|l| l == "TOP 2 40"), "{:?}", mb.log);
        assert!(!mb.log.iter().any(|l| l == "RETR 2"), "never the whole");
        assert_eq!(
            mb.uidls(),
            ["uid-0002"],
            "the large one stays on the server"
        );
    }
    let copy = store.raw(ME, "uid-0002").await.unwrap().unwrap();
    assert_eq!(copy, start_of(&large), "the headers and the first 40 lines");
    let mut summary = store.summary(ME, "uid-0002").await.unwrap().unwrap();
    assert_eq!(
        summary.partial_of,
        Some(large.len() as u64),
        "the whole's size"
    );
    assert_eq!(
        summary.subject, "Message 2",
        "listed and readable from its headers"
    );
    let lines = store.ledger(ME).await.unwrap();
    let line = lines.iter().find(|l| l.uidl == "uid-0002").unwrap();
    assert!(line.partial && line.on_server);

    // The next sync neither downloads it again nor deletes it.
    let out = sync_once(&mailbox, &store, &acc, NOW + DAY).await.unwrap();
    assert_eq!((out.downloaded, out.deleted_on_server), (0, 0));
    assert_eq!(out.notices, [Notice::KeptPartial { count: 1 }]);
    assert_eq!(mailbox.borrow().uidls(), ["uid-0002"]);
    assert_eq!(mailbox.borrow().count("TOP 2 40"), 1, "not fetched again");

    // The user reads and flags the partial copy, then asks for the rest: it comes whole,
    // byte for byte, keeps its read and flagged state, and only then goes from the server.
    summary.read = true;
    summary.flagged = true;
    store.update_summary(&summary).await.unwrap();
    let out = rest(&mailbox, &store, &acc, "uid-0002").await.unwrap();
    assert_eq!((out.downloaded, out.deleted_on_server), (1, 1));
    {
        let mb = mailbox.borrow();
        assert!(mb.violations.is_empty(), "{:?}", mb.violations);
        assert_eq!(mb.count("RETR"), 3, "RETR 1, RETR 3, then RETR 2 once");
        assert!(mb.messages.is_empty(), "deleted once whole");
    }
    assert_eq!(store.raw(ME, "uid-0002").await.unwrap().unwrap(), large);
    let whole = store.summary(ME, "uid-0002").await.unwrap().unwrap();
    assert_eq!(whole.partial_of, None);
    assert!(whole.read && whole.flagged, "the user's state kept");
    assert_eq!(whole.size as usize, large.len());
    let lines = store.ledger(ME).await.unwrap();
    assert!(lines.iter().all(|l| !l.partial && !l.on_server));
}

/// Leave on the server: the rest replaces the copy and nothing is deleted; nothing else
/// (a new message meanwhile) is downloaded by "Download the rest".
#[wasm_bindgen_test]
async fn download_the_rest_fetches_that_message_only() {
    let store = fresh_store("slow-rest-only").await;
    let mailbox = mailbox();
    let keep = ServerPolicy::Leave {
        after_days: None,
        mirror_deletes: false,
    };
    let acc = limited(keep);
    sync_once(&mailbox, &store, &acc, NOW).await.unwrap();
    mailbox
        .borrow_mut()
        .messages
        .push(("uid-0004".into(), sample(4, 900)));
    let out = rest(&mailbox, &store, &acc, "uid-0002").await.unwrap();
    assert_eq!((out.downloaded, out.deleted_on_server), (1, 0));
    let whole = {
        let mb = mailbox.borrow();
        assert_eq!(mb.count("RETR"), 3);
        assert!(!mb.log.iter().any(|l| l == "RETR 4"), "{:?}", mb.log);
        assert_eq!(mb.messages.len(), 4);
        mb.messages[1].1.clone()
    };
    assert_eq!(store.raw(ME, "uid-0002").await.unwrap(), Some(whole));
}

/// Gone from the server before the user asked for the rest: said so, the partial copy stays.
#[wasm_bindgen_test]
async fn the_rest_of_a_message_gone_from_the_server_is_told_and_the_copy_kept() {
    let store = fresh_store("slow-gone").await;
    let mailbox = mailbox();
    let acc = limited(DAD);
    sync_once(&mailbox, &store, &acc, NOW).await.unwrap();
    let copy = store.raw(ME, "uid-0002").await.unwrap();
    mailbox.borrow_mut().messages.clear();
    let err = rest(&mailbox, &store, &acc, "uid-0002").await.unwrap_err();
    assert!(matches!(err, SyncError::NotOnServer), "{err:?}");
    assert!(
        sync::explain(&err)
            .message
            .contains("no longer on the server"),
        "{:?}",
        sync::explain(&err)
    );
    assert_eq!(store.raw(ME, "uid-0002").await.unwrap(), copy);
    let summary = store.summary(ME, "uid-0002").await.unwrap().unwrap();
    assert!(summary.partial_of.is_some());
}

/// The server reused the UIDL for another message: the rest is not stored over the copy.
#[wasm_bindgen_test]
async fn the_rest_is_not_stored_when_the_server_now_holds_another_message() {
    let store = fresh_store("slow-other").await;
    let mailbox = mailbox();
    let acc = limited(DAD);
    sync_once(&mailbox, &store, &acc, NOW).await.unwrap();
    let copy = store.raw(ME, "uid-0002").await.unwrap();
    mailbox.borrow_mut().messages[0].1 = sample(77, LARGE);
    let deles = mailbox.borrow().deles();
    let err = rest(&mailbox, &store, &acc, "uid-0002").await.unwrap_err();
    assert!(matches!(err, SyncError::NotTheSame), "{err:?}");
    assert_eq!(store.raw(ME, "uid-0002").await.unwrap(), copy);
    let mb = mailbox.borrow();
    assert!(mb.violations.is_empty(), "{:?}", mb.violations);
    assert_eq!(mb.deles(), deles, "nothing deleted: {:?}", mb.log);
    assert_eq!(mb.messages.len(), 1);
}

/// A server that refuses TOP: the large message is not fetched whole instead (the limit is the
/// user's), it is told, and the messages after it still come.
#[wasm_bindgen_test]
async fn a_server_refusing_top_keeps_the_large_message_unfetched_and_blocks_nothing() {
    let store = fresh_store("slow-no-top").await;
    let mailbox = mailbox();
    let large = mailbox.borrow().messages[1].1.len() as u64;
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    server.no_top = true;
    let acc = limited(DAD);
    let mut seen = ();
    let out = sync::sync(&mut server, request(&store, &acc, NOW, &mut seen))
        .await
        .unwrap();
    assert_eq!(
        (out.downloaded, out.failed, out.deleted_on_server),
        (2, 1, 2)
    );
    let [Notice::NoHeadersFirst { msg: 2, size, .. }] = &out.notices[..] else {
        panic!("{:?}", out.notices);
    };
    assert_eq!(*size, Some(large));
    let text = sync::notice(&out.notices[0]);
    assert!(text.contains("raise the limit to download it"), "{text}");
    {
        let mb = mailbox.borrow();
        assert!(!mb.log.iter().any(|l| l == "RETR 2"), "{:?}", mb.log);
        assert_eq!(mb.uidls(), ["uid-0002"]);
    }
    assert!(store.raw(ME, "uid-0002").await.unwrap().is_none());
}

/// Every other deleting policy against the scripted server: after N days (the partial copy
/// long due), keep at most N (the partial one the oldest), delete on the server when deleted
/// here (the partial copy deleted here). The whole ones go as the policy says; the partial one
/// is never DELEd and the sync says so.
#[wasm_bindgen_test]
async fn no_deleting_policy_deletes_a_partial_copy() {
    let week = ServerPolicy::Leave {
        after_days: Some(7),
        mirror_deletes: false,
    };
    let keep_one = ServerPolicy::KeepNewest {
        count: 1,
        mirror_deletes: false,
    };
    let mirror = ServerPolicy::Leave {
        after_days: None,
        mirror_deletes: true,
    };
    for (tag, policy) in [("week", week), ("keep-one", keep_one), ("mirror", mirror)] {
        let store = fresh_store(&format!("slow-{tag}")).await;
        let mailbox = mailbox();
        let acc = limited(policy);
        sync_once(&mailbox, &store, &acc, NOW).await.unwrap();
        if policy == mirror {
            for uidl in ["uid-0001", "uid-0002"] {
                store.delete_local(ME, uidl, true).await.unwrap();
            }
        }
        let out = sync_once(&mailbox, &store, &acc, NOW + 30.0 * DAY)
            .await
            .unwrap();
        assert!(
            out.notices.contains(&Notice::KeptPartial { count: 1 }),
            "{tag}: {:?}",
            out.notices
        );
        let mb = mailbox.borrow();
        assert!(mb.violations.is_empty(), "{tag}: {:?}", mb.violations);
        assert!(!mb.log.iter().any(|l| l == "DELE 2"), "{tag}: {:?}", mb.log);
        assert!(
            mb.uidls().contains(&"uid-0002".to_string()),
            "{tag}: the partial one stays"
        );
        assert!(
            !mb.uidls().contains(&"uid-0001".to_string()),
            "{tag}: a whole one due is deleted: {:?}",
            mb.uidls()
        );
    }
}

/// A server that ignores TOP's line count and sends the whole large message: the reply is cut
/// off soon after what a start may hold (not megabytes over the metered link), the session
/// ends as for any overrun with nothing of it stored, and the messages around it still come.
#[wasm_bindgen_test]
async fn a_top_reply_of_the_whole_message_is_cut_off_and_blocks_nothing() {
    let store = fresh_store("slow-top-whole").await;
    let mailbox = mailbox();
    mailbox.borrow_mut().messages[1].1 = sample(2, 4 << 20);
    let acc = limited(DAD);
    for attempt in 1..=2 {
        let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
        server.top_whole = true;
        server.chunk = 16 << 10;
        let mut seen = ();
        let err = sync::sync(&mut server, request(&store, &acc, NOW, &mut seen))
            .await
            .unwrap_err();
        let SyncError::StartOverrun { msg: 2, limit } = err else {
            panic!("attempt {attempt}: {err:?}");
        };
        assert!(
            server.delivered() < 1 << 20,
            "attempt {attempt}: read {} bytes",
            server.delivered()
        );
        let told = sync::explain(&err).message;
        assert!(told.contains("only the start of message 2"), "{told}");
        assert!(limit < 1 << 20, "{limit}");
    }
    assert!(store.raw(ME, "uid-0002").await.unwrap().is_none());
    assert!(store.raw(ME, "uid-0001").await.unwrap().is_some());
    assert!(
        store.raw(ME, "uid-0003").await.unwrap().is_some(),
        "the second sync took message 3 before trying 2 again"
    );
    let mb = mailbox.borrow();
    assert!(mb.violations.is_empty(), "{:?}", mb.violations);
    assert_eq!(mb.messages.len(), 3, "no QUIT after a broken reply");
}

/// "After N days" counts from the first download of the partial copy, not from the day the
/// rest came: the whole one is deleted on the server N days after the partial copy arrived.
#[wasm_bindgen_test]
async fn the_rest_keeps_the_days_counted_since_the_start_came() {
    let store = fresh_store("slow-rest-days").await;
    let mailbox = mailbox();
    let week = ServerPolicy::Leave {
        after_days: Some(7),
        mirror_deletes: false,
    };
    let acc = limited(week);
    sync_once(&mailbox, &store, &acc, NOW).await.unwrap();
    // The rest comes a day later (`rest` runs at NOW + DAY).
    rest(&mailbox, &store, &acc, "uid-0002").await.unwrap();
    let lines = store.ledger(ME).await.unwrap();
    let line = lines.iter().find(|l| l.uidl == "uid-0002").unwrap();
    assert!(!line.partial);
    assert_eq!(line.first_seen, NOW, "first seen when its start came");

    let out = sync_once(&mailbox, &store, &acc, NOW + 7.5 * DAY)
        .await
        .unwrap();
    assert_eq!(out.deleted_on_server, 3, "all three are over a week old");
    let mb = mailbox.borrow();
    assert!(mb.violations.is_empty(), "{:?}", mb.violations);
    assert!(mb.messages.is_empty(), "{:?}", mb.log);
}
