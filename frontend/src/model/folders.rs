//! Local folders as the screen sees them: which folder the list shows (kept across reloads),
//! the user's folders, the messages ticked for a bulk action, and the actions themselves
//! (move, copy, archive, delete to Trash, restore, delete for good, empty Trash, Trash emptied
//! after the days the user chose). POP3 has none of this: nothing here talks to a server.
//! The store's side is `store/folders.rs`.

use std::collections::BTreeSet;

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{Model, list, store};
use crate::store::{
    ARCHIVE, INBOX, MessageKey, RESTORED_TO, ServerPolicy, Summary, TRASH, UserFolder, is_copy,
};

/// The localStorage key of the folder shown (a reload and an offline start open it again).
const SHOWN_KEY: &str = "postbag.folder";
/// The localStorage key of the days mail stays in Trash.
const TRASH_DAYS_KEY: &str = "postbag.trash-days";
/// Mail stays in Trash this many days unless the user chose otherwise.
pub const DEFAULT_TRASH_DAYS: u32 = 30;
/// The days Settings accepts.
const MIN_TRASH_DAYS: u32 = 1;
const MAX_TRASH_DAYS: u32 = 3650;
/// How often an open Postbag looks for mail due to leave Trash (besides at start).
const TRASH_CHECK_MS: u32 = 60 * 60 * 1000;
/// The longest folder name (it is a tab's label).
pub const MAX_NAME_CHARS: usize = 60;
const DAY_MS: f64 = 24.0 * 60.0 * 60.0 * 1000.0;

/// The built-in folders of received mail, in the order the sidebar shows them (the user's
/// folders come between Archive and Trash).
pub const BUILT_IN: [(&str, &str); 3] = [(INBOX, "Inbox"), (ARCHIVE, "Archive"), (TRASH, "Trash")];

/// Why a folder name cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("a folder needs a name")]
    Empty,
    #[error("a folder name has at most {MAX_NAME_CHARS} characters")]
    TooLong,
    #[error("there is a folder named \"{0}\" already")]
    Taken(String),
}

/// `typed` as a folder name, if it is one no other folder (built-in or the user's, apart
/// from `renaming`) has.
pub fn check_name(
    typed: &str,
    existing: &[UserFolder],
    renaming: Option<&str>,
) -> Result<String, NameError> {
    let name: String = typed.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(NameError::TooLong);
    }
    let same = |other: &str| other.to_lowercase() == name.to_lowercase();
    let builtin = BUILT_IN.iter().map(|(_, label)| *label);
    let mine = existing
        .iter()
        .filter(|f| Some(f.id.as_str()) != renaming)
        .map(|f| f.name.as_str());
    if let Some(taken) = builtin.chain(mine).find(|n| same(n)) {
        return Err(NameError::Taken(taken.to_string()));
    }
    Ok(name)
}

/// The folder whose list holds `m`: its own, or Inbox when no folder has that id (any more):
/// a sync may file mail by a rule into a folder deleted since the sync started, a tab may
/// move mail into one another tab deleted. Such mail shows, counts and is searched in Inbox
/// rather than nowhere.
pub fn folder_of<'a>(m: &'a Summary, user: &[UserFolder]) -> &'a str {
    let known =
        BUILT_IN.iter().any(|(b, _)| *b == m.folder) || user.iter().any(|f| f.id == m.folder);
    if known { &m.folder } else { INBOX }
}

/// Unread messages per folder among `messages` (`user`: the user's folders).
pub fn unread_in(messages: &[Summary], folder: &str, user: &[UserFolder]) -> usize {
    messages
        .iter()
        .filter(|m| folder_of(m, user) == folder && !m.read)
        .count()
}

/// The keys of `order` from `from` to `to` (either way round), for a shift-click.
pub fn range(order: &[MessageKey], from: &MessageKey, to: &MessageKey) -> Vec<MessageKey> {
    let find = |k: &MessageKey| order.iter().position(|o| o == k);
    match (find(from), find(to)) {
        (Some(a), Some(b)) => order[a.min(b)..=a.max(b)].to_vec(),
        (_, Some(b)) => vec![order[b].clone()],
        _ => Vec::new(),
    }
}

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The folder shown when the app last ran (Inbox the first time).
pub(super) fn last_shown() -> String {
    local_storage()
        .and_then(|s| s.get_item(SHOWN_KEY).ok().flatten())
        .filter(|f| !f.is_empty())
        .unwrap_or_else(|| INBOX.to_string())
}

/// The days mail stays in Trash.
pub(super) fn trash_days() -> u32 {
    trash_days_from(
        local_storage()
            .and_then(|s| s.get_item(TRASH_DAYS_KEY).ok().flatten())
            .as_deref(),
    )
}

