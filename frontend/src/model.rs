//! The app's model: reactive state plus the actions views call. No markup here.
//!
//! Browser objects that are not `Send` (the IndexedDB handle, the session credentials in
//! `credentials.rs`, the cancel flag) live in thread-locals: wasm32 is single-threaded and
//! Leptos signals want `Send` values.

mod credentials;
mod export;

use std::cell::{Cell, RefCell};

use leptos::prelude::*;
use leptos::task::spawn_local;
use postbag_protocol::pop3::Secret;
use postbag_protocol::tunnel::TlsMode;

pub use credentials::{
    keep, session_access_code, session_password, set_session_access_code, set_session_password,
    unlock,
};
pub use export::ExportState;

use crate::store::{Account, OtherTab, Security, ServerPolicy, Store, Summary};
use crate::sync::{self, Explained, Outcome, Progress, Session, SyncError};
use crate::tunnel::{AccessCode, Target, TunnelSocket, default_url};

thread_local! {
    static STORE: RefCell<Option<Store>> = const { RefCell::new(None) };
    static CANCEL: Cell<bool> = const { Cell::new(false) };
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
    pub search: RwSignal<String>,
    pub sync: RwSignal<SyncState>,
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
}

pub fn target(account: &Account) -> Target {
    Target {
        host: account.host.clone(),
        port: account.port,
        tls: match account.security {
            Security::Tls => TlsMode::Implicit,
            Security::StartTls => TlsMode::Starttls,
            Security::None => TlsMode::None,
        },
        pin_sha256: account.pinned_sha256.clone(),
    }
}

/// "Test connection": log in, report, log out. `code` is the proxy's access code to present.
pub async fn test_connection(
    account: &Account,
    password: Secret<String>,
    code: Option<AccessCode>,
) -> Result<Session, SyncError> {
    let (mut sock, connected) =
        TunnelSocket::open(&default_url(), &target(account), code.as_ref()).await?;
    sync::probe(
        &mut sock,
        sync::client_config(account, password),
        connected.tls,
    )
    .await
}

impl Default for Model {
    fn default() -> Self {
        Self::new()
    }
}

impl Model {
    pub fn new() -> Model {
        Model {
            screen: RwSignal::new(Screen::Loading),
            account: RwSignal::new(None),
            messages: RwSignal::new(Vec::new()),
            selected: RwSignal::new(None),
            search: RwSignal::new(String::new()),
            sync: RwSignal::new(SyncState::Idle),
            offline: RwSignal::new(false),
            needs_password: RwSignal::new(false),
            needs_access_code: RwSignal::new(false),
            storage_error: RwSignal::new(None),
            other_tab: RwSignal::new(None),
            runs: RwSignal::new(0),
            export: RwSignal::new(ExportState::Idle),
        }
    }

