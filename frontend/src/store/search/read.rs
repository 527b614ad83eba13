//! What a query reads: a term's blocks (or a prefix's) by one key range, the tombstones, and
//! document numbers back to messages through a map this tab keeps of them.
//!
//! Numbers are given once and never change their message, so the map only grows: each read
//! fetches just the numbers given since the last (another tab's too). A new epoch (the index
//! cleared by a restore and numbered again) throws it away.

use std::cell::RefCell;
use std::collections::HashMap;

use js_sys::{Array, Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbKeyRange, IdbTransactionMode};

use super::{
    SEARCH_BLOCKS, SEARCH_DEAD, SEARCH_DOCS, SEARCH_META, codec, edges_complete, numbering,
};
use crate::search::{blocks, edges};
use crate::store::idb;
use crate::store::messages::js;
use crate::store::{MessageKey, Store, StoreError};

/// Numbers one term (or prefix) may bring back at most: a two-letter prefix cannot decode the
/// whole index into memory (4 MiB of numbers).
pub const MAX_DOCS_READ: usize = 1 << 20;
/// Numbers of the map read per transaction.
const MAP_PAGE: u32 = 5000;
/// Numbers a query reads one by one rather than waiting for the whole map (at 100,000 messages
/// the map's read at a tab's start took seconds while the folder's list was read beside it).
pub const DIRECT_READS: usize = 2000;
/// Requests of those issued at once.
const DIRECT_READS_PER_RUN: usize = 250;

/// One database's map of numbers to messages, as far as this tab has read it.
struct DocKeys {
    epoch: f64,
    /// Every number below this has been read (or was never given).
    read_to: u32,
    keys: HashMap<u32, MessageKey>,
}

thread_local! {
    /// Per database name: tests open many stores in one page.
    static DOC_KEYS: RefCell<HashMap<String, DocKeys>> = RefCell::new(HashMap::new());
    /// Per database name, the read of the map running now: a query that comes while the
    /// start's read runs awaits it rather than reading the same pages beside it.
    static LOADING: RefCell<HashMap<String, Promise>> = RefCell::new(HashMap::new());
    /// Per database name, the pages of the map read ([`Store::doc_map_pages_read`]).
    static PAGES_READ: RefCell<HashMap<String, u32>> = RefCell::new(HashMap::new());
    /// Per database name, the block records queries read ([`Store::blocks_read`]).
    static BLOCKS_READ: RefCell<HashMap<String, u64>> = RefCell::new(HashMap::new());
}

impl DocKeys {
    fn new(epoch: f64) -> DocKeys {
        DocKeys {
            epoch,
            read_to: 0,
            keys: HashMap::new(),
        }
    }
}

/// The range of `term`'s blocks, or of every term starting with `term`.
fn term_range(term: &str, prefix: bool) -> Result<IdbKeyRange, StoreError> {
    let lower: JsValue = Array::of1(&JsValue::from_str(term)).into();
    let upper: JsValue = if prefix {
        Array::of1(&JsValue::from_str(&format!("{term}\u{ffff}"))).into()
    } else {
        // Arrays sort after numbers: `[term, []]` is past every `[term, first]`.
        Array::of2(&JsValue::from_str(term), &Array::new()).into()
    };
    IdbKeyRange::bound(&lower, &upper).map_err(js)
}

/// The messages of `numbers` as `tx` reads them, [`DIRECT_READS_PER_RUN`] requests at a time
/// (numbers not given are left out).
async fn read_numbers(
    tx: &web_sys::IdbTransaction,
    numbers: &[u32],
) -> Result<Vec<(u32, MessageKey)>, StoreError> {
    let os = tx.object_store(SEARCH_DOCS).map_err(js)?;
    let mut found = Vec::with_capacity(numbers.len());
    for run in numbers.chunks(DIRECT_READS_PER_RUN) {
        let reads = run
            .iter()
            .map(|d| os.get(&JsValue::from(*d)).map_err(js))
            .collect::<Result<Vec<_>, _>>()?;
        for (d, read) in run.iter().zip(reads) {
            let value = idb::request(&read).await?;
            if !value.is_undefined() {
                found.push((*d, idb::from_js::<MessageKey>(&value)?));
            }
        }
    }
    Ok(found)
}