/// The days stored as `stored`, within what Settings allows: localStorage is anyone's to
/// edit, and 0 would empty Trash at the next start.
fn trash_days_from(stored: Option<&str>) -> u32 {
    stored
        .and_then(|d| d.trim().parse::<u32>().ok())
        .map_or(DEFAULT_TRASH_DAYS, |d| {
            d.clamp(MIN_TRASH_DAYS, MAX_TRASH_DAYS)
        })
}

impl Model {
    /// Loads the user's folders and rules. Before the list: mail in a folder not known yet
    /// would show in Inbox until they came ([`folder_of`]).
    pub(super) async fn load_folders(self) {
        match store().folders().await {
            Ok(folders) => self.user_folders.set(folders),
            Err(e) => return self.storage_error.set(Some(e.to_string())),
        }
        // A folder deleted in another tab since: back to Inbox.
        let shown = self.folder.get_untracked();
        if !self.folder_exists(&shown) {
            self.show_folder(INBOX.to_string());
        }
        match store().rules().await {
            Ok(rules) => self.rules.set(rules),
            Err(e) => self.storage_error.set(Some(e.to_string())),
        }
    }

    /// Empties what is due from Trash, now and every hour.
    pub(super) async fn start_folders(self) {
        self.empty_due_trash().await;
        let ticker = gloo_timers::callback::Interval::new(TRASH_CHECK_MS, move || {
            spawn_local(self.empty_due_trash());
        });
        // For the page's life: the app's root owns the model.
        ticker.forget();
    }

    /// Whether `id` names a folder (built-in or the user's).
    pub fn folder_exists(self, id: &str) -> bool {
        BUILT_IN.iter().any(|(b, _)| *b == id)
            || self
                .user_folders
                .with_untracked(|f| f.iter().any(|f| f.id == id))
    }

    /// A folder's label.
    pub fn folder_name(self, id: &str) -> String {
        if let Some((_, label)) = BUILT_IN.iter().find(|(b, _)| *b == id) {
            return label.to_string();
        }
        self.user_folders.with(|all| {
            all.iter()
                .find(|f| f.id == id)
                .map(|f| f.name.clone())
                .unwrap_or_else(|| "Inbox".into())
        })
    }

    /// Shows `folder`'s received mail in the list, and remembers it for the next start.
    pub fn show_folder(self, folder: String) {
        if let Some(s) = local_storage() {
            let _ = s.set_item(SHOWN_KEY, &folder);
        }
        if self.folder.get_untracked() != folder {
            self.selected.set(None);
            self.checked.set(BTreeSet::new());
            self.folder.set(folder);
        }
    }

    /// Ticks or unticks one message for a bulk action.
    pub fn tick(self, key: MessageKey, on: bool) {
        self.checked.update(|c| {
            if on {
                c.insert(key);
            } else {
                c.remove(&key);
            }
        });
    }

    /// The unread messages of `folder` the list knows of, for its tab. While Imported is open
    /// the list holds imported mail, whose unread are no folder's (they counted as Inbox's):
    /// then none, until a folder is shown again.
    pub fn folder_unread(self, folder: &str) -> usize {
        if self.imported_shown.get() {
            return 0;
        }
        let user = self.user_folders.get();
        self.messages.with(|all| unread_in(all, folder, &user))
    }

    /// Whether `key` is in Trash.
    pub fn in_trash(self, key: &MessageKey) -> bool {
        self.messages.with_untracked(|all| {
            all.iter()
                .any(|m| m.account == key.0 && m.uidl == key.1 && m.folder == TRASH)
        })
    }

    /// Whether the account of `key` deletes on the server what is deleted here.
    fn mirrors(self, account: &str) -> bool {
        self.accounts.with_untracked(|all| {
            all.iter().any(|a| {
                a.id == account
                    && matches!(
                        a.policy,
                        ServerPolicy::Leave {
                            mirror_deletes: true,
                            ..
                        }
                    )
            })
        })
    }

    /// The keys a bulk action works on: the ticked ones still listed.
    fn ticked(self) -> Vec<MessageKey> {
        let ticked = self.checked.get_untracked();
        self.messages.with_untracked(|all| {
            all.iter()
                .map(|m| (m.account.clone(), m.uidl.clone()))
                .filter(|k| ticked.contains(k))
                .collect()
        })
    }

    /// Files `keys` in `folder` (Trash counts the day, for emptying it later).
    pub async fn move_to(self, keys: Vec<MessageKey>, folder: String) {
        if keys.is_empty() || !self.folder_exists(&folder) {
            return;
        }
        match store()
            .move_messages(&keys, &folder, js_sys::Date::now())
            .await
        {
            Ok(moved) => self.after_change(&moved, &[]),
            Err(e) => self.storage_error.set(Some(e.to_string())),
        }
    }

