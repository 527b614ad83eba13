//! The live copy on disk as the screen sees it: which folder, whether the browser lets Postbag
//! write there, the catch-up's progress and what is not copied yet. The copy itself is
//! `crate::disk_copy`; the sync asks [`Model::disk_gate`] before each session.

use std::cell::{Cell, RefCell};

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsValue;

use super::{Model, store};
use crate::disk_copy::{self, Access, DiskError, DiskGate, Folder, catch_up::catch_up};
use crate::store::StoreError;
use crate::sync::{Cancel, NeverCancel, Notice};

thread_local! {
    /// The picked folder's handle (a browser object: not `Send`, so not in a signal).
    static HANDLE: RefCell<Option<JsValue>> = const { RefCell::new(None) };
    /// A catch-up runs (from Settings or before a sync); another waits for it, so two never
    /// write the same file at once.
    static BUSY: Cell<bool> = const { Cell::new(false) };
}

fn handle() -> Option<JsValue> {
    HANDLE.with(|h| h.borrow().clone())
}

/// Where the copy stands.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum DiskCopyState {
    /// No folder picked (or the copy was stopped).
    #[default]
    Off,
    On {
        /// The folder's name, as the picker showed it.
        folder: String,
        status: CopyStatus,
    },
    /// Picking a folder failed (`cause`): nothing is copied.
    Failed(String),
}

#[derive(Clone, Debug, PartialEq)]
pub enum CopyStatus {
    /// Permission asked or the folder being opened.
    Checking,
    /// The browser asks again (after a restart): only a click on "Allow" can grant it. Until
    /// then nothing is deleted on the server.
    NeedsPermission,
    /// Writing what the folder lacks.
    CatchingUp { done: u32, total: u32 },
    /// Every stored message of the accounts looked at is in the folder.
    UpToDate,
    /// `missing` stored messages are not in the folder (`cause`); they stay on the server.
    Behind { missing: u32, cause: String },
    /// Nothing can be written to the folder (`cause`: gone, refused): nothing is deleted on
    /// the server.
    Blocked { cause: String },
}

impl DiskCopyState {
    /// Whether the copy holds the mail: it counts as a second copy for "no silent risk" (a
    /// catch-up under way is writing, and DELE waits for it anyway).
    pub fn healthy(&self) -> bool {
        matches!(
            self,
            DiskCopyState::On {
                status: CopyStatus::UpToDate | CopyStatus::CatchingUp { .. },
                ..
            }
        )
    }
}

/// Waits until no catch-up runs, then holds the turn until dropped (`None`: cancelled while
/// waiting).
struct Turn;

impl Turn {
    async fn take(cancel: &dyn Cancel) -> Option<Turn> {
        while BUSY.with(|b| b.replace(true)) {
            if cancel.cancelled() {
                return None;
            }
            gloo_timers::future::TimeoutFuture::new(100).await;
        }
        Some(Turn)
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        BUSY.with(|b| b.set(false));
    }
}

impl Model {
    fn set_disk_status(self, status: CopyStatus) {
        self.disk_copy.update(|s| {
            if let DiskCopyState::On { status: now, .. } = s {
                *now = status;
            }
        });
    }

    /// At start: the folder remembered from an earlier session, and whether the browser still
    /// lets Postbag write there (after a restart it usually asks again).
    pub fn load_disk_copy(self) {
        spawn_local(async move {
            let handle = match store().disk_copy_folder().await {
                Ok(Some(handle)) => handle,
                Ok(None) => return,
                // Not "off": the sync's gate reads the store again and blocks DELE meanwhile.
                Err(e) => {
                    return self
                        .disk_copy
                        .set(DiskCopyState::Failed(folder_unknown(&e)));
                }
            };
            self.adopt(&handle);
            match disk_copy::fs::permission(&handle, false).await {
                Access::Granted => self.catch_up_all().await,
                Access::Prompt | Access::Denied => {
                    self.set_disk_status(CopyStatus::NeedsPermission)
                }
            }
        });
    }

    /// "Pick a folder": the directory picker (from a click), then the folder is remembered and
    /// everything stored is written there.
    pub fn pick_disk_folder(self) {
        spawn_local(async move {
            let handle = match disk_copy::fs::pick().await {
                Ok(Some(h)) => h,
                Ok(None) => return,
                Err(e) => return self.disk_copy.set(DiskCopyState::Failed(e.to_string())),
            };
            let folder = disk_copy::fs::name(&handle);
            if let Err(e) = store().set_disk_copy_folder(Some(&handle)).await {
                return self.disk_copy.set(DiskCopyState::Failed(format!(
                    "Postbag could not remember the folder “{folder}” ({e})"
                )));
            }
            HANDLE.with(|h| *h.borrow_mut() = Some(handle.clone()));
            self.disk_copy.set(DiskCopyState::On {
                folder,
                status: CopyStatus::Checking,
            });
            // The picker asked for read and write; a browser may still want it confirmed.
            match disk_copy::fs::permission(&handle, true).await {
                Access::Granted => self.catch_up_all().await,
                _ => self.set_disk_status(CopyStatus::NeedsPermission),
            }
        });
    }

    /// "Allow Postbag to write to <folder>" (from a click: the browser's prompt needs it).
    pub fn allow_disk_folder(self) {
        let Some(handle) = handle() else { return };
        spawn_local(async move {
            match disk_copy::fs::permission(&handle, true).await {
                Access::Granted => self.catch_up_all().await,
                _ => self.set_disk_status(CopyStatus::NeedsPermission),
            }
        });
    }

