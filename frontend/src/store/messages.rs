//! Messages: the batch commit the sync engine relies on, listing, reading, local deletion.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use js_sys::{Array, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbIndex, IdbKeyRange, IdbTransactionMode};

use super::idb::{self, key2};
use super::schema::*;
use super::search::{SEARCH_QUEUE, queue_in};
use super::{LedgerEntry, PendingDelete, Store, StoreError, Summary};

pub(super) fn js(e: JsValue) -> StoreError {
    StoreError::from_js(e)
}

/// All keys `[account, *]` of a compound-keyed store.
pub(super) fn account_range(account: &str) -> Result<IdbKeyRange, StoreError> {
    let lower = key2(account, "");
    // Arrays sort after strings in IndexedDB's key order, so `[account, []]` is past every uidl.
    let upper: JsValue = Array::of2(&JsValue::from_str(account), &Array::new()).into();
    IdbKeyRange::bound(&lower, &upper).map_err(js)
}

/// One downloaded message, ready to be stored.
#[derive(Clone, Debug)]
pub struct NewMessage {
    pub summary: Summary,
    pub raw: Vec<u8>,
    /// The size the server listed for it, kept in the ledger to recognise a reused UIDL.
    pub server_size: Option<u64>,
}

/// A batch of messages written in one read-write transaction. Awaiting it resolves once the
/// transaction fired `complete`, and fails if it aborted: only a resolved `Commit` means the
/// messages are durable here (and may be deleted on the server).
#[must_use = "a commit is durable only once awaited"]
pub struct Commit {
    done: JsFuture,
}

impl Future for Commit {
    type Output = Result<(), StoreError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.done)
            .poll(cx)
            .map(|r| r.map(|_| ()).map_err(js))
    }
}

impl Store {
    /// Queues `batch` (raw bytes, summary and ledger line of each message) in ONE transaction
    /// and returns without waiting; the returned [`Commit`] resolves on `complete`. If any
    /// write fails before that, the transaction is aborted: all of the batch or none of it.
    pub fn begin_commit(
        &self,
        batch: &[NewMessage],
        first_seen: f64,
    ) -> Result<Commit, StoreError> {
        // Durable: a message of this batch may be DELEd on the server once it completes.
        // The search queue too: a stored message is always indexed later, even after a crash
        // (one small put each; the indexing itself happens after the commit, never before DELE).
        let tx = self.tx_durable(&[SUMMARIES, BODIES, LEDGER, SEARCH_QUEUE])?;
        idb::queue_all(&tx, |tx| {
            let bodies = tx.object_store(BODIES).map_err(js)?;
            let summaries = tx.object_store(SUMMARIES).map_err(js)?;
            let ledger = tx.object_store(LEDGER).map_err(js)?;
            for m in batch {
                let s = &m.summary;
                bodies
                    .put_with_key(
                        &Uint8Array::from(&m.raw[..]).into(),
                        &key2(&s.account, &s.uidl),
                    )
                    .map_err(js)?;
                summaries.put(&idb::to_js(s)?).map_err(js)?;
                let line = LedgerEntry {
                    account: s.account.clone(),
                    uidl: s.uidl.clone(),
                    first_seen,
                    on_server: true,
                    size: m.server_size,
                    gone_since: None,
                    deleted: false,
                    partial: s.partial_of.is_some(),
                    identity: super::identity(&m.raw),
                };
                ledger.put(&idb::to_js(&line)?).map_err(js)?;
                queue_in(tx, &s.account, &s.uidl)?;
            }
            Ok(())
        })?;
        Ok(Commit {
            done: idb::completion(&tx),
        })
    }

    /// Stores a batch and returns only after its transaction's `complete` event.
    pub async fn commit_messages(
        &self,
        batch: &[NewMessage],
        first_seen: f64,
    ) -> Result<(), StoreError> {
        self.begin_commit(batch, first_seen)?.await
    }

    /// Stores one message (raw bytes, summary and ledger line in one transaction) and returns
    /// only after the transaction's `complete` event.
    pub async fn commit_message(
        &self,
        summary: &Summary,
        raw: &[u8],
        first_seen: f64,
    ) -> Result<(), StoreError> {
        let one = NewMessage {
            summary: summary.clone(),
            raw: raw.to_vec(),
            server_size: None,
        };
        self.commit_messages(std::slice::from_ref(&one), first_seen)
            .await
    }

    /// A read-only transaction's index of summaries by account and date, and the range of
    /// `account`'s: what listing, paging and "any stored?" read.
    pub(super) fn account_dates_read(
        &self,
        account: &str,
    ) -> Result<(IdbIndex, IdbKeyRange), StoreError> {
        let tx = self.tx(&[SUMMARIES], IdbTransactionMode::Readonly)?;
        let index = tx
            .object_store(SUMMARIES)
            .and_then(|s| s.index(BY_ACCOUNT_DATE))
            .map_err(js)?;
        Ok((index, account_dates(account)?))
    }

