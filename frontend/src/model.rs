//! The app's model: reactive state plus the actions views call. No markup here.
//!
//! Browser objects that are not `Send` (the IndexedDB handle, the session credentials in
//! `credentials.rs`) live in thread-locals: wasm32 is single-threaded and Leptos signals want
//! `Send` values. The running sync's Cancel is a value the model holds (`cancel`).
//!
//! - `syncing.rs`: starting a sync, Cancel, what the engine tells the screen while it runs.
//! - `list.rs`: committed batches merged into the list in the store's order.
//! - `reading.rs`: the reader's message, a resource on the selection.
//! - `outbox.rs` + `compose.rs`: the Drafts, Outbox and Sent folders and the compose form
//!   (`Outgoing`, provided beside the model).
//! - `credentials.rs`: the session's passwords and access code; `export.rs`: the mbox export.

mod backup;
mod compose;
mod credentials;
mod disk_copy;
mod export;
mod import;
mod list;
mod outbox;
mod reading;
mod safety;
mod syncing;

use std::cell::RefCell;

use leptos::prelude::*;
use leptos::task::spawn_local;
use postbag_protocol::pop3::Secret;

pub use backup::BackupState;
pub use compose::Answer;
pub use credentials::{
    keep, session_access_code, session_password, set_session_access_code, set_session_password,
    unlock,
};
pub use disk_copy::{CopyStatus, DiskCopyState};
pub use export::ExportState;
pub use import::ImportState;
pub use outbox::{Composing, Folder, Outgoing, Saved, default_sending, sending_password};
pub use reading::OpenMessage;
pub use safety::RECENT_EXPORT_DAYS;

use crate::account::{client_config, target};
use crate::store::{Account, IMPORTED, OtherTab, Store, Summary};
use crate::sync::{self, CancelHandle, Explained, Progress, Session, SyncError};
use crate::tunnel::{AccessCode, TunnelSocket, default_url};

thread_local! {
    static STORE: RefCell<Option<Store>> = const { RefCell::new(None) };
}

pub fn store() -> Store {
    STORE
        .with(|s| s.borrow().clone())
        .expect("store opened before the app mounts")
}

pub fn set_store(store: Store) {
    STORE.with(|s| *s.borrow_mut() = Some(store));
}

#[derive(Clone, Debug, PartialEq)]
pub enum SyncState {
    Idle,
    Connecting,
    Running(Progress),
    Done(String),
    Failed(Explained),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    Loading,
    Setup,
    Mailbox,
}

/// All reactive state, `Copy` so closures can capture it freely.
#[derive(Clone, Copy)]
pub struct Model {
    pub screen: RwSignal<Screen>,
    pub account: RwSignal<Option<Account>>,
    pub messages: RwSignal<Vec<Summary>>,
    pub selected: RwSignal<Option<String>>,
    /// The selected message, loaded (`reading.rs`).
    pub open: LocalResource<Option<OpenMessage>>,
    pub search: RwSignal<String>,
    pub sync: RwSignal<SyncState>,
    /// The running sync's Cancel (a fresh one per sync).
    cancel: StoredValue<CancelHandle, LocalStorage>,
    pub offline: RwSignal<bool>,
    pub needs_password: RwSignal<bool>,
    /// The last sync was refused for want of the proxy's access code (or a right one).
    pub needs_access_code: RwSignal<bool>,
    pub storage_error: RwSignal<Option<String>>,
    /// Another tab holds up this tab's database upgrade, or upgraded the database under it.
    pub other_tab: RwSignal<Option<OtherTab>>,
    /// Finished sync attempts this session (tests and screen readers watch it change).
    pub runs: RwSignal<u32>,
    /// The mbox export (`model/export.rs`).
    pub export: RwSignal<ExportState>,
    /// Cancel of the running export, then of the running import (a new one per run).
    export_cancel: StoredValue<CancelHandle, LocalStorage>,
    import_cancel: StoredValue<CancelHandle, LocalStorage>,
    /// The backup or restore running or ended (`model/backup.rs`), and its Cancel.
    pub backup: RwSignal<BackupState>,
    backup_cancel: StoredValue<CancelHandle, LocalStorage>,
    /// The import of mbox files, messages and Maildir folders (`model/import.rs`).
    pub import: RwSignal<ImportState>,
    /// Whether the browser promised to keep the store; `None` until it answered
    /// (`model/safety.rs`).
    pub durable: RwSignal<Option<bool>>,
    /// When the last export of all mail or an account finished (ms since the epoch).
    pub last_export: RwSignal<Option<f64>>,
    /// The user put the risk warning away for this session ("Not now").
    pub risk_dismissed: RwSignal<bool>,
    /// The list and reader show imported mail (`store::IMPORTED`) instead of the account's.
    pub imported_shown: RwSignal<bool>,
    /// Whether any imported mail is stored (the Imported folder is offered only then).
    pub has_imported: RwSignal<bool>,
    /// The live copy on disk (`model/disk_copy.rs`).
    pub disk_copy: RwSignal<DiskCopyState>,
}

