//! Builds the index one slice at a time: up to [`SLICE_MESSAGES`] queued messages read one
//! head at a time and their terms extracted, yielding to the event loop every
//! [`TASK_MS`], then written in one transaction as one block per term
//! (`store/search.rs`). The caller yields between slices (`model/search.rs`).
//!
//! Large slices are what make indexing fast: a term common to the slice's messages is one
//! record, not one per message (the key-per-posting layout managed 19 messages/s, bound by
//! 154 `put`s per message).

use super::document::index_terms;
use super::edges::with_edges;
use crate::store::search::{INDEXED_HEAD, IndexUpdate, SLICE_BYTES};
use crate::store::{Store, StoreError};

/// Messages read per slice at most.
pub const SLICE_MESSAGES: u32 = 1000;
/// Terms held in memory per slice at most (about 40 bytes each): the slice is written once
/// it holds this many.
const SLICE_POSTINGS: usize = 250_000;
/// Main-thread work between yields while reading and parsing (the UI's frame budget is
/// 50 ms; one message's parse can add to it, up to the 4 MiB head).
const TASK_MS: f64 = 25.0;

fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or_else(js_sys::Date::now)
}

/// Indexes one slice: reads queued messages one head at a time, extracts their terms, and
/// writes them as blocks in one transaction. Returns how many were applied.
pub async fn index_slice(store: &Store) -> Result<usize, StoreError> {
    let queued = store.index_queue(SLICE_MESSAGES).await?;
    let mut updates = Vec::with_capacity(queued.len());
    let mut postings = 0;
    let mut read = 0;
    let mut task = now_ms();
    for (key, stamp) in queued {
        if postings >= SLICE_POSTINGS || read >= SLICE_BYTES {
            break; // the rest waits for the next slice
        }
        let raw = store.body_head(&key.0, &key.1, INDEXED_HEAD).await?;
        read += raw.as_ref().map_or(0, Vec::len);
        // Each term and its edge (`edges.rs`): a short prefix reads the edges' blocks.
        let terms = raw.map(|raw| with_edges(index_terms(&raw)));
        postings += terms.as_ref().map_or(0, Vec::len);
        updates.push(IndexUpdate { key, stamp, terms });
        if now_ms() - task > TASK_MS {
            // Back to the event loop: input and rendering go first.
            gloo_timers::future::TimeoutFuture::new(0).await;
            task = now_ms();
        }
    }
    store.apply_index(&updates).await
}
