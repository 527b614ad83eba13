//! Imported mail: stored beside synced mail under the reserved account key [`IMPORTED`], keyed
//! by a hash of its bytes, in no account's ledger (no sync ever downloads, confirms or deletes
//! it on a server).

use std::collections::HashMap;

use js_sys::Uint8Array;
use web_sys::IdbTransactionMode;

use super::idb::{self, key2};
use super::messages::js;
use super::schema::*;
use super::{MessageKey, Store, StoreError, Summary};

/// The account key of imported mail. Real accounts are keyed by an e-mail address, which always
/// holds an `@`, so no account can take this one.
pub const IMPORTED: &str = "imported";

impl Store {
    /// Which of `uidls` are stored under `account` (one read transaction).
    pub async fn stored(&self, account: &str, uidls: &[String]) -> Result<Vec<bool>, StoreError> {
        let tx = self.tx(&[SUMMARIES], IdbTransactionMode::Readonly)?;
        let summaries = tx.object_store(SUMMARIES).map_err(js)?;
        let requests = uidls
            .iter()
            .map(|uidl| summaries.count_with_key(&key2(account, uidl)).map_err(js))
            .collect::<Result<Vec<_>, _>>()?;
        let mut found = Vec::with_capacity(requests.len());
        for request in requests {
            found.push(idb::request(&request).await?.as_f64().unwrap_or(0.0) > 0.0);
        }
        Ok(found)
    }

    /// Every synced message this store knows by its identity (Message-ID, else Date and From:
    /// [`super::identity`]), from all accounts' ledgers: the candidates an imported copy of the
    /// same message is compared with, byte for byte.
    pub async fn identities(&self) -> Result<HashMap<String, Vec<MessageKey>>, StoreError> {
        let mut index: HashMap<String, Vec<MessageKey>> = HashMap::new();
        for account in self.accounts().await? {
            for line in self.ledger(&account.id).await? {
                if let Some(identity) = line.identity {
                    index
                        .entry(identity)
                        .or_default()
                        .push((line.account, line.uidl));
                }
            }
        }
        Ok(index)
    }

    /// Stores imported messages (summary and bytes) in ONE durable transaction: all of the
    /// batch or none of it.
    pub async fn put_imported(&self, items: &[(Summary, Vec<u8>)]) -> Result<(), StoreError> {
        let tx = self.tx_durable(&[SUMMARIES, BODIES, super::search::SEARCH_QUEUE])?;
        idb::write_all(&tx, |tx| {
            let summaries = tx.object_store(SUMMARIES).map_err(js)?;
            let bodies = tx.object_store(BODIES).map_err(js)?;
            for (summary, raw) in items {
                summaries.put(&idb::to_js(summary)?).map_err(js)?;
                bodies
                    .put_with_key(
                        &Uint8Array::from(&raw[..]).into(),
                        &key2(&summary.account, &summary.uidl),
                    )
                    .map_err(js)?;
                super::search::queue_in(tx, &summary.account, &summary.uidl)?;
            }
            Ok(())
        })
        .await
    }
}
