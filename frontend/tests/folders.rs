//! Local folders in the real IndexedDB (Chromium): moving, copying, Trash and its emptying,
//! deleting a folder of the user's, and the rules as stored. None of it touches the ledger;
//! deleting for good queues a server deletion only for an original whose account asks.

mod common;

use common::{fresh_store, index_everything};
use postbag_web::mail::summarize;
use postbag_web::store::{
    ARCHIVE, INBOX, MessageKey, Rule, RuleField, RuleTest, Store, TRASH, UserFolder,
};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const A: &str = "a@example.org";
const NOW: f64 = 1_780_000_000_000.0;
const DAY: f64 = 86_400_000.0;

/// A store holding `n` synced messages of account A (uidls u1..un), each with its ledger line.
async fn store_with(tag: &str, n: usize) -> Store {
    let store = fresh_store(tag).await;
    for i in 1..=n {
        let raw = common::fake_pop3::sample(i, 600);
        let s = summarize(&raw, A, &format!("u{i}"), NOW);
        store.commit_message(&s, &raw, NOW).await.unwrap();
    }
    store
}

fn key(uidl: &str) -> MessageKey {
    (A.into(), uidl.into())
}

/// `uidl → folder` of every stored message, sorted by UIDL.
async fn placement(store: &Store) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = store
        .list(A)
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.uidl, s.folder))
        .collect();
    all.sort();
    all
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[wasm_bindgen_test]
async fn mail_stored_before_folders_reads_as_inbox() {
    // A summary as an older build wrote it: no `folder`, no `trashed_at`.
    let store = fresh_store("folders-old").await;
    let json = format!(
        r#"{{"account":"{A}","uidl":"old","from":"x","to":"y","subject":"s","date":1.0,
        "size":3,"has_attachments":false,"snippet":"","read":false,"flagged":false}}"#
    );
    common::raw_idb::put(&store.name(), "summaries", &json).await;
    let listed = store.list(A).await.unwrap();
    assert_eq!(listed[0].folder, INBOX);
    assert_eq!(listed[0].trashed_at, None);
}

#[wasm_bindgen_test]
async fn move_archive_trash_restore_and_the_ledger_stays() {
    let store = store_with("folders-move", 4).await;
    let ledger_before = store.ledger(A).await.unwrap();
    let moved = store
        .move_messages(&[key("u1"), key("u2"), key("gone")], ARCHIVE, NOW)
        .await
        .unwrap();
    assert_eq!(moved.len(), 2, "a key no longer stored is skipped");
    store
        .move_messages(&[key("u3")], TRASH, NOW + 5.0)
        .await
        .unwrap();
    assert_eq!(
        placement(&store).await,
        pairs(&[
            ("u1", ARCHIVE),
            ("u2", ARCHIVE),
            ("u3", TRASH),
            ("u4", INBOX)
        ])
    );
    let trashed = store.list(A).await.unwrap();
    let u3 = trashed.iter().find(|s| s.uidl == "u3").unwrap();
    assert_eq!(u3.trashed_at, Some(NOW + 5.0), "Trash remembers when");
    // Restored: back to Inbox, and no longer due to be emptied.
    store
        .move_messages(&[key("u3")], INBOX, NOW + 9.0)
        .await
        .unwrap();
    let u3 = store
        .list(A)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.uidl == "u3")
        .unwrap();
    assert_eq!((u3.folder.as_str(), u3.trashed_at), (INBOX, None));
    assert_eq!(
        store.ledger(A).await.unwrap(),
        ledger_before,
        "moving never touches the ledger"
    );
    assert!(store.pending_deletes(A).await.unwrap().is_empty());
    // The bytes stay where they were.
    assert!(store.raw(A, "u1").await.unwrap().is_some());
}

#[wasm_bindgen_test]
async fn a_copy_has_its_own_bytes_and_deleting_it_queues_nothing() {
    let store = store_with("folders-copy", 2).await;
    let ledger_before = store.ledger(A).await.unwrap();
    let copies = store
        .copy_messages(&[key("u1")], ARCHIVE, NOW)
        .await
        .unwrap();
    assert_eq!(copies.len(), 1);
    let copy = &copies[0];
    assert_ne!(copy.uidl, "u1");
    assert_eq!(copy.folder, ARCHIVE);
    assert_eq!(
        store.raw(A, &copy.uidl).await.unwrap(),
        store.raw(A, "u1").await.unwrap(),
        "the copy reads the same bytes"
    );
    // Deleting the copy for good, with an account that mirrors deletes: the original, its
    // ledger line and the server are untouched.
    store
        .delete_for_good(&[(A.into(), copy.uidl.clone())], |_| true)
        .await
        .unwrap();
    assert!(store.pending_deletes(A).await.unwrap().is_empty());
    assert_eq!(store.ledger(A).await.unwrap(), ledger_before);
    assert_eq!(
        placement(&store).await,
        pairs(&[("u1", INBOX), ("u2", INBOX)])
    );
    // Deleting the original (mirroring) queues its server deletion, as a local delete does;
    // a copy made before keeps its bytes.
    let copies = store.copy_messages(&[key("u2")], TRASH, NOW).await.unwrap();
    store.delete_for_good(&[key("u2")], |_| true).await.unwrap();
    let pending = store.pending_deletes(A).await.unwrap();
    assert_eq!(
        pending.iter().map(|p| p.uidl.as_str()).collect::<Vec<_>>(),
        ["u2"]
    );
    assert!(store.raw(A, &copies[0].uidl).await.unwrap().is_some());
    assert!(store.raw(A, "u2").await.unwrap().is_none());
    assert_eq!(
        store.ledger(A).await.unwrap(),
        ledger_before,
        "the ledger line stays"
    );
}

