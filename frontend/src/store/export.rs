//! Reading the store in keyed pages, for export: a page of summaries at a time and the raw
//! bytes of a few of them, each page in its own short read-only transaction (a transaction
//! cannot stay open while the exporter writes to a file), so the archive is never held whole.

use js_sys::{Array, Uint8Array};
use wasm_bindgen::prelude::*;
use web_sys::{IdbKeyRange, IdbTransactionMode};

use super::idb::{self, key2};
use super::messages::js;
use super::outbox::sent_folder;
use super::schema::{BODIES, SUMMARIES};
use super::{Store, StoreError, Summary};

/// Which stored messages an export reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every account's messages.
    All,
    /// One account's messages (its id), its sent mail with them.
    Account(String),
    /// These messages, in this order (a search result).
    Listed(Vec<MessageKey>),
}

/// The `(account, uidl)` key of a stored message.
pub type MessageKey = (String, String);

/// Every key of `account`'s messages and of its sent mail: `[account, ""]` up to past
/// `[sent_folder(account), …]`. No other account's id falls between the two, as ids are
/// addresses and hold no space (the sent folder's key is the id, a space, `sent`).
fn with_sent_range(account: &str) -> Result<IdbKeyRange, StoreError> {
    let lower = key2(account, "");
    let upper: JsValue =
        Array::of2(&JsValue::from_str(&sent_folder(account)), &Array::new()).into();
    IdbKeyRange::bound(&lower, &upper).map_err(js)
}

impl Store {
    /// How many messages `scope` holds.
    pub async fn count_messages(&self, scope: &Scope) -> Result<u32, StoreError> {
        let tx = self.tx(&[SUMMARIES], IdbTransactionMode::Readonly)?;
        let os = tx.object_store(SUMMARIES).map_err(js)?;
        let req = match scope {
            Scope::All => os.count(),
            Scope::Account(a) => os.count_with_key(&with_sent_range(a)?.into()),
            Scope::Listed(keys) => return Ok(keys.len() as u32),
        }
        .map_err(js)?;
        Ok(idb::request(&req).await?.as_f64().unwrap_or(0.0) as u32)
    }

    /// Up to `limit` summaries of `scope` in key order (account, then UIDL), starting after
    /// `after` (the last key of the previous page) or at the start.
    pub async fn summaries_after(
        &self,
        scope: &Scope,
        after: Option<&MessageKey>,
        limit: u32,
    ) -> Result<Vec<Summary>, StoreError> {
        if let Scope::Listed(keys) = scope {
            return self.listed_after(keys, after, limit).await;
        }
        let after = after.map(|(a, u)| key2(a, u));
        let range: JsValue = match (scope, after) {
            (Scope::All, None) => JsValue::NULL,
            (Scope::All, Some(k)) => IdbKeyRange::lower_bound_with_open(&k, true)
                .map_err(js)?
                .into(),
            (Scope::Account(a), None) => with_sent_range(a)?.into(),
            (Scope::Listed(_), _) => unreachable!("read by listed_after"),
            (Scope::Account(a), Some(k)) => {
                let upper: JsValue =
                    Array::of2(&JsValue::from_str(&sent_folder(a)), &Array::new()).into();
                IdbKeyRange::bound_with_lower_open(&k, &upper, true)
                    .map_err(js)?
                    .into()
            }
        };
        let tx = self.tx(&[SUMMARIES], IdbTransactionMode::Readonly)?;
        let os = tx.object_store(SUMMARIES).map_err(js)?;
        let all = idb::request(&os.get_all_with_key_and_limit(&range, limit).map_err(js)?).await?;
        idb::from_js(&all)
    }

    /// Up to `limit` summaries of the messages of `keys` that follow `after` in it, skipping
    /// those deleted meanwhile (so an empty answer means the list is done).
    async fn listed_after(
        &self,
        keys: &[MessageKey],
        after: Option<&MessageKey>,
        limit: u32,
    ) -> Result<Vec<Summary>, StoreError> {
        let mut start = after
            .and_then(|k| keys.iter().position(|x| x == k))
            .map_or(0, |i| i + 1);
        let mut found = Vec::new();
        while found.is_empty() && start < keys.len() {
            let end = keys.len().min(start + limit as usize);
            let tx = self.tx(&[SUMMARIES], IdbTransactionMode::Readonly)?;
            let os = tx.object_store(SUMMARIES).map_err(js)?;
            let requests = keys[start..end]
                .iter()
                .map(|(a, u)| os.get(&key2(a, u)).map_err(js))
                .collect::<Result<Vec<_>, _>>()?;
            for req in &requests {
                let value = idb::request(req).await?;
                if !value.is_undefined() {
                    found.push(idb::from_js(&value)?);
                }
            }
            start = end;
        }
        Ok(found)
    }

    /// The raw bytes of each message of `keys`, in order (`None` for one that is gone), read
    /// in one transaction.
    pub async fn raws(&self, keys: &[MessageKey]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        let tx = self.tx(&[BODIES], IdbTransactionMode::Readonly)?;
        let os = tx.object_store(BODIES).map_err(js)?;
        // Every request is queued before the first await, so the transaction stays active.
        let requests = keys
            .iter()
            .map(|(a, u)| os.get(&key2(a, u)).map_err(js))
            .collect::<Result<Vec<_>, _>>()?;
        let mut out = Vec::with_capacity(keys.len());
        for req in &requests {
            let value = idb::request(req).await?;
            out.push((!value.is_undefined()).then(|| Uint8Array::new(&value).to_vec()));
        }
        Ok(out)
    }
}
