//! The live copy on disk (desktop Chromium): every message the sync commits is also written
//! into a folder the user picked, as a Maildir file (`cur/`, flags in the name), and while
//! the copy is on a message is deleted on the server only once it is in BOTH IndexedDB and
//! the folder ([`DiskGate`], used by the sync engine at its DELE gate).
//!
//! How a file is written (`fs.rs`): whole into `tmp/<name>` through a writable stream, closed,
//! then `move()`d into `cur/` (Chromium has `move()` for picked folders and the origin's
//! private file system); where `move()` is missing, straight into `cur/<name>` through a
//! writable stream, whose `close()` Chromium makes atomic (a swap file renamed into place).
//! The API promises no flush to the disk's platter the way IndexedDB's strict durability
//! does: a resolved `close()` (or `move()`) means the whole file is in place in the folder.
//!
//! Names are deterministic (`names.rs`), so writing a message again changes nothing. Read
//! state: a file's flags (`:2,S`) are those the message had when it was written; marking it
//! read later does NOT rename the file. The folder is a copy that keeps the mail out of the
//! browser, its bytes are what matters; renaming on every click would be a folder write per
//! read, failing whenever the permission lapsed, for a flag the app and its backups already
//! keep. A catch-up writes a missing file with the flags of that moment.
//!
//! Messages stored before the copy was turned on, and those whose write failed (permission
//! lost, folder gone, disk full), are written by a catch-up (`catch_up.rs`): when the copy is
//! turned on or allowed again, and before every sync of an account.

pub mod catch_up;
pub mod fs;
pub mod names;

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::rc::Rc;

use js_sys::{Array, Promise};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, future_to_promise};

use crate::store::NewMessage;

pub use fs::{Access, Placed};

/// Why a message is not (yet) in the folder.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DiskError {
    #[error("Postbag may not write to the folder (permission not granted)")]
    NotAllowed,
    #[error("the disk or the folder's quota is full")]
    Full,
    #[error("the folder is gone (moved or deleted)")]
    Gone,
    #[error("this browser cannot write to a folder")]
    Unsupported,
    /// The catch-up was stopped (the sync's Cancel, or the copy stopped or moved).
    #[error("writing was stopped before it reached the folder")]
    Stopped,
    /// Only the start of the message is stored here (headers-first): a Maildir file is a whole
    /// message, written once "Download the rest" stored it. Named so that the DELE gate refuses
    /// it even if the ledger ever took it for whole.
    #[error("only the start of it is stored here (“Download the rest” stores the whole)")]
    OnlyStartStored,
    /// Another browser error, by its name (`InvalidStateError`, …); never its message, which
    /// may carry paths.
    #[error("the folder could not be written ({0})")]
    Failed(String),
}

impl DiskError {
    fn dom_name(e: &JsValue) -> Option<String> {
        e.dyn_ref::<web_sys::DomException>().map(|x| x.name())
    }

    pub fn from_js(e: &JsValue) -> DiskError {
        match Self::dom_name(e).as_deref() {
            Some("NotAllowedError" | "SecurityError") => DiskError::NotAllowed,
            Some("QuotaExceededError") => DiskError::Full,
            Some("NotFoundError") => DiskError::Gone,
            Some("NotSupportedError") => DiskError::Unsupported,
            Some(other) => DiskError::Failed(other.to_string()),
            // Not a DOMException: a method missing (TypeError) means the API is not there.
            None if e.is_instance_of::<js_sys::TypeError>() => DiskError::Unsupported,
            None => DiskError::Failed("unknown error".into()),
        }
    }

    /// Whether every further write to the folder fails the same way (no use trying the rest).
    pub fn whole_folder(&self) -> bool {
        matches!(
            self,
            DiskError::NotAllowed | DiskError::Full | DiskError::Gone | DiskError::Unsupported
        )
    }
}

/// The picked folder, opened as a Maildir (`cur/`, `new/`, `tmp/`, made if missing).
#[derive(Clone, Debug)]
pub struct Folder {
    pub name: String,
    cur: JsValue,
    new: JsValue,
    tmp: JsValue,
}

impl Folder {
    pub async fn open(handle: &JsValue) -> Result<Folder, DiskError> {
        Ok(Folder {
            name: fs::name(handle),
            cur: fs::folder(handle, "cur").await?,
            new: fs::folder(handle, "new").await?,
            tmp: fs::folder(handle, "tmp").await?,
        })
    }

    /// The unique parts of the message files in `cur/` and `new/` (another Maildir client may
    /// have moved or renamed ours), each with its file's size: a file counts as a message's
    /// copy only at the message's size (a write cut off may leave the name on an empty file).
    pub async fn present(&self) -> Result<HashSet<(String, u64)>, DiskError> {
        let mut out = HashSet::new();
        for dir in [&self.cur, &self.new] {
            for (name, size) in fs::sizes(dir).await? {
                out.insert((names::unique_of(&name).to_string(), size));
            }
        }
        Ok(out)
    }

    /// Writes one message as `cur/<unique>:2,<flags>`.
    pub async fn write(
        &self,
        unique: &str,
        read: bool,
        flagged: bool,
        raw: &[u8],
    ) -> Result<Placed, DiskError> {
        let name = names::file_name(unique, read, flagged);
        fs::write(&self.tmp, &self.cur, &name, raw).await
    }