impl Store {
    /// The sorted numbers of the messages holding `term` (a prefix of their term with
    /// `prefix`), tombstoned ones included; the flag says whether [`MAX_DOCS_READ`] cut it.
    pub async fn doc_postings(
        &self,
        term: &str,
        prefix: bool,
    ) -> Result<(Vec<u32>, bool), StoreError> {
        let tx = self.tx(&[SEARCH_BLOCKS, SEARCH_META], IdbTransactionMode::Readonly)?;
        // A short prefix reads its edge blocks once every message has them (`edges.rs`).
        let edge = match edges::edge_prefix(term) {
            Some(edge) if prefix && edges_complete(&tx).await? => Some(edge),
            _ => None,
        };
        let range = match &edge {
            Some(edge) => term_range(edge, true)?,
            None => term_range(term, prefix)?,
        };
        let req = tx
            .object_store(SEARCH_BLOCKS)
            .and_then(|b| b.get_all_with_key(&range))
            .map_err(js)?;
        let values: Array = idb::request(&req).await?.into();
        BLOCKS_READ.with(|r| {
            *r.borrow_mut().entry(self.name()).or_default() += u64::from(values.length())
        });
        let mut docs = Vec::new();
        let mut cut = false;
        for value in values.iter() {
            if docs.len() >= MAX_DOCS_READ {
                cut = true;
                break;
            }
            let bytes = Uint8Array::new(&value).to_vec();
            blocks::decode_into(&bytes, &mut docs).map_err(codec)?;
        }
        docs.truncate(MAX_DOCS_READ);
        Ok((blocks::union(docs), cut))
    }

    /// The tombstoned numbers, sorted: messages deleted, moved aside or indexed again since
    /// their blocks were written.
    pub async fn dead_docs(&self) -> Result<Vec<u32>, StoreError> {
        let tx = self.tx(&[SEARCH_DEAD], IdbTransactionMode::Readonly)?;
        let req = tx
            .object_store(SEARCH_DEAD)
            .and_then(|d| d.get_all_keys())
            .map_err(js)?;
        let keys: Vec<u32> = idb::from_js(&idb::request(&req).await?)?;
        Ok(blocks::union(keys))
    }

    /// The messages `docs` name, in their order (numbers not known are left out). Numbers the
    /// tab's map lacks are read one by one when they are at most [`DIRECT_READS`] (a rare
    /// word's, a tab's first query while the start still reads the map), else the map is
    /// brought up to date first.
    pub async fn doc_keys(&self, docs: &[u32]) -> Result<Vec<MessageKey>, StoreError> {
        let name = self.name();
        // The epoch first: numbers read under another numbering name other messages.
        let tx = self.tx(&[SEARCH_DOCS, SEARCH_META], IdbTransactionMode::Readonly)?;
        let numbering = numbering(&tx).await?;
        let missing: Vec<u32> = DOC_KEYS.with(|m| {
            let mut m = m.borrow_mut();
            let map = m
                .entry(name.clone())
                .or_insert_with(|| DocKeys::new(numbering.epoch));
            if map.epoch != numbering.epoch {
                *map = DocKeys::new(numbering.epoch);
            }
            docs.iter()
                .copied()
                .filter(|d| *d >= map.read_to && !map.keys.contains_key(d))
                .collect()
        });
        if missing.len() > DIRECT_READS {
            self.read_doc_keys().await?;
        } else if !missing.is_empty() {
            let found = read_numbers(&tx, &missing).await?;
            DOC_KEYS.with(|m| {
                let mut m = m.borrow_mut();
                if let Some(map) = m.get_mut(&name)
                    && map.epoch == numbering.epoch
                {
                    // Numbers never change their message within an epoch: these stay true,
                    // and `read_to` still says how far the whole map is read.
                    map.keys.extend(found);
                }
            });
        }
        Ok(DOC_KEYS.with(|m| {
            let m = m.borrow();
            let Some(map) = m.get(&name) else {
                return Vec::new();
            };
            docs.iter()
                .filter_map(|d| map.keys.get(d).cloned())
                .collect()
        }))
    }

    /// How many block records this tab's queries have read from the database: what a short
    /// prefix costs, told apart from its answer (the same with or without edges).
    pub fn blocks_read(&self) -> u64 {
        BLOCKS_READ.with(|r| r.borrow().get(&self.name()).copied().unwrap_or(0))
    }

