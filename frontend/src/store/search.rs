//! The full-text index in IndexedDB (`docs/search-index.md`): block postings read by key
//! ranges, so a query reads only the blocks of its terms and nothing is held in memory but
//! the map of document numbers to messages.
//!
//! - [`SEARCH_BLOCKS`]: `[term, first]` → a packed sorted list of document numbers
//!   (`search/blocks.rs`): one record per term per indexer slice, `first` the slice's first
//!   number. An exact term is the range `[term] .. [term, []]`; a prefix
//!   `[prefix] .. [prefix + U+FFFF]`.
//! - [`SEARCH_DOCS`]: document number → `[account, uidl]`, given when a message is indexed;
//!   [`SEARCH_DOC_OF`] the reverse, so indexing a message again or deleting it can tombstone
//!   its number.
//! - [`SEARCH_DEAD`]: tombstones, number → the compaction pass it was made in. A deleted,
//!   moved-aside or re-indexed message's number is taken out of every answer at query time,
//!   and out of its blocks when a compaction pass rewrites them (`compact.rs`).
//! - [`SEARCH_META`]: the next number to give and the index's epoch (a new one whenever the
//!   numbering starts again, so a tab's cached map of numbers is never read against another
//!   numbering), and the compaction's position.
//! - [`SEARCH_QUEUE`]: `[account, uidl]` → a stamp: the messages whose index entry is out of
//!   date. Every write of mail (a sync's batch, an import, a restore, a move aside) and every
//!   delete puts its keys here in its own transaction; the indexer (`model/search.rs`) takes
//!   them off in slices, after the fact: a commit never waits for indexing.

mod compact;
mod read;

pub use compact::Compacted;
pub use read::MAX_DOCS_READ;

use std::collections::BTreeMap;

use js_sys::Array;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{IdbCursor, IdbDatabase, IdbTransaction, IdbTransactionMode};

use super::idb::{self, key2};
use super::messages::js;
use super::schema::{BODIES, SUMMARIES};
use super::{MessageKey, Store, StoreError};
use crate::search::blocks;

/// The layout of schema versions 7 and 8 (one key per term per message), dropped by
/// [`blocks_migration`]; named here for the migrations that made them.
pub const SEARCH_POSTINGS: &str = "search_postings";
pub const SEARCH_TERMS: &str = "search_terms";

pub const SEARCH_BLOCKS: &str = "search_blocks";
pub const SEARCH_DOCS: &str = "search_docs";
pub const SEARCH_DOC_OF: &str = "search_doc_of";
pub const SEARCH_DEAD: &str = "search_dead";
pub const SEARCH_META: &str = "search_meta";
pub const SEARCH_QUEUE: &str = "search_queue";

/// Every store of the index as it is now (backups leave them out; a restore clears them).
pub const SEARCH_STORES: [&str; 6] = [
    SEARCH_BLOCKS,
    SEARCH_DOCS,
    SEARCH_DOC_OF,
    SEARCH_DEAD,
    SEARCH_META,
    SEARCH_QUEUE,
];

/// Bytes of a message that are indexed and checked for phrases: its headers, and its text and
/// attachment names as far as they lie within them (mail-parser would otherwise decode all of
/// a 128 MiB message at once; a text that long is searchable in its start).
pub const INDEXED_HEAD: usize = 4 * 1024 * 1024;
/// Message bytes one indexer slice reads at most, one head at a time (each parsed, then
/// dropped, before the next is read).
pub const SLICE_BYTES: usize = 64 * 1024 * 1024;
/// Block records put per task: the puts of a slice are issued in runs of this many, each run
/// awaited before the next, so the page gets the thread back in between (about 10 ms a run).
const PUTS_PER_TASK: usize = 400;
/// Stamps and old numbers read per run in the indexer's transaction (each run awaited).
const READS_PER_RUN: usize = 100;
/// Grouping the slice's terms yields after this long (the frame budget is 50 ms).
const GROUP_MS: f64 = 20.0;

fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or_else(js_sys::Date::now)
}