    /// Writes every job, [`WRITES_IN_FLIGHT`] at a time; the result of each, in order. With
    /// a cause that concerns the whole folder, the jobs after that group are not tried.
    pub async fn write_many(&self, jobs: Vec<Job>) -> Vec<Result<(), DiskError>> {
        let mut out = Vec::with_capacity(jobs.len());
        let mut jobs = jobs.into_iter().peekable();
        let mut stop: Option<DiskError> = None;
        while jobs.peek().is_some() {
            let group: Vec<Job> = jobs.by_ref().take(WRITES_IN_FLIGHT).collect();
            if let Some(cause) = &stop {
                out.extend(group.iter().map(|_| Err(cause.clone())));
                continue;
            }
            let results = Rc::new(RefCell::new(vec![None; group.len()]));
            let promises = Array::new();
            for (i, job) in group.into_iter().enumerate() {
                let folder = self.clone();
                let results = results.clone();
                promises.push(&future_to_promise(async move {
                    let r = folder
                        .write(&job.unique, job.read, job.flagged, &job.raw)
                        .await
                        .map(drop);
                    results.borrow_mut()[i] = Some(r);
                    Ok(JsValue::UNDEFINED)
                }));
            }
            // Every promise resolves (each records its own result), so `all` waits for all.
            let _ = JsFuture::from(Promise::all(&promises)).await;
            for r in results.take() {
                let r = r.unwrap_or(Err(DiskError::Stopped));
                if let Err(cause) = &r
                    && cause.whole_folder()
                {
                    stop = Some(cause.clone());
                }
                out.push(r);
            }
        }
        out
    }

    /// The bytes of `cur/<name>` (checks and tests).
    pub async fn read_cur(&self, name: &str) -> Result<Option<Vec<u8>>, DiskError> {
        fs::read(&self.cur, name).await
    }
}

/// Files written at once. Each write is several round trips to the browser's storage backend
/// (getFileHandle, createWritable, write, close, move): one after another they cost about
/// 11 ms a file (`tests/e2e/bench_disk_copy.mjs`); several in flight overlap them.
pub const WRITES_IN_FLIGHT: usize = 8;

/// One message to write ([`Folder::write_many`]).
pub struct Job {
    pub unique: String,
    pub read: bool,
    pub flagged: bool,
    pub raw: Vec<u8>,
}

/// A message of this session the folder did not take.
#[derive(Clone, Debug, PartialEq)]
pub struct NotCopied {
    pub uidl: String,
    pub cause: DiskError,
}

/// What the sync engine asks of the copy for one account: write what it commits, and say
/// which stored messages are not in the folder (never DELEd while so).
#[derive(Clone, Debug)]
pub struct DiskGate {
    /// The folder, or why nothing can be written to it now (no permission after a restart).
    folder: Result<Folder, DiskError>,
    /// Messages stored here (by store key) that are not in the folder, and why.
    missing: HashMap<String, DiskError>,
}

impl DiskGate {
    /// A gate over `folder`, whose catch-up left `missing` unwritten.
    pub fn new(folder: Folder, missing: HashMap<String, DiskError>) -> DiskGate {
        DiskGate {
            folder: Ok(folder),
            missing,
        }
    }

    /// Nothing can be written (`cause`): no stored message counts as copied, and nothing this
    /// session downloads is deleted on the server.
    pub fn blocked(cause: DiskError) -> DiskGate {
        DiskGate {
            folder: Err(cause),
            missing: HashMap::new(),
        }
    }

    /// Why the stored message `key` is not in the folder, if it is not. A key not stored here
    /// (deleted locally) has nothing to copy.
    pub fn lacks(&self, key: &str) -> Option<DiskError> {
        match &self.folder {
            Err(cause) => Some(cause.clone()),
            Ok(_) => self.missing.get(key).cloned(),
        }
    }

    /// Writes a committed batch (first stored at `first_seen`) into the folder; resolves with
    /// the messages it could not write. Owns what it needs, so the engine can keep it beside
    /// the batch's commit.
    pub fn persist(
        &self,
        messages: Vec<NewMessage>,
        first_seen: f64,
    ) -> impl Future<Output = Vec<NotCopied>> + 'static {
        let folder = self.folder.clone();
        async move {
            let mut uidls = Vec::with_capacity(messages.len());
            let mut jobs = Vec::with_capacity(messages.len());
            for m in messages {
                let s = m.summary;
                // Only the start of it (headers-first): a Maildir file is a whole message, so
                // it is written once the rest is stored. It is never DELEd meanwhile.
                if s.partial_of.is_some() {
                    continue;
                }
                jobs.push(Job {
                    unique: names::unique(&s.account, &s.uidl, first_seen),
                    read: s.read,
                    flagged: s.flagged,
                    raw: m.raw,
                });
                uidls.push(s.uidl);
            }
            let results = match &folder {
                Ok(folder) => folder.write_many(jobs).await,
                Err(cause) => jobs.iter().map(|_| Err(cause.clone())).collect(),
            };
            uidls
                .into_iter()
                .zip(results)
                .filter_map(|(uidl, r)| r.err().map(|cause| NotCopied { uidl, cause }))
                .collect()
        }
    }
}
