//! Several accounts: which inbox the list shows (all accounts together, or one), the accounts
//! screen's actions (add, edit, remove with or without the mail), and the account list kept
//! in step with the store.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{Model, Screen, store};
use crate::store::{Account, IMPORTED};

/// The inbox the list shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Inbox {
    /// Every account's mail, newest first (the unified inbox).
    #[default]
    All,
    /// One account's mail (its id).
    Account(String),
}

impl Inbox {
    /// Whether mail stored under `key` belongs in this inbox.
    pub fn shows(&self, key: &str) -> bool {
        match self {
            Inbox::All => crate::store::is_received(key),
            Inbox::Account(id) => key == id,
        }
    }
}

/// What to do with a removed account's mail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RemovedMail {
    /// It stays here, readable in the unified inbox under the account's address.
    Keep,
    /// It is deleted here (never on the server).
    Delete,
}

/// `list` with `account` in place of the one with its id, or added at the end.
pub fn upsert(list: &mut Vec<Account>, account: &Account) {
    match list.iter_mut().find(|a| a.id == account.id) {
        Some(slot) => *slot = account.clone(),
        None => list.push(account.clone()),
    }
}

impl Model {
    /// The label of mail stored under `key` in a list row: the account's address, or the key
    /// itself (the address of an account removed with its mail kept).
    pub fn account_label(self, key: &str) -> String {
        if key == IMPORTED {
            return "Imported".into();
        }
        self.accounts.with(|all| {
            all.iter()
                .find(|a| a.id == key)
                .map(|a| a.email.clone())
                .unwrap_or_else(|| key.to_string())
        })
    }

    /// Shows `inbox` in the list; one account's inbox also makes it the current account
    /// (compose, the outbox and Settings follow it).
    pub fn show_inbox(self, inbox: Inbox) {
        if let Inbox::Account(id) = &inbox
            && let Some(a) = self
                .accounts
                .with_untracked(|all| all.iter().find(|a| &a.id == id).cloned())
        {
            self.account.set(Some(a));
        }
        if self.inbox.get_untracked() == inbox && !self.imported_shown.get_untracked() {
            return;
        }
        self.selected.set(None);
        self.imported_shown.set(false);
        self.inbox.set(inbox);
        self.messages.set(Vec::new());
        spawn_local(self.reload());
    }

    /// Opens the settings form for `account` (`None`: a new account).
    pub fn edit_account(self, account: Option<Account>) {
        if account.is_some() {
            self.account.set(account.clone());
        }
        self.editing.set(account);
        self.screen.set(Screen::Setup);
    }

    /// Stores a changed account (its pin removed) without leaving the screen.
    pub async fn update_account(self, account: Account) -> Result<(), String> {
        store()
            .put_account(&account)
            .await
            .map_err(|e| e.to_string())?;
        self.accounts.update(|all| upsert(all, &account));
        if self
            .account
            .with_untracked(|a| a.as_ref().is_some_and(|a| a.id == account.id))
        {
            self.account.set(Some(account));
        }
        Ok(())
    }

    /// Leaves the settings form: back to the mailbox, or to the form if no account is left.
    pub fn close_settings(self) {
        let any = self.accounts.with_untracked(|all| !all.is_empty());
        self.screen
            .set(if any { Screen::Mailbox } else { Screen::Setup });
    }

    /// Removes the account `id` and, with [`RemovedMail::Delete`], its mail here. Nothing is
    /// deleted on the server.
    pub async fn remove_account(self, id: String, mail: RemovedMail) -> Result<(), String> {
        // Its drafts and unsent messages go with its mail (same transaction), or stay with it
        // (they come back when the address is added again); never left behind unseen by a
        // choice not told.
        store()
            .remove_account(&id, mail == RemovedMail::Keep)
            .await
            .map_err(|e| e.to_string())?;
        self.forget_checks(&id);
        self.accounts.update(|all| all.retain(|a| a.id != id));
        let first = self.accounts.with_untracked(|all| all.first().cloned());
        if self
            .account
            .with_untracked(|a| a.as_ref().is_some_and(|a| a.id == id))
        {
            self.account.set(first.clone());
        }
        if self.inbox.get_untracked() == Inbox::Account(id) {
            self.inbox.set(Inbox::All);
        }
        self.selected.set(None);
        if first.is_none() {
            self.editing.set(None);
            self.screen.set(Screen::Setup);
        }
        self.reload().await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn the_unified_inbox_shows_received_mail_only() {
        let all = Inbox::All;
        assert!(all.shows("a@example.org"));
        assert!(!all.shows(IMPORTED));
        assert!(!all.shows("a@example.org sent"));
        let one = Inbox::Account("a@example.org".into());
        assert!(one.shows("a@example.org"));
        assert!(!one.shows("b@example.org"));
    }
}
