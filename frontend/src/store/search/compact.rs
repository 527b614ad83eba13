//! Compaction: tombstoned numbers taken out of the blocks that hold them, so deleted mail
//! stops costing space and query time. One pass walks every block in key order, a few hundred
//! per transaction, from where the last step stopped (its position in [`SEARCH_META`]). A
//! pass begins by counting up the pass number tombstones are marked with; at its end the
//! tombstones marked before it began are in no block any more, so they and their numbers'
//! messages are forgotten (those made during the pass wait for the next).

use js_sys::{Array, Uint8Array};
use wasm_bindgen::prelude::*;
use web_sys::{IdbKeyRange, IdbTransactionMode};

use super::{
    SEARCH_BLOCKS, SEARCH_DEAD, SEARCH_DOCS, SEARCH_META, codec, numbering, put_numbering,
};
use crate::search::blocks;
use crate::store::idb;
use crate::store::messages::js;
use crate::store::{Store, StoreError};

/// Blocks read and rewritten per step (one transaction).
const BLOCKS_PER_STEP: u32 = 300;
/// Where the pass under way has got to: the last block key it rewrote.
const POSITION: &str = "compacted_to";

/// What one compaction step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compacted {
    /// More blocks wait in this pass.
    Partway,
    /// The pass ended: this many tombstones were forgotten.
    PassEnded { forgotten: usize },
}

impl Store {
    /// How many tombstones wait to be compacted away.
    pub async fn dead_count(&self) -> Result<u64, StoreError> {
        let tx = self.tx(&[SEARCH_DEAD], IdbTransactionMode::Readonly)?;
        let req = tx
            .object_store(SEARCH_DEAD)
            .and_then(|d| d.count())
            .map_err(js)?;
        Ok(idb::request(&req).await?.as_f64().unwrap_or(0.0) as u64)
    }

    /// One step of compaction: the next blocks of the pass rewritten without tombstoned
    /// numbers (deleted once empty), in one transaction with the pass's position.
    pub async fn compact_step(&self) -> Result<Compacted, StoreError> {
        let tx = self.tx(
            &[SEARCH_BLOCKS, SEARCH_DEAD, SEARCH_DOCS, SEARCH_META],
            IdbTransactionMode::Readwrite,
        )?;
        let os = |name| tx.object_store(name).map_err(js);
        let (blocks_os, dead_os, docs_os, meta) = (
            os(SEARCH_BLOCKS)?,
            os(SEARCH_DEAD)?,
            os(SEARCH_DOCS)?,
            os(SEARCH_META)?,
        );
        let done = async {
            let position =
                idb::request(&meta.get(&JsValue::from_str(POSITION)).map_err(js)?).await?;
            let range = if position.is_undefined() {
                None
            } else {
                Some(IdbKeyRange::lower_bound_with_open(&position, true).map_err(js)?)
            };
            let range = range.map_or(JsValue::UNDEFINED, JsValue::from);
            let keys = blocks_os
                .get_all_keys_with_key_and_limit(&range, BLOCKS_PER_STEP)
                .map_err(js)?;
            let values = blocks_os
                .get_all_with_key_and_limit(&range, BLOCKS_PER_STEP)
                .map_err(js)?;
            let dead_keys = dead_os.get_all_keys().map_err(js)?;
            let dead_passes = dead_os.get_all().map_err(js)?;
            let keys: Array = idb::request(&keys).await?.into();
            let values: Array = idb::request(&values).await?.into();
            let dead: Vec<u32> = idb::from_js(&idb::request(&dead_keys).await?)?;
            let passes: Vec<u32> = idb::from_js(&idb::request(&dead_passes).await?)?;
            let mut numbering = numbering(&tx).await?;
            if position.is_undefined() {
                // A pass begins: tombstones made from now on carry the new number.
                numbering.pass += 1;
                put_numbering(&tx, &numbering)?;
            }
            // Keys come sorted: `dead` is in number order.
            for (key, value) in keys.iter().zip(values.iter()) {
                let docs = blocks::decode(&Uint8Array::new(&value).to_vec()).map_err(codec)?;
                let live = blocks::without(&docs, &dead);
                if live.len() == docs.len() {
                    continue;
                }
                if live.is_empty() {
                    blocks_os.delete(&key).map_err(js)?;
                } else {
                    let bytes = Uint8Array::from(blocks::encode(&live).as_slice());
                    blocks_os.put_with_key(&bytes, &key).map_err(js)?;
                }
            }
            if keys.length() == BLOCKS_PER_STEP {
                meta.put_with_key(&keys.get(keys.length() - 1), &JsValue::from_str(POSITION))
                    .map_err(js)?;
                return Ok(Compacted::Partway);
            }
            // Every block visited since the pass began: the tombstones older than it are in
            // none of them.
            let mut forgotten = 0;
            for (doc, pass) in dead.iter().zip(passes) {
                if pass < numbering.pass {
                    let doc = JsValue::from(*doc);
                    dead_os.delete(&doc).map_err(js)?;
                    docs_os.delete(&doc).map_err(js)?;
                    forgotten += 1;
                }
            }
            meta.delete(&JsValue::from_str(POSITION)).map_err(js)?;
            Ok::<_, StoreError>(Compacted::PassEnded { forgotten })
        }
        .await;
        match done {
            Ok(done) => idb::committed(&tx).await.map(|()| done),
            Err(e) => {
                let _ = tx.abort();
                Err(e)
            }
        }
    }
}