    /// Copies `keys` into `folder` (the original stays where it is).
    pub async fn copy_to(self, keys: Vec<MessageKey>, folder: String) {
        if keys.is_empty() || !self.folder_exists(&folder) {
            return;
        }
        match store()
            .copy_messages(&keys, &folder, js_sys::Date::now())
            .await
        {
            Ok(copies) => {
                self.after_change(&copies, &[]);
                self.index_soon(); // the copies are queued for the search index
            }
            Err(e) => self.storage_error.set(Some(e.to_string())),
        }
    }

    /// Deletes `keys` here for good (the local delete: ledger kept, server copy queued for
    /// deletion when the account asks for that).
    pub async fn delete_for_good(self, keys: Vec<MessageKey>) {
        if keys.is_empty() {
            return;
        }
        match store()
            .delete_for_good(&keys, |account| self.mirrors(account))
            .await
        {
            Ok(()) => {
                self.after_change(&[], &keys);
                self.index_soon(); // their postings go
            }
            Err(e) => self.storage_error.set(Some(e.to_string())),
        }
    }

    /// The ticked messages into `folder`.
    pub fn move_ticked(self, folder: String) {
        spawn_local(self.move_to(self.ticked(), folder));
    }

    pub fn copy_ticked(self, folder: String) {
        spawn_local(self.copy_to(self.ticked(), folder));
    }

    /// Delete: to Trash, or for good from Trash.
    pub fn delete_ticked(self) {
        let keys = self.ticked();
        if self.folder.get_untracked() == TRASH {
            spawn_local(self.delete_for_good(keys));
        } else {
            spawn_local(self.move_to(keys, TRASH.into()));
        }
    }

    /// Back out of Trash, into Inbox.
    pub fn restore_ticked(self) {
        spawn_local(self.move_to(self.ticked(), RESTORED_TO.into()));
    }

    /// How many messages are in Trash, and how many of them an emptying would also delete on
    /// the server (their accounts mirror deletes; a copy is on no server).
    pub fn trash_counts(self) -> (usize, usize) {
        self.messages.with(|all| {
            let trash: Vec<&Summary> = all.iter().filter(|m| m.folder == TRASH).collect();
            let server = trash
                .iter()
                .filter(|m| !is_copy(&m.uidl) && self.mirrors(&m.account))
                .count();
            (trash.len(), server)
        })
    }

    /// Deletes everything in Trash for good.
    pub fn empty_trash(self) {
        let keys: Vec<MessageKey> = self.messages.with_untracked(|all| {
            all.iter()
                .filter(|m| m.folder == TRASH)
                .map(|m| (m.account.clone(), m.uidl.clone()))
                .collect()
        });
        spawn_local(self.delete_for_good(keys));
    }

    /// Deletes for good what has been in Trash longer than the days chosen, whichever
    /// account or list is shown.
    pub async fn empty_due_trash(self) {
        let before = js_sys::Date::now() - f64::from(self.trash_days.get_untracked()) * DAY_MS;
        match store().trash_due(before).await {
            Ok(due) => self.delete_for_good(due).await,
            Err(e) => self.storage_error.set(Some(e.to_string())),
        }
    }

    /// Sets the days mail stays in Trash (1 to 3650) and empties what that makes due.
    pub fn set_trash_days(self, days: u32) {
        let days = days.clamp(MIN_TRASH_DAYS, MAX_TRASH_DAYS);
        if let Some(s) = local_storage() {
            let _ = s.set_item(TRASH_DAYS_KEY, &days.to_string());
        }
        self.trash_days.set(days);
        spawn_local(self.empty_due_trash());
    }

    /// The list after a change: `changed` summaries in their new state, `gone` removed.
    fn after_change(self, changed: &[Summary], gone: &[MessageKey]) {
        let is_gone = |a: &str, u: &str| gone.iter().any(|g| g.0 == a && g.1 == u);
        // A message deleted, or gone from the folder shown, closes in the reader.
        let shown = self.folder.get_untracked();
        if let Some((a, u)) = self.selected.get_untracked()
            && (is_gone(&a, &u)
                || changed
                    .iter()
                    .any(|c| c.account == a && c.uidl == u && c.folder != shown))
        {
            self.selected.set(None);
        }
        self.messages.update(|all| {
            all.retain(|m| !is_gone(&m.account, &m.uidl));
            list::merge(all, |_| true, changed);
        });
        self.checked.set(BTreeSet::new());
    }

    /// Makes a folder of the user's; shows it.
    pub async fn create_folder(self, typed: String) -> Result<(), String> {
        let name = self
            .user_folders
            .with_untracked(|all| check_name(&typed, all, None))
            .map_err(|e| e.to_string())?;
        let id = format!(
            "f{}{:06}",
            js_sys::Date::now() as u64,
            (js_sys::Math::random() * 1e6) as u32
        );
        let folder = UserFolder {
            id: id.clone(),
            name,
        };
        store()
            .put_folder(&folder)
            .await
            .map_err(|e| e.to_string())?;
        self.user_folders.update(|all| {
            all.push(folder);
            crate::sort::sort_by_key(all, |f| f.name.to_lowercase());
        });
        self.show_folder(id);
        Ok(())
    }