    /// "Stop copying": the folder is forgotten; its files stay. DELE no longer waits for it.
    pub fn stop_disk_copy(self) {
        spawn_local(async move {
            let _ = store().set_disk_copy_folder(None).await;
            HANDLE.with(|h| *h.borrow_mut() = None);
            self.disk_copy.set(DiskCopyState::Off);
        });
    }

    /// Writes what the folder lacks, for every account.
    async fn catch_up_all(self) {
        let accounts = store().accounts().await.unwrap_or_default();
        for account in accounts {
            if self.disk_gate(&account.id, &NeverCancel).await.is_some()
                && !self.disk_copy.get_untracked().healthy()
            {
                // What stopped this account stops the others: the status says why.
                return;
            }
        }
    }

    /// This tab shows and writes to `stored`, the folder the store holds.
    fn adopt(self, stored: &JsValue) {
        let folder = disk_copy::fs::name(stored);
        let shown = handle().map(|h| disk_copy::fs::name(&h));
        HANDLE.with(|h| *h.borrow_mut() = Some(stored.clone()));
        let on_it = matches!(self.disk_copy.get_untracked(),
            DiskCopyState::On { folder: ref f, .. } if shown.as_ref() == Some(f));
        if !on_it {
            self.disk_copy.set(DiskCopyState::On {
                folder,
                status: CopyStatus::Checking,
            });
        }
    }

    /// The live copy for a sync of `account`: `None` when the copy is off. Otherwise the folder
    /// after a catch-up of the account, or blocked (nothing is DELEd) when the browser does not
    /// let Postbag write there, the folder is gone, or the store cannot say which folder it is.
    ///
    /// `cancel` (the sync's Cancel) stops the catch-up, or the wait for another one; what is
    /// left unwritten then stays on the server.
    pub async fn disk_gate(self, account: &str, cancel: &dyn Cancel) -> Option<DiskGate> {
        // Read from the store every time, not from this tab's thread-local: another tab may
        // have picked (or stopped) the copy since this one started, and this tab's own read at
        // start may have failed or not finished yet. The sync calls this under the account's
        // lock; a pick in another tab during the session is as if it came just after it: what
        // the session deletes is stored here, and that tab's catch-up writes it to the folder.
        let handle = match store().disk_copy_folder().await {
            Ok(Some(handle)) => handle,
            Ok(None) => {
                if HANDLE.with(|h| h.borrow_mut().take()).is_some() {
                    self.disk_copy.set(DiskCopyState::Off);
                }
                return None;
            }
            Err(e) => {
                let cause = DiskError::Failed(format!("reading the store: {e}"));
                if handle().is_some() {
                    self.blocked(&cause);
                } else {
                    self.disk_copy
                        .set(DiskCopyState::Failed(folder_unknown(&e)));
                }
                return Some(DiskGate::blocked(cause));
            }
        };
        self.adopt(&handle);
        if disk_copy::fs::permission(&handle, false).await != Access::Granted {
            self.set_disk_status(CopyStatus::NeedsPermission);
            return Some(DiskGate::blocked(DiskError::NotAllowed));
        }
        let folder = match Folder::open(&handle).await {
            Ok(f) => f,
            Err(cause) => {
                self.blocked(&cause);
                return Some(DiskGate::blocked(cause));
            }
        };
        let Some(_turn) = Turn::take(cancel).await else {
            return Some(DiskGate::blocked(DiskError::Stopped));
        };
        let mut progress = |done, total| {
            if total > 0 {
                self.set_disk_status(CopyStatus::CatchingUp { done, total });
            }
        };
        let keep_going = || handle_is(&folder) && !cancel.cancelled();
        match catch_up(&store(), &folder, account, &mut progress, &keep_going).await {
            Ok(result) => {
                // A partial copy waits for "Download the rest", not for the folder: the copy
                // is behind only for the messages a write could put there.
                let behind: Vec<&DiskError> = result
                    .missing
                    .values()
                    .filter(|c| **c != DiskError::OnlyStartStored)
                    .collect();
                match behind.first() {
                    Some(cause) => self.behind(behind.len() as u32, cause),
                    None => self.set_disk_status(CopyStatus::UpToDate),
                }
                Some(DiskGate::new(folder, result.missing))
            }
            Err(e) => {
                // The store could not be read: nothing is known to be in the folder.
                let cause = DiskError::Failed(format!("reading the store: {e}"));
                self.blocked(&cause);
                Some(DiskGate::blocked(cause))
            }
        }
    }

    fn blocked(self, cause: &DiskError) {
        // A refused permission is fixed by asking again ("Allow …"), not by another folder.
        self.set_disk_status(match cause {
            DiskError::NotAllowed => CopyStatus::NeedsPermission,
            _ => CopyStatus::Blocked {
                cause: cause.to_string(),
            },
        });
    }

    fn behind(self, missing: u32, cause: &DiskError) {
        self.set_disk_status(CopyStatus::Behind {
            missing,
            cause: cause.to_string(),
        });
    }

    /// After a sync: messages it kept on the server for want of their file.
    pub fn disk_copy_after_sync(self, notices: &[Notice]) {
        for n in notices {
            if let Notice::NotOnDisk { count, cause } = n {
                if cause.whole_folder() {
                    self.blocked(cause);
                } else {
                    self.behind(*count, cause);
                }
            }
        }
    }
}

/// Why the copy's folder is not known: the store could not be read.
fn folder_unknown(e: &StoreError) -> String {
    format!("Postbag could not read which folder it copies to: {e}")
}

/// Whether the copy still writes to `folder` (stopped or another folder picked: the catch-up
/// stops).
fn handle_is(folder: &Folder) -> bool {
    handle().is_some_and(|h| disk_copy::fs::name(&h) == folder.name)
}
