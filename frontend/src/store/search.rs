//! The full-text index in IndexedDB (`docs/search-index.md`): term-keyed postings read by key
//! ranges, so a query reads only the postings of its terms and nothing is held in memory.
//!
//! - [`SEARCH_POSTINGS`]: one key `[term, account, uidl]` per term of a message (value 0). An
//!   exact term is the range `[term] .. [term, []]`; a prefix `[prefix] .. [prefix + U+FFFF]`.
//! - [`SEARCH_TERMS`]: `[account, uidl]` → the message's indexed terms, space-separated, so its
//!   postings can be removed when it is deleted or indexed again.
//! - [`SEARCH_QUEUE`]: `[account, uidl]` → a stamp: the messages whose index entry is out of
//!   date. Every write of mail (a sync's batch, an import, a restore, a move aside) and every
//!   delete puts its keys here in its own transaction; the indexer (`model/search.rs`) takes
//!   them off in small slices, after the fact: a commit never waits for indexing.

use js_sys::Array;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{IdbCursor, IdbDatabase, IdbKeyRange, IdbTransaction, IdbTransactionMode};

use super::idb::{self, key2};
use super::messages::js;
use super::schema::{BODIES, SUMMARIES};
use super::{MessageKey, Store, StoreError};

pub const SEARCH_POSTINGS: &str = "search_postings";
pub const SEARCH_TERMS: &str = "search_terms";
pub const SEARCH_QUEUE: &str = "search_queue";

/// Bytes of a message that are indexed and checked for phrases: its headers, and its text and
/// attachment names as far as they lie within them (mail-parser would otherwise decode all of
/// a 128 MiB message at once; a text that long is searchable in its start).
pub const INDEXED_HEAD: usize = 4 * 1024 * 1024;
/// Message bytes one indexer slice holds at most (the heads it reads).
pub const SLICE_BYTES: usize = 8 * 1024 * 1024;

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

/// Puts every stored message's key in the queue, inside the upgrade's transaction.
fn queue_every_message(tx: &IdbTransaction) -> Result<(), JsValue> {
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

/// The key-range upper bound past every key starting with `[term]` exactly.
fn term_range(term: &str, prefix: bool) -> Result<IdbKeyRange, StoreError> {
    let lower: JsValue = Array::of1(&JsValue::from_str(term)).into();
    let upper: JsValue = if prefix {
        Array::of1(&JsValue::from_str(&format!("{term}\u{ffff}"))).into()
    } else {
        // Arrays sort after strings: `[term, []]` is past every `[term, account, uidl]`.
        Array::of2(&JsValue::from_str(term), &Array::new()).into()
    };
    IdbKeyRange::bound(&lower, &upper).map_err(js)
}

fn posting(term: &str, key: &MessageKey) -> JsValue {
    Array::of3(
        &JsValue::from_str(term),
        &JsValue::from_str(&key.0),
        &JsValue::from_str(&key.1),
    )
    .into()
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

    /// Up to `n` queued messages, their stamps and the first [`INDEXED_HEAD`] bytes of each
    /// (`None`: deleted). Bodies are read one at a time, each in its own transaction, and the
    /// slice stops before its heads could pass [`SLICE_BYTES`]: a message may be 128 MiB, and
    /// 24 of them read at once took the tab out of memory.
    pub async fn index_queue(
        &self,
        n: u32,
    ) -> Result<Vec<(MessageKey, f64, Option<Vec<u8>>)>, StoreError> {
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
        let mut out = Vec::with_capacity(keys.len());
        let mut held = 0;
        for (key, stamp) in keys.into_iter().zip(stamps) {
            if held + INDEXED_HEAD > SLICE_BYTES {
                break; // the next head might not fit: the next slice reads it
            }
            let raw = self.body_head(&key.0, &key.1, INDEXED_HEAD).await?;
            held += raw.as_ref().map_or(0, Vec::len);
            out.push((key, stamp, raw));
        }
        Ok(out)
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

    /// Writes the index entries of `updates` in one transaction: the old postings of each
    /// message out, the new in, its queue line off. A message queued again since it was read
    /// (another stamp) is left queued, untouched. Returns how many were applied.
    pub async fn apply_index(&self, updates: &[IndexUpdate]) -> Result<usize, StoreError> {
        let tx = self.tx(
            &[SEARCH_POSTINGS, SEARCH_TERMS, SEARCH_QUEUE],
            IdbTransactionMode::Readwrite,
        )?;
        let postings = tx.object_store(SEARCH_POSTINGS).map_err(js)?;
        let terms = tx.object_store(SEARCH_TERMS).map_err(js)?;
        let queue = tx.object_store(SEARCH_QUEUE).map_err(js)?;
        let mut reads = Vec::with_capacity(updates.len());
        for u in updates {
            let key = key2(&u.key.0, &u.key.1);
            reads.push((queue.get(&key).map_err(js)?, terms.get(&key).map_err(js)?));
        }
        let mut applied = 0;
        let written = async {
            for (u, (stamp, old)) in updates.iter().zip(reads) {
                let stamp = idb::request(&stamp).await?;
                let old = idb::request(&old).await?;
                if stamp.as_f64() != Some(u.stamp) {
                    continue; // queued again meanwhile: the next slice takes it
                }
                let key = key2(&u.key.0, &u.key.1);
                for term in old.as_string().unwrap_or_default().split(' ') {
                    if !term.is_empty() {
                        postings.delete(&posting(term, &u.key)).map_err(js)?;
                    }
                }
                match &u.terms {
                    Some(new) => {
                        for term in new {
                            postings
                                .put_with_key(&JsValue::from_f64(0.0), &posting(term, &u.key))
                                .map_err(js)?;
                        }
                        terms
                            .put_with_key(&JsValue::from_str(&new.join(" ")), &key)
                            .map_err(js)?;
                    }
                    None => {
                        terms.delete(&key).map_err(js)?;
                    }
                }
                queue.delete(&key).map_err(js)?;
                applied += 1;
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

    /// The messages holding `term` (a prefix of their term with `prefix`), at most `limit`
    /// postings read; the flag says whether the limit cut the list.
    pub async fn postings(
        &self,
        term: &str,
        prefix: bool,
        limit: u32,
    ) -> Result<(Vec<MessageKey>, bool), StoreError> {
        let tx = self.tx(&[SEARCH_POSTINGS], IdbTransactionMode::Readonly)?;
        let range = term_range(term, prefix)?;
        let req = tx
            .object_store(SEARCH_POSTINGS)
            .and_then(|p| p.get_all_keys_with_key_and_limit(&range, limit))
            .map_err(js)?;
        let keys: Vec<(String, String, String)> = idb::from_js(&idb::request(&req).await?)?;
        let cut = keys.len() as u32 >= limit;
        Ok((keys.into_iter().map(|(_, a, u)| (a, u)).collect(), cut))
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
