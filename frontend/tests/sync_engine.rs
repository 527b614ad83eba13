//! The real sync engine and the real POP3 state machine against a scripted server, with the
//! real IndexedDB in Chromium. Run: `cargo test -p postbag-web --target wasm32-unknown-unknown`.
//! Every DELE the scripted server receives is checked against IndexedDB transactions that have
//! completed (tests/common/idb_watch.rs).

mod common;
// Cancel while a message streams, and before any download.
#[path = "sync_engine/cancel.rs"]
mod cancel;
// The ledger across sessions: messages that leave the listing and come back, reused UIDLs.
#[path = "sync_engine/ledger.rs"]
mod ledger;
// "Keep at most N on the server": the oldest beyond N DELEd only once stored here.
#[path = "sync_engine/policies.rs"]
mod policies;
// Servers without UIDL: messages named by their headers.
#[path = "sync_engine/no_uidl.rs"]
mod no_uidl;
// Hostile and odd servers: drips, stalls, cuts, endless replies, refusals, shared UIDLs.
#[path = "sync_engine/hostile.rs"]
mod hostile;
// Rules applied as each message's summary is built, before its batch commits.
#[path = "sync_engine/rules.rs"]
mod rules;
// Servers that rewrite messages (GNU mailutils) and reuse UIDLs at the same size.
#[path = "sync_engine/rewrite.rs"]
mod rewrite;
// What the screen is told: committed batches, the storage check before any download.
#[path = "sync_engine/told.rs"]
mod told;
// Slow links: headers-first above the account's size limit, never DELEd until whole, and
// "Download the rest".
#[path = "sync_engine/slow_link.rs"]
mod slow_link;
// The RETR window as the server sees it: by bytes, within its ceiling, lockstep without
// PIPELINING.
#[path = "sync_engine/window.rs"]
mod window;

use std::cell::Cell;

use common::fake_pop3::{FakeServer, Mailbox};
use common::{account, fresh_store, idb_watch};
use postbag_protocol::pop3::Secret;
use postbag_web::account::client_config;
use postbag_web::store::ServerPolicy;
use postbag_web::sync::{self, Limits, Outcome, SyncError, SyncRequest};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const NOW: f64 = 1_780_000_000_000.0;
const DAY: f64 = 86_400_000.0;
const ME: &str = "me@example.org";

async fn run(
    server: &mut FakeServer,
    store: &postbag_web::store::Store,
    policy: ServerPolicy,
    now: f64,
) -> Result<Outcome, SyncError> {
    run_with(server, store, policy, now, &Cell::new(false), &mut |_| {}).await
}

/// [`run`] with the user's Cancel flag and a progress callback.
async fn run_with(
    server: &mut FakeServer,
    store: &postbag_web::store::Store,
    policy: ServerPolicy,
    now: f64,
    cancel: &dyn sync::Cancel,
    on_progress: &mut dyn FnMut(&sync::Progress),
) -> Result<Outcome, SyncError> {
    let limits = Limits::default();
    run_limited(
        server,
        store,
        policy,
        now,
        &limits,
        |_| {},
        cancel,
        on_progress,
    )
    .await
}

/// [`run_with`] within `limits`, with the client configured by `configure`.
#[allow(clippy::too_many_arguments)]
async fn run_limited(
    server: &mut FakeServer,
    store: &postbag_web::store::Store,
    policy: ServerPolicy,
    now: f64,
    limits: &Limits,
    configure: impl FnOnce(&mut postbag_protocol::pop3::ClientConfig),
    cancel: &dyn sync::Cancel,
    mut on_progress: &mut dyn FnMut(&sync::Progress),
) -> Result<Outcome, SyncError> {
    let acc = account(policy);
    let mut config = client_config(&acc, Secret::new("pw".into()));
    configure(&mut config);
    let request = SyncRequest {
        store,
        account: &acc,
        config,
        tls: None,
        now_ms: now,
        limits: limits.clone(),
        cancel,
        observer: &mut on_progress,
        disk: None,
    };
    sync::sync(server, request).await
}

/// The UIDLs of `account`'s stored messages, sorted.
async fn stored_uidls(store: &postbag_web::store::Store, account: &str) -> Vec<String> {
    let mut uidls: Vec<_> = store
        .list(account)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.uidl)
        .collect();
    uidls.sort();
    uidls
}

