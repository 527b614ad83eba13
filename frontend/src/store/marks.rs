//! The user's marks on a message (read, flagged), changed in place: the stored summary is read
//! and put back with only these changed, in one read-write transaction. A tab never writes
//! back its in-memory copy of the rest: that may be older than the store ("Download the rest"
//! in another tab replaced the partial copy with the whole, a move filed it elsewhere), and
//! putting it would undo that change.

use web_sys::IdbTransactionMode;

use super::idb::{self, key2};
use super::messages::js;
use super::schema::SUMMARIES;
use super::{Store, StoreError, Summary};

/// What to set on a message; `None` leaves that mark as stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Marks {
    pub read: Option<bool>,
    pub flagged: Option<bool>,
}

impl Marks {
    pub fn read(read: bool) -> Marks {
        Marks {
            read: Some(read),
            ..Marks::default()
        }
    }

    pub fn flagged(flagged: bool) -> Marks {
        Marks {
            flagged: Some(flagged),
            ..Marks::default()
        }
    }

    /// Sets these marks on `summary`; whether that changed it.
    pub fn apply(self, summary: &mut Summary) -> bool {
        let before = (summary.read, summary.flagged);
        summary.read = self.read.unwrap_or(summary.read);
        summary.flagged = self.flagged.unwrap_or(summary.flagged);
        before != (summary.read, summary.flagged)
    }
}

impl Store {
    /// Sets `marks` on the stored summary of `account`/`uidl`, leaving the rest of it as
    /// stored. Returns the summary as now stored (`None`: it is not stored, nothing written).
    pub async fn mark(
        &self,
        account: &str,
        uidl: &str,
        marks: Marks,
    ) -> Result<Option<Summary>, StoreError> {
        let tx = self.tx(&[SUMMARIES], IdbTransactionMode::Readwrite)?;
        let written = async {
            let summaries = tx.object_store(SUMMARIES).map_err(js)?;
            // The put follows the get in its `success` microtask, while the transaction is
            // still active, so no other write comes between them.
            let value = idb::request(&summaries.get(&key2(account, uidl)).map_err(js)?).await?;
            if value.is_undefined() {
                return Ok(None);
            }
            let mut summary: Summary = idb::from_js(&value)?;
            if marks.apply(&mut summary) {
                summaries.put(&idb::to_js(&summary)?).map_err(js)?;
            }
            Ok::<_, StoreError>(Some(summary))
        }
        .await;
        match written {
            Ok(summary) => idb::committed(&tx).await.map(|()| summary),
            Err(e) => {
                let _ = tx.abort();
                Err(e)
            }
        }
    }
}
