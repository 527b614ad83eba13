//! The list's rows: one per conversation (`threads.rs`) while conversations are on, else one
//! per message. The choice is a setting kept in localStorage (carried by backups); the ids
//! that stored mail lacks (summaries from before conversations) are back-filled here, from
//! the stored bytes' header part, a slice at a time after the list is shown. Which of the rows
//! the screen renders for a scroll offset is `window.rs`.

pub mod window;

use std::collections::HashSet;

use leptos::prelude::*;

use super::threads::{Conversation, conversations};
use crate::store::{MessageKey, Summary};

/// localStorage key of the setting: "off" turns conversations off; anything else, or
/// nothing, leaves them on.
pub const SETTING: &str = "postbag.conversations";
/// Participants named on a conversation's row; the rest are counted.
const NAMED: usize = 3;

/// One line of the list.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The newest message: its date, subject and snippet stand for the row, and opening the
    /// row opens it.
    pub summary: Summary,
    /// The messages of the conversation, oldest first (one while conversations are off).
    pub members: Vec<MessageKey>,
    /// Senders, oldest first, each once ("Ann, Bob, Cleo +2").
    pub participants: String,
    /// Whether any message of it is unread; flagged likewise.
    pub unread: bool,
    pub flagged: bool,
}

impl Row {
    pub fn key(&self) -> MessageKey {
        (self.summary.account.clone(), self.summary.uidl.clone())
    }

    fn single(s: &Summary) -> Row {
        Row {
            summary: s.clone(),
            members: vec![(s.account.clone(), s.uidl.clone())],
            participants: s.from.clone(),
            unread: !s.read,
            flagged: s.flagged,
        }
    }
}

/// Threadings kept: the folders a user switches between (Inbox, Archive, Imported) are each
/// threaded once, not again at every switch (a second at 100,000 messages).
const KEPT: usize = 4;

