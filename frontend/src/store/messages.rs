//! Messages, the UIDL ledger and pending server deletions.

use js_sys::{Array, Uint8Array};
use wasm_bindgen::prelude::*;
use web_sys::{IdbKeyRange, IdbTransactionMode};

use super::idb::{self, key2};
use super::schema::*;
use super::{LedgerEntry, PendingDelete, Store, StoreError, Summary};

fn js(e: JsValue) -> StoreError {
    StoreError::from_js(e)
}

/// All keys `[account, *]` of a compound-keyed store.
fn account_range(account: &str) -> Result<IdbKeyRange, StoreError> {
    let lower = key2(account, "");
    // Arrays sort after strings in IndexedDB's key order, so `[account, []]` is past every uidl.
    let upper: JsValue = Array::of2(&JsValue::from_str(account), &Array::new()).into();
    IdbKeyRange::bound(&lower, &upper).map_err(js)
}

impl Store {
    /// Stores a downloaded message: raw bytes, summary and ledger line in ONE transaction,
    /// and returns only after the transaction's `complete` event.
    pub async fn commit_message(
        &self,
        summary: &Summary,
        raw: &[u8],
        first_seen: f64,
    ) -> Result<(), StoreError> {
        let tx = self.tx(&[SUMMARIES, BODIES, LEDGER], IdbTransactionMode::Readwrite)?;
        idb::write_all(&tx, |tx| {
            let key = key2(&summary.account, &summary.uidl);
            let bodies = tx.object_store(BODIES).map_err(js)?;
            bodies
                .put_with_key(&Uint8Array::from(raw).into(), &key)
                .map_err(js)?;
            let summaries = tx.object_store(SUMMARIES).map_err(js)?;
            summaries.put(&idb::to_js(summary)?).map_err(js)?;
            let ledger = tx.object_store(LEDGER).map_err(js)?;
            let line = LedgerEntry {
                account: summary.account.clone(),
                uidl: summary.uidl.clone(),
                first_seen,
                on_server: true,
            };
            ledger.put(&idb::to_js(&line)?).map_err(js)?;
            Ok(())
        })
        .await
    }

    /// Every summary of an account, newest first. Never touches raw bytes.
    pub async fn list(&self, account: &str) -> Result<Vec<Summary>, StoreError> {
        let tx = self.tx(&[SUMMARIES], IdbTransactionMode::Readonly)?;
        let index = tx
            .object_store(SUMMARIES)
            .and_then(|s| s.index(BY_ACCOUNT_DATE))
            .map_err(js)?;
        let lower = Array::of2(
            &JsValue::from_str(account),
            &JsValue::from_f64(f64::NEG_INFINITY),
        );
        let upper = Array::of2(
            &JsValue::from_str(account),
            &JsValue::from_f64(f64::INFINITY),
        );
        let range = IdbKeyRange::bound(&lower, &upper).map_err(js)?;
        let all = idb::request(&index.get_all_with_key(&range).map_err(js)?).await?;
        let mut list: Vec<Summary> = idb::from_js(&all)?;
        list.reverse();
        Ok(list)
    }

    /// The raw RFC 5322 bytes of one message.
    pub async fn raw(&self, account: &str, uidl: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let tx = self.tx(&[BODIES], IdbTransactionMode::Readonly)?;
        let os = tx.object_store(BODIES).map_err(js)?;
        let value = idb::request(&os.get(&key2(account, uidl)).map_err(js)?).await?;
        if value.is_undefined() {
            return Ok(None);
        }
        Ok(Some(Uint8Array::new(&value).to_vec()))
    }

    /// Rewrites one summary (read / flagged state).
    pub async fn update_summary(&self, summary: &Summary) -> Result<(), StoreError> {
        let tx = self.tx(&[SUMMARIES], IdbTransactionMode::Readwrite)?;
        let value = idb::to_js(summary)?;
        tx.object_store(SUMMARIES)
            .and_then(|s| s.put(&value))
            .map_err(js)?;
        idb::committed(&tx).await
    }