/// The migration that adds the index: three stores, and every stored message queued, so mail
/// stored before search existed is indexed too (with progress, by the indexer).
pub fn migration(db: &IdbDatabase, tx: &IdbTransaction) -> Result<(), JsValue> {
    db.create_object_store(SEARCH_POSTINGS)?;
    db.create_object_store(SEARCH_TERMS)?;
    db.create_object_store(SEARCH_QUEUE)?;
    queue_every_message(tx)
}

/// The migration for a change of the terms themselves (`search/normalise.rs`: full case
/// folding, CJK bigrams): every stored message queued again, so its postings are rewritten
/// with the terms queries now look up ("straße" was one term, now "strasse"). Until the
/// indexer gets to a message, its old postings answer as before.
pub fn renormalised(_db: &IdbDatabase, tx: &IdbTransaction) -> Result<(), JsValue> {
    queue_every_message(tx)
}

/// The migration to block postings (schema 9): the key-per-posting stores dropped, the block
/// stores made, every stored message queued to be indexed again (progress as for any
/// indexing). Until the indexer gets to a message, a search does not find it: the old
/// postings cannot be read as blocks, and keeping both layouts would double the index.
pub fn blocks_migration(db: &IdbDatabase, tx: &IdbTransaction) -> Result<(), JsValue> {
    db.delete_object_store(SEARCH_POSTINGS)?;
    db.delete_object_store(SEARCH_TERMS)?;
    for name in [
        SEARCH_BLOCKS,
        SEARCH_DOCS,
        SEARCH_DOC_OF,
        SEARCH_DEAD,
        SEARCH_META,
    ] {
        db.create_object_store(name)?;
    }
    queue_every_message(tx)
}

/// Under this key of [`SEARCH_META`]: `true` while mail indexed before edge terms existed
/// (`search/edges.rs`) waits to be indexed again. Short prefixes then read the plain terms'
/// range as before, which finds old and new entries alike; absent, they read edges alone. A
/// store that held no mail at the upgrade (a new profile) never gets the key, so an untouched
/// store stays empty.
const EDGES_PENDING: &str = "edges_pending";

/// The migration that adds edge terms (schema 11): every stored message queued again and,
/// if there was any, edges marked pending until the queue has been emptied once
/// ([`Store::index_drained`]): the queue then held every message indexed before, each
/// indexed again with its edges.
pub fn edges_migration(_db: &IdbDatabase, tx: &IdbTransaction) -> Result<(), JsValue> {
    let meta = tx.object_store(SEARCH_META)?;
    let marked = std::cell::Cell::new(false);
    queue_every_message_then(tx, move || {
        if !marked.replace(true) {
            let _ = meta.put_with_key(&JsValue::TRUE, &JsValue::from_str(EDGES_PENDING));
        }
    })
}

/// Whether `tx` (which must include [`SEARCH_META`]) finds edges complete.
pub(super) async fn edges_complete(tx: &IdbTransaction) -> Result<bool, StoreError> {
    let read = tx
        .object_store(SEARCH_META)
        .and_then(|m| m.get(&JsValue::from_str(EDGES_PENDING)))
        .map_err(js)?;
    Ok(idb::request(&read).await?.as_bool() != Some(true))
}

/// Puts every stored message's key in the queue, inside the upgrade's transaction.
fn queue_every_message(tx: &IdbTransaction) -> Result<(), JsValue> {
    queue_every_message_then(tx, || ())
}

/// [`queue_every_message`], calling `each` for every message queued.
fn queue_every_message_then(tx: &IdbTransaction, each: impl Fn() + 'static) -> Result<(), JsValue> {
    let queue = tx.object_store(SEARCH_QUEUE)?;
    let cursor_req = tx.object_store(SUMMARIES)?.open_key_cursor()?;
    let req = cursor_req.clone();
    let step = Closure::<dyn FnMut(web_sys::Event)>::new(move |_ev: web_sys::Event| {
        let Ok(cursor) = req.result() else { return };
        let Some(cursor) = cursor.dyn_ref::<IdbCursor>() else {
            return; // null: every message queued
        };
        if let Ok(key) = cursor.primary_key() {
            let _ = queue.put_with_key(&JsValue::from_f64(0.0), &key);
            each();
        }
        let _ = cursor.continue_();
    });
    cursor_req.set_onsuccess(Some(step.as_ref().unchecked_ref()));
    // Runs once per message during the upgrade only.
    step.forget();
    Ok(())
}