/// "Test connection": log in, report, log out. `code` is the proxy's access code to present.
pub async fn test_connection(
    account: &Account,
    password: Secret<String>,
    code: Option<AccessCode>,
) -> Result<Session, SyncError> {
    let (mut sock, connected) =
        TunnelSocket::open(&default_url(), &target(account), code.as_ref()).await?;
    sync::probe(&mut sock, client_config(account, password), connected.tls).await
}

impl Default for Model {
    fn default() -> Self {
        Self::new()
    }
}

impl Model {
    /// The model of one page. Call it inside the root component: the reader's resource needs
    /// its reactive owner.
    pub fn new() -> Model {
        let account = RwSignal::new(None);
        let messages = RwSignal::new(Vec::new());
        let selected = RwSignal::new(None);
        let imported_shown = RwSignal::new(false);
        Model {
            screen: RwSignal::new(Screen::Loading),
            account,
            messages,
            selected,
            open: reading::open_on_selection(account, imported_shown, messages, selected),
            search: RwSignal::new(String::new()),
            sync: RwSignal::new(SyncState::Idle),
            cancel: StoredValue::new_local(CancelHandle::default()),
            offline: RwSignal::new(false),
            needs_password: RwSignal::new(false),
            needs_access_code: RwSignal::new(false),
            storage_error: RwSignal::new(None),
            other_tab: RwSignal::new(None),
            runs: RwSignal::new(0),
            export: RwSignal::new(ExportState::Idle),
            export_cancel: StoredValue::new_local(CancelHandle::default()),
            import_cancel: StoredValue::new_local(CancelHandle::default()),
            import: RwSignal::new(ImportState::Idle),
            backup: RwSignal::new(BackupState::Idle),
            backup_cancel: StoredValue::new_local(CancelHandle::default()),
            durable: RwSignal::new(None),
            last_export: RwSignal::new(safety::last_export()),
            imported_shown,
            has_imported: RwSignal::new(false),
            risk_dismissed: RwSignal::new(false),
            disk_copy: RwSignal::new(DiskCopyState::Off),
        }
    }

    /// Opens the database and shows the first account (or the setup form).
    pub fn start(self) {
        self.watch_durability();
        spawn_local(async move {
            let other_tab = self.other_tab;
            match Store::open(move |event| other_tab.set(Some(event))).await {
                Ok(store) => {
                    // The tabs that held up the upgrade have closed.
                    if self.other_tab.get_untracked() == Some(OtherTab::BlocksUpgrade) {
                        self.other_tab.set(None);
                    }
                    set_store(store.clone());
                    self.load_disk_copy();
                    match store.accounts().await {
                        Ok(accounts) if !accounts.is_empty() => {
                            self.account.set(accounts.into_iter().next());
                            self.screen.set(Screen::Mailbox);
                            self.reload().await;
                        }
                        Ok(_) => self.screen.set(Screen::Setup),
                        Err(e) => self.storage_error.set(Some(e.to_string())),
                    }
                }
                Err(e) => self.storage_error.set(Some(e.to_string())),
            }
        });
    }