/// Delete-after-download: everything stored, every DELE after its commit, mailbox empty.
async fn check_delete_after_download(chunk: usize, pipelining: bool) {
    let store = fresh_store("dad").await;
    let mailbox = Mailbox::with(5, 3000);
    let originals = mailbox.borrow().messages.clone();
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), "me@example.org");
    server.chunk = chunk;
    server.pipelining = pipelining;
    let out = run(&mut server, &store, ServerPolicy::DeleteAfterDownload, NOW)
        .await
        .unwrap();
    assert_eq!(out.downloaded, 5);
    assert_eq!(out.deleted_on_server, 5);
    {
        let mb = mailbox.borrow();
        assert!(
            mb.violations.is_empty(),
            "DELE before commit: {:?}",
            mb.violations
        );
        assert_eq!(mb.deles(), 5);
        assert!(mb.messages.is_empty(), "QUIT committed the deletions");
    }
    for (uidl, raw) in &originals {
        assert_eq!(
            store.raw("me@example.org", uidl).await.unwrap().as_ref(),
            Some(raw),
            "{uidl} stored byte-exact"
        );
    }
    let list = store.list("me@example.org").await.unwrap();
    assert_eq!(list.len(), 5);
    assert!(
        list.windows(2).all(|w| w[0].date >= w[1].date),
        "newest first"
    );
    assert!(
        store
            .ledger("me@example.org")
            .await
            .unwrap()
            .iter()
            .all(|l| !l.on_server)
    );
}

#[wasm_bindgen_test]
async fn delete_after_download_whole_replies() {
    check_delete_after_download(1 << 20, true).await;
}

#[wasm_bindgen_test]
async fn delete_after_download_byte_by_byte() {
    check_delete_after_download(1, true).await;
}

#[wasm_bindgen_test]
async fn delete_after_download_without_pipelining() {
    check_delete_after_download(7, false).await;
}

/// The connection dies in the middle of message 3: nothing is lost, nothing deleted before it
/// was stored, and the next sync downloads only what is missing and then cleans the server.
#[wasm_bindgen_test]
async fn connection_lost_mid_sync_then_resume() {
    let store = fresh_store("cut").await;
    let mailbox = Mailbox::with(6, 2000);
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), "me@example.org");
    server.pipelining = false;
    // Greeting, CAPA, logins, UIDL, LIST are small; 2.5 messages of 2000 bytes later: cut.
    server.cut_after_bytes = Some(300 + 6 * 30 + 5200);
    let err = run(&mut server, &store, ServerPolicy::DeleteAfterDownload, NOW)
        .await
        .unwrap_err();
    // Told as what happened: connected, then cut inside message 3; not "offline".
    let SyncError::Cut {
        during:
            sync::During::Message {
                k: 3,
                of: 6,
                msg: 3,
            },
        cause: Some(postbag_web::tunnel::TransportError::Closed { code: 1006, .. }),
        online: true,
    } = &err
    else {
        panic!("{err:?}");
    };
    let told = sync::explain(&err);
    assert!(!told.offline, "{told:?}");
    assert!(
        told.message
            .contains("Connected, then the connection was cut in the middle of message 3 of 6")
            && told
                .message
                .contains("the connection to the Postbag proxy was lost (code 1006)"),
        "{}",
        told.message
    );
    let stored_first = store.list("me@example.org").await.unwrap().len();
    assert!(
        (1..6).contains(&stored_first),
        "partial sync stored {stored_first}"
    );
    assert_eq!(
        stored_first,
        server.whole_messages_delivered(),
        "every message that arrived whole is committed before the error is returned"
    );
    assert_eq!(
        mailbox.borrow().messages.len(),
        6,
        "no QUIT, so the server deleted nothing"
    );
    assert!(mailbox.borrow().violations.is_empty());

    let mut server = FakeServer::new(mailbox.clone(), store.clone(), "me@example.org");
    server.chunk = 5;
    let out = run(&mut server, &store, ServerPolicy::DeleteAfterDownload, NOW)
        .await
        .unwrap();
    assert_eq!(
        out.downloaded as usize,
        6 - stored_first,
        "only the missing ones"
    );
    assert_eq!(out.deleted_on_server, 6);
    let list = store.list("me@example.org").await.unwrap();
    let mut uidls: Vec<_> = list.iter().map(|s| s.uidl.clone()).collect();
    uidls.sort();
    uidls.dedup();
    assert_eq!(uidls.len(), 6, "no message lost, none duplicated");
    assert_eq!(list.len(), 6);
    assert!(mailbox.borrow().messages.is_empty());
    assert!(mailbox.borrow().violations.is_empty());
}

/// If the store cannot commit, no DELE is ever sent.
#[wasm_bindgen_test]
async fn no_dele_when_the_store_fails() {
    let store = fresh_store("fail").await;
    let mailbox = Mailbox::with(3, 1000);
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), "me@example.org");
    store.close(); // every later transaction fails
    let err = run(&mut server, &store, ServerPolicy::DeleteAfterDownload, NOW)
        .await
        .unwrap_err();
    assert!(matches!(err, SyncError::Store(_)), "{err:?}");
    assert_eq!(mailbox.borrow().deles(), 0, "{:?}", mailbox.borrow().log);
    assert_eq!(mailbox.borrow().messages.len(), 3);
}

