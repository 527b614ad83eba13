//! "Download the rest" of a message stored headers-first (an account's size limit, for slow or
//! metered links): the reader's button asks, the scheduler runs it as a check of that account
//! (`Task::Rest`: under the account's Web Lock, never sooner than the server's LOGIN-DELAY),
//! and this runs the one session (`sync::download_rest`), then shows the whole message.

use leptos::prelude::*;
use postbag_protocol::pop3::Secret;

use super::scheduler::Checked;
use super::syncing::ended;
use super::{Model, SyncState, store};
use crate::mail::human_size;
use crate::store::{Account, MessageKey, Summary};
use crate::sync::{self, Answer, CancelHandle, Observer, Outcome, Progress, SyncError};

/// Where the reader's "Download the rest" stands for one message (absent from
/// [`Model::rest`]: not asked). Kept per message: several may be asked at once, each waiting
/// for its account's turn, and one ending says nothing of the others.
#[derive(Clone, Debug, PartialEq)]
pub enum RestState {
    /// Asked; waiting for the account's turn, or downloading.
    Asked,
    /// The rest could not be downloaded: why, in the user's words.
    Failed(String),
}

/// What the engine tells the screen during the one session.
struct ToScreen {
    model: Model,
    login_delay: Option<u32>,
}

impl Observer for ToScreen {
    fn progress(&mut self, progress: &Progress) {
        self.model.sync.set(SyncState::Running(progress.clone()));
    }

    fn committed(&mut self, summaries: &[Summary]) {
        self.model.add_messages(summaries);
    }

    fn login_delay(&mut self, seconds: u32) {
        self.login_delay = Some(seconds);
    }

    fn room_for(&mut self, bytes: u64) -> Answer {
        Box::pin(
            async move { !matches!(crate::pwa::ensure_room(bytes).await, Ok(room) if !room.ok) },
        )
    }
}

impl Model {
    /// The size of the whole message when only its start is stored here (`None`: whole).
    pub fn partial_of(self, key: &MessageKey) -> Option<u64> {
        self.messages.with(|all| {
            all.iter()
                .find(|m| m.account == key.0 && m.uidl == key.1)
                .and_then(|m| m.partial_of)
        })
    }

    /// The reader's "Download the rest": queued as a check of the message's account.
    pub fn download_rest(self, key: MessageKey) {
        self.rest.update(|r| {
            r.insert(key.clone(), RestState::Asked);
        });
        self.ask_rest(key.0, key.1);
    }

    /// The rest was asked but the account's check did not run (no password this session, the
    /// account removed, another tab holds its lock): the button may be pressed again.
    pub(super) fn rest_not_run(self, key: &MessageKey, why: String) {
        self.rest_ended(key, Some(why));
    }

    /// The rest of `key` ended: whole (`None`), or not, and why.
    fn rest_ended(self, key: &MessageKey, failed: Option<String>) {
        self.rest.update(|r| match failed {
            Some(why) => {
                r.insert(key.clone(), RestState::Failed(why));
            }
            None => {
                r.remove(key);
            }
        });
    }

    /// One session fetching the rest of `uidl` whole; the reader shows it once stored.
    pub(super) async fn rest_account(
        self,
        account: &Account,
        password: Secret<String>,
        key: &MessageKey,
    ) -> Checked {
        let uidl = key.1.as_str();
        let cancel = CancelHandle::default();
        self.cancel.set_value(cancel.clone());
        self.sync.set(SyncState::Connecting);
        let mut screen = ToScreen {
            model: self,
            login_delay: None,
        };
        // As in a sync: a token the server refuses gets one refresh and one more session.
        let result = self
            .logged_in(account, password, async |secret| {
                self.run_rest(account, secret, uidl, &cancel, &mut screen)
                    .await
            })
            .await;
        self.runs.update(|n| *n += 1);
        let ended = ended(&result);
        match result {
            Ok(o) if o.downloaded > 0 => {
                self.rest_ended(key, None);
                let size = store()
                    .raw(&key.0, &key.1)
                    .await
                    .ok()
                    .flatten()
                    .map_or(0, |r| r.len() as u64);
                let mut text = format!("The whole message is here ({})", human_size(size));
                if o.deleted_on_server > 0 {
                    text.push_str(", and removed from the server");
                }
                self.sync.set(SyncState::Done(text + "."));
                // The whole is indexed now that the session ended (`add_messages` waits).
                self.index_soon();
                // The reader shows the whole now.
                if self.selected.get_untracked().as_ref() == Some(key) {
                    self.open.refetch();
                }
            }
            Ok(o) if o.cancelled => {
                self.rest_ended(key, Some("Cancelled: only the start is here.".into()));
                self.sync.set(SyncState::Done("Download cancelled.".into()));
            }
            // Whole already (another tab, or deleted here meanwhile): read it again.
            Ok(_) => {
                self.rest_ended(key, None);
                self.sync.set(SyncState::Idle);
                self.reload().await;
                self.open.refetch();
            }
            Err(e) => {
                let ex = sync::explain_for(&e, sync::Credential::of(account));
                self.offline.set(ex.offline);
                self.needs_access_code.set(ex.asks_access_code);
                self.rest_ended(key, Some(ex.message.clone()));
                self.sync.set(SyncState::Failed(ex));
            }
        }
        Checked {
            ended,
            login_delay_s: screen.login_delay,
        }
    }

    async fn run_rest(
        self,
        account: &Account,
        password: Secret<String>,
        uidl: &str,
        cancel: &CancelHandle,
        screen: &mut ToScreen,
    ) -> Result<Outcome, SyncError> {
        // With the live copy on, the whole message's file is written once it is stored, and it
        // is DELEd (delete after download) only after that, as in any sync.
        self.in_session(account, password, cancel, screen, async |sock, request| {
            sync::download_rest(sock, request, uidl).await
        })
        .await
    }
}
