//! The IndexedDB store in Chromium: migrations, the one-transaction commit, the ledger.

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use common::{fresh_store, idb_watch, raw_idb};
use postbag_web::mail::summarize;
use postbag_web::store::{NewMessage, OtherTab, Store, schema};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn fresh_database_has_every_store_at_the_current_version() {
    let store = fresh_store("schema").await;
    assert_eq!(store.version(), schema::current_version());
    let mut names = store.store_names();
    names.sort();
    assert_eq!(
        names,
        [
            "accounts",
            "bodies",
            "disk_copy",
            "drafts",
            "folders",
            "ledger",
            "outbox",
            "outbox_raw",
            "pending_deletes",
            "rules",
            "search_blocks",
            "search_dead",
            "search_doc_of",
            "search_docs",
            "search_meta",
            "search_queue",
            "summaries"
        ]
    );
}

#[wasm_bindgen_test]
async fn v1_database_migrates_to_current_keeping_data() {
    let name = format!("postbag-test-migrate-{}", js_sys::Math::random());
    let v1 = Store::open_at(&name, 1).await.unwrap();
    assert_eq!(v1.version(), 1);
    assert!(!v1.store_names().contains(&"pending_deletes".to_string()));
    v1.close();
    // Written as a v1 build wrote them (the app's commit writes today's stores only).
    let raw = common::fake_pop3::sample(1, 800);
    let s = summarize(&raw, "a", "u1", 5.0);
    raw_idb::put(&name, "summaries", &serde_json::to_string(&s).unwrap()).await;
    raw_idb::put_bytes(&name, "bodies", r#"["a","u1"]"#, &raw).await;
    raw_idb::put(
        &name,
        "ledger",
        r#"{"account":"a","uidl":"u1","first_seen":5.0,"on_server":true}"#,
    )
    .await;

    let cur = Store::open_named(&name).await.unwrap();
    assert_eq!(cur.version(), schema::current_version());
    assert!(cur.store_names().contains(&"pending_deletes".to_string()));
    assert_eq!(cur.raw("a", "u1").await.unwrap(), Some(raw));
    assert_eq!(cur.list("a").await.unwrap(), vec![s]);
    assert_eq!(cur.ledger("a").await.unwrap().len(), 1);
}

/// v3 gives ledger lines `size` and `gone_since`. A v2 line (without them) is rewritten with
/// both null and reads as "size unknown, listed": the UIDL alone is trusted, as before.
#[wasm_bindgen_test]
async fn v2_ledger_lines_migrate_to_v3_without_size() {
    let name = format!("postbag-test-migrate-v2-{}", js_sys::Math::random());
    Store::open_at(&name, 2).await.unwrap().close();
    raw_idb::put(
        &name,
        "ledger",
        r#"{"account":"a","uidl":"u1","first_seen":5.0,"on_server":true}"#,
    )
    .await;

    let cur = Store::open_named(&name).await.unwrap();
    assert_eq!(cur.version(), schema::current_version());
    assert!(schema::current_version() >= 3);
    let line = &cur.ledger("a").await.unwrap()[0];
    assert_eq!(
        (
            line.uidl.as_str(),
            line.first_seen,
            line.on_server,
            line.size,
            line.gone_since
        ),
        ("u1", 5.0, true, None, None)
    );
    cur.close();
    let stored = raw_idb::all(&name, "ledger").await;
    assert_eq!(stored[0]["size"], serde_json::Value::Null);
    assert_eq!(stored[0]["gone_since"], serde_json::Value::Null);
    assert!(
        stored[0].as_object().unwrap().contains_key("gone_since"),
        "rewritten by the migration: {stored}"
    );
}

/// What a store's `other_tab` callback was told, in order.
fn recorder() -> (Rc<RefCell<Vec<OtherTab>>>, impl Fn(OtherTab) + 'static) {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let sink = seen.clone();
    (seen, move |event| sink.borrow_mut().push(event))
}

/// A newer build opened in another tab must not wait forever on this tab's connection: the
/// store closes it on `versionchange` and says so, and the newer build's upgrade completes.
#[wasm_bindgen_test]
async fn a_store_closes_itself_when_another_tab_upgrades() {
    let name = format!("postbag-test-versionchange-{}", js_sys::Math::random());
    let (seen, tell) = recorder();
    let store = Store::open_watched(&name, schema::current_version(), tell)
        .await
        .unwrap();
    assert!(store.accounts().await.is_ok());

    let next = schema::current_version() + 1;
    assert!(
        raw_idb::upgrade(&name, next, 5_000).await,
        "the upgrade to v{next} waited on the open store"
    );
    assert_eq!(*seen.borrow(), [OtherTab::Upgraded]);
    // The connection is closed: the store refuses work instead of racing the new schema.
    assert!(store.accounts().await.is_err());
}

/// An older tab that does not close (a build from before the handler) blocks the upgrade: the
/// store says so, keeps waiting, and opens once that tab's connection closes.
#[wasm_bindgen_test]
async fn a_blocked_upgrade_is_reported_and_completes_when_the_old_tab_closes() {
    let name = format!("postbag-test-blocked-{}", js_sys::Math::random());
    Store::open_at(&name, 2).await.unwrap().close();
    let old_tab = raw_idb::hold_open(&name, 2).await;

    let (seen, tell) = recorder();
    let opened: Rc<RefCell<Option<Store>>> = Rc::default();
    let slot = opened.clone();
    let target = name.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let store = Store::open_watched(&target, schema::current_version(), tell).await;
        *slot.borrow_mut() = Some(store.unwrap());
    });
    wait_until("the blocked event", || !seen.borrow().is_empty()).await;
    assert_eq!(*seen.borrow(), [OtherTab::BlocksUpgrade]);
    assert!(
        opened.borrow().is_none(),
        "opened while the old tab held v2"
    );

    old_tab.close();
    wait_until("the open", || opened.borrow().is_some()).await;
    let store = opened.borrow_mut().take().unwrap();
    assert_eq!(store.version(), schema::current_version());
    assert_eq!(*seen.borrow(), [OtherTab::BlocksUpgrade]);
}

