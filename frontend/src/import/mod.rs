//! Import of mail from files: mbox (mboxo or mboxrd, [`mbox`]), single `.eml` messages and the
//! message files of a Maildir folder ([`maildir`]).
//!
//! Files are read in chunks of [`CHUNK`] bytes, never whole, and messages are stored in
//! batches of at most [`BATCH_BYTES`] (one durable transaction each), so an archive of any size
//! imports with the tab's memory bounded by a chunk, a batch and the largest message allowed.
//! Only whole messages are stored: a file that is not mail is refused before anything of it is
//! stored, a message cut off at the end of a file or over the size limit is skipped and named
//! with its offset. Imported mail is stored under [`IMPORTED`], keyed by the SHA-256 of its
//! bytes; a message already stored (imported before, or synced from an account: the same
//! identity and the same bytes) is not added again.

pub mod maildir;
pub mod mbox;

use std::collections::{HashMap, HashSet};

use js_sys::{ArrayBuffer, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::mail::summarize;
use crate::store::{IMPORTED, MessageKey, Store, StoreError, Summary, identity};
use mbox::{Found, MboxError, MboxReader, Skip};

/// Bytes read from a file at a time.
pub const CHUNK: u64 = 4 << 20;
/// Raw bytes stored per transaction, at most (a larger message makes a batch of its own).
pub const BATCH_BYTES: usize = 4 << 20;

/// One file the user picked; `path` is its path inside a picked folder, else its name.
pub struct Picked {
    pub file: web_sys::File,
    pub path: String,
}

/// A part of a file that was not imported, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Skipped {
    pub path: String,
    /// Byte offset of the message in the file (for mbox files).
    pub offset: Option<u64>,
    pub why: String,
}

