//! A broad query shows its best page (`search::find::best_of`), against the real IndexedDB in
//! Chromium: the page is the start of the whole answer in the same order, and the answer says
//! how many were found in all.

mod common;

use common::fresh_store;
use postbag_web::mail::summarize;
use postbag_web::search::find::{best_of, candidates, find, scope};
use postbag_web::search::indexer::index_slice;
use postbag_web::search::parse;
use postbag_web::store::{NewMessage, Summary, TRASH};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const ACCOUNT: &str = "me@example.org";

/// 40 messages holding `lumen`, on different days; every third has it in its subject (it
/// ranks first), every fifth is from Lumen (second); one is in Trash.
fn mail() -> Vec<NewMessage> {
    (0..40)
        .map(|i: u32| {
            let subject = if i.is_multiple_of(3) { "Lumen notes" } else { "Notes" };
            let from = if i.is_multiple_of(5) { "Lumen Co" } else { "Ann" };
            let raw = format!(
                "From: {from} <x{i}@example.org>\r\nTo: me@example.org\r\nSubject: {subject} {i}\r\n\
Date: {} Mar 2026 10:00:00 +0000\r\n\r\nlumen body{i}\r\n",
                1 + (i * 7) % 28
            )
            .into_bytes();
            NewMessage {
                summary: summarize(&raw, ACCOUNT, &format!("u{i:02}"), 1.0),
                raw,
                server_size: None,
            }
        })
        .collect()
}

#[wasm_bindgen_test]
async fn a_broad_querys_best_page_is_the_start_of_the_whole_answer() {
    let store = fresh_store("search-best-page").await;
    store.commit_messages(&mail(), 1.0).await.unwrap();
    while store.index_pending().await.unwrap() > 0 {
        index_slice(&store).await.unwrap();
    }
    let mut list: Vec<Summary> = store.list(ACCOUNT).await.unwrap();
    list.iter_mut()
        .find(|s| s.uidl == "u07")
        .expect("stored")
        .folder = TRASH.into();
    for text in ["lumen", "lumen ", "lum", "from:lumen", "notes lumen"] {
        let mut whole_query = parse(text).unwrap();
        let scoped = scope(&mut whole_query, &list, "inbox", &[]);
        let whole = find(&store, &whole_query, &scoped).await.unwrap();
        for limit in [0, 1, 7, 39, 100] {
            let mut query = parse(text).unwrap();
            let index = candidates(&store, &query, &|| false)
                .await
                .unwrap()
                .unwrap();
            let read = |f: &mut dyn FnMut(&[Summary])| f(&list);
            let page = best_of(&store, &mut query, read, ("inbox", &[]), index, limit)
                .await
                .unwrap();
            let n = limit.min(whole.keys.len());
            assert_eq!(page.keys, whole.keys[..n], "{text:?}, the best {limit}");
            assert_eq!(page.total, whole.keys.len(), "{text:?}: how many in all");
            assert_eq!(page.terms, whole.terms);
        }
        assert!(
            !whole.keys.iter().any(|(_, u)| u == "u07"),
            "{text:?}: Trash is not searched from Inbox"
        );
    }
    // The ranking is not just the date: subject hits lead.
    let whole = find(&store, &parse("lumen ").unwrap(), &list)
        .await
        .unwrap();
    assert_eq!(whole.total, 40);
    assert!(whole.keys[..14].iter().all(|(_, u)| {
        let i: usize = u[1..].parse().unwrap();
        i.is_multiple_of(3)
    }));
}
