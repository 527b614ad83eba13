//! The app's model: reactive state plus the actions views call. No markup here.
//!
//! Browser objects that are not `Send` (the IndexedDB handle, the session credentials in
//! `credentials.rs`) live in thread-locals: wasm32 is single-threaded and Leptos signals want
//! `Send` values. The running sync's Cancel is a value the model holds (`cancel`).
//!
//! - `accounts.rs`: the inbox shown (all accounts or one) and adding, editing, removing
//!   accounts.
//! - `checking.rs`: when each account is checked next (pure, on an injected clock);
//!   `scheduler.rs` runs those checks (ticker, network events, Web Locks across tabs).
//! - `syncing.rs`: one session of one account, Cancel, what the engine tells the screen.
//! - `list.rs`: committed batches merged into the list in the store's order.
//! - `threads.rs`: conversations (JWZ threading); `conversations.rs`: the list's rows, one
//!   per conversation or per message (a setting), and the ids back-filled for older mail.
//! - `reading.rs`: the reader's message, a resource on the selection; `rest.rs`: "Download
//!   the rest" of a message stored headers-first (slow links).
//! - `outbox.rs` + `compose.rs`: the Drafts, Outbox and Sent folders and the compose form
//!   (`Outgoing`, provided beside the model).
//! - `keymap.rs`: the keyboard shortcuts (pure); `commands.rs`: what they do.
//! - `folders.rs`: the folder shown, the user's folders, ticked messages and the moves;
//!   `rules.rs`: the rules editor's actions.
//! - `credentials.rs`: the session's passwords and access code; `oauth.rs`: OAuth accounts'
//!   tokens, their refresh and "Sign in again"; `export.rs`: the mbox export.
//! - `bench.rs`: switches only a bench's page script sets (the indexer off).

mod accounts;
pub mod background;
pub mod background_opt_in;
mod backup;
mod bench;
pub mod check_account;
mod check_record;
pub mod checking;
mod commands;
mod compose;
pub mod conversations;
mod credentials;
mod disk_copy;
mod export;
mod folders;
mod import;
pub mod keymap;
mod list;
mod listing;
mod oauth;
mod outbox;
mod reading;
mod rest;
mod rules;
mod safety;
mod scheduler;
mod search;
mod syncing;
pub mod threads;

use std::cell::RefCell;
use std::collections::HashMap;

use leptos::prelude::*;
use leptos::task::spawn_local;
use postbag_protocol::pop3::Secret;

pub use accounts::{Inbox, RemovedMail};
pub use backup::BackupState;
pub use commands::Focus;
pub use compose::Answer;
pub use conversations::Row;
pub use credentials::{
    keep, session_access_code, session_password, set_session_access_code, set_session_password,
    unlock,
};
pub use disk_copy::{CopyStatus, DiskCopyState};
pub use export::ExportState;
pub use folders::{BUILT_IN, DEFAULT_TRASH_DAYS, range};
pub use import::ImportState;
pub use oauth::{keep_oauth, listed_clients};
pub use outbox::{Composing, Folder, Outgoing, Saved, default_sending, sending_password};
pub use reading::OpenMessage;
pub use rest::RestState;
pub use rules::new_rule_id;
pub use safety::RECENT_EXPORT_DAYS;
pub use scheduler::{CheckLine, Checks};
pub use search::{Found, Hits, Indexing};

use crate::account::{client_config, target};
use crate::store::{Account, IMPORTED, MessageKey, OtherTab, Store, Summary};
use crate::store::{Rule, TRASH, UserFolder};
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
    /// The accounts screen: every account, its checks, add, edit and remove.
    Accounts,
}

