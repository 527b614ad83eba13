//! Reading every backed-up object store in keyed pages, and writing a restored backup back,
//! for `backup/`. Records travel as they are stored (plain JSON objects, or bytes under an
//! out-of-line key): the backup never interprets them, so an account's sealed password stays
//! sealed, exactly as stored.

use js_sys::{Array, Uint8Array};
use wasm_bindgen::prelude::*;
use web_sys::{IdbKeyRange, IdbTransactionMode};

use super::idb;
use super::messages::js;
use super::schema::*;
use super::search::{
    SEARCH_BLOCKS, SEARCH_DEAD, SEARCH_DOC_OF, SEARCH_DOCS, SEARCH_META, SEARCH_QUEUE,
    SEARCH_STORES,
};
use super::{Store, StoreError};

/// How a store's records are kept, and what bounds one record's size when it is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// A JSON record whose key is inside it, small by construction (an account, a summary, a
    /// ledger line, an outbox entry): read a page at a time.
    SmallJson,
    /// A JSON record of any size (a draft holds its attachments): read one at a time.
    LargeJson,
    /// Message bytes keyed `[account, uidl]`; the summary under the same key tells the size.
    Bodies,
    /// Bytes under an out-of-line key whose size nothing tells: read one at a time.
    LargeBytes,
}

impl Shape {
    /// True for stores keyed out of line (the key travels beside the bytes).
    pub fn bytes(self) -> bool {
        matches!(self, Shape::Bodies | Shape::LargeBytes)
    }
}

/// Every object store a backup holds, in the order it is written. The ledger comes before the
/// mail: a message a sync stores while the backup runs then has its bytes in the backup but no
/// ledger line, and is downloaded again after a restore, never the reverse (a ledger line
/// without its message could let a later sync delete that message on the server unseen).
pub const BACKED_UP: &[(&str, Shape)] = &[
    (ACCOUNTS, Shape::SmallJson),
    (LEDGER, Shape::SmallJson),
    (PENDING_DELETES, Shape::SmallJson),
    (SUMMARIES, Shape::SmallJson),
    (BODIES, Shape::Bodies),
    (DRAFTS, Shape::LargeJson),
    (OUTBOX, Shape::SmallJson),
    (OUTBOX_RAW, Shape::LargeBytes),
    (FOLDERS, Shape::SmallJson),
    (RULES, Shape::SmallJson),
];

/// Stores a backup leaves out on purpose, and why. A store in neither list fails the wasm
/// test `every_store_is_backed_up_or_left_out_on_purpose`.
pub const LEFT_OUT: &[(&str, &str)] = &[
    (
        DISK_COPY,
        "a folder handle of this browser's profile: another browser cannot use it",
    ),
    (SEARCH_BLOCKS, SEARCH_REBUILT),
    (SEARCH_DOCS, SEARCH_REBUILT),
    (SEARCH_DOC_OF, SEARCH_REBUILT),
    (SEARCH_DEAD, SEARCH_REBUILT),
    (SEARCH_META, SEARCH_REBUILT),
    (SEARCH_QUEUE, SEARCH_REBUILT),
];

const SEARCH_REBUILT: &str = "the search index: rebuilt from the restored mail, which is queued";

/// The shape of a backed-up store, or `None` for a name a backup may not hold.
pub fn shape(store: &str) -> Option<Shape> {
    BACKED_UP
        .iter()
        .find(|(name, _)| *name == store)
        .map(|&(_, shape)| shape)
}

/// One record read from a store: its primary key and its value as stored.
pub struct Stored {
    pub key: JsValue,
    pub value: JsValue,
}

/// One record to restore: the value, and its key for stores keyed out of line.
pub struct ToRestore {
    pub store: &'static str,
    pub key: Option<JsValue>,
    pub value: JsValue,
}

fn names() -> Vec<&'static str> {
    BACKED_UP.iter().map(|(name, _)| *name).collect()
}

impl Store {
    /// How many records the backed-up stores hold together (one read transaction).
    pub async fn backup_records(&self) -> Result<u64, StoreError> {
        let tx = self.tx(&names(), IdbTransactionMode::Readonly)?;
        let requests = BACKED_UP
            .iter()
            .map(|(name, _)| tx.object_store(name).and_then(|os| os.count()).map_err(js))
            .collect::<Result<Vec<_>, _>>()?;
        let mut total = 0;
        for req in &requests {
            total += idb::request(req).await?.as_f64().unwrap_or(0.0) as u64;
        }
        Ok(total)
    }

