//! Sending, as the views see it: the folders beside the inbox (Drafts, Outbox, Sent), the
//! outbox's lists, and the actions on them. The sender itself is `crate::outbox`; this module
//! decides when it runs: at start, when the browser goes online, when a message is queued,
//! and at the next due retry. Compose actions are in `compose.rs`.

use std::cell::RefCell;

use gloo_timers::callback::Timeout;
use leptos::prelude::*;
use leptos::task::spawn_local;
use postbag_protocol::Secret;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use super::{session_access_code, session_password, set_session_password, store};
use crate::compose::{DEFAULT_MAX_BYTES, Draft};
use crate::mail::{MessageView, parse_view};
use crate::outbox::{self, Connect, Explained, Limits, Pass, lock};
use crate::store::{Account, OutboxItem, OutboxState, Sending, StoredDraft, Summary, sent_folder};
use crate::tunnel::{Target, TransportError, TunnelSocket, default_url};

/// Which list the main screen shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Folder {
    Inbox,
    Drafts,
    Outbox,
    Sent,
    /// Mail imported from files, shown in the inbox's list and reader (`Model::show_imported`).
    Imported,
}

impl Folder {
    /// The folders shown in the inbox's list and reader rather than a pane of their own.
    pub fn is_received(self) -> bool {
        matches!(self, Folder::Inbox | Folder::Imported)
    }
}

/// The compose form's state (`compose.rs`).
#[derive(Clone, Debug, PartialEq)]
pub struct Composing {
    /// The draft's id in the store.
    pub id: String,
    pub draft: Draft,
    pub saved: Saved,
    /// Why Send did not queue it (a bad address, too large, no sending settings).
    pub error: Option<String>,
}

/// Whether the compose form's latest text is in the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Saved {
    /// Nothing typed yet.
    Empty,
    /// Typed since the last save; a save is scheduled.
    Pending,
    Saved,
    Failed(String),
}

/// The outgoing side's reactive state. `Copy`, provided as context beside [`super::Model`].
#[derive(Clone, Copy)]
pub struct Outgoing {
    pub account: RwSignal<Option<Account>>,
    pub folder: RwSignal<Folder>,
    pub composing: RwSignal<Option<Composing>>,
    pub drafts: RwSignal<Vec<StoredDraft>>,
    pub outbox: RwSignal<Vec<OutboxItem>>,
    pub sent: RwSignal<Vec<Summary>>,
    /// The sent message open in the Sent folder, read with the reader's model.
    pub opened: RwSignal<Option<(String, Option<MessageView>)>>,
    /// The message an attempt is sending now (in this tab).
    pub sending_now: RwSignal<Option<String>>,
    /// What the last pass over the outbox ran into (offline, a refusal...).
    pub problem: RwSignal<Option<Explained>>,
    /// Queued mail waits for the sending password of this session.
    pub needs_password: RwSignal<bool>,
    /// A pass runs in this tab.
    pub busy: RwSignal<bool>,
    /// Asked for another pass while one ran (a message queued meanwhile).
    again: RwSignal<bool>,
    /// Bumped on every edit of the compose form: a save runs only if no edit followed it.
    pub(super) edits: RwSignal<u64>,
}

thread_local! {
    /// The timer of the next due retry (replaced, and so cancelled, by each pass).
    static RETRY: RefCell<Option<Timeout>> = const { RefCell::new(None) };
}

/// The session key of a submission password that is not the POP3 one.
fn smtp_key(account: &str) -> String {
    format!("{account} smtp")
}

/// The password the outbox logs in with, if this session has it.
pub fn sending_password(account: &Account) -> Option<Secret<String>> {
    let sending = account.sending.as_ref()?;
    if sending.same_password {
        session_password(&account.id)
    } else {
        session_password(&smtp_key(&account.id))
    }
}

/// Sending settings guessed from the POP3 account: its address, the provider's submission
/// server, the same login and password.
pub fn default_sending(account: &Account) -> Sending {
    let (host, port, security) = crate::account::submission_guess(account);
    Sending {
        name: String::new(),
        address: account.email.clone(),
        host,
        port,
        security,
        username: account.username.clone(),
        same_password: true,
        max_bytes: DEFAULT_MAX_BYTES as u64,
    }
}

/// The proxy's tunnel as the outbox's connection.
struct Tunnel;

impl Connect for Tunnel {
    type Socket = TunnelSocket;
    async fn connect(&mut self, target: &Target) -> Result<TunnelSocket, TransportError> {
        let code = session_access_code();
        TunnelSocket::open(&default_url(), target, code.as_ref())
            .await
            .map(|(sock, _)| sock)
    }
}

impl Outgoing {
    pub fn new(account: RwSignal<Option<Account>>) -> Outgoing {
        Outgoing {
            account,
            folder: RwSignal::new(Folder::Inbox),
            composing: RwSignal::new(None),
            drafts: RwSignal::new(Vec::new()),
            outbox: RwSignal::new(Vec::new()),
            sent: RwSignal::new(Vec::new()),
            opened: RwSignal::new(None),
            sending_now: RwSignal::new(None),
            problem: RwSignal::new(None),
            needs_password: RwSignal::new(false),
            busy: RwSignal::new(false),
            again: RwSignal::new(false),
            edits: RwSignal::new(0),
        }
    }