/// Queues `[account, uidl]` for (re)indexing inside the caller's transaction, which must
/// include [`SEARCH_QUEUE`]. The stamp tells a later queueing apart from the one the indexer
/// read, so a message changed while it was being indexed is indexed again.
pub(super) fn queue_in(tx: &IdbTransaction, account: &str, uidl: &str) -> Result<(), StoreError> {
    // An integer (below 2^53): it goes through JSON on the way back, where a fraction could
    // come back one unit off and never match again.
    let stamp = js_sys::Date::now() * 1000.0 + (js_sys::Math::random() * 1000.0).floor();
    tx.object_store(SEARCH_QUEUE)
        .and_then(|q| q.put_with_key(&JsValue::from_f64(stamp), &key2(account, uidl)))
        .map(|_| ())
        .map_err(js)
}

/// One message's new index entry: its terms, or `None` once its bytes are gone.
pub struct IndexUpdate {
    pub key: MessageKey,
    /// The queue stamp it was read under ([`Store::index_queue`]).
    pub stamp: f64,
    pub terms: Option<Vec<String>>,
}

/// The numbering of documents, under the key [`NUMBERING`] of [`SEARCH_META`].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub(super) struct Numbering {
    /// The number the next indexed message gets.
    next: u32,
    /// Made when numbering starts (a new index, a restore's cleared one): numbers of two
    /// epochs name different messages.
    epoch: f64,
    /// The last compaction pass begun: tombstones made now carry it (`search/compact.rs`).
    pass: u32,
}

const NUMBERING: &str = "numbering";

impl Numbering {
    fn fresh() -> Numbering {
        Numbering {
            next: 0,
            epoch: (js_sys::Math::random() * 9e15).floor(),
            pass: 0,
        }
    }
}

/// The numbering as stored, read inside `tx` (a fresh one for an empty index).
pub(super) async fn numbering(tx: &IdbTransaction) -> Result<Numbering, StoreError> {
    numbering_of(&idb::request(&read_numbering(tx)?).await?)
}

/// Asks for the numbering; [`numbering_of`] reads the answer. Apart, so a caller can issue it
/// before other reads and await it first: a request is awaited by setting its handler, which
/// must happen before its `success` is dispatched.
fn read_numbering(tx: &IdbTransaction) -> Result<web_sys::IdbRequest, StoreError> {
    tx.object_store(SEARCH_META)
        .and_then(|m| m.get(&JsValue::from_str(NUMBERING)))
        .map_err(js)
}

fn numbering_of(value: &JsValue) -> Result<Numbering, StoreError> {
    if value.is_undefined() {
        return Ok(Numbering::fresh());
    }
    idb::from_js(value)
}

pub(super) fn put_numbering(tx: &IdbTransaction, n: &Numbering) -> Result<(), StoreError> {
    let value = idb::to_js(n)?;
    tx.object_store(SEARCH_META)
        .and_then(|m| m.put_with_key(&value, &JsValue::from_str(NUMBERING)))
        .map(|_| ())
        .map_err(js)
}

/// The key of `term`'s block written by the slice whose first number is `first`.
pub(super) fn block_key(term: &str, first: u32) -> JsValue {
    Array::of2(&JsValue::from_str(term), &JsValue::from(first)).into()
}

pub(super) fn codec(e: blocks::BlockError) -> StoreError {
    StoreError::Codec(e.to_string())
}

impl Store {
    /// How many messages wait to be indexed.
    pub async fn index_pending(&self) -> Result<u64, StoreError> {
        let tx = self.tx(&[SEARCH_QUEUE], IdbTransactionMode::Readonly)?;
        let count = tx
            .object_store(SEARCH_QUEUE)
            .and_then(|q| q.count())
            .map_err(js)?;
        Ok(idb::request(&count).await?.as_f64().unwrap_or(0.0) as u64)
    }

