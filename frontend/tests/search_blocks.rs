//! Block postings (`store/search.rs`, `search/blocks.rs`) against the real IndexedDB in
//! Chromium: two slices' blocks of one term answer as one list, deleted, moved-aside and
//! re-indexed mail is left out of answers at once and out of the blocks by compaction, and a
//! tab's map of numbers is never read against another numbering. (Moved out of `search.rs`.)

mod common;

use common::{fresh_store, index_everything};
use postbag_web::mail::summarize;
use postbag_web::search::find::find;
use postbag_web::search::parse;
use postbag_web::store::search::Compacted;
use postbag_web::store::{NewMessage, Store, Summary};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const ACCOUNT: &str = "me@example.org";

/// Checks that `text` finds exactly the UIDLs `expected` in `list`.
async fn check(store: &Store, list: &[Summary], text: &str, expected: &[&str]) {
    let query = parse(text).unwrap();
    let hits = find(store, &query, list).await.unwrap();
    let mut got: Vec<String> = hits.keys.into_iter().map(|(_, uidl)| uidl).collect();
    got.sort();
    let mut want: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(got, want, "search {text:?}");
}

/// Messages `m0..m{n}` whose bodies hold `word` and their number.
fn numbered(n: usize, word: &str) -> Vec<NewMessage> {
    (0..n)
        .map(|i| {
            let raw = format!(
                "From: N <n@example.org>\r\nTo: me@example.org\r\nSubject: Note {i}\r\n\
Date: Mon, 2 Mar 2026 10:00:00 +0000\r\n\r\n{word} count{i} terracotta\r\n"
            )
            .into_bytes();
            NewMessage {
                summary: summarize(&raw, ACCOUNT, &format!("{word}{i}"), 1.0),
                raw,
                server_size: None,
            }
        })
        .collect()
}

async fn uidls(store: &Store, term: &str, prefix: bool) -> Vec<String> {
    let (keys, cut) = store.postings(term, prefix, 10_000).await.unwrap();
    assert!(!cut);
    let mut uidls: Vec<String> = keys.into_iter().map(|(_, u)| u).collect();
    uidls.sort();
    uidls
}

#[wasm_bindgen_test]
async fn two_slices_blocks_of_one_term_are_one_answer() {
    let store = fresh_store("search-two-slices").await;
    store
        .commit_messages(&numbered(3, "alpha"), 1.0)
        .await
        .unwrap();
    index_everything(&store).await;
    store
        .commit_messages(&numbered(2, "beta"), 1.0)
        .await
        .unwrap();
    index_everything(&store).await;
    // "terracotta" is in both slices: two blocks, one list.
    let name = store.name();
    let blocks = common::raw_idb::all(&name, "search_blocks").await;
    let list = store.list(ACCOUNT).await.unwrap();
    assert!(blocks.as_array().unwrap().len() >= 2);
    assert_eq!(
        uidls(&store, "terracotta", false).await,
        ["alpha0", "alpha1", "alpha2", "beta0", "beta1"]
    );
    check(
        &store,
        &list,
        "terracotta",
        &["alpha0", "alpha1", "alpha2", "beta0", "beta1"],
    )
    .await;
    // Two words in different slices' blocks intersect.
    check(&store, &list, "terracotta beta", &["beta0", "beta1"]).await;
    // A prefix spans terms and slices: count0..count2 of one, count0..count1 of the other.
    assert_eq!(
        uidls(&store, "count", true).await,
        ["alpha0", "alpha1", "alpha2", "beta0", "beta1"]
    );
    check(&store, &list, "count1", &["alpha1", "beta1"]).await;
    check(
        &store,
        &list,
        "terr",
        &["alpha0", "alpha1", "alpha2", "beta0", "beta1"],
    )
    .await;
    // Exact is exact: "count1" is not "count10".
    assert_eq!(uidls(&store, "count", false).await, Vec::<String>::new());
}