/// How an import ended.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Imported {
    /// Messages stored.
    pub added: u32,
    /// Messages found that were stored already.
    pub duplicates: u32,
    /// Files that are not mail, and messages left out (cut, too large, not a message).
    pub skipped: Vec<Skipped>,
    /// At least one mbox file used mboxrd quoting (`>>From `).
    pub mboxrd: bool,
    pub cancelled: bool,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum ImportError {
    #[error("storing the imported mail failed: {0}")]
    Store(#[from] StoreError),
    #[error("{path} could not be read: {reason}")]
    Read { path: String, reason: String },
}

/// What one file is, told from its path and first bytes.
enum Kind {
    Mbox,
    Message {
        seen: bool,
        flagged: bool,
        date_ms: Option<f64>,
    },
}

/// Imports `files` in order into `store`. `cancelled` is asked before each chunk; `progress`
/// gets the bytes read so far and the bytes of all files.
pub async fn import(
    store: &Store,
    files: &[Picked],
    max_message: usize,
    cancelled: &dyn Fn() -> bool,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Imported, ImportError> {
    let total: u64 = files.iter().map(|f| f.file.size() as u64).sum();
    let mut run = Run {
        store,
        known: store.identities().await?,
        seen: HashSet::new(),
        batch: Vec::new(),
        batch_bytes: 0,
        report: Imported::default(),
    };
    let mut read_before = 0;
    for picked in files {
        if cancelled() {
            run.report.cancelled = true;
            break;
        }
        if maildir::is_bookkeeping(&picked.path) {
            read_before += picked.file.size() as u64;
            progress(read_before, total);
            continue;
        }
        let mut on_read = |n: u64| progress(read_before + n, total);
        run.file(picked, max_message, cancelled, &mut on_read)
            .await?;
        read_before += picked.file.size() as u64;
        progress(read_before, total);
    }
    run.flush().await?;
    Ok(run.report)
}

/// The state of one import: what is known to be stored, and the batch not yet written.
struct Run<'a> {
    store: &'a Store,
    /// Synced messages by identity (candidates for a byte comparison).
    known: HashMap<String, Vec<MessageKey>>,
    /// Keys added or found during this import.
    seen: HashSet<String>,
    batch: Vec<(Summary, Vec<u8>)>,
    batch_bytes: usize,
    report: Imported,
}

impl Run<'_> {
    async fn file(
        &mut self,
        picked: &Picked,
        max_message: usize,
        cancelled: &dyn Fn() -> bool,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(), ImportError> {
        let size = picked.file.size() as u64;
        let first = read(picked, 0, CHUNK.min(size)).await?;
        let kind = match kind(&picked.path, &first, picked.file.last_modified()) {
            Ok(kind) => kind,
            Err(why) => {
                self.skip(picked, Some(0), why);
                return Ok(());
            }
        };
        if let Kind::Message {
            seen,
            flagged,
            date_ms,
        } = kind
        {
            if size > max_message as u64 {
                self.skip(picked, None, too_large(size, max_message));
                return Ok(());
            }
            let mut raw = first;
            if size > CHUNK {
                raw.extend(read(picked, CHUNK, size).await?);
            }
            progress(size);
            let date = date_ms.unwrap_or_else(js_sys::Date::now);
            return self.add(raw, date, seen, flagged).await;
        }
        let mut reader = MboxReader::new(max_message);
        let mut found = Vec::new();
        let mut at = 0;
        let mut chunk = first;
        loop {
            if let Err(e) = reader.feed(&chunk, &mut found) {
                // Refused at its first bytes: nothing of this file was found, so none stored.
                self.refuse(picked, e);
                return Ok(());
            }
            self.found(picked, &mut found, max_message).await?;
            at += chunk.len() as u64;
            progress(at);
            if at >= size {
                break;
            }
            if cancelled() {
                self.report.cancelled = true;
                return Ok(());
            }
            chunk = read(picked, at, (at + CHUNK).min(size)).await?;
        }
        match reader.finish(&mut found) {
            Ok(format) => self.report.mboxrd |= format == mbox::Format::Mboxrd,
            Err(e) => {
                self.refuse(picked, e);
                return Ok(());
            }
        }
        self.found(picked, &mut found, max_message).await
    }

    async fn found(
        &mut self,
        picked: &Picked,
        found: &mut Vec<Found>,
        max_message: usize,
    ) -> Result<(), ImportError> {
        for item in found.drain(..) {
            match item {
                Found::Message { separator, raw, .. } => {
                    let date =
                        mbox::separator_date_ms(&separator).unwrap_or_else(js_sys::Date::now);
                    self.add(raw, date, false, false).await?;
                }
                Found::Skipped { offset, reason } => {
                    let why = match reason {
                        Skip::TooLarge { bytes } => too_large(bytes, max_message),
                        Skip::Cut => "the file ends inside this message: it looks cut off".into(),
                        Skip::NotAMessage => "this part of the file is not a message".into(),
                    };
                    self.skip(picked, Some(offset), why);
                }
            }
        }
        Ok(())
    }

    /// Queues one message unless it is stored already; writes the batch when it is full.
    async fn add(
        &mut self,
        raw: Vec<u8>,
        date_ms: f64,
        seen: bool,
        flagged: bool,
    ) -> Result<(), ImportError> {
        let key = format!("sha256-{}", sha256_hex(&raw));
        if !self.seen.insert(key.clone()) || self.synced_copy(&raw).await? {
            self.report.duplicates += 1;
            return Ok(());
        }
        let mut summary = summarize(&raw, IMPORTED, &key, date_ms);
        summary.read = seen;
        summary.flagged = flagged;
        self.batch_bytes += raw.len();
        self.batch.push((summary, raw));
        if self.batch_bytes >= BATCH_BYTES {
            self.flush().await?;
        }
        Ok(())
    }

    /// A synced message with the same identity and the same bytes is stored.
    async fn synced_copy(&self, raw: &[u8]) -> Result<bool, ImportError> {
        let Some(candidates) = identity(raw).and_then(|id| self.known.get(&id)) else {
            return Ok(false);
        };
        for (account, uidl) in candidates {
            if self.store.raw(account, uidl).await?.as_deref() == Some(raw) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Writes the batch, leaving out what an earlier import stored already.
    async fn flush(&mut self) -> Result<(), ImportError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.batch);
        self.batch_bytes = 0;
        let keys: Vec<String> = batch.iter().map(|(s, _)| s.uidl.clone()).collect();
        let stored = self.store.stored(IMPORTED, &keys).await?;
        let new: Vec<_> = batch
            .into_iter()
            .zip(stored)
            .filter_map(|(item, stored)| (!stored).then_some(item))
            .collect();
        self.report.duplicates += (keys.len() - new.len()) as u32;
        self.store.put_imported(&new).await?;
        self.report.added += new.len() as u32;
        Ok(())
    }

    fn skip(&mut self, picked: &Picked, offset: Option<u64>, why: String) {
        self.report.skipped.push(Skipped {
            path: picked.path.clone(),
            offset,
            why,
        });
    }

    fn refuse(&mut self, picked: &Picked, error: MboxError) {
        let offset = match error {
            MboxError::NotMbox { offset } => Some(offset),
            MboxError::Empty => None,
        };
        self.skip(picked, offset, error.to_string());
    }
}

/// Maildir message by its path, mbox by its first line, a single message by its first header.
fn kind(path: &str, first: &[u8], modified_ms: f64) -> Result<Kind, String> {
    if let Some(file) = maildir::message_file(path) {
        return Ok(Kind::Message {
            seen: file.seen,
            flagged: file.flagged,
            date_ms: file.delivered_ms.or(Some(modified_ms)),
        });
    }
    let start = first
        .iter()
        .position(|&b| b != b'\n' && b != b'\r')
        .unwrap_or(first.len());
    if first[start..].starts_with(b"From ") {
        return Ok(Kind::Mbox);
    }
    if start == 0 && mbox::looks_like_message(first) {
        return Ok(Kind::Message {
            seen: false,
            flagged: false,
            date_ms: Some(modified_ms),
        });
    }
    if first.is_empty() {
        return Err("the file is empty".into());
    }
    Err(
        "it is neither an mbox file nor a message (it does not start with \"From \" or a header)"
            .into(),
    )
}

fn too_large(bytes: u64, max: usize) -> String {
    format!(
        "the message is larger ({} MB) than the {} MB allowed",
        bytes.div_ceil(1 << 20),
        max >> 20
    )
}

/// Bytes `start..end` of the file.
async fn read(picked: &Picked, start: u64, end: u64) -> Result<Vec<u8>, ImportError> {
    let failed = |e: wasm_bindgen::JsValue| ImportError::Read {
        path: picked.path.clone(),
        reason: StoreError::from_js(e).to_string(),
    };
    let blob = picked
        .file
        .slice_with_f64_and_f64(start as f64, end as f64)
        .map_err(failed)?;
    let buffer = JsFuture::from(blob.array_buffer()).await.map_err(failed)?;
    let buffer: ArrayBuffer = buffer.unchecked_into();
    Ok(Uint8Array::new(&buffer).to_vec())
}

/// SHA-256 of `bytes` in lower-case hex. Computed here rather than by WebCrypto: one promise
/// per message would cost more than the hash itself.
fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
