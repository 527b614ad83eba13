//! The message the reader shows, loaded through the model: a resource on the selection reads
//! its bytes from the store, parses them, and marks the message read.

use std::sync::Arc;

use leptos::prelude::*;

use super::store;
use crate::mail::{MessageView, parse_view};
use crate::store::{Marks, MessageKey, Summary};

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

/// Sets `marks` (read, flagged) on one message, in the store and then in the list. The store
/// changes only these marks on the summary it holds (`Store::mark`): this tab's copy of the
/// rest may be older than the store, and writing it back would undo another tab's change.
pub(super) async fn mark(messages: RwSignal<Vec<Summary>>, key: &MessageKey, marks: Marks) {
    let is = |m: &Summary| m.account == key.0 && m.uidl == key.1;
    let changes = messages.with_untracked(|all| {
        all.iter()
            .find(|m| is(m))
            .is_some_and(|m| marks.apply(&mut m.clone()))
    });
    // The list takes the summary as now stored: newer than this tab's copy, if it was old.
    if changes && let Ok(Some(stored)) = store().mark(&key.0, &key.1, marks).await {
        messages.update(|all| {
            for m in all.iter_mut().filter(|m| is(m)) {
                *m = stored.clone();
            }
        });
    }
}

/// Marks a message read or unread, in the store and then in the list.
pub(super) async fn mark_read(messages: RwSignal<Vec<Summary>>, key: &MessageKey, read: bool) {
    mark(messages, key, Marks::read(read)).await;
}