thread_local! {
    /// The last threadings, by a hash of what they depend on, the most recent last: marking a
    /// message read or flagged changes the list but not its conversations, and switching back
    /// to a folder shows the same messages; neither is worth threading 100,000 again.
    static LAST: std::cell::RefCell<Vec<(u64, std::rc::Rc<Vec<Conversation>>)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// What threading reads of `visible`, hashed.
fn fingerprint(visible: &[Summary]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for m in visible {
        (
            &m.account,
            &m.uidl,
            &m.message_id,
            &m.in_reply_to,
            &m.references,
        )
            .hash(&mut h);
        (&m.subject, m.date.to_bits()).hash(&mut h);
    }
    h.finish()
}

fn threaded(visible: &[Summary]) -> std::rc::Rc<Vec<Conversation>> {
    let print = fingerprint(visible);
    let found = LAST.with_borrow_mut(|last| {
        let at = last.iter().position(|(p, _)| *p == print)?;
        let hit = last.remove(at);
        let found = hit.1.clone();
        last.push(hit);
        Some(found)
    });
    if let Some(found) = found {
        return found;
    }
    let found = std::rc::Rc::new(conversations(visible));
    LAST.with_borrow_mut(|last| {
        if last.len() == KEPT {
            last.remove(0);
        }
        last.push((print, found.clone()));
    });
    found
}

/// The rows of `visible` (newest first): conversations when `threaded`, else messages.
pub fn rows(visible: &[Summary], threaded: bool) -> Vec<Row> {
    if !threaded {
        return visible.iter().map(Row::single).collect();
    }
    self::threaded(visible)
        .iter()
        .map(|c| {
            let newest = *c.members.last().expect("a conversation has a message");
            let mut senders: Vec<&str> = Vec::new();
            let mut seen = HashSet::new();
            for &m in &c.members {
                let from = visible[m].from.as_str();
                if !from.is_empty() && seen.insert(from) {
                    senders.push(from);
                }
            }
            let mut participants = senders
                .iter()
                .take(NAMED)
                .copied()
                .collect::<Vec<_>>()
                .join(", ");
            if senders.len() > NAMED {
                participants.push_str(&format!(" +{}", senders.len() - NAMED));
            }
            Row {
                summary: visible[newest].clone(),
                members: c
                    .members
                    .iter()
                    .map(|&m| (visible[m].account.clone(), visible[m].uidl.clone()))
                    .collect(),
                participants,
                unread: c.members.iter().any(|&m| !visible[m].read),
                flagged: c.members.iter().any(|&m| visible[m].flagged),
            }
        })
        .collect()
}

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// Whether conversations are on (the default).
pub fn load_setting() -> bool {
    local_storage()
        .and_then(|s| s.get_item(SETTING).ok().flatten())
        .is_none_or(|v| v != "off")
}

pub fn save_setting(on: bool) {
    if let Some(s) = local_storage() {
        let _ = s.set_item(SETTING, if on { "on" } else { "off" });
    }
}

impl super::Model {
    /// A message of a conversation opened in the reader: its bytes read and parsed (`None`:
    /// not mail), and marked read.
    pub async fn read_message(self, key: MessageKey) -> Option<crate::mail::MessageView> {
        let raw = super::store()
            .raw(&key.0, &key.1)
            .await
            .ok()
            .flatten()
            .unwrap_or_default();
        let view = crate::mail::parse_view(&raw);
        super::reading::mark_read(self.messages, &key, true).await;
        view
    }
}

/// Messages whose ids are read per slice, between which the page handles input.
const SLICE: usize = 100;
/// Ids found are put into the list this many at a time (each time the list is threaded anew).
const SHOWN_EVERY: usize = 5_000;

thread_local! {
    static BACKFILLING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Reads the ids of the listed messages stored before conversations existed, from their
/// stored header part, a slice at a time, writing them into the store and then the list.
/// One back-fill runs at a time; a list shown later is taken up by the next call.
pub async fn backfill(messages: RwSignal<Vec<Summary>>) {
    use crate::mail::thread_ids::{HEADER_BYTES, thread_ids_of};
    if BACKFILLING.with(|b| b.replace(true)) {
        return;
    }
    let pending: Vec<MessageKey> = messages.with_untracked(|all| {
        all.iter()
            .filter(|m| !m.ids_read)
            .map(|m| (m.account.clone(), m.uidl.clone()))
            .collect()
    });
    let mut found = std::collections::HashMap::new();
    for (n, slice) in pending.chunks(SLICE).enumerate() {
        let heads = match super::store().raw_heads(slice, HEADER_BYTES as u32).await {
            Ok(heads) => heads,
            Err(_) => break,
        };
        let ids: Vec<_> = slice
            .iter()
            .cloned()
            .zip(heads)
            .map(|(k, head)| (k, head.map(|h| thread_ids_of(&h)).unwrap_or_default()))
            .collect();
        if super::store().set_thread_ids(&ids).await.is_err() {
            break;
        }
        found.extend(ids);
        if ((n + 1) * SLICE).is_multiple_of(SHOWN_EVERY) {
            show(messages, &mut found);
        }
        gloo_timers::future::TimeoutFuture::new(0).await;
    }
    show(messages, &mut found);
    BACKFILLING.with(|b| b.set(false));
}

fn show(
    messages: RwSignal<Vec<Summary>>,
    found: &mut std::collections::HashMap<MessageKey, crate::mail::thread_ids::ThreadIds>,
) {
    if found.is_empty() {
        return;
    }
    messages.update(|all| {
        for m in all.iter_mut().filter(|m| !m.ids_read) {
            if let Some(ids) = found.remove(&(m.account.clone(), m.uidl.clone())) {
                m.message_id = ids.message_id;
                m.in_reply_to = ids.in_reply_to;
                m.references = ids.references;
                m.ids_read = true;
            }
        }
    });
    found.clear();
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn msg(uidl: &str, date: f64, from: &str, read: bool, refs: &[&str]) -> Summary {
        let mut s: Summary = serde_json::from_value(serde_json::json!({
            "account": "a", "uidl": uidl, "from": from, "to": "", "subject": "s",
            "date": date, "size": 0, "has_attachments": false, "snippet": "",
            "read": read, "flagged": false,
        }))
        .expect("a summary");
        s.message_id = Some(format!("{uidl}@x"));
        s.references = refs.iter().map(|r| r.to_string()).collect();
        s
    }

    #[test]
    fn a_conversation_row_is_its_newest_message_with_everyone_in_it() {
        // Newest first, as the store lists them.
        let list = [
            msg("4", 4.0, "Dan", true, &["1@x"]),
            msg("3", 3.0, "Ann", false, &["1@x"]),
            msg("2", 2.0, "Other", true, &[]),
            msg("1", 1.0, "Ann", true, &[]),
        ];
        let got = rows(&list, true);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].summary.uidl, "4");
        assert_eq!(got[0].participants, "Ann, Dan");
        assert!(got[0].unread, "one unread message makes the row unread");
        let uidls: Vec<&str> = got[0].members.iter().map(|k| k.1.as_str()).collect();
        assert_eq!(uidls, ["1", "3", "4"]);
        assert!(!got[1].unread);
        // Off: one row per message, in the same order.
        let flat: Vec<String> = rows(&list, false)
            .into_iter()
            .map(|r| r.summary.uidl)
            .collect();
        assert_eq!(flat, ["4", "3", "2", "1"]);
    }

    #[test]
    fn many_senders_are_counted_past_three() {
        let list: Vec<Summary> = (0..6)
            .rev()
            .map(|i| {
                let refs: &[&str] = if i == 0 { &[] } else { &["0@x"] };
                msg(&i.to_string(), i as f64, &format!("P{i}"), true, refs)
            })
            .collect();
        assert_eq!(rows(&list, true)[0].participants, "P0, P1, P2 +3");
    }
}