    /// Loads the lists and sends what waits whenever an account is shown, and again each time
    /// the browser says it is online.
    pub fn start(self) {
        Effect::new(move |_| {
            if self
                .account
                .with(|a| a.as_ref().map(|a| a.id.clone()))
                .is_some()
            {
                spawn_local(async move {
                    self.reload().await;
                    self.send_now();
                });
            }
        });
        if let Some(window) = web_sys::window() {
            let on_online = Closure::<dyn FnMut()>::new(move || self.send_now());
            let _ = window
                .add_event_listener_with_callback("online", on_online.as_ref().unchecked_ref());
            // Listens for the page's lifetime.
            on_online.forget();
        }
    }

    /// Re-reads drafts, outbox and sent mail of the shown account.
    pub async fn reload(self) {
        let Some(account) = self.account.get_untracked() else {
            return;
        };
        let store = store();
        if let Ok(d) = store.drafts(&account.id).await {
            self.drafts.set(d);
        }
        if let Ok(o) = store.outbox(&account.id).await {
            self.outbox.set(o);
        }
        if let Ok(s) = store.list(&sent_folder(&account.id)).await {
            self.sent.set(s);
        }
    }

    /// Messages that wait to be sent (for the folder's count).
    pub fn queued(self) -> usize {
        self.outbox.with(|o| {
            o.iter()
                .filter(|i| i.state != OutboxState::PartlySent)
                .count()
        })
    }

    /// A pass over the outbox for the messages that are due (the retry timer).
    pub fn process(self) {
        self.run(false);
    }

    /// A pass that tries every queued message now, whatever its backoff: at start, when the
    /// browser comes online, after Send.
    pub fn send_now(self) {
        self.run(true);
    }

    /// One pass, unless one runs in this tab already (then another follows it) or another tab
    /// holds the account's outbox lock.
    fn run(self, now_all: bool) {
        if self.busy.get_untracked() {
            self.again.set(true);
            return;
        }
        let Some(account) = self.account.get_untracked() else {
            return;
        };
        let Some(sending) = account.sending.clone() else {
            return;
        };
        let waiting = self
            .outbox
            .with_untracked(|o| o.iter().any(|i| i.state == OutboxState::Queued));
        // An OAuth account sending with its own login uses its access token, read (and
        // refreshed if it expires soon) once the pass runs.
        let oauth = account.oauth.is_some() && sending.same_password;
        // Not signed in (or not unlocked) this session: the messages wait; the mailbox's
        // check asks for the passphrase or offers "Sign in again", and the next pass sends.
        if oauth && !super::oauth::has_tokens(&account.id) {
            return;
        }
        let password = match sending_password(&account) {
            _ if oauth => None,
            Some(p) => Some(p),
            None => {
                self.needs_password.set(waiting);
                return;
            }
        };
        self.busy.set(true);
        spawn_local(async move {
            let password = match password {
                Some(p) => p,
                None => match super::oauth::access_token(&account).await {
                    Ok((token, _)) => token,
                    Err(e) => {
                        // Nothing was tried: the messages wait, the reason shows ("sign in
                        // again" once the grant is gone; the mailbox offers the button).
                        self.busy.set(false);
                        let message = if e.needs_sign_in() {
                            crate::sync::sign_in_expired(&account.email)
                        } else {
                            e.to_string()
                        };
                        self.problem.set(Some(Explained {
                            message,
                            offline: matches!(e, crate::account::oauth::OAuthError::Network(_)),
                            login_refused: false,
                            asks_access_code: false,
                        }));
                        return;
                    }
                },
            };
            let store = store();
            let name = format!("postbag-outbox {}", account.id);
            let now = js_sys::Date::now();
            let sending_now = self.sending_now;
            let mut tunnel = Tunnel;
            let mut attempt = async |password: Secret<String>| {
                let pass = Pass {
                    store: &store,
                    account: &account,
                    sending: &sending,
                    password: &password,
                    limits: Limits::default(),
                    now_all,
                };
                let pass = outbox::send_queued(&pass, &mut tunnel, now, move |id| {
                    sending_now.set(Some(id.to_string()))
                });
                lock::exclusive(&name, pass).await
            };
            // A refused token (a refused password leaves the messages queued, uncounted, and
            // stops the pass) gets one refresh and one more pass; a second refusal stands.
            let result = if oauth {
                let refused = |r: &Option<Result<outbox::Report, _>>| matches!(r, Some(Ok(report)) if report.problem.as_ref().is_some_and(|p| p.login_refused));
                super::oauth::with_one_retry(&account, password, refused, attempt)
                    .await
                    .0
                    .result
            } else {
                attempt(password).await
            };
            self.sending_now.set(None);
            self.busy.set(false);
            match result {
                // Another tab sends this outbox now; its results reach this tab's lists at
                // the next reload.
                None => {}
                Some(Ok(report)) => {
                    // A refused token asks for a new sign-in (the mailbox's check offers the
                    // button), never for a password the user has not got.
                    if !oauth && report.problem.as_ref().is_some_and(|p| p.login_refused) {
                        self.needs_password.set(true);
                    }
                    self.problem.set(report.problem);
                }
                Some(Err(e)) => self.problem.set(Some(Explained {
                    message: format!("Local storage failed: {e}"),
                    offline: false,
                    login_refused: false,
                    asks_access_code: false,
                })),
            }
            self.reload().await;
            self.schedule_retry();
            if self.again.get_untracked() {
                self.again.set(false);
                self.send_now();
            }
        });
    }