    /// Opens the database and shows the first account (or the setup form).
    pub fn start(self) {
        spawn_local(async move {
            let other_tab = self.other_tab;
            match Store::open(move |event| other_tab.set(Some(event))).await {
                Ok(store) => {
                    // The tabs that held up the upgrade have closed.
                    if self.other_tab.get_untracked() == Some(OtherTab::BlocksUpgrade) {
                        self.other_tab.set(None);
                    }
                    set_store(store.clone());
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

    /// Re-reads the message list from IndexedDB.
    pub async fn reload(self) {
        let Some(account) = self.account.get_untracked() else {
            return;
        };
        match store().list(&account.id).await {
            Ok(list) => self.messages.set(list),
            Err(e) => self.storage_error.set(Some(e.to_string())),
        }
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

    pub fn cancel_sync(self) {
        CANCEL.with(|c| c.set(true));
    }

    /// Starts a sync; asks for the password first if this session has none.
    pub fn start_sync(self) {
        let Some(account) = self.account.get_untracked() else {
            return;
        };
        if matches!(
            self.sync.get_untracked(),
            SyncState::Connecting | SyncState::Running(_)
        ) {
            return;
        }
        let Some(password) = session_password(&account.id) else {
            self.needs_password.set(true);
            return;
        };
        CANCEL.with(|c| c.set(false));
        self.sync.set(SyncState::Connecting);
        spawn_local(async move {
            let result = self.run_sync(&account, password).await;
            self.reload().await;
            self.runs.update(|n| *n += 1);
            match result {
                Ok(o) => {
                    self.offline.set(false);
                    self.sync
                        .set(SyncState::Done(done_text(&o, &account.policy)));
                }
                Err(e) => {
                    let ex = sync::explain(&e);
                    self.offline.set(ex.offline);
                    self.needs_access_code.set(ex.asks_access_code);
                    self.sync.set(SyncState::Failed(ex));
                }
            }
        });
    }

    async fn run_sync(
        self,
        account: &Account,
        password: Secret<String>,
    ) -> Result<Outcome, SyncError> {
        let code = session_access_code();
        // Cancel works while connecting too: the half-open socket is dropped (and closed).
        let (url, to) = (default_url(), target(account));
        let open = TunnelSocket::open(&url, &to, code.as_ref());
        let Some(opened) = sync::unless_cancelled(&CancelFlag, CANCEL_TICK_MS, open).await else {
            return Ok(Outcome {
                cancelled: true,
                ..Outcome::default()
            });
        };
        let (mut sock, connected) = opened?;
        self.offline.set(false);
        self.needs_access_code.set(false);
        let store = store();
        let now = js_sys::Date::now();
        let mut last_reload = now;
        let mut asked_room = false;
        let mut on_progress = |p: &Progress| {
            self.sync.set(SyncState::Running(p.clone()));
            // Once the plan is known, ask the PWA layer whether the batch fits; if it does not,
            // storage.js warns the user and the sync is cancelled: it stops at once, keeping
            // what was committed (see sync::Cancel).
            if !asked_room && p.total_bytes > 0 {
                asked_room = true;
                let bytes = p.total_bytes;
                spawn_local(async move {
                    if let Ok(room) = crate::pwa::ensure_room(bytes).await
                        && !room.ok
                    {
                        CANCEL.with(|c| c.set(true));
                    }
                });
            }
            // Show new mail while a long sync runs, without re-reading the list per chunk.
            let t = js_sys::Date::now();
            if t - last_reload > 1500.0 {
                last_reload = t;
                spawn_local(self.reload());
            }
        };
        let config = sync::client_config(account, password);
        let cancel = CancelFlag;
        sync::sync(
            &mut sock,
            &store,
            account,
            config,
            connected.tls,
            now,
            &cancel,
            &mut on_progress,
        )
        .await
    }
}

/// The engine polls this flag, which reads the thread-local set by "Cancel".
pub struct CancelFlag;

/// How often a step that cannot see the cancel flag itself is interrupted to look at it.
const CANCEL_TICK_MS: u32 = 100;

impl sync::Cancel for CancelFlag {
    fn cancelled(&self) -> bool {
        CANCEL.with(|c| c.get())
    }
}

fn done_text(o: &Outcome, policy: &ServerPolicy) -> String {
    let mut parts = vec![match o.downloaded {
        0 => "No new messages".to_string(),
        1 => "1 new message".to_string(),
        n => format!("{n} new messages"),
    }];
    if o.deleted_on_server > 0 {
        parts.push(format!("{} removed from the server", o.deleted_on_server));
    }
    if o.failed > 0 {
        parts.push(format!("{} could not be downloaded", o.failed));
    }
    // Which messages were not downloaded or not deleted, and why (sync::Notice).
    parts.extend(o.notices.iter().map(sync::notice));
    if o.cancelled {
        // A cancel during a download closes the connection without QUIT (see sync::Cancel), so
        // nothing was deleted on the server. That only defers something when the policy
        // deletes after download; under Leave the server keeps its copies anyway.
        let deferred = matches!(policy, ServerPolicy::DeleteAfterDownload)
            && o.deleted_on_server == 0
            && o.downloaded > 0;
        parts.push(if deferred {
            "sync cancelled (what was downloaded is kept; the server keeps its copy until the next sync)".into()
        } else if o.downloaded > 0 {
            "sync cancelled (what was downloaded is kept)".into()
        } else {
            "sync cancelled".into()
        });
    }
    parts.join(", ") + "."
}

impl Model {
    /// Marks a message read or unread, here and in the store.
    pub async fn set_read(self, uidl: &str, read: bool) {
        let Some(mut summary) = self
            .messages
            .with_untracked(|all| all.iter().find(|m| m.uidl == uidl).cloned())
        else {
            return;
        };
        if summary.read == read {
            return;
        }
        summary.read = read;
        if store().update_summary(&summary).await.is_ok() {
            self.messages.update(|all| {
                if let Some(m) = all.iter_mut().find(|m| m.uidl == uidl) {
                    m.read = read;
                }
            });
        }
    }

    /// Deletes a message here; with "delete on server when deleted here" the server copy is
    /// queued for deletion at the next sync.
    pub async fn delete(self, uidl: &str) {
        let Some(account) = self.account.get_untracked() else {
            return;
        };
        let mirror = matches!(
            account.policy,
            crate::store::ServerPolicy::Leave {
                mirror_deletes: true,
                ..
            }
        );
        match store().delete_local(&account.id, uidl, mirror).await {
            Ok(()) => {
                self.selected.set(None);
                self.messages.update(|all| all.retain(|m| m.uidl != uidl));
            }
            Err(e) => self.storage_error.set(Some(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    const LEAVE: ServerPolicy = ServerPolicy::Leave {
        after_days: None,
        mirror_deletes: false,
    };

    fn check(downloaded: u32, deleted_on_server: u32, policy: &ServerPolicy, expected: &str) {
        let o = Outcome {
            downloaded,
            deleted_on_server,
            cancelled: true,
            ..Outcome::default()
        };
        assert_eq!(done_text(&o, policy), expected, "{o:?}, {policy:?}");
    }

    #[test]
    fn a_cancelled_sync_says_what_the_server_keeps_per_policy() {
        use ServerPolicy::DeleteAfterDownload as Delete;
        check(
            2,
            0,
            &Delete,
            "2 new messages, sync cancelled (what was downloaded is kept; the server keeps its \
             copy until the next sync).",
        );
        // Under Leave nothing was going to be deleted after download: nothing is deferred.
        check(
            2,
            0,
            &LEAVE,
            "2 new messages, sync cancelled (what was downloaded is kept).",
        );
        check(0, 0, &Delete, "No new messages, sync cancelled.");
        check(0, 0, &LEAVE, "No new messages, sync cancelled.");
    }
}