    /// Re-reads the message list from IndexedDB (at start, after a save, after a sync).
    pub async fn reload(self) {
        let Some(key) = self.list_key() else {
            return;
        };
        match store().list(&key).await {
            Ok(list) => self.messages.set(list),
            Err(e) => self.storage_error.set(Some(e.to_string())),
        }
        if let Ok(imported) = store().list(IMPORTED).await {
            self.has_imported.set(!imported.is_empty());
        }
    }

    /// The store key of the mail the list shows: the account's, or [`IMPORTED`].
    fn list_key(self) -> Option<String> {
        if self.imported_shown.get_untracked() {
            return Some(IMPORTED.to_string());
        }
        self.account
            .with_untracked(|a| a.as_ref().map(|a| a.id.clone()))
    }

    /// Shows imported mail (`true`) or the account's in the list and reader.
    pub fn show_imported(self, imported: bool) {
        if self.imported_shown.get_untracked() == imported {
            return;
        }
        self.selected.set(None);
        self.imported_shown.set(imported);
        self.messages.set(Vec::new());
        spawn_local(self.reload());
    }

    /// Shows messages just stored (a sync's committed batch) in their place in the list.
    pub fn add_messages(self, arrived: &[Summary]) {
        // Arrivals of the account are merged only while its list is shown (they carry its key).
        let Some(account) = self.list_key() else {
            return;
        };
        self.messages
            .update(|all| list::merge(all, &account, arrived));
    }

    pub fn visible(self) -> Vec<Summary> {
        let q = self.search.get().trim().to_lowercase();
        self.messages.with(|all| {
            if q.is_empty() {
                return all.clone();
            }
            all.iter()
                .filter(|m| {
                    m.from.to_lowercase().contains(&q) || m.subject.to_lowercase().contains(&q)
                })
                .cloned()
                .collect()
        })
    }

    pub async fn save_account(self, account: Account) -> Result<(), String> {
        store()
            .put_account(&account)
            .await
            .map_err(|e| e.to_string())?;
        self.account.set(Some(account));
        self.screen.set(Screen::Mailbox);
        self.reload().await;
        Ok(())
    }

    /// The access code the mailbox prompt got: kept for the session and, with the passphrase
    /// of the account's remembered password, sealed with it; then the sync runs again.
    pub async fn use_access_code(
        self,
        code: AccessCode,
        passphrase: Option<String>,
    ) -> Result<(), String> {
        if let (Some(phrase), Some(mut account)) = (passphrase, self.account.get_untracked()) {
            credentials::reseal_with_code(&mut account, &code, &phrase)
                .await
                .map_err(|e| e.to_string())?;
            store()
                .put_account(&account)
                .await
                .map_err(|e| e.to_string())?;
            self.account.set(Some(account));
        }
        set_session_access_code(code);
        self.needs_access_code.set(false);
        self.start_sync();
        Ok(())
    }
}

impl Model {
    /// Marks a message read or unread, here and in the store.
    pub async fn set_read(self, uidl: &str, read: bool) {
        reading::mark_read(self.messages, uidl, read).await;
    }

    /// Deletes a message here; with "delete on server when deleted here" the server copy is
    /// queued for deletion at the next sync.
    pub async fn delete(self, uidl: &str) {
        let (Some(account), Some(key)) = (self.account.get_untracked(), self.list_key()) else {
            return;
        };
        // Imported mail is on no server: nothing to delete there.
        let mirror = !self.imported_shown.get_untracked()
            && matches!(
                account.policy,
                crate::store::ServerPolicy::Leave {
                    mirror_deletes: true,
                    ..
                }
            );
        match store().delete_local(&key, uidl, mirror).await {
            Ok(()) => {
                self.selected.set(None);
                self.messages.update(|all| all.retain(|m| m.uidl != uidl));
            }
            Err(e) => self.storage_error.set(Some(e.to_string())),
        }
    }
}
