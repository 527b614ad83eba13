//! The outbox and the sent mail.
//!
//! A message the user sends is queued here, bytes and envelope, in one strict transaction
//! (the draft it came from goes in the same transaction). Its state changes are strict too:
//! `MayHaveBeenSent` must be on disk before the final `.` goes out (see `outbox/`). Once sent,
//! the message moves to the account's Sent folder: a summary and the bytes in the same stores
//! as received mail, under the folder's own account key ([`sent_folder`]), so the reader and
//! the export read it as they read everything else.

use js_sys::Uint8Array;
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;
use web_sys::{IdbTransaction, IdbTransactionMode};

use super::idb::{self, key2};
use super::messages::js;
use super::schema::{BODIES, BY_ACCOUNT, DRAFTS, OUTBOX, OUTBOX_RAW, SUMMARIES};
use super::{Store, StoreError, Summary};

/// The account key under which an account's sent mail is stored beside its received mail.
/// Account ids are addresses, which hold no space, so this never names a real account.
pub fn sent_folder(account: &str) -> String {
    format!("{account} sent")
}

/// Where a queued message stands. (`Sending` is not stored: a tab that dies while sending
/// leaves the message `Queued`, or `MayHaveBeenSent` once the final `.` could have gone.)
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OutboxState {
    /// Waiting for the network, the proxy, a password, or its next attempt.
    Queued,
    /// The connection broke after the message's final `.` and before the server's answer:
    /// the server may have taken it. Never sent again unless the user says so.
    MayHaveBeenSent,
    /// The server refused it for good (a 5xx reply, or every recipient refused).
    Failed,
    /// Sent, but some recipients were refused (listed in `refused`).
    PartlySent,
}

/// A recipient the server refused, with its reply as the server wrote it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecipientRefusal {
    pub address: String,
    pub reply: String,
}

/// One message in the outbox (its bytes apart, in `outbox_raw`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutboxItem {
    /// The Message-ID, with angle brackets.
    pub id: String,
    pub account: String,
    pub envelope_from: String,
    pub recipients: Vec<String>,
    pub subject: String,
    /// The To line for the list.
    pub to: String,
    pub size: u64,
    /// When the user pressed Send (ms since the epoch).
    pub created: f64,
    pub state: OutboxState,
    /// Attempts that reached the server and failed for a reason that may pass (4xx, a cut).
    pub attempts: u32,
    /// Not before this time (ms since the epoch): the backoff after a temporary failure.
    pub next_attempt: f64,
    /// Why the last attempt did not send it, in the user's words.
    pub last_error: Option<String>,
    pub refused: Vec<RecipientRefusal>,
}

impl Store {
    /// Queues a message: its record and bytes, and the removal of the draft it was written
    /// in, in one strict transaction. Once this resolves the message survives a crash.
    pub async fn queue_outgoing(
        &self,
        item: &OutboxItem,
        raw: &[u8],
        draft: Option<&str>,
    ) -> Result<(), StoreError> {
        let tx = self.tx_durable(&[OUTBOX, OUTBOX_RAW, DRAFTS])?;
        idb::write_all(&tx, |tx| {
            tx.object_store(OUTBOX)
                .and_then(|s| s.put(&idb::to_js(item).map_err(to_js_err)?))
                .map_err(js)?;
            tx.object_store(OUTBOX_RAW)
                .and_then(|s| {
                    s.put_with_key(&Uint8Array::from(raw).into(), &item.id.as_str().into())
                })
                .map_err(js)?;
            if let Some(d) = draft {
                tx.object_store(DRAFTS)
                    .and_then(|s| s.delete(&d.into()))
                    .map_err(js)?;
            }
            Ok(())
        })
        .await
    }

    /// Every outbox record of an account, oldest first.
    pub async fn outbox(&self, account: &str) -> Result<Vec<OutboxItem>, StoreError> {
        let tx = self.tx(&[OUTBOX], IdbTransactionMode::Readonly)?;
        let index = tx
            .object_store(OUTBOX)
            .and_then(|s| s.index(BY_ACCOUNT))
            .map_err(js)?;
        let all = idb::request(&index.get_all_with_key(&account.into()).map_err(js)?).await?;
        let mut list: Vec<OutboxItem> = idb::from_js(&all)?;
        crate::sort::sort_by(&mut list, |a, b| a.created.total_cmp(&b.created));
        Ok(list)
    }

    /// One record as stored now (the sender re-reads it under the Web Lock).
    pub async fn outbox_item(&self, id: &str) -> Result<Option<OutboxItem>, StoreError> {
        let tx = self.tx(&[OUTBOX], IdbTransactionMode::Readonly)?;
        let os = tx.object_store(OUTBOX).map_err(js)?;
        let value = idb::request(&os.get(&id.into()).map_err(js)?).await?;
        if value.is_undefined() {
            return Ok(None);
        }
        idb::from_js(&value).map(Some)
    }

