//! Local folders: the user's own (records in [`FOLDERS`]) and filing received messages in
//! them. POP3 has no folders: nothing here touches the ledger or the server, except that
//! deleting for good (emptying Trash) is the ordinary local delete, which may queue a server
//! deletion for the next sync when the account asks for that.
//!
//! A copy is a second message record, summary and bytes duplicated, under the key
//! `<uidl> copy <ms>.<n>`. It has no ledger line, so deleting it never queues a server
//! deletion and never touches the original's ledger line (`docs/folders.md`).

use serde::{Deserialize, Serialize};
use web_sys::{IdbKeyRange, IdbTransactionMode};

use super::idb::{self, key2};
use super::messages::js;
use super::schema::{BODIES, BY_TRASHED_AT, FOLDERS, PENDING_DELETES, SUMMARIES};
use super::search::{SEARCH_QUEUE, queue_in};
use super::{INBOX, MessageKey, PendingDelete, Store, StoreError, Summary, is_received};

/// Where archived mail goes.
pub const ARCHIVE: &str = "archive";
/// Where deleted mail waits, restorable, until Trash is emptied.
pub const TRASH: &str = "trash";
/// The folder a message restored from Trash goes back to: Inbox (Trash does not remember
/// where it came from; Inbox is where the user looks first).
pub const RESTORED_TO: &str = INBOX;

/// A folder the user made. Messages name it by `id`, so a rename rewrites this record only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserFolder {
    pub id: String,
    pub name: String,
}

/// Whether `uidl` keys a copy made here (which no server knows).
pub fn is_copy(uidl: &str) -> bool {
    uidl.contains(" copy ")
}

/// `summary` filed in `folder` at `now`: Trash remembers when, for emptying it later.
fn filed(mut summary: Summary, folder: &str, now: f64) -> Summary {
    if summary.folder != folder {
        summary.trashed_at = (folder == TRASH).then_some(now);
    }
    summary.folder = folder.to_string();
    summary
}

impl Store {
    /// The user's folders, by name.
    pub async fn folders(&self) -> Result<Vec<UserFolder>, StoreError> {
        let tx = self.tx(&[FOLDERS], IdbTransactionMode::Readonly)?;
        let os = tx.object_store(FOLDERS).map_err(js)?;
        let all = idb::request(&os.get_all().map_err(js)?).await?;
        let mut list: Vec<UserFolder> = idb::from_js(&all)?;
        crate::sort::sort_by_key(&mut list, |f| f.name.to_lowercase());
        Ok(list)
    }

    /// The folders a rule may file new mail into: Archive and the user's.
    pub async fn folder_ids(&self) -> Result<Vec<String>, StoreError> {
        let mut ids = vec![ARCHIVE.to_string()];
        ids.extend(self.folders().await?.into_iter().map(|f| f.id));
        Ok(ids)
    }

    /// Adds or renames a folder of the user's.
    pub async fn put_folder(&self, folder: &UserFolder) -> Result<(), StoreError> {
        let tx = self.tx(&[FOLDERS], IdbTransactionMode::Readwrite)?;
        let value = idb::to_js(folder)?;
        idb::write_all(&tx, |tx| {
            tx.object_store(FOLDERS)
                .and_then(|s| s.put(&value))
                .map(|_| ())
                .map_err(js)
        })
        .await
    }

    /// Deletes the user's folder `id` and files its mail in `to` (Inbox or Trash), in one
    /// transaction: no message is ever left in a folder that no longer exists. Returns the
    /// messages moved, as now stored.
    pub async fn delete_folder(
        &self,
        id: &str,
        to: &str,
        now: f64,
    ) -> Result<Vec<Summary>, StoreError> {
        let tx = self.tx(&[FOLDERS, SUMMARIES], IdbTransactionMode::Readwrite)?;
        let moved = async {
            let summaries = tx.object_store(SUMMARIES).map_err(js)?;
            let all = idb::request(&summaries.get_all().map_err(js)?).await?;
            let all: Vec<Summary> = idb::from_js(&all)?;
            let mut moved = Vec::new();
            for s in all.into_iter().filter(|s| s.folder == id) {
                let s = filed(s, to, now);
                summaries.put(&idb::to_js(&s)?).map_err(js)?;
                moved.push(s);
            }
            tx.object_store(FOLDERS)
                .and_then(|f| f.delete(&id.into()))
                .map_err(js)?;
            Ok::<_, StoreError>(moved)
        }
        .await;
        match moved {
            Ok(moved) => idb::committed(&tx).await.map(|()| moved),
            Err(e) => {
                let _ = tx.abort();
                Err(e)
            }
        }
    }

    /// Files each message of `keys` in `folder`, in one transaction (all or none). Returns the
    /// messages as now stored; a key no longer stored is skipped.
    pub async fn move_messages(
        &self,
        keys: &[MessageKey],
        folder: &str,
        now: f64,
    ) -> Result<Vec<Summary>, StoreError> {
        self.rewrite(keys, |s| vec![(filed(s, folder, now), None)])
            .await
            .map(|w| w.into_iter().map(|(s, _)| s).collect())
    }

