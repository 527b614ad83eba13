//! Back-filling the conversation ids of summaries stored before they were kept
//! (`model/conversations.rs`): the header part of stored bytes read, and the ids written into
//! the summaries as they are in the store then, never over a read or flag change made meanwhile.

use serde::Serialize;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{IdbRequest, IdbTransactionMode};

use super::idb::{self, key2};
use super::messages::js;
use super::schema::SUMMARIES;
use super::{MessageKey, Store, StoreError};
use crate::mail::thread_ids::ThreadIds;

/// The fields a back-fill writes, named as in [`super::Summary`].
#[derive(Serialize)]
struct Patch<'a> {
    message_id: &'a Option<String>,
    in_reply_to: &'a Option<String>,
    references: &'a [String],
    ids_read: bool,
}

impl Store {
    /// The first `limit` bytes of each stored message of `keys` (`None`: no longer stored),
    /// cut after their last whole line. One body at a time: a read holds the whole value in
    /// the JS heap until its transaction ends, and a slice of 100 messages of up to 128 MiB
    /// each read at once could take GBs.
    pub async fn raw_heads(
        &self,
        keys: &[MessageKey],
        limit: u32,
    ) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        let mut heads = Vec::with_capacity(keys.len());
        for (account, uidl) in keys {
            heads.push(self.body_head(account, uidl, limit as usize).await?);
        }
        Ok(heads)
    }

    /// Writes `ids` into each summary still stored, read again inside the write transaction.
    pub async fn set_thread_ids(&self, ids: &[(MessageKey, ThreadIds)]) -> Result<(), StoreError> {
        let tx = self.tx(&[SUMMARIES], IdbTransactionMode::Readwrite)?;
        let summaries = tx.object_store(SUMMARIES).map_err(js)?;
        let mut held = Vec::with_capacity(ids.len());
        for ((account, uidl), found) in ids {
            let patch = idb::to_js(&Patch {
                message_id: &found.message_id,
                in_reply_to: &found.in_reply_to,
                references: &found.references,
                ids_read: true,
            })?;
            let req = summaries.get(&key2(account, uidl)).map_err(js)?;
            let (req2, summaries) = (req.clone(), summaries.clone());
            let on_success = Closure::<dyn FnMut()>::new(move || {
                // Deleted meanwhile: nothing to write.
                if let Ok(value) = req2.result()
                    && let Some(record) = value.dyn_ref::<js_sys::Object>()
                {
                    js_sys::Object::assign(record, patch.unchecked_ref());
                    let _ = summaries.put(record);
                }
            });
            held.push(hold(req, on_success));
        }
        idb::committed(&tx).await?;
        drop(held);
        Ok(())
    }
}

/// A request's success handler, unset when dropped (after its transaction settled).
struct Held {
    req: IdbRequest,
    _on_success: Closure<dyn FnMut()>,
}

impl Drop for Held {
    fn drop(&mut self) {
        self.req.set_onsuccess(None);
    }
}

fn hold(req: IdbRequest, on_success: Closure<dyn FnMut()>) -> Held {
    req.set_onsuccess(Some(on_success.as_ref().unchecked_ref()));
    Held {
        req,
        _on_success: on_success,
    }
}