    /// Up to `n` queued messages and their stamps, in key order. The indexer reads each one's
    /// head itself ([`Store::body_head`]), one at a time.
    pub async fn index_queue(&self, n: u32) -> Result<Vec<(MessageKey, f64)>, StoreError> {
        let tx = self.tx(&[SEARCH_QUEUE], IdbTransactionMode::Readonly)?;
        let queue = tx.object_store(SEARCH_QUEUE).map_err(js)?;
        let keys = queue
            .get_all_keys_with_key_and_limit(&JsValue::UNDEFINED, n)
            .map_err(js)?;
        let stamps = queue
            .get_all_with_key_and_limit(&JsValue::UNDEFINED, n)
            .map_err(js)?;
        let keys: Vec<MessageKey> = idb::from_js(&idb::request(&keys).await?)?;
        let stamps: Vec<f64> = idb::from_js(&idb::request(&stamps).await?)?;
        Ok(keys.into_iter().zip(stamps).collect())
    }

    /// The first `max` bytes of a message, cut after its last whole line within them
    /// (mail-parser reads a cut-off MIME structure as far as it goes); `None` once deleted.
    /// Only the head is copied out of the JS heap.
    pub async fn body_head(
        &self,
        account: &str,
        uidl: &str,
        max: usize,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let tx = self.tx(&[BODIES], IdbTransactionMode::Readonly)?;
        let read = tx
            .object_store(BODIES)
            .and_then(|b| b.get(&key2(account, uidl)))
            .map_err(js)?;
        let value = idb::request(&read).await?;
        if value.is_undefined() {
            return Ok(None);
        }
        let bytes = js_sys::Uint8Array::new(&value);
        if bytes.length() as usize <= max {
            return Ok(Some(bytes.to_vec()));
        }
        let mut head = bytes.subarray(0, max as u32).to_vec();
        if let Some(end) = head.iter().rposition(|b| *b == b'\n') {
            head.truncate(end + 1);
        }
        Ok(Some(head))
    }

