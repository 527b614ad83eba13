//! The full-text indexer and a sync of the same tab, over the real IndexedDB in Chromium: the
//! batches a sync commits are not indexed while it runs (the indexer's reads and writes would
//! compete with the sync's commits: `tests/benches/README.md`), an indexer already running
//! gives way once the sync starts, and the sync's end starts indexing them all.

mod common;

use common::{fresh_store, sleep, tab_over};
use leptos::prelude::*;
use postbag_web::mail::summarize;
use postbag_web::model::SyncState;
use postbag_web::store::{NewMessage, Store};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const ME: &str = "me@example.org";
const NOW: f64 = 1_780_000_000_000.0;

/// `n` messages committed as a sync's batch does (each queued for the index).
async fn stored(store: &Store, n: usize) -> Vec<postbag_web::store::Summary> {
    let batch: Vec<NewMessage> = (0..n)
        .map(|i| {
            let raw = common::fake_pop3::sample(i, 2_000);
            NewMessage {
                summary: summarize(&raw, ME, &format!("u{i}"), NOW),
                raw: raw.clone(),
                server_size: Some(raw.len() as u64),
            }
        })
        .collect();
    store.commit_messages(&batch, NOW).await.unwrap();
    batch.into_iter().map(|m| m.summary).collect()
}

/// Waits until nothing waits to be indexed, else fails naming how many still wait.
async fn all_indexed(store: &Store) {
    for _ in 0..400 {
        if store.index_pending().await.unwrap() == 0 {
            return;
        }
        sleep(50).await;
    }
    panic!(
        "{} still wait to be indexed after the sync's end",
        store.index_pending().await.unwrap()
    );
}

#[wasm_bindgen_test]
async fn an_indexer_already_running_gives_way_to_a_sync_and_finishes_after_it() {
    let store = fresh_store("index-gives-way").await;
    let model = tab_over(&store);
    // More than one slice (1,000 messages at most) waits: an import, say.
    let n = 2_500;
    stored(&store, n).await;
    model.index_soon();
    // The indexer is on its first slice when a sync starts.
    while model.indexing.get_untracked().is_none() {
        sleep(5).await;
    }
    model.sync.set(SyncState::Connecting);
    // It ends its pass after the slice it was on (the progress line goes).
    for _ in 0..1200 {
        if model.indexing.get_untracked().is_none() {
            break;
        }
        sleep(50).await;
    }
    let left = store.index_pending().await.unwrap();
    assert!(
        left > 0,
        "the indexer went on beside the sync until the queue was empty"
    );
    sleep(500).await;
    assert_eq!(
        store.index_pending().await.unwrap(),
        left,
        "indexed while the sync was writing"
    );

    model.sync.set(SyncState::Done("No new messages".into()));
    model.index_soon(); // what the sync's end does (`model/syncing.rs`)
    all_indexed(&store).await;
}

#[wasm_bindgen_test]
async fn a_syncs_batches_are_indexed_once_it_ended_not_while_it_writes() {
    let store = fresh_store("index-waits").await;
    let model = tab_over(&store);

    // A sync of this tab committed a batch and hands it to the list.
    model.sync.set(SyncState::Connecting);
    let summaries = stored(&store, 3).await;
    model.add_messages(&summaries);
    // The indexer takes a slice within a few milliseconds when it runs.
    sleep(500).await;
    assert_eq!(
        store.index_pending().await.unwrap(),
        3,
        "indexed while the sync was writing"
    );

    // The sync ends: its list read starts the indexer, which takes all three.
    model.sync.set(SyncState::Done("3 new messages".into()));
    model.reload().await;
    all_indexed(&store).await;
}
