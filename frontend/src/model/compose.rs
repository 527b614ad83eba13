//! The compose form's actions: open (new, reply, reply to all, forward, a saved draft), edit
//! with a debounced save into IndexedDB, Send (build, then queue in one strict transaction
//! that also removes the draft), Discard.

use gloo_timers::callback::Timeout;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::outbox::{Composing, Folder, Outgoing, Saved};
use super::store;
use crate::compose::{self, Draft, Identity, Original, Stamp};
use crate::store::{OutboxItem, OutboxState, StoredDraft};

/// How long typing must pause before the draft is saved.
const SAVE_AFTER_MS: u32 = 700;

/// How a stored message is answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    Reply,
    ReplyAll,
    Forward,
    ForwardAttached,
}

/// 16 bytes from the browser's CSPRNG (Message-ID, draft ids).
fn random16() -> [u8; 16] {
    let mut bytes = [0u8; 16];
    if let Some(crypto) = web_sys::window().and_then(|w| w.crypto().ok()) {
        let _ = crypto.get_random_values_with_u8_array(&mut bytes);
    }
    bytes
}

fn new_id() -> String {
    random16().iter().map(|b| format!("{b:02x}")).collect()
}

impl Outgoing {
    fn identity(self) -> Identity {
        self.account
            .get_untracked()
            .and_then(|a| a.sending)
            .map(|s| Identity {
                name: s.name,
                address: s.address,
            })
            .or_else(|| {
                self.account.get_untracked().map(|a| Identity {
                    name: String::new(),
                    address: a.email,
                })
            })
            .unwrap_or_default()
    }

    fn open_with(self, draft: Draft) {
        self.composing.set(Some(Composing {
            id: new_id(),
            saved: if draft.is_empty() {
                Saved::Empty
            } else {
                Saved::Pending
            },
            draft,
            error: None,
        }));
        self.schedule_save();
    }

    /// "New message".
    pub fn compose_new(self) {
        self.open_with(Draft::default());
    }

    /// Reply, Reply all or Forward on the message whose stored bytes are `raw`.
    pub fn answer(self, how: Answer, raw: &[u8]) {
        let original = match Original::parse(raw) {
            Ok(o) => o,
            Err(e) => {
                self.open_with(Draft::default());
                return self.composing.update(|c| {
                    if let Some(c) = c {
                        c.error = Some(e.to_string());
                    }
                });
            }
        };
        let me = self.identity();
        self.open_with(match how {
            Answer::Reply => compose::reply(&original, &me),
            Answer::ReplyAll => compose::reply_all(&original, &me),
            Answer::Forward => compose::forward_inline(&original),
            Answer::ForwardAttached => compose::forward_attached(&original),
        });
    }

    /// Resumes a saved draft.
    pub fn open_draft(self, stored: StoredDraft) {
        self.composing.set(Some(Composing {
            id: stored.id,
            draft: stored.draft,
            saved: Saved::Saved,
            error: None,
        }));
    }

    /// Applies an edit of the form; the draft is saved once typing pauses.
    pub fn edit(self, change: impl FnOnce(&mut Draft)) {
        self.composing.update(|c| {
            if let Some(c) = c {
                change(&mut c.draft);
                c.saved = Saved::Pending;
                c.error = None;
            }
        });
        self.schedule_save();
    }

    fn schedule_save(self) {
        self.edits.update(|n| *n += 1);
        let edit = self.edits.get_untracked();
        Timeout::new(SAVE_AFTER_MS, move || {
            // A later edit scheduled its own save.
            if self.edits.get_untracked() == edit {
                spawn_local(self.save());
            }
        })
        .forget();
    }

    /// Saves the open draft now (an empty one is not kept).
    pub async fn save(self) {
        let (Some(c), Some(account)) =
            (self.composing.get_untracked(), self.account.get_untracked())
        else {
            return;
        };
        if c.draft.is_empty() {
            return;
        }
        let stored = StoredDraft {
            id: c.id.clone(),
            account: account.id,
            updated: js_sys::Date::now(),
            draft: c.draft.clone(),
        };
        let result = store().put_draft(&stored).await;
        self.composing.update(|now| {
            // Only if the form still shows this draft, unchanged since.
            if let Some(now) = now
                && now.id == c.id
                && now.draft == c.draft
            {
                now.saved = match &result {
                    Ok(()) => Saved::Saved,
                    Err(e) => Saved::Failed(e.to_string()),
                };
            }
        });
        self.reload().await;
    }

    /// Closes the form, keeping the draft (saved first).
    pub fn close(self) {
        spawn_local(async move {
            self.save().await;
            self.composing.set(None);
        });
    }

    /// Deletes the draft and closes the form.
    pub fn discard(self) {
        let Some(c) = self.composing.get_untracked() else {
            return;
        };
        self.edits.update(|n| *n += 1); // no save after this
        self.composing.set(None);
        spawn_local(async move {
            let _ = store().delete_draft(&c.id).await;
            self.reload().await;
        });
    }

    /// Builds the message and queues it (the draft goes in the same transaction); the outbox
    /// sends it now if it can, else when the network is back.
    pub fn send(self) {
        let Some(c) = self.composing.get_untracked() else {
            return;
        };
        let Some(account) = self.account.get_untracked() else {
            return;
        };
        let fail = move |message: String| {
            self.composing.update(|now| {
                if let Some(now) = now {
                    now.error = Some(message);
                }
            })
        };
        let Some(sending) = account.sending.clone() else {
            return fail("Set up sending first: Settings, Sending.".into());
        };
        let now = js_sys::Date::now();
        let stamp = Stamp {
            unix_secs: (now / 1000.0) as i64,
            random: random16(),
        };
        let identity = Identity {
            name: sending.name.clone(),
            address: sending.address.clone(),
        };
        let built = match compose::build(&c.draft, &identity, stamp, sending.max_bytes as usize) {
            Ok(b) => b,
            Err(e) => return fail(e.to_string()),
        };
        let item = OutboxItem {
            id: built.message_id.clone(),
            account: account.id.clone(),
            envelope_from: built.envelope_from.clone(),
            recipients: built.recipients.clone(),
            subject: c.draft.subject.trim().to_string(),
            to: [c.draft.to.trim(), c.draft.cc.trim(), c.draft.bcc.trim()]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(", "),
            size: built.raw.len() as u64,
            created: now,
            state: OutboxState::Queued,
            attempts: 0,
            next_attempt: 0.0,
            last_error: None,
            refused: Vec::new(),
        };
        self.edits.update(|n| *n += 1); // no draft save after this
        spawn_local(async move {
            match store().queue_outgoing(&item, &built.raw, Some(&c.id)).await {
                Ok(()) => {
                    self.composing.set(None);
                    self.folder.set(Folder::Outbox);
                    self.reload().await;
                    self.send_now();
                }
                Err(e) => fail(format!("The message could not be queued: {e}")),
            }
        });
    }
}
