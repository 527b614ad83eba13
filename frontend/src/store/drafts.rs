//! Drafts: what the user is writing, saved while typing so a reload or a closed tab loses
//! nothing. One record per draft, attachments inside.

use serde::{Deserialize, Serialize};
use web_sys::IdbTransactionMode;

use super::idb;
use super::messages::js;
use super::schema::{BY_ACCOUNT, DRAFTS};
use super::{Store, StoreError};
use crate::compose::Draft;

/// A draft as stored: the compose form's fields with the account it is written from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredDraft {
    /// Random, made when the compose form opens.
    pub id: String,
    pub account: String,
    /// When it was last saved (ms since the epoch); the drafts list is newest first.
    pub updated: f64,
    #[serde(flatten)]
    pub draft: Draft,
}

impl Store {
    /// Saves (or replaces) a draft. A relaxed transaction: a draft lost to a power cut in the
    /// last second is retyped, and saving runs on every pause in typing.
    pub async fn put_draft(&self, draft: &StoredDraft) -> Result<(), StoreError> {
        let tx = self.tx(&[DRAFTS], IdbTransactionMode::Readwrite)?;
        let value = idb::to_js(draft)?;
        tx.object_store(DRAFTS)
            .and_then(|s| s.put(&value))
            .map_err(js)?;
        idb::committed(&tx).await
    }

    /// An account's drafts, newest first.
    pub async fn drafts(&self, account: &str) -> Result<Vec<StoredDraft>, StoreError> {
        let tx = self.tx(&[DRAFTS], IdbTransactionMode::Readonly)?;
        let index = tx
            .object_store(DRAFTS)
            .and_then(|s| s.index(BY_ACCOUNT))
            .map_err(js)?;
        let all = idb::request(&index.get_all_with_key(&account.into()).map_err(js)?).await?;
        let mut list: Vec<StoredDraft> = idb::from_js(&all)?;
        crate::sort::sort_by(&mut list, |a, b| b.updated.total_cmp(&a.updated));
        Ok(list)
    }

    pub async fn draft(&self, id: &str) -> Result<Option<StoredDraft>, StoreError> {
        let tx = self.tx(&[DRAFTS], IdbTransactionMode::Readonly)?;
        let os = tx.object_store(DRAFTS).map_err(js)?;
        let value = idb::request(&os.get(&id.into()).map_err(js)?).await?;
        if value.is_undefined() {
            return Ok(None);
        }
        idb::from_js(&value).map(Some)
    }

    pub async fn delete_draft(&self, id: &str) -> Result<(), StoreError> {
        let tx = self.tx(&[DRAFTS], IdbTransactionMode::Readwrite)?;
        tx.object_store(DRAFTS)
            .and_then(|s| s.delete(&id.into()))
            .map_err(js)?;
        idb::committed(&tx).await
    }
}