#[wasm_bindgen_test]
async fn trash_is_due_only_after_the_days_chosen() {
    let store = store_with("folders-due", 3).await;
    store
        .move_messages(&[key("u1")], TRASH, NOW - 31.0 * DAY)
        .await
        .unwrap();
    store
        .move_messages(&[key("u2")], TRASH, NOW - 29.0 * DAY)
        .await
        .unwrap();
    let due = store.trash_due(NOW - 30.0 * DAY).await.unwrap();
    assert_eq!(due, [key("u1")]);
    store.delete_for_good(&due, |_| false).await.unwrap();
    assert_eq!(
        placement(&store).await,
        pairs(&[("u2", TRASH), ("u3", INBOX)])
    );
    assert!(
        store.pending_deletes(A).await.unwrap().is_empty(),
        "this account does not mirror"
    );
    assert_eq!(
        store.ledger(A).await.unwrap().len(),
        3,
        "never downloaded again"
    );
}

#[wasm_bindgen_test]
async fn deleting_a_folder_files_its_mail_in_inbox_or_trash() {
    let store = store_with("folders-delete", 3).await;
    let receipts = UserFolder {
        id: "f1".into(),
        name: "Receipts".into(),
    };
    let lists = UserFolder {
        id: "f2".into(),
        name: "Lists".into(),
    };
    store.put_folder(&receipts).await.unwrap();
    store.put_folder(&lists).await.unwrap();
    assert_eq!(
        store.folders().await.unwrap(),
        [lists.clone(), receipts.clone()],
        "by name"
    );
    assert_eq!(store.folder_ids().await.unwrap(), [ARCHIVE, "f2", "f1"]);
    store
        .move_messages(&[key("u1"), key("u2")], "f1", NOW)
        .await
        .unwrap();
    store.move_messages(&[key("u3")], "f2", NOW).await.unwrap();

    let moved = store.delete_folder("f1", INBOX, NOW).await.unwrap();
    assert_eq!(moved.len(), 2);
    let moved = store.delete_folder("f2", TRASH, NOW + 1.0).await.unwrap();
    assert_eq!(moved[0].trashed_at, Some(NOW + 1.0));
    assert_eq!(
        placement(&store).await,
        pairs(&[("u1", INBOX), ("u2", INBOX), ("u3", TRASH)])
    );
    assert!(store.folders().await.unwrap().is_empty());
    // A rename rewrites the folder's record only.
    store.put_folder(&receipts).await.unwrap();
    store.move_messages(&[key("u1")], "f1", NOW).await.unwrap();
    let renamed = UserFolder {
        name: "Bills".into(),
        ..receipts
    };
    store.put_folder(&renamed).await.unwrap();
    assert_eq!(store.folders().await.unwrap(), [renamed]);
    assert_eq!(
        placement(&store).await[0],
        ("u1".to_string(), "f1".to_string())
    );
}

#[wasm_bindgen_test]
async fn rules_keep_the_order_given() {
    let store = fresh_store("rules-order").await;
    let rule = |id: &str| Rule {
        id: id.into(),
        position: 99,
        field: RuleField::Subject,
        test: RuleTest::Contains,
        value: id.into(),
        move_to: Some(ARCHIVE.into()),
        mark_read: false,
        flag: true,
    };
    store
        .put_rules(&[rule("b"), rule("a"), rule("c")])
        .await
        .unwrap();
    let ids: Vec<String> = store
        .rules()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(ids, ["b", "a", "c"]);
    store.put_rules(&[rule("c"), rule("b")]).await.unwrap();
    let stored = store.rules().await.unwrap();
    assert_eq!(
        stored.iter().map(|r| r.position).collect::<Vec<_>>(),
        [0, 1]
    );
    assert_eq!(stored[0].id, "c");
}

/// The UIDLs whose postings hold `term`, sorted.
async fn indexed(store: &Store, term: &str) -> Vec<String> {
    let (keys, _) = store.postings(term, false, 1000).await.unwrap();
    let mut uidls: Vec<String> = keys.into_iter().map(|(_, u)| u).collect();
    uidls.sort();
    uidls
}

#[wasm_bindgen_test]
async fn copies_are_indexed_and_mail_deleted_for_good_leaves_the_index() {
    let store = store_with("folders-search", 2).await;
    index_everything(&store).await;
    assert_eq!(indexed(&store, "lorem").await, ["u1", "u2"]);
    // A copy is found under its own key, in the folder it was copied to.
    let copies = store
        .copy_messages(&[key("u1")], ARCHIVE, NOW)
        .await
        .unwrap();
    index_everything(&store).await;
    let copy = copies[0].uidl.clone();
    let mut want = vec![copy.clone(), "u1".to_string(), "u2".to_string()];
    want.sort();
    assert_eq!(indexed(&store, "lorem").await, want, "the copy is indexed");
    // Deleted for good (Empty Trash): no posting of its words stays behind.
    store
        .delete_for_good(&[key("u2"), (A.into(), copy)], |_| false)
        .await
        .unwrap();
    index_everything(&store).await;
    assert_eq!(indexed(&store, "lorem").await, ["u1"]);
    assert_eq!(indexed(&store, "sender").await, ["u1"], "each of its terms");
}