    /// Deletes a message here. The ledger line stays so the next sync does not download it
    /// again; with `queue_server_delete` the UIDL joins the pending server deletions.
    pub async fn delete_local(
        &self,
        account: &str,
        uidl: &str,
        queue_server_delete: bool,
    ) -> Result<(), StoreError> {
        let tx = self.tx(
            &[SUMMARIES, BODIES, PENDING_DELETES],
            IdbTransactionMode::Readwrite,
        )?;
        let key = key2(account, uidl);
        tx.object_store(SUMMARIES)
            .and_then(|s| s.delete(&key))
            .map_err(js)?;
        tx.object_store(BODIES)
            .and_then(|s| s.delete(&key))
            .map_err(js)?;
        if queue_server_delete {
            let p = PendingDelete {
                account: account.into(),
                uidl: uidl.into(),
            };
            let value = idb::to_js(&p)?;
            tx.object_store(PENDING_DELETES)
                .and_then(|s| s.put(&value))
                .map_err(js)?;
        }
        idb::committed(&tx).await
    }

    /// The whole ledger of one account.
    pub async fn ledger(&self, account: &str) -> Result<Vec<LedgerEntry>, StoreError> {
        let tx = self.tx(&[LEDGER], IdbTransactionMode::Readonly)?;
        let os = tx.object_store(LEDGER).map_err(js)?;
        let all = idb::request(
            &os.get_all_with_key(&account_range(account)?.into())
                .map_err(js)?,
        )
        .await?;
        idb::from_js(&all)
    }

    pub async fn pending_deletes(&self, account: &str) -> Result<Vec<PendingDelete>, StoreError> {
        let tx = self.tx(&[PENDING_DELETES], IdbTransactionMode::Readonly)?;
        let os = tx.object_store(PENDING_DELETES).map_err(js)?;
        let all = idb::request(
            &os.get_all_with_key(&account_range(account)?.into())
                .map_err(js)?,
        )
        .await?;
        idb::from_js(&all)
    }

    /// Records that the server committed these deletions (QUIT answered +OK): the ledger
    /// lines say "not on server" and the pending deletions are done.
    pub async fn server_deleted(&self, account: &str, uidls: &[String]) -> Result<(), StoreError> {
        if uidls.is_empty() {
            return Ok(());
        }
        let existing = self.ledger(account).await?;
        let tx = self.tx(&[LEDGER, PENDING_DELETES], IdbTransactionMode::Readwrite)?;
        let ledger = tx.object_store(LEDGER).map_err(js)?;
        let pending = tx.object_store(PENDING_DELETES).map_err(js)?;
        for uidl in uidls {
            if let Some(line) = existing.iter().find(|l| &l.uidl == uidl) {
                let mut line = line.clone();
                line.on_server = false;
                ledger.put(&idb::to_js(&line)?).map_err(js)?;
            }
            pending.delete(&key2(account, uidl)).map_err(js)?;
        }
        idb::committed(&tx).await
    }

    /// Forgets ledger lines for messages the server no longer has, keeping the ledger small.
    pub async fn prune_ledger(&self, account: &str, gone: &[String]) -> Result<(), StoreError> {
        if gone.is_empty() {
            return Ok(());
        }
        let tx = self.tx(&[LEDGER, PENDING_DELETES], IdbTransactionMode::Readwrite)?;
        let ledger = tx.object_store(LEDGER).map_err(js)?;
        let pending = tx.object_store(PENDING_DELETES).map_err(js)?;
        for uidl in gone {
            ledger.delete(&key2(account, uidl)).map_err(js)?;
            pending.delete(&key2(account, uidl)).map_err(js)?;
        }
        idb::committed(&tx).await
    }

    /// Writes many summaries and bodies in one transaction (benchmarks and tests seed with it).
    pub async fn bulk_insert(&self, items: &[(Summary, Vec<u8>)]) -> Result<(), StoreError> {
        let tx = self.tx(&[SUMMARIES, BODIES, LEDGER], IdbTransactionMode::Readwrite)?;
        let summaries = tx.object_store(SUMMARIES).map_err(js)?;
        let bodies = tx.object_store(BODIES).map_err(js)?;
        let ledger = tx.object_store(LEDGER).map_err(js)?;
        for (s, raw) in items {
            let key = key2(&s.account, &s.uidl);
            summaries.put(&idb::to_js(s)?).map_err(js)?;
            bodies
                .put_with_key(&Uint8Array::from(&raw[..]).into(), &key)
                .map_err(js)?;
            let line = LedgerEntry {
                account: s.account.clone(),
                uidl: s.uidl.clone(),
                first_seen: s.date,
                on_server: false,
            };
            ledger.put(&idb::to_js(&line)?).map_err(js)?;
        }
        idb::committed(&tx).await
    }
}
