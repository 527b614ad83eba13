//! The tab's map of index numbers to messages (`store/search/read.rs`), against the real
//! IndexedDB in Chromium: a query while the start still reads the map answers the same and
//! reads no page of it twice, and a query with few hits reads none of it.

mod common;

use common::fresh_store;
use postbag_web::mail::summarize;
use postbag_web::search::find::find;
use postbag_web::search::indexer::index_slice;
use postbag_web::search::parse;
use postbag_web::store::{NewMessage, Store, Summary};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const ACCOUNT: &str = "me@example.org";

/// `n` messages `m0..`, each holding `kappa` and its own `count{i}`, stored and indexed.
async fn indexed(tag: &str, n: usize) -> (Store, Vec<Summary>) {
    let store = fresh_store(tag).await;
    let batch: Vec<NewMessage> = (0..n)
        .map(|i| {
            let raw = format!(
                "From: N <n@example.org>\r\nTo: me@example.org\r\nSubject: Note {i}\r\n\
Date: Mon, 2 Mar 2026 10:00:00 +0000\r\n\r\nkappa count{i}\r\n"
            )
            .into_bytes();
            NewMessage {
                summary: summarize(&raw, ACCOUNT, &format!("m{i}"), 1.0),
                raw,
                server_size: None,
            }
        })
        .collect();
    store.commit_messages(&batch, 1.0).await.unwrap();
    while store.index_pending().await.unwrap() > 0 {
        index_slice(&store).await.unwrap();
    }
    let list = store.list(ACCOUNT).await.unwrap();
    (store, list)
}

async fn uidls(store: &Store, list: &[Summary], text: &str) -> Vec<String> {
    let hits = find(store, &parse(text).unwrap(), list).await.unwrap();
    let mut uidls: Vec<String> = hits.keys.into_iter().map(|(_, u)| u).collect();
    uidls.sort();
    uidls
}

#[wasm_bindgen_test]
async fn a_query_during_the_starts_read_of_the_map_shares_it_and_answers_the_same() {
    let (store, list) = indexed("search-map-shared", 30).await;
    assert_eq!(store.doc_map_pages_read(), 0, "indexing reads no map");
    // The start's read (the indexer's, when it finds nothing queued), and beside it a
    // query's that needs the whole map (more hits than are read one by one), and a query.
    let start = store.clone();
    wasm_bindgen_futures::spawn_local(async move { start.read_doc_keys().await.unwrap() });
    store.read_doc_keys().await.unwrap();
    let during = uidls(&store, &list, "kappa ").await;
    // Whatever still runs has ended once a read after it ends.
    gloo_timers::future::TimeoutFuture::new(50).await;
    store.read_doc_keys().await.unwrap();
    assert_eq!(during.len(), 30);
    assert_eq!(
        during,
        uidls(&store, &list, "kappa ").await,
        "the same answer after"
    );
    assert_eq!(
        store.doc_map_pages_read(),
        1,
        "30 numbers are one page, read once (two reads side by side read it twice)"
    );
}

#[wasm_bindgen_test]
async fn a_rare_word_does_not_wait_for_the_whole_map() {
    let (store, list) = indexed("search-map-direct", 40).await;
    assert_eq!(uidls(&store, &list, "count7 ").await, ["m7"]);
    assert_eq!(
        store.doc_map_pages_read(),
        0,
        "one number is read by itself, not with the map's pages"
    );
    // The whole map read later agrees with what was read by itself.
    store.read_doc_keys().await.unwrap();
    assert_eq!(store.doc_map_pages_read(), 1);
    assert_eq!(uidls(&store, &list, "count7 ").await, ["m7"]);
    assert_eq!(uidls(&store, &list, "kappa ").await.len(), 40);
}