#[wasm_bindgen_test]
async fn leave_on_server_downloads_once() {
    let store = fresh_store("leave").await;
    let mailbox = Mailbox::with(4, 500);
    let policy = ServerPolicy::Leave {
        after_days: None,
        mirror_deletes: false,
    };
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), "me@example.org");
    assert_eq!(
        run(&mut server, &store, policy, NOW)
            .await
            .unwrap()
            .downloaded,
        4
    );
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), "me@example.org");
    let second = run(&mut server, &store, policy, NOW + DAY).await.unwrap();
    assert_eq!(
        second.downloaded, 0,
        "UIDL ledger prevents downloading twice"
    );
    assert_eq!(mailbox.borrow().messages.len(), 4);
    assert_eq!(mailbox.borrow().deles(), 0);
    let retrs = mailbox
        .borrow()
        .log
        .iter()
        .filter(|l| l.starts_with("RETR"))
        .count();
    assert_eq!(retrs, 4);
}

#[wasm_bindgen_test]
async fn leave_then_delete_after_days() {
    let store = fresh_store("days").await;
    let mailbox = Mailbox::with(2, 500);
    let policy = ServerPolicy::Leave {
        after_days: Some(7),
        mirror_deletes: false,
    };
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), "me@example.org");
    run(&mut server, &store, policy, NOW).await.unwrap();
    mailbox
        .borrow_mut()
        .messages
        .push(("uid-new".into(), common::fake_pop3::sample(9, 400)));
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), "me@example.org");
    let out = run(&mut server, &store, policy, NOW + 6.0 * DAY)
        .await
        .unwrap();
    assert_eq!(
        (out.downloaded, out.deleted_on_server),
        (1, 0),
        "day 6: nothing old enough"
    );
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), "me@example.org");
    let out = run(&mut server, &store, policy, NOW + 7.0 * DAY)
        .await
        .unwrap();
    assert_eq!(
        (out.downloaded, out.deleted_on_server),
        (0, 2),
        "day 7: the first two go"
    );
    assert_eq!(mailbox.borrow().uidls(), vec!["uid-new".to_string()]);
    assert!(mailbox.borrow().violations.is_empty());
}

#[wasm_bindgen_test]
async fn deleted_here_is_deleted_on_server_at_next_sync() {
    let store = fresh_store("mirror").await;
    let mailbox = Mailbox::with(3, 500);
    let policy = ServerPolicy::Leave {
        after_days: None,
        mirror_deletes: true,
    };
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), "me@example.org");
    run(&mut server, &store, policy, NOW).await.unwrap();
    store
        .delete_local("me@example.org", "uid-0002", true)
        .await
        .unwrap();
    assert_eq!(
        store.pending_deletes("me@example.org").await.unwrap().len(),
        1
    );
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), "me@example.org");
    let out = run(&mut server, &store, policy, NOW).await.unwrap();
    assert_eq!(
        (out.downloaded, out.deleted_on_server),
        (0, 1),
        "not downloaded again, deleted there"
    );
    assert_eq!(
        mailbox.borrow().uidls(),
        vec!["uid-0001".to_string(), "uid-0003".to_string()]
    );
    assert!(
        store
            .pending_deletes("me@example.org")
            .await
            .unwrap()
            .is_empty(),
        "queue drained"
    );
    assert_eq!(store.list("me@example.org").await.unwrap().len(), 2);
    assert!(
        mailbox.borrow().violations.is_empty(),
        "deleted here after a committed download"
    );
}

/// Messages are committed several to a transaction (one per message cost 8 ms each), and still
/// every DELE follows the commit of its own message's batch.
#[wasm_bindgen_test]
async fn many_messages_commit_in_batches_and_each_dele_follows_its_batch() {
    let store = fresh_store("batch").await;
    let mailbox = Mailbox::with(100, 1500);
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    server.chunk = 4096;
    let before = idb_watch::body_transactions();
    let out = run(&mut server, &store, ServerPolicy::DeleteAfterDownload, NOW)
        .await
        .unwrap();
    let transactions = idb_watch::body_transactions() - before;
    assert_eq!((out.downloaded, out.deleted_on_server), (100, 100));
    assert!(
        (4..=25).contains(&transactions),
        "100 messages in {transactions} transactions (at most 32 per batch)"
    );
    {
        let mb = mailbox.borrow();
        assert!(
            mb.violations.is_empty(),
            "DELE before commit: {:?}",
            mb.violations
        );
        assert!(mb.messages.is_empty());
    }
    let mut uidls = stored_uidls(&store, ME).await;
    uidls.dedup();
    assert_eq!(uidls.len(), 100);
}
