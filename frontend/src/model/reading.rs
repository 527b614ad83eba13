//! The message the reader shows, loaded through the model: a resource on the selection reads
//! its bytes from the store, parses them, and marks the message read.

use std::sync::Arc;

use leptos::prelude::*;

use super::store;
use crate::mail::{MessageView, parse_view};
use crate::store::{Account, IMPORTED, Summary};

/// An opened message: its stored bytes and what mail-parser made of them (`None`: not mail).
#[derive(Clone, Debug)]
pub struct OpenMessage {
    pub uidl: String,
    pub view: Option<MessageView>,
    pub raw: Arc<Vec<u8>>,
}

/// Loads the selected message whenever the selection changes (`None`: nothing selected).
pub(super) fn open_on_selection(
    account: RwSignal<Option<Account>>,
    imported_shown: RwSignal<bool>,
    messages: RwSignal<Vec<Summary>>,
    selected: RwSignal<Option<String>>,
) -> LocalResource<Option<OpenMessage>> {
    LocalResource::new(move || {
        let uidl = selected.get();
        let key = if imported_shown.get_untracked() {
            Some(IMPORTED.to_string())
        } else {
            account.with_untracked(|a| a.as_ref().map(|a| a.id.clone()))
        };
        async move {
            let (uidl, key) = (uidl?, key?);
            // A message that cannot be read back opens empty, and says it is not mail.
            let raw = store()
                .raw(&key, &uidl)
                .await
                .ok()
                .flatten()
                .unwrap_or_default();
            let view = parse_view(&raw);
            mark_read(messages, &uidl, true).await;
            Some(OpenMessage {
                uidl,
                view,
                raw: Arc::new(raw),
            })
        }
    })
}

/// Marks a message read or unread, in the store and then in the list.
pub(super) async fn mark_read(messages: RwSignal<Vec<Summary>>, uidl: &str, read: bool) {
    let Some(mut summary) =
        messages.with_untracked(|all| all.iter().find(|m| m.uidl == uidl).cloned())
    else {
        return;
    };
    if summary.read == read {
        return;
    }
    summary.read = read;
    if store().update_summary(&summary).await.is_ok() {
        messages.update(|all| {
            if let Some(m) = all.iter_mut().find(|m| m.uidl == uidl) {
                m.read = read;
            }
        });
    }
}