#[wasm_bindgen_test]
async fn deleted_moved_aside_and_reindexed_mail_is_filtered_then_compacted() {
    let store = fresh_store("search-tombstones").await;
    store
        .commit_messages(&numbered(4, "gamma"), 1.0)
        .await
        .unwrap();
    index_everything(&store).await;
    let all = ["gamma0", "gamma1", "gamma2", "gamma3"];
    assert_eq!(uidls(&store, "terracotta", false).await, all);
    // Deleted here: its number is tombstoned, the block still holds it.
    store.delete_local(ACCOUNT, "gamma1", false).await.unwrap();
    // Its UIDL reused by the server: the stored message set aside under another key.
    store
        .set_aside(ACCOUNT, &[("gamma2".into(), "gamma2 aside".into())])
        .await
        .unwrap();
    // Filed in a folder: the key stays, so does its number.
    store
        .move_messages(&[(ACCOUNT.into(), "gamma3".into())], "archive", 2.0)
        .await
        .unwrap();
    index_everything(&store).await;
    assert_eq!(
        store.dead_count().await.unwrap(),
        2,
        "gamma1, gamma2's old number"
    );
    assert_eq!(
        uidls(&store, "terracotta", false).await,
        ["gamma0", "gamma2 aside", "gamma3"]
    );
    let list = store.list(ACCOUNT).await.unwrap();
    check(&store, &list, "count2", &["gamma2 aside"]).await;
    check(&store, &list, "count1", &[]).await;
    check(&store, &list, "in:archive terracotta", &["gamma3"]).await;
    // Indexed again (a changed message under the same key): the old number goes.
    let raw = b"From: N <n@example.org>\r\nSubject: Changed\r\n\r\nrewritten\r\n".to_vec();
    store
        .commit_messages(
            &[NewMessage {
                summary: summarize(&raw, ACCOUNT, "gamma0", 2.0),
                raw,
                server_size: None,
            }],
            2.0,
        )
        .await
        .unwrap();
    index_everything(&store).await;
    assert_eq!(store.dead_count().await.unwrap(), 3);
    assert_eq!(
        uidls(&store, "terracotta", false).await,
        ["gamma2 aside", "gamma3"]
    );
    assert_eq!(uidls(&store, "rewritten", false).await, ["gamma0"]);

    // Compaction: the blocks rewritten without the dead numbers, then the tombstones and
    // their numbers forgotten; the answers stay the same.
    let name = store.name();
    let before = common::raw_idb::all(&name, "search_docs").await;
    loop {
        if let Compacted::PassEnded { forgotten } = store.compact_step().await.unwrap() {
            assert_eq!(forgotten, 3);
            break;
        }
    }
    assert_eq!(store.dead_count().await.unwrap(), 0);
    let after = common::raw_idb::all(&name, "search_docs").await;
    assert_eq!(
        before.as_array().unwrap().len() - 3,
        after.as_array().unwrap().len()
    );
    assert_eq!(
        uidls(&store, "terracotta", false).await,
        ["gamma2 aside", "gamma3"]
    );
    // No block holds a number that is gone: the dead ones were taken out, not just hidden.
    let mut numbers = Vec::new();
    for block in ["terracotta", "count0", "count1", "count2"] {
        numbers.extend(store.doc_postings(block, false).await.unwrap().0);
    }
    assert_eq!(
        numbers.len(),
        3,
        "terracotta twice, count2 once: {numbers:?}"
    );
    assert!(
        store
            .doc_postings("count1", false)
            .await
            .unwrap()
            .0
            .is_empty()
    );
    let list = store.list(ACCOUNT).await.unwrap();
    check(&store, &list, "count", &["gamma2 aside", "gamma3"]).await;
}

#[wasm_bindgen_test]
async fn numbers_given_again_after_the_index_is_cleared_name_the_new_mail() {
    let store = fresh_store("search-epoch").await;
    store
        .commit_messages(&numbered(2, "delta"), 1.0)
        .await
        .unwrap();
    index_everything(&store).await;
    // This tab's map now says 0 and 1 are delta0 and delta1.
    assert_eq!(
        uidls(&store, "terracotta", false).await,
        ["delta0", "delta1"]
    );
    // A restore that failed half-way empties the stores, the index's too: numbering starts
    // again at 0, with a new epoch.
    store.clear_backed_up().await.unwrap();
    store
        .commit_messages(&numbered(2, "omega"), 1.0)
        .await
        .unwrap();
    index_everything(&store).await;
    assert_eq!(
        uidls(&store, "terracotta", false).await,
        ["omega0", "omega1"],
        "read through the old map, 0 and 1 would still be delta0 and delta1"
    );
}
