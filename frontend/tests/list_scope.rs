//! Listing reads only what it lists, in the real IndexedDB (Chromium): the unified inbox never
//! reads imported mail, and emptying Trash finds its due messages without reading the rest.
//! Each test plants a record that cannot be read as a summary where the listing must not look:
//! reading it fails the listing, so a read beyond the listing's scope fails the test.

mod common;

use common::fresh_store;
use postbag_web::mail::summarize;
use postbag_web::store::{IMPORTED, INBOX, MessageKey, Store, TRASH};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const NOW: f64 = 1_780_000_000_000.0;
const DAY: f64 = 86_400_000.0;

async fn commit(store: &Store, account: &str, uidl: &str, date: f64) {
    let raw = common::fake_pop3::sample(uidl.len() + account.len(), 300);
    let mut s = summarize(&raw, account, uidl, NOW);
    s.date = date;
    store.commit_message(&s, &raw, NOW).await.unwrap();
}

/// A summaries record that is not a summary (its date is text, its fields missing).
async fn plant_unreadable(store: &Store, account: &str, uidl: &str) {
    let json = format!(r#"{{"account":"{account}","uidl":"{uidl}","date":"unreadable"}}"#);
    common::raw_idb::put(&store.name(), "summaries", &json).await;
}

#[wasm_bindgen_test]
async fn the_unified_inbox_reads_no_imported_mail() {
    let store = fresh_store("list-received-scope").await;
    // Account keys on both sides of "imported" in IndexedDB's order.
    commit(&store, "alice@example.org", "a1", 1.0).await;
    commit(&store, "zed@example.org", "z1", 3.0).await;
    commit(&store, "alice@example.org", "a2", 2.0).await;
    plant_unreadable(&store, IMPORTED, "i1").await;
    let listed: Vec<MessageKey> = store
        .list_received()
        .await
        .expect("the imported record is never read")
        .into_iter()
        .map(|s| (s.account, s.uidl))
        .collect();
    let key = |a: &str, u: &str| (a.to_string(), u.to_string());
    assert_eq!(
        listed,
        [
            key("zed@example.org", "z1"),
            key("alice@example.org", "a2"),
            key("alice@example.org", "a1"),
        ]
    );
    // The same record under a received account is read, and fails the listing: the test's
    // plant is a real witness.
    plant_unreadable(&store, "bob@example.org", "b1").await;
    assert!(store.list_received().await.is_err());
}

#[wasm_bindgen_test]
async fn trash_due_reads_trash_only() {
    let store = fresh_store("trash-due-scope").await;
    const A: &str = "a@example.org";
    for u in ["u1", "u2", "u3"] {
        commit(&store, A, u, 1.0).await;
    }
    let key = |u: &str| (A.to_string(), u.to_string());
    store
        .move_messages(&[key("u1")], TRASH, NOW - 31.0 * DAY)
        .await
        .unwrap();
    store
        .move_messages(&[key("u2")], TRASH, NOW - 2.0 * DAY)
        .await
        .unwrap();
    plant_unreadable(&store, A, "not-in-trash").await;
    assert_eq!(
        store
            .trash_due(NOW - 30.0 * DAY)
            .await
            .expect("only Trash is read"),
        [key("u1")]
    );
    // Moved out of Trash, a message is no longer due, whatever its old Trash time was.
    store.move_messages(&[key("u1")], INBOX, NOW).await.unwrap();
    assert!(
        store
            .trash_due(NOW)
            .await
            .unwrap()
            .iter()
            .all(|k| k != &key("u1"))
    );
    assert_eq!(store.trash_due(NOW).await.unwrap(), [key("u2")]);
}

/// The keys of `list`, in its order.
fn uidls(list: &[postbag_web::store::Summary]) -> Vec<&str> {
    list.iter().map(|s| s.uidl.as_str()).collect()
}

#[wasm_bindgen_test]
async fn the_newest_are_read_without_the_rest() {
    use postbag_web::store::Newest;
    let store = fresh_store("newest").await;
    const A: &str = "a@example.org";
    // Dates: u1 1, u2 2, u3 2, u4 3, u5 4; another account's newer mail beside them.
    for (u, date) in [
        ("u1", 1.0),
        ("u2", 2.0),
        ("u3", 2.0),
        ("u4", 3.0),
        ("u5", 4.0),
    ] {
        commit(&store, A, u, date).await;
    }
    commit(&store, "b@example.org", "b1", 9.0).await;
    let Newest::Page(page) = store.newest(A, 2).await.unwrap() else {
        panic!("more than 2 are stored")
    };
    assert_eq!(uidls(&page), ["u5", "u4"]);
    // The one past the third newest (u2) shares its date with u3: u3 is left out with it, so
    // the page never splits a date that the whole list orders by UIDL.
    let Newest::Page(page) = store.newest(A, 3).await.unwrap() else {
        panic!("more than 3 are stored")
    };
    assert_eq!(uidls(&page), ["u5", "u4"]);
    for limit in [5, 6, 100] {
        let Newest::Whole(all) = store.newest(A, limit).await.unwrap() else {
            panic!("no more than {limit} are stored")
        };
        assert_eq!(uidls(&all), ["u5", "u4", "u3", "u2", "u1"]);
        assert_eq!(
            all,
            store.list(A).await.unwrap(),
            "the whole list, as `list` reads it"
        );
    }
    // An older record that cannot be read is not read for the page (it is for the whole).
    plant_older_unreadable(&store, A).await;
    let Newest::Page(page) = store
        .newest(A, 2)
        .await
        .expect("the older record is not read")
    else {
        panic!("more than 2 are stored")
    };
    assert_eq!(uidls(&page), ["u5", "u4"]);
    assert!(store.newest(A, 100).await.is_err());
    assert_eq!(
        store.newest("nobody@example.org", 100).await.unwrap(),
        Newest::Whole(Vec::new())
    );
}

/// An unreadable summaries record of `account` dated before all of its mail.
async fn plant_older_unreadable(store: &Store, account: &str) {
    let json = format!(r#"{{"account":"{account}","uidl":"old","date":0.5}}"#);
    common::raw_idb::put(&store.name(), "summaries", &json).await;
}

#[wasm_bindgen_test]
async fn whether_an_account_holds_mail_is_asked_of_the_index() {
    let store = fresh_store("holds-any").await;
    assert!(!store.holds_any(IMPORTED).await.unwrap());
    commit(&store, "a@example.org", "u1", 1.0).await;
    assert!(
        !store.holds_any(IMPORTED).await.unwrap(),
        "another account's mail"
    );
    assert!(store.holds_any("a@example.org").await.unwrap());
    // The first key is enough: an unreadable record is never read for it.
    plant_older_unreadable(&store, IMPORTED).await;
    assert!(store.holds_any(IMPORTED).await.unwrap());
}
