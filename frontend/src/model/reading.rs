//! The message the reader shows, loaded through the model: a resource on the selection reads
//! its bytes from the store, parses them, and marks the message read.

use std::sync::Arc;

use leptos::prelude::*;

use super::store;
use crate::mail::{MessageView, parse_view};
use crate::store::{MessageKey, Summary};

/// An opened message: its stored bytes and what mail-parser made of them (`None`: not mail).
#[derive(Clone, Debug)]
pub struct OpenMessage {
    /// The account's key (or `IMPORTED`) and the UIDL.
    pub key: MessageKey,
    pub view: Option<MessageView>,
    pub raw: Arc<Vec<u8>>,
}

/// Loads the selected message whenever the selection changes (`None`: nothing selected).
pub(super) fn open_on_selection(
    messages: RwSignal<Vec<Summary>>,
    selected: RwSignal<Option<MessageKey>>,
) -> LocalResource<Option<OpenMessage>> {
    LocalResource::new(move || {
        let key = selected.get();
        async move {
            let key = key?;
            // A message that cannot be read back opens empty, and says it is not mail.
            let raw = store()
                .raw(&key.0, &key.1)
                .await
                .ok()
                .flatten()
                .unwrap_or_default();
            let view = parse_view(&raw);
            mark_read(messages, &key, true).await;
            Some(OpenMessage {
                key,
                view,
                raw: Arc::new(raw),
            })
        }
    })
}

/// Changes one summary (flagged…), in the store and then in the list.
pub(super) async fn update(
    messages: RwSignal<Vec<Summary>>,
    key: &MessageKey,
    change: impl Fn(&mut Summary),
) {
    let is = |m: &Summary| m.account == key.0 && m.uidl == key.1;
    let Some(mut summary) = messages.with_untracked(|all| all.iter().find(|m| is(m)).cloned())
    else {
        return;
    };
    let before = summary.clone();
    change(&mut summary);
    if summary != before && store().update_summary(&summary).await.is_ok() {
        messages.update(|all| all.iter_mut().filter(|m| is(m)).for_each(&change));
    }
}

/// Marks a message read or unread, in the store and then in the list.
pub(super) async fn mark_read(messages: RwSignal<Vec<Summary>>, key: &MessageKey, read: bool) {
    let is = |m: &Summary| m.account == key.0 && m.uidl == key.1;
    let Some(mut summary) = messages.with_untracked(|all| all.iter().find(|m| is(m)).cloned())
    else {
        return;
    };
    if summary.read == read {
        return;
    }
    summary.read = read;
    if store().update_summary(&summary).await.is_ok() {
        messages.update(|all| {
            if let Some(m) = all.iter_mut().find(|m| is(m)) {
                m.read = read;
            }
        });
    }
}