    pub async fn outbox_raw(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let tx = self.tx(&[OUTBOX_RAW], IdbTransactionMode::Readonly)?;
        let os = tx.object_store(OUTBOX_RAW).map_err(js)?;
        let value = idb::request(&os.get(&id.into()).map_err(js)?).await?;
        if value.is_undefined() {
            return Ok(None);
        }
        Ok(Some(Uint8Array::new(&value).to_vec()))
    }

    /// Rewrites a record's state, durably ("strict": the `MayHaveBeenSent` written before the
    /// final `.` must be on disk, not in the OS cache, when this resolves).
    pub async fn put_outbox(&self, item: &OutboxItem) -> Result<(), StoreError> {
        let tx = self.tx_durable(&[OUTBOX])?;
        let value = idb::to_js(item)?;
        tx.object_store(OUTBOX)
            .and_then(|s| s.put(&value))
            .map_err(js)?;
        idb::committed(&tx).await
    }

    /// Moves a sent message to the Sent folder: its summary (the caller's, keyed by
    /// [`sent_folder`] and the message's id) and bytes stored there, its outbox bytes
    /// removed, and its record removed (or kept as `PartlySent` when some recipients were
    /// refused, so the user sees which), in one strict transaction.
    pub async fn mark_sent(
        &self,
        item: &OutboxItem,
        raw: &[u8],
        summary: &Summary,
    ) -> Result<(), StoreError> {
        let folder = sent_folder(&item.account);
        let tx = self.tx_durable(&[OUTBOX, OUTBOX_RAW, SUMMARIES, BODIES])?;
        idb::write_all(&tx, |tx| {
            tx.object_store(SUMMARIES)
                .and_then(|s| s.put(&idb::to_js(summary).map_err(to_js_err)?))
                .map_err(js)?;
            tx.object_store(BODIES)
                .and_then(|s| {
                    s.put_with_key(&Uint8Array::from(raw).into(), &key2(&folder, &item.id))
                })
                .map_err(js)?;
            tx.object_store(OUTBOX_RAW)
                .and_then(|s| s.delete(&item.id.as_str().into()))
                .map_err(js)?;
            let outbox = tx.object_store(OUTBOX).map_err(js)?;
            if item.refused.is_empty() {
                outbox.delete(&item.id.as_str().into()).map_err(js)?;
            } else {
                let kept = OutboxItem {
                    state: OutboxState::PartlySent,
                    ..item.clone()
                };
                outbox.put(&idb::to_js(&kept)?).map_err(js)?;
            }
            Ok(())
        })
        .await
    }

    /// Removes a record and its bytes (the user discarded a failed message, or dismissed a
    /// partly sent one).
    pub async fn delete_outgoing(&self, id: &str) -> Result<(), StoreError> {
        let tx = self.tx(&[OUTBOX, OUTBOX_RAW], IdbTransactionMode::Readwrite)?;
        idb::write_all(&tx, |tx| {
            for name in [OUTBOX, OUTBOX_RAW] {
                tx.object_store(name)
                    .and_then(|s| s.delete(&id.into()))
                    .map_err(js)?;
            }
            Ok(())
        })
        .await
    }
}

/// `idb::to_js` fails with a `StoreError`; inside a web-sys chain a `JsValue` is wanted.
fn to_js_err(e: StoreError) -> JsValue {
    JsValue::from_str(&e.to_string())
}

/// The stores holding an account's unsent mail: drafts, the outbox and its bytes. Removing an
/// account with its mail removes that too, in the same transaction ([`Store::remove_account`]).
pub(super) const UNSENT_STORES: [&str; 3] = [DRAFTS, OUTBOX, OUTBOX_RAW];

/// The keys of `account`'s drafts and outbox messages, read in `tx` (which holds
/// [`UNSENT_STORES`]), for [`delete_unsent`].
pub(super) async fn unsent_keys(
    tx: &IdbTransaction,
    account: &str,
) -> Result<Vec<(&'static str, Vec<String>)>, StoreError> {
    let mut ids = Vec::new();
    for name in [DRAFTS, OUTBOX] {
        let keys = tx
            .object_store(name)
            .and_then(|s| s.index(BY_ACCOUNT))
            .and_then(|i| i.get_all_keys_with_key(&account.into()))
            .map_err(js)?;
        ids.push((name, idb::from_js(&idb::request(&keys).await?)?));
    }
    Ok(ids)
}

/// Deletes in `tx` what [`unsent_keys`] found, an outbox message's bytes with it.
pub(super) fn delete_unsent(
    tx: &IdbTransaction,
    ids: &[(&'static str, Vec<String>)],
) -> Result<(), StoreError> {
    for (name, keys) in ids {
        let stores: &[&str] = if *name == OUTBOX {
            &[OUTBOX, OUTBOX_RAW]
        } else {
            &[DRAFTS]
        };
        for store in stores {
            let os = tx.object_store(store).map_err(js)?;
            for id in keys {
                os.delete(&id.as_str().into()).map_err(js)?;
            }
        }
    }
    Ok(())
}