/// Polls `done` every 20 ms, failing after 5 s.
async fn wait_until(what: &str, done: impl Fn() -> bool) {
    for _ in 0..250 {
        if done() {
            return;
        }
        gloo_timers::future::TimeoutFuture::new(20).await;
    }
    panic!("timed out waiting for {what}");
}

#[wasm_bindgen_test]
async fn commit_writes_bytes_summary_and_ledger_together() {
    let store = fresh_store("commit").await;
    let raw = b"From: =?UTF-8?Q?J=C3=BCrgen?= <j@example.org>\r\nSubject: =?UTF-8?B?R3LDvMOfZQ==?=\r\nDate: Tue, 3 Mar 2026 08:00:00 +0000\r\n\r\nHallo\r\n".to_vec();
    let s = summarize(&raw, "acc", "x1", 1.0);
    assert_eq!(s.from, "Jürgen");
    assert_eq!(s.subject, "Grüße");
    assert_eq!(s.date, 1_772_524_800_000.0);
    assert!(s.snippet.starts_with("Hallo"));
    assert!(!s.read);
    store.commit_message(&s, &raw, 42.0).await.unwrap();
    assert_eq!(store.raw("acc", "x1").await.unwrap(), Some(raw));
    let ledger = store.ledger("acc").await.unwrap();
    assert_eq!(ledger.len(), 1);
    assert_eq!((ledger[0].first_seen, ledger[0].on_server), (42.0, true));
    assert_eq!((ledger[0].size, ledger[0].gone_since), (None, None));
    // Other accounts do not see it.
    assert!(store.list("other").await.unwrap().is_empty());
    assert!(store.ledger("other").await.unwrap().is_empty());
}

