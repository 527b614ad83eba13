//! Every account at once: the received mail of all of them in one list (the unified inbox),
//! and removing an account, with its mail or without.

use js_sys::Array;
use wasm_bindgen::JsValue;
use web_sys::{IdbKeyRange, IdbTransactionMode};

use super::idb;
use super::messages::{account_range, js};
use super::outbox::{UNSENT_STORES, delete_unsent, sent_folder, unsent_keys};
use super::schema::{ACCOUNTS, BODIES, LEDGER, PENDING_DELETES, SUMMARIES};
use super::search::{SEARCH_QUEUE, queue_in};
use super::{IMPORTED, MessageKey, Store, StoreError, Summary};

/// Whether a summary key holds mail received from a server (an account's, or one removed with
/// its mail kept), not imported or sent mail. Account ids are addresses and hold no space; a
/// sent folder's key is the id, a space, `sent`.
pub fn is_received(key: &str) -> bool {
    key != IMPORTED && !key.contains(' ')
}

/// The unified inbox's order: newest first, ties by account then UIDL descending (one account's
/// part keeps the order [`Store::list`] gives).
pub fn newest_first(a: &Summary, b: &Summary) -> std::cmp::Ordering {
    b.date
        .total_cmp(&a.date)
        .then_with(|| b.account.cmp(&a.account))
        .then_with(|| b.uidl.cmp(&a.uidl))
}

/// Every summary key but imported mail's, as the two ranges on either side of it: IndexedDB
/// orders `[IMPORTED]` before every `[IMPORTED, uidl]`, and `[IMPORTED, []]` after them
/// (arrays sort after strings).
fn around_imported() -> Result<[IdbKeyRange; 2], StoreError> {
    let imported = JsValue::from_str(IMPORTED);
    let below = IdbKeyRange::upper_bound_with_open(&Array::of1(&imported), true).map_err(js)?;
    let past = Array::of2(&imported, &Array::new());
    let above = IdbKeyRange::lower_bound_with_open(&past, true).map_err(js)?;
    Ok([below, above])
}

impl Store {
    /// Every received message of every account (and of accounts removed with their mail
    /// kept), newest first. Summaries only, never raw bytes, and never imported mail's: the
    /// unified inbox read every imported summary too and dropped it, which made the start of a
    /// tab with 100,000 imported messages take seconds.
    pub async fn list_received(&self) -> Result<Vec<Summary>, StoreError> {
        let tx = self.tx(&[SUMMARIES], IdbTransactionMode::Readonly)?;
        let os = tx.object_store(SUMMARIES).map_err(js)?;
        let mut list: Vec<Summary> = Vec::new();
        for range in around_imported()? {
            let part = idb::request(&os.get_all_with_key(&range).map_err(js)?).await?;
            list.extend(idb::from_js::<Vec<Summary>>(&part)?);
        }
        // Sent mail's keys lie between the accounts' (`<id> sent`).
        list.retain(|s| is_received(&s.account));
        crate::sort::sort_by(&mut list, newest_first);
        Ok(list)
    }

    /// Removes the account `id`. With `keep_mail` its received and sent mail stay (shown in
    /// the unified inbox under its address) with its ledger, so adding the same address again
    /// downloads nothing twice, and so do its drafts and outbox, which come back with it.
    /// Without, all of that goes (the prompt says so), in the same transaction as the account:
    /// a crash never leaves unsent mail that a re-added address would send after all.
    pub async fn remove_account(&self, id: &str, keep_mail: bool) -> Result<(), StoreError> {
        if keep_mail {
            let tx = self.tx(&[ACCOUNTS], IdbTransactionMode::Readwrite)?;
            return idb::write_all(&tx, |tx| {
                tx.object_store(ACCOUNTS)
                    .and_then(|s| s.delete(&id.into()))
                    .map(|_| ())
                    .map_err(js)
            })
            .await;
        }
        let mut stores = vec![
            ACCOUNTS,
            SUMMARIES,
            BODIES,
            LEDGER,
            PENDING_DELETES,
            SEARCH_QUEUE,
        ];
        stores.extend(UNSENT_STORES);
        let tx = self.tx(&stores, IdbTransactionMode::Readwrite)?;
        let unsent = unsent_keys(&tx, id).await?;
        let (mine, sent) = (account_range(id)?, account_range(&sent_folder(id))?);
        // Every removed message queued: the indexer removes its postings (bytes gone).
        let mut removed: Vec<MessageKey> = Vec::new();
        for range in [&mine, &sent] {
            let keys = tx
                .object_store(SUMMARIES)
                .and_then(|s| s.get_all_keys_with_key(range))
                .map_err(js)?;
            removed.extend(idb::from_js::<Vec<MessageKey>>(
                &idb::request(&keys).await?,
            )?);
        }
        idb::write_all(&tx, |tx| {
            for (a, u) in &removed {
                queue_in(tx, a, u)?;
            }
            tx.object_store(ACCOUNTS)
                .and_then(|s| s.delete(&id.into()))
                .map_err(js)?;
            for name in [SUMMARIES, BODIES] {
                let os = tx.object_store(name).map_err(js)?;
                os.delete(&mine).map_err(js)?;
                os.delete(&sent).map_err(js)?;
            }
            for name in [LEDGER, PENDING_DELETES] {
                tx.object_store(name)
                    .and_then(|s| s.delete(&mine))
                    .map_err(js)?;
            }
            delete_unsent(tx, &unsent)
        })
        .await
    }
}