    pub async fn rename_folder(self, id: String, typed: String) -> Result<(), String> {
        let name = self
            .user_folders
            .with_untracked(|all| check_name(&typed, all, Some(&id)))
            .map_err(|e| e.to_string())?;
        let folder = UserFolder { id, name };
        store()
            .put_folder(&folder)
            .await
            .map_err(|e| e.to_string())?;
        self.user_folders.update(|all| {
            if let Some(f) = all.iter_mut().find(|f| f.id == folder.id) {
                *f = folder;
            }
            crate::sort::sort_by_key(all, |f| f.name.to_lowercase());
        });
        Ok(())
    }

    /// Deletes a folder of the user's; its mail goes to `to` (Inbox or Trash, the user chose).
    pub async fn delete_folder(self, id: String, to: &'static str) -> Result<(), String> {
        let moved = store()
            .delete_folder(&id, to, js_sys::Date::now())
            .await
            .map_err(|e| e.to_string())?;
        self.user_folders.update(|all| all.retain(|f| f.id != id));
        self.after_change(&moved, &[]);
        if self.folder.get_untracked() == id {
            self.show_folder(to.to_string());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn key(u: &str) -> MessageKey {
        ("a".into(), u.into())
    }

    #[test]
    fn names_are_trimmed_unique_and_bounded() {
        let mine = [UserFolder {
            id: "f1".into(),
            name: "Receipts".into(),
        }];
        assert_eq!(
            check_name("  Bills   2026 ", &mine, None),
            Ok("Bills 2026".into())
        );
        assert_eq!(check_name(" ", &mine, None), Err(NameError::Empty));
        assert_eq!(
            check_name("trash", &mine, None),
            Err(NameError::Taken("Trash".into()))
        );
        assert_eq!(
            check_name("RECEIPTS", &mine, None),
            Err(NameError::Taken("Receipts".into()))
        );
        // Renaming a folder to its own name in other letters is fine.
        assert_eq!(
            check_name("receipts", &mine, Some("f1")),
            Ok("receipts".into())
        );
        assert_eq!(
            check_name(&"x".repeat(61), &mine, None),
            Err(NameError::TooLong)
        );
    }

    #[test]
    fn mail_in_a_folder_that_is_gone_shows_in_inbox() {
        let mine = [UserFolder {
            id: "f1".into(),
            name: "Receipts".into(),
        }];
        let raw = b"From: a@example.org\r\nSubject: s\r\n\r\nx\r\n";
        let mut m = crate::mail::summarize(raw, "a", "u1", 1.0);
        let mut in_folder = |folder: &str, read: bool| {
            m.folder = folder.into();
            m.read = read;
            m.clone()
        };
        let all = [
            in_folder("f1", false),
            in_folder("f-deleted", false),
            in_folder(TRASH, false),
            in_folder("f-deleted", true),
        ];
        let placed: Vec<&str> = all.iter().map(|m| folder_of(m, &mine)).collect();
        assert_eq!(placed, ["f1", INBOX, TRASH, INBOX]);
        assert_eq!(unread_in(&all, INBOX, &mine), 1);
        assert_eq!(unread_in(&all, "f1", &mine), 1);
        // Its folder deleted: the mail counts in Inbox.
        assert_eq!(unread_in(&all, INBOX, &[]), 2);
        assert_eq!(unread_in(&all, "f1", &[]), 0);
    }

    #[test]
    fn trash_days_from_storage_are_bounded() {
        assert_eq!(trash_days_from(None), DEFAULT_TRASH_DAYS);
        assert_eq!(trash_days_from(Some("7")), 7);
        assert_eq!(
            trash_days_from(Some("0")),
            1,
            "0 would empty Trash at start"
        );
        assert_eq!(trash_days_from(Some("99999999")), 3650);
        assert_eq!(trash_days_from(Some("-3")), DEFAULT_TRASH_DAYS);
        assert_eq!(trash_days_from(Some("soon")), DEFAULT_TRASH_DAYS);
    }

    #[test]
    fn a_shift_click_ticks_the_rows_between() {
        let order: Vec<MessageKey> = ["1", "2", "3", "4"].map(key).to_vec();
        assert_eq!(
            range(&order, &key("3"), &key("1")),
            ["1", "2", "3"].map(key)
        );
        assert_eq!(range(&order, &key("2"), &key("2")), [key("2")]);
        // The anchor scrolled away (moved meanwhile): only the row clicked.
        assert_eq!(range(&order, &key("9"), &key("4")), [key("4")]);
    }
}
