//! What the keyboard's commands (`keymap.rs`) do to the model. Each returns where the focus
//! goes next, so that it is never lost after an action (the view moves it).

use leptos::prelude::*;

use super::keymap::Command;
use super::{Answer, Model, Outgoing, reading};
use crate::store::{Marks, MessageKey, Summary};

/// Where the focus goes after a command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Focus {
    /// The list row of this key (the newest message of its conversation).
    Row(MessageKey),
    /// The reader (a message was opened).
    Reader,
    Search,
    /// The shortcuts dialog.
    Help,
    /// Where it is (or the compose form, which takes it itself).
    Stay,
}

impl Model {
    /// The row the cursor is on: the open message's, else the one the keyboard last moved to
    /// (or focused), else the first.
    fn cursor_row(self) -> Option<usize> {
        let selected = self.selected.get_untracked();
        let cursor = self.cursor.get_untracked();
        self.rows.with_untracked(|rows| {
            let at = |k: &MessageKey| rows.iter().position(|r| r.members.contains(k));
            selected
                .as_ref()
                .and_then(at)
                .or_else(|| cursor.as_ref().and_then(at))
                .or((!rows.is_empty()).then_some(0))
        })
    }

    fn row_key(self, at: usize) -> Option<MessageKey> {
        self.rows
            .with_untracked(|rows| rows.get(at).map(|r| r.key()))
    }

    fn row_members(self, at: usize) -> Vec<MessageKey> {
        self.rows
            .with_untracked(|rows| rows.get(at).map(|r| r.members.clone()))
            .unwrap_or_default()
    }

    /// Runs `command`; `outgoing` answers and composes. Returns where the focus goes.
    pub async fn run_command(self, command: Command, outgoing: Option<Outgoing>) -> Focus {
        let reading = self.selected.with_untracked(Option::is_some);
        let at = self.cursor_row();
        let len = self.rows.with_untracked(Vec::len);
        match command {
            Command::Next | Command::Previous => {
                let Some(at) = at else { return Focus::Stay };
                let to = match command {
                    Command::Next => (at + 1).min(len.saturating_sub(1)),
                    _ => at.saturating_sub(1),
                };
                // Before anything was picked, the first key lands on the first row.
                let to = if self.cursor.with_untracked(Option::is_none) && !reading {
                    at
                } else {
                    to
                };
                let Some(key) = self.row_key(to) else {
                    return Focus::Stay;
                };
                self.cursor.set(Some(key.clone()));
                if reading {
                    self.selected.set(Some(key));
                    return Focus::Reader;
                }
                Focus::Row(key)
            }
            Command::Open => {
                let Some(key) = at.and_then(|at| self.row_key(at)) else {
                    return Focus::Stay;
                };
                self.cursor.set(Some(key.clone()));
                self.selected.set(Some(key));
                Focus::Reader
            }
            Command::Back => {
                self.selected.set(None);
                match at.and_then(|at| self.row_key(at)) {
                    Some(key) => {
                        self.cursor.set(Some(key.clone()));
                        Focus::Row(key)
                    }
                    None => Focus::Stay,
                }
            }
            Command::Delete | Command::Archive => {
                let Some(at) = at else { return Focus::Stay };
                // The open message (as the reader's button does), else the whole row.
                let keys = match self.selected.get_untracked() {
                    Some(key) => vec![key],
                    None => self.row_members(at),
                };
                // The row that takes its place: the next one, else the one before.
                let next = self
                    .row_key(at + 1)
                    .or_else(|| at.checked_sub(1).and_then(|b| self.row_key(b)));
                if command == Command::Archive {
                    self.move_to(keys, crate::store::ARCHIVE.into()).await;
                } else {
                    for key in &keys {
                        self.delete(key).await;
                    }
                }
                self.cursor.set(next.clone());
                match next {
                    Some(key) if reading => {
                        self.selected.set(Some(key));
                        Focus::Reader
                    }
                    Some(key) => Focus::Row(key),
                    None => Focus::Search,
                }
            }
            Command::Flag | Command::MarkRead | Command::MarkUnread => {
                let Some(at) = at else { return Focus::Stay };
                let keys = match self.selected.get_untracked() {
                    Some(key) => vec![key],
                    None => self.row_members(at),
                };
                let flag = self.messages.with_untracked(|all| {
                    !keys
                        .iter()
                        .any(|k| all.iter().any(|m| is(m, k) && m.flagged))
                });
                for key in &keys {
                    match command {
                        Command::Flag => self.set_flagged(key, flag).await,
                        Command::MarkRead => self.set_read(key, true).await,
                        _ => self.set_read(key, false).await,
                    }
                }
                match self.row_key(at) {
                    Some(_) if reading => Focus::Reader,
                    Some(key) => Focus::Row(key),
                    None => Focus::Stay,
                }
            }
            Command::Reply | Command::ReplyAll | Command::Forward => {
                let how = match command {
                    Command::Reply => Answer::Reply,
                    Command::ReplyAll => Answer::ReplyAll,
                    _ => Answer::Forward,
                };
                let open = self.open.get_untracked().flatten();
                if let (Some(out), Some(open)) = (outgoing, open) {
                    out.answer(how, &open.raw);
                }
                Focus::Stay
            }
            Command::Compose => {
                if let Some(out) = outgoing {
                    out.compose_new();
                }
                Focus::Stay
            }
            Command::Search => Focus::Search,
            Command::Help => Focus::Help,
        }
    }

    /// Flags or unflags a message, in the store and then in the list.
    pub async fn set_flagged(self, key: &MessageKey, flagged: bool) {
        reading::mark(self.messages, key, Marks::flagged(flagged)).await;
    }
}

fn is(m: &Summary, key: &MessageKey) -> bool {
    m.account == key.0 && m.uidl == key.1
}