    /// How many pages of the map this tab has read from the database (every page, each
    /// time): a query must not read the map beside the start's read of it.
    pub fn doc_map_pages_read(&self) -> u32 {
        PAGES_READ.with(|p| p.borrow().get(&self.name()).copied().unwrap_or(0))
    }

    /// Brings this tab's map of numbers up to date: the numbers given since the last read, in
    /// pages of [`MAP_PAGE`] (one transaction each), so a tab's first read of 100,000 is many
    /// short tasks, not one long one. The indexer calls it when it is done, so the first query
    /// finds the map read. One read runs at a time per database: a caller that comes while
    /// one runs awaits it, then one more (which reads only what was numbered meanwhile, if
    /// anything), so it never returns before numbers given before it was called are read.
    pub async fn read_doc_keys(&self) -> Result<(), StoreError> {
        if let Some(running) = LOADING.with(|l| l.borrow().get(&self.name()).cloned()) {
            // Its error is the next read's to tell.
            let _ = JsFuture::from(running).await;
        }
        let running = LOADING.with(|l| l.borrow().get(&self.name()).cloned());
        let read = match running {
            Some(running) => running,
            None => {
                let (store, name) = (self.clone(), self.name());
                let read = wasm_bindgen_futures::future_to_promise(async move {
                    let read = store.read_doc_keys_alone().await;
                    LOADING.with(|l| l.borrow_mut().remove(&name));
                    read.map(|()| JsValue::UNDEFINED)
                        .map_err(|e| JsValue::from_str(&e.to_string()))
                });
                LOADING.with(|l| l.borrow_mut().insert(self.name(), read.clone()));
                read
            }
        };
        JsFuture::from(read)
            .await
            .map(|_| ())
            .map_err(StoreError::from_js)
    }

    /// [`Store::read_doc_keys`]'s reading, page by page (never two at once for a database).
    async fn read_doc_keys_alone(&self) -> Result<(), StoreError> {
        let name = self.name();
        loop {
            let tx = self.tx(&[SEARCH_DOCS, SEARCH_META], IdbTransactionMode::Readonly)?;
            let numbering = numbering(&tx).await?;
            let read_to = DOC_KEYS.with(|m| {
                let mut m = m.borrow_mut();
                let map = m
                    .entry(name.clone())
                    .or_insert_with(|| DocKeys::new(numbering.epoch));
                if map.epoch != numbering.epoch {
                    *map = DocKeys::new(numbering.epoch);
                }
                map.read_to
            });
            if read_to >= numbering.next {
                return Ok(());
            }
            let upto = read_to.saturating_add(MAP_PAGE).min(numbering.next);
            let range = IdbKeyRange::bound_with_lower_open_and_upper_open(
                &JsValue::from(read_to),
                &JsValue::from(upto),
                false,
                true,
            )
            .map_err(js)?;
            PAGES_READ.with(|p| *p.borrow_mut().entry(name.clone()).or_default() += 1);
            let os = tx.object_store(SEARCH_DOCS).map_err(js)?;
            let numbers = os.get_all_keys_with_key(&range).map_err(js)?;
            let keys = os.get_all_with_key(&range).map_err(js)?;
            let numbers: Vec<u32> = idb::from_js(&idb::request(&numbers).await?)?;
            let keys: Vec<MessageKey> = idb::from_js(&idb::request(&keys).await?)?;
            DOC_KEYS.with(|m| {
                let mut m = m.borrow_mut();
                let map = m.get_mut(&name).expect("made above");
                if map.epoch == numbering.epoch {
                    map.read_to = upto;
                    map.keys.extend(numbers.into_iter().zip(keys));
                }
            });
        }
    }

    /// The messages holding `term` (a prefix of their term with `prefix`), tombstones taken
    /// out, at most `limit`; the flag says whether a limit cut the list.
    pub async fn postings(
        &self,
        term: &str,
        prefix: bool,
        limit: u32,
    ) -> Result<(Vec<MessageKey>, bool), StoreError> {
        let (docs, mut cut) = self.doc_postings(term, prefix).await?;
        let mut live = blocks::without(&docs, &self.dead_docs().await?);
        if live.len() > limit as usize {
            live.truncate(limit as usize);
            cut = true;
        }
        Ok((self.doc_keys(&live).await?, cut))
    }
}