    /// Every summary of an account, newest first. Never touches raw bytes.
    pub async fn list(&self, account: &str) -> Result<Vec<Summary>, StoreError> {
        let (index, range) = self.account_dates_read(account)?;
        let all = idb::request(&index.get_all_with_key(&range).map_err(js)?).await?;
        let mut list: Vec<Summary> = idb::from_js(&all)?;
        list.reverse();
        Ok(list)
    }

    /// Whether any message is stored under `account` (an account's received mail, or
    /// [`crate::store::IMPORTED`]): the index's first key, nothing counted. Counting 100,000
    /// entries held IndexedDB for most of a second, and the next read (opening a message)
    /// waited behind it.
    pub async fn holds_any(&self, account: &str) -> Result<bool, StoreError> {
        let (index, range) = self.account_dates_read(account)?;
        let req = index.open_key_cursor_with_range(&range).map_err(js)?;
        Ok(!idb::request(&req).await?.is_null())
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

    /// The summary of one message, if it is stored.
    pub async fn summary(&self, account: &str, uidl: &str) -> Result<Option<Summary>, StoreError> {
        let tx = self.tx(&[SUMMARIES], IdbTransactionMode::Readonly)?;
        let os = tx.object_store(SUMMARIES).map_err(js)?;
        let value = idb::request(&os.get(&key2(account, uidl)).map_err(js)?).await?;
        if value.is_undefined() {
            return Ok(None);
        }
        idb::from_js(&value).map(Some)
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
            &[SUMMARIES, BODIES, PENDING_DELETES, SEARCH_QUEUE],
            IdbTransactionMode::Readwrite,
        )?;
        idb::write_all(&tx, |tx| {
            // Its postings go when the indexer finds the bytes gone.
            queue_in(tx, account, uidl)?;
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
            Ok(())
        })
        .await
    }

    /// Moves the local copy (summary and raw bytes) of each `(uidl, key)` to `key`, and drops
    /// the UIDL's pending server deletion: the server now uses that UIDL for another message,
    /// which is stored under the UIDL next. One transaction; nothing moved if any step fails.
    pub async fn set_aside(
        &self,
        account: &str,
        moves: &[(String, String)],
    ) -> Result<(), StoreError> {
        if moves.is_empty() {
            return Ok(());
        }
        let tx = self.tx(
            &[SUMMARIES, BODIES, PENDING_DELETES, SEARCH_QUEUE],
            IdbTransactionMode::Readwrite,
        )?;
        let moved = async {
            let summaries = tx.object_store(SUMMARIES).map_err(js)?;
            let bodies = tx.object_store(BODIES).map_err(js)?;
            let pending = tx.object_store(PENDING_DELETES).map_err(js)?;
            for (uidl, key) in moves {
                let (from, to) = (key2(account, uidl), key2(account, key));
                // Both reads are queued before awaiting; the writes follow in the same
                // microtask as the read's `success`, while the transaction is still active.
                let summary = summaries.get(&from).map_err(js)?;
                let body = bodies.get(&from).map_err(js)?;
                let summary = idb::request(&summary).await?;
                let body = idb::request(&body).await?;
                if !summary.is_undefined() {
                    js_sys::Reflect::set(
                        &summary,
                        &JsValue::from_str("uidl"),
                        &JsValue::from_str(key),
                    )
                    .map_err(js)?;
                    summaries.put(&summary).map_err(js)?;
                    summaries.delete(&from).map_err(js)?;
                }
                if !body.is_undefined() {
                    bodies.put_with_key(&body, &to).map_err(js)?;
                    bodies.delete(&from).map_err(js)?;
                }
                pending.delete(&from).map_err(js)?;
                // The index follows the move: the aside key indexed, the UIDL's entry redone.
                queue_in(&tx, account, uidl)?;
                queue_in(&tx, account, key)?;
            }
            Ok::<(), StoreError>(())
        }
        .await;
        if let Err(e) = moved {
            let _ = tx.abort();
            return Err(e);
        }
        idb::committed(&tx).await
    }

    /// Writes many summaries and bodies in one transaction (benchmarks and tests seed with it).
    pub async fn bulk_insert(&self, items: &[(Summary, Vec<u8>)]) -> Result<(), StoreError> {
        let tx = self.tx(
            &[SUMMARIES, BODIES, LEDGER, SEARCH_QUEUE],
            IdbTransactionMode::Readwrite,
        )?;
        idb::write_all(&tx, |tx| {
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
                    size: None,
                    gone_since: None,
                    deleted: false,
                    identity: super::identity(raw),
                    partial: false,
                };
                ledger.put(&idb::to_js(&line)?).map_err(js)?;
                queue_in(tx, &s.account, &s.uidl)?;
            }
            Ok(())
        })
        .await
    }
}

/// Every key of `account` in the summaries' (account, date) index.
fn account_dates(account: &str) -> Result<IdbKeyRange, StoreError> {
    let lower = Array::of2(
        &JsValue::from_str(account),
        &JsValue::from_f64(f64::NEG_INFINITY),
    );
    let upper = Array::of2(
        &JsValue::from_str(account),
        &JsValue::from_f64(f64::INFINITY),
    );
    IdbKeyRange::bound(&lower, &upper).map_err(js)
}
