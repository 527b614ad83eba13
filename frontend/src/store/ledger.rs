//! The per-account UIDL ledger (which server messages are stored here) and the queue of server
//! deletions the user asked for. The sync plan decides; these only read and write.

use web_sys::IdbTransactionMode;

use super::idb::{self, key2};
use super::messages::{account_range, js};
use super::schema::*;
use super::{LedgerEntry, PendingDelete, Store, StoreError};

impl Store {
    /// The whole ledger of one account.
    pub async fn ledger(&self, account: &str) -> Result<Vec<LedgerEntry>, StoreError> {
        self.all_of_account(LEDGER, account).await
    }

    pub async fn pending_deletes(&self, account: &str) -> Result<Vec<PendingDelete>, StoreError> {
        self.all_of_account(PENDING_DELETES, account).await
    }

    /// Every record of `account` in a store keyed `[account, uidl]`.
    async fn all_of_account<T: serde::de::DeserializeOwned>(
        &self,
        store: &str,
        account: &str,
    ) -> Result<Vec<T>, StoreError> {
        let tx = self.tx(&[store], IdbTransactionMode::Readonly)?;
        let os = tx.object_store(store).map_err(js)?;
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
        idb::write_all(&tx, |tx| {
            let ledger = tx.object_store(LEDGER).map_err(js)?;
            let pending = tx.object_store(PENDING_DELETES).map_err(js)?;
            for uidl in uidls {
                if let Some(line) = existing.iter().find(|l| &l.uidl == uidl) {
                    let mut line = line.clone();
                    line.on_server = false;
                    line.deleted = true;
                    ledger.put(&idb::to_js(&line)?).map_err(js)?;
                }
                pending.delete(&key2(account, uidl)).map_err(js)?;
            }
            Ok(())
        })
        .await
    }

    /// Rewrites ledger lines (marked gone, listed again, size learnt) and forgets the lines and
    /// pending deletions of `forget`, in one transaction.
    pub async fn update_ledger(
        &self,
        account: &str,
        updates: &[LedgerEntry],
        forget: &[String],
    ) -> Result<(), StoreError> {
        if updates.is_empty() && forget.is_empty() {
            return Ok(());
        }
        let tx = self.tx(&[LEDGER, PENDING_DELETES], IdbTransactionMode::Readwrite)?;
        idb::write_all(&tx, |tx| {
            let ledger = tx.object_store(LEDGER).map_err(js)?;
            let pending = tx.object_store(PENDING_DELETES).map_err(js)?;
            for line in updates {
                ledger.put(&idb::to_js(line)?).map_err(js)?;
            }
            for uidl in forget {
                ledger.delete(&key2(account, uidl)).map_err(js)?;
                pending.delete(&key2(account, uidl)).map_err(js)?;
            }
            Ok(())
        })
        .await
    }
}