    /// Copies each message of `keys` into `folder`: a new record with its own key and the
    /// same bytes (see the module's head). Returns the copies.
    pub async fn copy_messages(
        &self,
        keys: &[MessageKey],
        folder: &str,
        now: f64,
    ) -> Result<Vec<Summary>, StoreError> {
        let mut n = 0u32;
        self.rewrite(keys, |s| {
            n += 1;
            let from = s.uidl.clone();
            let mut copy = filed(s, folder, now);
            copy.uidl = format!("{from} copy {}.{n}", now as u64);
            vec![(copy, Some(from))]
        })
        .await
        .map(|w| w.into_iter().map(|(s, _)| s).collect())
    }

    /// Reads each summary of `keys` and writes what `change` makes of it; a `Some(uidl)`
    /// beside a written summary copies that message's bytes to the written key and queues
    /// the new key for the search index (a move keeps its postings: `in:` reads the summary).
    async fn rewrite(
        &self,
        keys: &[MessageKey],
        mut change: impl FnMut(Summary) -> Vec<(Summary, Option<String>)>,
    ) -> Result<Vec<(Summary, Option<String>)>, StoreError> {
        let tx = self.tx(
            &[SUMMARIES, BODIES, SEARCH_QUEUE],
            IdbTransactionMode::Readwrite,
        )?;
        let written = async {
            let summaries = tx.object_store(SUMMARIES).map_err(js)?;
            let bodies = tx.object_store(BODIES).map_err(js)?;
            let mut written = Vec::new();
            for (account, uidl) in keys {
                // Each write follows its read in the read's `success` microtask, while the
                // transaction is still active.
                let value = idb::request(&summaries.get(&key2(account, uidl)).map_err(js)?).await?;
                if value.is_undefined() {
                    continue;
                }
                let summary: Summary = idb::from_js(&value)?;
                for (s, bytes_of) in change(summary) {
                    summaries.put(&idb::to_js(&s)?).map_err(js)?;
                    if let Some(from) = &bytes_of {
                        let body =
                            idb::request(&bodies.get(&key2(account, from)).map_err(js)?).await?;
                        if !body.is_undefined() {
                            bodies
                                .put_with_key(&body, &key2(&s.account, &s.uidl))
                                .map_err(js)?;
                            queue_in(&tx, &s.account, &s.uidl)?;
                        }
                    }
                    written.push((s, bytes_of));
                }
            }
            Ok::<_, StoreError>(written)
        }
        .await;
        match written {
            Ok(written) => idb::committed(&tx).await.map(|()| written),
            Err(e) => {
                let _ = tx.abort();
                Err(e)
            }
        }
    }

    /// Deletes messages here for good, in one transaction: the local delete of
    /// [`Store::delete_local`] for each. `mirror(account)` tells whether that account asks for
    /// the server copy to go too (queued for the next sync). A copy, imported or sent mail is
    /// on no server: never queued.
    pub async fn delete_for_good(
        &self,
        keys: &[MessageKey],
        mirror: impl Fn(&str) -> bool,
    ) -> Result<(), StoreError> {
        let tx = self.tx(
            &[SUMMARIES, BODIES, PENDING_DELETES, SEARCH_QUEUE],
            IdbTransactionMode::Readwrite,
        )?;
        idb::write_all(&tx, |tx| {
            let summaries = tx.object_store(SUMMARIES).map_err(js)?;
            let bodies = tx.object_store(BODIES).map_err(js)?;
            let pending = tx.object_store(PENDING_DELETES).map_err(js)?;
            for (account, uidl) in keys {
                // Its postings go when the indexer finds the bytes gone.
                queue_in(tx, account, uidl)?;
                let key = key2(account, uidl);
                summaries.delete(&key).map_err(js)?;
                bodies.delete(&key).map_err(js)?;
                if is_received(account) && !is_copy(uidl) && mirror(account) {
                    let p = PendingDelete {
                        account: account.clone(),
                        uidl: uidl.clone(),
                    };
                    pending.put(&idb::to_js(&p)?).map_err(js)?;
                }
            }
            Ok(())
        })
        .await
    }

    /// The messages in Trash since before `before` (ms since the epoch): due to be emptied.
    /// Read by the Trash time's index: the start of every tab asks, and reading every summary
    /// for it took seconds at 100,000 messages (`BY_TRASHED_AT`).
    pub async fn trash_due(&self, before: f64) -> Result<Vec<MessageKey>, StoreError> {
        let tx = self.tx(&[SUMMARIES], IdbTransactionMode::Readonly)?;
        let index = tx
            .object_store(SUMMARIES)
            .and_then(|s| s.index(BY_TRASHED_AT))
            .map_err(js)?;
        let range = IdbKeyRange::upper_bound_with_open(&before.into(), true).map_err(js)?;
        let due = idb::request(&index.get_all_with_key(&range).map_err(js)?).await?;
        let due: Vec<Summary> = idb::from_js(&due)?;
        Ok(due
            .into_iter()
            // A message in Trash with no time (none is filed so) is kept: never emptied unseen;
            // one with a time outside Trash (none is filed so either) is not in Trash.
            .filter(|s| s.folder == TRASH && s.trashed_at.is_some_and(|t| t < before))
            .map(|s| (s.account, s.uidl))
            .collect())
    }
}