    /// Writes the index entries of `updates` in one transaction: each message indexed gets a
    /// new document number (its old one, if any, tombstoned), each message gone has its number
    /// tombstoned, and the slice's postings go in as ONE block per term, its queue lines off.
    /// A message queued again since it was read (another stamp) is left queued, untouched.
    /// Returns how many were applied.
    pub async fn apply_index(&self, updates: &[IndexUpdate]) -> Result<usize, StoreError> {
        // The slice's terms grouped before the transaction opens, yielding as it goes: inside
        // it the thread can be given back only between requests, and grouping 250,000 terms
        // there was one long task.
        let mut by_term: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
        let mut task = now_ms();
        for (i, u) in updates.iter().enumerate() {
            for term in u.terms.iter().flatten() {
                by_term.entry(term).or_default().push(i as u32);
            }
            if now_ms() - task > GROUP_MS {
                gloo_timers::future::TimeoutFuture::new(0).await;
                task = now_ms();
            }
        }
        let tx = self.tx(&SEARCH_STORES, IdbTransactionMode::Readwrite)?;
        let store = |name| tx.object_store(name).map_err(js);
        let (blocks_os, docs, doc_of, dead, queue) = (
            store(SEARCH_BLOCKS)?,
            store(SEARCH_DOCS)?,
            store(SEARCH_DOC_OF)?,
            store(SEARCH_DEAD)?,
            store(SEARCH_QUEUE)?,
        );
        let mut applied = 0;
        let written = async {
            let mut numbering = numbering(&tx).await?;
            let first = numbering.next;
            // The number each update got (`None`: queued again meanwhile, or its bytes gone).
            let mut numbered: Vec<Option<u32>> = vec![None; updates.len()];
            // The stamps and old numbers are read a run at a time: 2,000 requests issued at
            // once were answered in one long burst of tasks.
            for (run_at, run) in updates.chunks(READS_PER_RUN).enumerate() {
                let mut reads = Vec::with_capacity(run.len());
                for u in run {
                    let key = key2(&u.key.0, &u.key.1);
                    reads.push((queue.get(&key).map_err(js)?, doc_of.get(&key).map_err(js)?));
                }
                for (at, (u, (stamp, old))) in run.iter().zip(reads).enumerate() {
                    let stamp = idb::request(&stamp).await?;
                    let old = idb::request(&old).await?;
                    if stamp.as_f64() != Some(u.stamp) {
                        continue; // queued again meanwhile: the next slice takes it
                    }
                    let key = key2(&u.key.0, &u.key.1);
                    if let Some(old) = old.as_f64() {
                        dead.put_with_key(&JsValue::from(numbering.pass), &JsValue::from_f64(old))
                            .map_err(js)?;
                    }
                    if u.terms.is_some() {
                        let doc = numbering.next;
                        numbering.next = doc.checked_add(1).ok_or_else(|| {
                            StoreError::Codec("the search index ran out of numbers".into())
                        })?;
                        docs.put_with_key(&key, &JsValue::from(doc)).map_err(js)?;
                        doc_of.put_with_key(&JsValue::from(doc), &key).map_err(js)?;
                        numbered[run_at * READS_PER_RUN + at] = Some(doc);
                    } else {
                        doc_of.delete(&key).map_err(js)?;
                    }
                    queue.delete(&key).map_err(js)?;
                    applied += 1;
                }
            }
            put_numbering(&tx, &numbering)?;
            // Numbers were given in the updates' order, so each term's list is sorted.
            let mut put = 0;
            for (term, at) in by_term {
                let list: Vec<u32> = at.iter().filter_map(|i| numbered[*i as usize]).collect();
                if list.is_empty() {
                    continue;
                }
                let bytes = js_sys::Uint8Array::from(blocks::encode(&list).as_slice());
                let req = blocks_os
                    .put_with_key(&bytes, &block_key(term, first))
                    .map_err(js)?;
                put += 1;
                if put % PUTS_PER_TASK == 0 {
                    // The transaction stays active: the next run is issued from this
                    // request's `success`.
                    idb::request(&req).await?;
                }
            }
            Ok::<(), StoreError>(())
        }
        .await;
        if let Err(e) = written {
            let _ = tx.abort();
            return Err(e);
        }
        idb::committed(&tx).await?;
        Ok(applied)
    }

    /// Called by the indexer when it found the queue empty: edge terms are complete from now
    /// on (see [`EDGES_PENDING`]). Returns whether they are.
    pub async fn index_drained(&self) -> Result<bool, StoreError> {
        let tx = self.tx(&[SEARCH_META, SEARCH_QUEUE], IdbTransactionMode::Readwrite)?;
        let count = tx
            .object_store(SEARCH_QUEUE)
            .and_then(|q| q.count())
            .map_err(js)?;
        // Counted in this transaction: mail queued since the indexer looked waits first.
        if idb::request(&count).await?.as_f64().unwrap_or(0.0) > 0.0 {
            return Ok(false);
        }
        if !edges_complete(&tx).await? {
            tx.object_store(SEARCH_META)
                .and_then(|m| m.delete(&JsValue::from_str(EDGES_PENDING)))
                .map_err(js)?;
        }
        idb::committed(&tx).await?;
        Ok(true)
    }

    /// Queues every stored message for indexing (to rebuild the index).
    pub async fn queue_all_for_index(&self) -> Result<(), StoreError> {
        let tx = self.tx(&[SUMMARIES, SEARCH_QUEUE], IdbTransactionMode::Readwrite)?;
        let keys = tx
            .object_store(SUMMARIES)
            .and_then(|s| s.get_all_keys())
            .map_err(js)?;
        let keys: Vec<MessageKey> = idb::from_js(&idb::request(&keys).await?)?;
        idb::write_all(&tx, |tx| {
            keys.iter().try_for_each(|(a, u)| queue_in(tx, a, u))
        })
        .await
    }
}