    /// Arms a timer for the earliest queued message's next attempt.
    fn schedule_retry(self) {
        let now = js_sys::Date::now();
        let next = self.outbox.with_untracked(|o| {
            o.iter()
                .filter(|i| i.state == OutboxState::Queued && i.next_attempt > now)
                .map(|i| i.next_attempt)
                .min_by(f64::total_cmp)
        });
        let timer = next.map(|at| {
            let ms = (at - now).clamp(1_000.0, 30.0 * 60_000.0) as u32;
            Timeout::new(ms, move || self.process())
        });
        RETRY.with(|r| *r.borrow_mut() = timer);
    }

    /// The sending password typed in the outbox's prompt (or the passphrase of the saved one,
    /// when sending shares the POP3 password); then the outbox runs.
    pub async fn unlock(self, typed: String) -> Result<(), String> {
        let Some(account) = self.account.get_untracked() else {
            return Ok(());
        };
        let shared = account.sending.as_ref().is_none_or(|s| s.same_password);
        if shared {
            super::unlock(&account, typed)
                .await
                .map_err(|e| e.to_string())?;
        } else {
            set_session_password(&smtp_key(&account.id), Secret::new(typed));
        }
        self.needs_password.set(false);
        self.send_now();
        Ok(())
    }

    /// "Send again": a failed or maybe-sent message goes back to the queue, due now.
    pub fn send_again(self, id: String) {
        self.rewrite(id, |item| {
            item.state = OutboxState::Queued;
            item.next_attempt = 0.0;
            item.attempts = 0;
            item.refused.clear();
        });
    }

    /// "Mark as sent": the user found it delivered; it moves to Sent as it is.
    pub fn mark_sent(self, id: String) {
        spawn_local(async move {
            let store = store();
            let (Ok(Some(item)), Ok(Some(raw))) =
                (store.outbox_item(&id).await, store.outbox_raw(&id).await)
            else {
                return;
            };
            let item = OutboxItem {
                refused: Vec::new(),
                ..item
            };
            let summary = outbox::sent_summary(&item, &raw, js_sys::Date::now());
            if let Err(e) = store.mark_sent(&item, &raw, &summary).await {
                self.problem.set(Some(storage(e.to_string())));
            }
            self.reload().await;
        });
    }

    /// Removes a message from the outbox (Discard on a failed one, Dismiss on a partly sent).
    pub fn remove(self, id: String) {
        spawn_local(async move {
            if let Err(e) = store().delete_outgoing(&id).await {
                self.problem.set(Some(storage(e.to_string())));
            }
            self.reload().await;
        });
    }

    fn rewrite(self, id: String, change: impl FnOnce(&mut OutboxItem) + 'static) {
        spawn_local(async move {
            let store = store();
            let Ok(Some(mut item)) = store.outbox_item(&id).await else {
                return;
            };
            change(&mut item);
            if let Err(e) = store.put_outbox(&item).await {
                self.problem.set(Some(storage(e.to_string())));
            }
            self.reload().await;
            self.send_now();
        });
    }

    /// Opens a sent message in the Sent folder (`None` closes it).
    pub fn open_sent(self, id: Option<String>) {
        let Some(id) = id else {
            return self.opened.set(None);
        };
        let Some(account) = self.account.get_untracked() else {
            return;
        };
        spawn_local(async move {
            let raw = store()
                .raw(&sent_folder(&account.id), &id)
                .await
                .ok()
                .flatten()
                .unwrap_or_default();
            self.opened.set(Some((id, parse_view(&raw))));
        });
    }

    /// Stores the Sending settings of the shown account.
    pub async fn save_sending(self, sending: Sending) -> Result<(), String> {
        let Some(mut account) = self.account.get_untracked() else {
            return Err("No account yet.".into());
        };
        account.sending = Some(sending);
        store()
            .put_account(&account)
            .await
            .map_err(|e| e.to_string())?;
        self.account.set(Some(account));
        self.send_now();
        Ok(())
    }
}

fn storage(message: String) -> Explained {
    Explained {
        message: format!("Local storage failed: {message}"),
        offline: false,
        login_refused: false,
        asks_access_code: false,
    }
}