#[wasm_bindgen_test]
async fn list_is_newest_first_and_never_needs_bodies() {
    let store = fresh_store("list").await;
    let items: Vec<_> = (0..50)
        .map(|i| {
            let raw = common::fake_pop3::sample(i, 200);
            let mut s = summarize(&raw, "acc", &format!("u{i}"), 0.0);
            s.date = (i * 1000) as f64;
            (s, raw)
        })
        .collect();
    store.bulk_insert(&items).await.unwrap();
    let list = store.list("acc").await.unwrap();
    assert_eq!(list.len(), 50);
    assert_eq!(list[0].uidl, "u49");
    assert_eq!(list[49].uidl, "u0");
}

#[wasm_bindgen_test]
async fn delete_local_keeps_ledger_and_queues_server_delete() {
    let store = fresh_store("del").await;
    let raw = common::fake_pop3::sample(1, 100);
    store
        .commit_message(&summarize(&raw, "acc", "u1", 0.0), &raw, 0.0)
        .await
        .unwrap();
    store.delete_local("acc", "u1", true).await.unwrap();
    assert!(store.list("acc").await.unwrap().is_empty());
    assert_eq!(store.raw("acc", "u1").await.unwrap(), None);
    assert_eq!(
        store.ledger("acc").await.unwrap().len(),
        1,
        "still known: never re-downloaded"
    );
    assert_eq!(store.pending_deletes("acc").await.unwrap().len(), 1);
    store
        .server_deleted("acc", &["u1".to_string()])
        .await
        .unwrap();
    assert!(store.pending_deletes("acc").await.unwrap().is_empty());
    assert!(!store.ledger("acc").await.unwrap()[0].on_server);
}

/// A commit that fails after its first `put` (here the browser refuses the summary) is aborted:
/// no body is left without its summary and ledger line.
#[wasm_bindgen_test]
async fn a_commit_that_fails_part_way_leaves_nothing() {
    idb_watch::install();
    let store = fresh_store("abort").await;
    let raw = common::fake_pop3::sample(1, 500);
    let s = summarize(&raw, "acc", "u1", 0.0);
    idb_watch::fail_next_put("summaries");
    let err = store.commit_message(&s, &raw, 0.0).await;
    assert!(err.is_err(), "{err:?}");
    assert_eq!(
        store.raw("acc", "u1").await.unwrap(),
        None,
        "no orphan body"
    );
    assert!(store.list("acc").await.unwrap().is_empty());
    assert!(store.ledger("acc").await.unwrap().is_empty());
    // The store is still usable afterwards.
    store.commit_message(&s, &raw, 0.0).await.unwrap();
    assert_eq!(store.raw("acc", "u1").await.unwrap(), Some(raw));
}

/// A batch is one transaction: a failure in its last message undoes the first ones too.
#[wasm_bindgen_test]
async fn a_batch_commits_whole_or_not_at_all() {
    idb_watch::install();
    let store = fresh_store("batch-abort").await;
    let batch: Vec<NewMessage> = (1..=3)
        .map(|i| {
            let raw = common::fake_pop3::sample(i, 300);
            NewMessage {
                summary: summarize(&raw, "acc", &format!("u{i}"), 0.0),
                raw,
                server_size: Some(300 + i as u64),
            }
        })
        .collect();
    // The third message's ledger line is refused: two whole messages were queued before it.
    idb_watch::fail_nth_put("ledger", 3);
    assert!(store.commit_messages(&batch, 1.0).await.is_err());
    assert!(store.list("acc").await.unwrap().is_empty());
    assert_eq!(store.raw("acc", "u1").await.unwrap(), None);
    assert!(store.ledger("acc").await.unwrap().is_empty());

    store.commit_messages(&batch, 1.0).await.unwrap();
    assert_eq!(store.list("acc").await.unwrap().len(), 3);
    let ledger = store.ledger("acc").await.unwrap();
    assert_eq!(ledger[2].size, Some(303), "the listed size is kept");
}