/// All reactive state, `Copy` so closures can capture it freely.
#[derive(Clone, Copy)]
pub struct Model {
    pub screen: RwSignal<Screen>,
    /// Every account, in the order they were added.
    pub accounts: RwSignal<Vec<Account>>,
    /// The current account: the one compose, the outbox and its settings use (the shown
    /// account's, or the last one chosen while the unified inbox is shown).
    pub account: RwSignal<Option<Account>>,
    /// The account the settings form edits (`None`: a new one).
    pub editing: RwSignal<Option<Account>>,
    /// All accounts' mail together, or one account's.
    pub inbox: RwSignal<Inbox>,
    pub messages: RwSignal<Vec<Summary>>,
    /// `messages` holds only the newest of the list while the rest is read (`listing.rs`).
    pub list_partial: RwSignal<bool>,
    pub selected: RwSignal<Option<MessageKey>>,
    /// Whether the list shows one row per conversation (`conversations.rs`, a setting).
    pub threaded: RwSignal<bool>,
    /// The list's rows: the visible messages, grouped into conversations while `threaded`.
    pub rows: Memo<Vec<Row>>,
    /// The row the keyboard is on (`commands.rs`), apart from the message open.
    pub cursor: RwSignal<Option<MessageKey>>,
    /// The selected message, loaded (`reading.rs`).
    pub open: LocalResource<Option<OpenMessage>>,
    /// The reader's "Download the rest", per message asked (`rest.rs`).
    pub rest: RwSignal<HashMap<MessageKey, RestState>>,
    pub search: RwSignal<String>,
    /// The search box's last answer (`model/search.rs`); `None` before the first.
    pub found: RwSignal<Option<Found>>,
    /// Messages indexed of those waiting, while the indexer runs.
    pub indexing: RwSignal<Indexing>,
    pub sync: RwSignal<SyncState>,
    /// The running sync's Cancel (a fresh one per sync).
    cancel: StoredValue<CancelHandle, LocalStorage>,
    /// The list's reads from the store (`listing.rs`).
    list_reads: StoredValue<listing::Reads, LocalStorage>,
    pub offline: RwSignal<bool>,
    /// The account whose password a Sync asked for (the prompt shows while it is set).
    pub needs_password: RwSignal<Option<Account>>,
    /// Automatic checks (`scheduler.rs`).
    pub checks: Checks,
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
    /// The folder of received mail the list shows (`model/folders.rs`).
    pub folder: RwSignal<String>,
    /// The user's own folders, by name.
    pub user_folders: RwSignal<Vec<UserFolder>>,
    /// The messages ticked for a bulk action.
    pub checked: RwSignal<std::collections::BTreeSet<MessageKey>>,
    /// The days mail stays in Trash.
    pub trash_days: RwSignal<u32>,
    /// The rules applied to new mail, in order.
    pub rules: RwSignal<Vec<Rule>>,
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
        let accounts = RwSignal::new(Vec::new());
        // The current account changed elsewhere (its sending settings saved): the list too.
        Effect::watch(
            move || account.get(),
            move |a: &Option<Account>, _, _| {
                if let Some(a) = a {
                    accounts.update(|all: &mut Vec<Account>| {
                        if all.iter().any(|x| x.id == a.id) {
                            accounts::upsert(all, a);
                        }
                    });
                }
            },
            false,
        );
        let messages = RwSignal::new(Vec::new());
        let selected = RwSignal::new(None);
        let imported_shown = RwSignal::new(false);
        let mut model = Model {
            screen: RwSignal::new(Screen::Loading),
            accounts,
            account,
            editing: RwSignal::new(None),
            inbox: RwSignal::new(Inbox::All),
            messages,
            list_partial: RwSignal::new(false),
            selected,
            threaded: RwSignal::new(conversations::load_setting()),
            // Set below: the rows are made by the model's own `visible`.
            rows: Memo::new(|_| Vec::new()),
            cursor: RwSignal::new(None),
            open: reading::open_on_selection(messages, selected),
            rest: RwSignal::new(HashMap::new()),
            search: RwSignal::new(String::new()),
            found: RwSignal::new(None),
            indexing: RwSignal::new(None),
            sync: RwSignal::new(SyncState::Idle),
            cancel: StoredValue::new_local(CancelHandle::default()),
            list_reads: StoredValue::new_local(listing::Reads::default()),
            offline: RwSignal::new(false),
            needs_password: RwSignal::new(None),
            checks: Checks::new(),
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
            folder: RwSignal::new(folders::last_shown()),
            user_folders: RwSignal::new(Vec::new()),
            checked: RwSignal::new(Default::default()),
            trash_days: RwSignal::new(folders::trash_days()),
            rules: RwSignal::new(Vec::new()),
        };
        let base = model;
        model.rows = Memo::new(move |_| {
            let visible = base.visible();
            conversations::rows(&visible, base.threaded.get())
        });
        model
    }

    /// Opens the database and shows every account's mail (or the setup form), then starts
    /// the automatic checks.
    pub fn start(self) {
        self.watch_durability();
        // The badge follows the list: new mail, a message read or deleted.
        Effect::new(move |_| {
            self.messages.track();
            spawn_local(self.update_badge());
        });
        spawn_local(async move {
            let other_tab = self.other_tab;
            match Store::open(move |event| other_tab.set(Some(event))).await {
                Ok(store) => {
                    // The tabs that held up the upgrade have closed.
                    if self.other_tab.get_untracked() == Some(OtherTab::BlocksUpgrade) {
                        self.other_tab.set(None);
                    }
                    set_store(store.clone());
                    // Before setup or any sync: a restore cut off here left mail without its
                    // ledger (cleared). One writing in another tab is waited for by setup.
                    if let Err(e @ crate::backup::RestoreError::Store(_)) =
                        crate::backup::unless_restoring(&store, async {}).await
                    {
                        return self.storage_error.set(Some(e.to_string()));
                    }
                    self.load_disk_copy();
                    self.start_search();
                    match store.accounts().await {
                        Ok(accounts) if !accounts.is_empty() => {
                            self.account.set(accounts.first().cloned());
                            self.accounts.set(accounts);
                            self.screen.set(Screen::Mailbox);
                            self.load_folders().await;
                            self.reload().await;
                            self.start_folders().await;
                            self.start_checking();
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
        if let Err(e) = self.read_list().await {
            self.storage_error.set(Some(e.to_string()));
        }
        // Whatever was stored or removed meanwhile (an import, a restore) gets indexed.
        self.index_soon();
        // Asked of the index, not listed nor counted: reading every imported summary only to
        // see whether there is one took as long as opening the folder (100,000 imported
        // messages), and counting them held the store for most of a second.
        if let Ok(any) = store().holds_any(IMPORTED).await {
            self.has_imported.set(any);
        }
        // Mail stored before conversations existed gets its ids, in slices, after it shows.
        spawn_local(conversations::backfill(self.messages));
    }

    /// Turns conversations on or off, here and for the next start.
    pub fn set_threaded(self, on: bool) {
        conversations::save_setting(on);
        self.threaded.set(on);
    }

    /// The messages of the conversation `key` is in, oldest first (just it while
    /// conversations are off, or while it is not listed).
    pub fn conversation_of(self, key: &MessageKey) -> Vec<Summary> {
        let keys = self.rows.with(|rows| {
            rows.iter()
                .find(|r| r.members.contains(key))
                .map(|r| r.members.clone())
                .unwrap_or_else(|| vec![key.clone()])
        });
        self.messages.with(|all| {
            keys.iter()
                .filter_map(|k| {
                    all.iter()
                        .find(|m| m.account == k.0 && m.uidl == k.1)
                        .cloned()
                })
                .collect()
        })
    }

    /// The installed app's badge: the unread count of every account's mail.
    async fn update_badge(self) {
        // Imported mail counts for no account: while it is shown the list's changes (the
        // folder opened, a message read) leave the badge as it is, and reading every received
        // summary for it cost seconds at 100,000 messages each time the folder opened.
        if self.imported_shown.get_untracked() {
            return;
        }
        let unread = match self.inbox.get_untracked() {
            Inbox::All => self
                .messages
                .with_untracked(|all| all.iter().filter(|m| !m.read).count()),
            _ => match store().list_received().await {
                Ok(all) => all.iter().filter(|m| !m.read).count(),
                Err(_) => return,
            },
        };
        crate::pwa::set_badge(unread as u32);
    }

    /// Whether the list shows mail stored under `key`.
    fn shows(self, key: &str) -> bool {
        if self.imported_shown.get_untracked() {
            return key == IMPORTED;
        }
        self.inbox.with_untracked(|inbox| inbox.shows(key))
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
        // Arrivals are merged only while their inbox is shown (they carry their account's key).
        self.messages
            .update(|all| list::merge(all, |key| self.shows(key), arrived));
        // While a sync runs, indexing waits for its end (the list read then starts it, in
        // `reload`): the indexer's slices read bodies and write blocks in IndexedDB, and parse
        // on this thread, beside the sync's own commits (`tests/benches/README.md`, "The
        // full-text index's cost to a sync").
        let wait = self.syncing() && !bench::index_during_sync();
        if !wait {
            self.index_soon();
        }
    }

    /// Whether a sync of this tab is connecting or downloading.
    fn syncing(self) -> bool {
        self.sync
            .with_untracked(|s| matches!(s, SyncState::Connecting | SyncState::Running(_)))
    }

    pub fn visible(self) -> Vec<Summary> {
        // The full-text search's answer (`model/search.rs`): it spans every folder
        // (`search::find::scope` chose which).
        if self.search.with(|t| !t.trim().is_empty()) {
            return self.messages.with(|all| self.searched(all));
        }
        // Received mail: the folder shown; imported mail: all of it but what is in Trash.
        // Only the folder's summaries are copied, not the whole list first.
        let (folder, imported) = (self.folder.get(), self.imported_shown.get());
        let user = self.user_folders.get();
        self.messages.with(|all| {
            all.iter()
                .filter(|m| {
                    if imported {
                        m.folder != TRASH
                    } else {
                        folders::folder_of(m, &user) == folder
                    }
                })
                .cloned()
                .collect()
        })
    }

    /// Stores a new or edited account, makes it the current one and checks it soon (a
    /// sign-in refused before may work now).
    pub async fn save_account(self, account: Account) -> Result<(), String> {
        // Never beside a restore writing in another tab, nor on what one cut off left.
        crate::backup::unless_restoring(&store(), store().put_account(&account))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        // A changed password reaches the worker's sealed copy too.
        background_opt_in::renew().await.map_err(|e| {
            format!("The account is saved, but its background check keeps the old password: {e}")
        })?;
        let first = self.accounts.with_untracked(Vec::is_empty);
        self.accounts.update(|all| accounts::upsert(all, &account));
        self.account.set(Some(account.clone()));
        self.editing.set(None);
        self.screen.set(Screen::Mailbox);
        self.reload().await;
        if first {
            self.start_checking();
        }
        self.resume_checks(&account.id);
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
        // The worker's sealed copies carry the access code too.
        if let Err(e) = background_opt_in::renew().await {
            web_sys::console::warn_1(&format!("background check: {e}").into());
        }
        self.needs_access_code.set(false);
        self.start_sync();
        Ok(())
    }
}

impl Model {
    /// Marks a message read or unread, here and in the store.
    pub async fn set_read(self, key: &MessageKey, read: bool) {
        reading::mark_read(self.messages, key, read).await;
    }

    /// Delete in the reader: to Trash; in Trash, deletes the message here for good, and with
    /// "delete on server when deleted here" the server copy is queued for the next sync.
    pub async fn delete(self, key: &MessageKey) {
        // Outside Trash, Delete files the message in Trash (restorable); in Trash it goes.
        if !self.in_trash(key) {
            self.move_to(vec![key.clone()], TRASH.into()).await;
            return self.selected.set(None);
        }
        let (account, uidl) = key;
        // Imported mail, and the mail of a removed account, is on no server of ours: nothing
        // to delete there.
        let mirror = self.accounts.with_untracked(|all| {
            all.iter()
                .any(|a| &a.id == account && a.policy.mirrors_deletes())
        });
        // A copy made here is on no server.
        let mirror = mirror && !crate::store::is_copy(uidl);
        match store().delete_local(account, uidl, mirror).await {
            Ok(()) => {
                self.selected.set(None);
                self.messages
                    .update(|all| all.retain(|m| !(&m.account == account && &m.uidl == uidl)));
                self.index_soon(); // its postings go
            }
            Err(e) => self.storage_error.set(Some(e.to_string())),
        }
    }
}