    /// Up to `limit` primary keys of `store` in key order, after `after` (or from the start).
    pub async fn keys_after(
        &self,
        store: &str,
        after: Option<&JsValue>,
        limit: u32,
    ) -> Result<Vec<JsValue>, StoreError> {
        let tx = self.tx(&[store], IdbTransactionMode::Readonly)?;
        let os = tx.object_store(store).map_err(js)?;
        let range: JsValue = match after {
            Some(k) => IdbKeyRange::lower_bound_with_open(k, true)
                .map_err(js)?
                .into(),
            None => JsValue::NULL,
        };
        let keys = os
            .get_all_keys_with_key_and_limit(&range, limit)
            .map_err(js)?;
        Ok(Array::from(&idb::request(&keys).await?).to_vec())
    }

    /// The records of `store` under `keys`, in order, read in one transaction; a record deleted
    /// since its key was read is left out.
    pub async fn records(&self, store: &str, keys: &[JsValue]) -> Result<Vec<Stored>, StoreError> {
        let values = self.values(store, keys).await?;
        Ok(keys
            .iter()
            .zip(values)
            .filter(|(_, value)| !value.is_undefined())
            .map(|(key, value)| Stored {
                key: key.clone(),
                value,
            })
            .collect())
    }

    /// The value under each key of `keys` (`undefined` where none), read in one transaction.
    async fn values(&self, store: &str, keys: &[JsValue]) -> Result<Vec<JsValue>, StoreError> {
        let tx = self.tx(&[store], IdbTransactionMode::Readonly)?;
        let os = tx.object_store(store).map_err(js)?;
        // Every request is queued before the first await, so the transaction stays active.
        let requests = keys
            .iter()
            .map(|k| os.get(k).map_err(js))
            .collect::<Result<Vec<_>, _>>()?;
        let mut out = Vec::with_capacity(keys.len());
        for req in &requests {
            out.push(idb::request(req).await?);
        }
        Ok(out)
    }

    /// The size of the message under each key of `keys` (`[account, uidl]`), from its summary;
    /// `None` where no summary tells it.
    pub async fn body_sizes(&self, keys: &[JsValue]) -> Result<Vec<Option<u64>>, StoreError> {
        Ok(self
            .values(SUMMARIES, keys)
            .await?
            .iter()
            .map(|summary| {
                js_sys::Reflect::get(summary, &"size".into())
                    .ok()
                    .and_then(|v| v.as_f64())
                    .map(|v| v as u64)
            })
            .collect())
    }

    /// Writes `records` in ONE durable transaction: all of them or none.
    pub async fn put_restored(&self, records: &[ToRestore]) -> Result<(), StoreError> {
        let mut stores = names();
        stores.push(SEARCH_QUEUE);
        let tx = self.tx_durable(&stores)?;
        idb::write_all(&tx, |tx| {
            for r in records {
                // Restored mail is indexed afterwards, like any other stored mail.
                if r.store == BODIES
                    && let Some(key) = &r.key
                {
                    tx.object_store(SEARCH_QUEUE)
                        .and_then(|q| q.put_with_key(&JsValue::from_f64(0.0), key))
                        .map_err(js)?;
                }
                let os = tx.object_store(r.store).map_err(js)?;
                match &r.key {
                    Some(key) => os.put_with_key(&r.value, key),
                    None => os.put(&r.value),
                }
                .map_err(js)?;
            }
            Ok(())
        })
        .await
    }

    /// Empties every backed-up store in one durable transaction: how a restore that failed
    /// half-way gives back the empty store it started from.
    pub async fn clear_backed_up(&self) -> Result<(), StoreError> {
        let mut stores = names();
        stores.extend(SEARCH_STORES);
        let tx = self.tx_durable(&stores)?;
        idb::write_all(&tx, |tx| {
            // The index of the mail cleared goes with it.
            for name in BACKED_UP.iter().map(|(name, _)| name).chain(&SEARCH_STORES) {
                tx.object_store(name)
                    .and_then(|os| os.clear())
                    .map_err(js)?;
            }
            Ok(())
        })
        .await
    }
}

/// A store's bytes value as stored (a `Uint8Array`, or an `ArrayBuffer`) copied into wasm.
pub fn bytes_of(value: &JsValue) -> Vec<u8> {
    Uint8Array::new(value).to_vec()
}
