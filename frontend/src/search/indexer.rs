//! Builds the index one slice at a time: a few queued messages read, their terms extracted
//! within a budget, their postings written in one transaction (`store/search.rs`). The caller
//! yields to the event loop between slices (`model/search.rs`).

use super::document::index_terms;
use crate::store::search::IndexUpdate;
use crate::store::{Store, StoreError};

/// Messages read per slice at most.
const SLICE_MESSAGES: u32 = 24;
/// Work per slice: parsing stops at this many milliseconds, or at this many postings (each
/// is one `put` call on the main thread).
const SLICE_MS: f64 = 8.0;
const SLICE_POSTINGS: usize = 2500;

fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or_else(js_sys::Date::now)
}

/// Indexes one slice: reads a few queued messages, extracts their terms within the slice's
/// budget, and writes their postings in one transaction. Returns how many were applied.
pub async fn index_slice(store: &Store) -> Result<usize, StoreError> {
    let queued = store.index_queue(SLICE_MESSAGES).await?;
    let start = now_ms();
    let mut updates = Vec::with_capacity(queued.len());
    let mut postings = 0;
    for (key, stamp, raw) in queued {
        let terms = raw.map(|raw| index_terms(&raw));
        postings += terms.as_ref().map_or(0, Vec::len);
        updates.push(IndexUpdate { key, stamp, terms });
        if now_ms() - start > SLICE_MS || postings > SLICE_POSTINGS {
            break; // the rest waits for the next slice
        }
    }
    store.apply_index(&updates).await
}
