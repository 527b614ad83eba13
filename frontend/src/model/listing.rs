//! Reading the list the screen shows from the store: the newest screenful first, then the
//! whole of it. At 100,000 messages the whole list takes seconds to read and decode; its
//! newest hundred show in milliseconds, with "loading the rest" until the rest is in.
//!
//! A read that finishes after the user moved on (another folder, another account) is dropped:
//! only the latest read of the listing still shown may replace the list. Reading the listing
//! already shown again (after every sync and automatic check) keeps the list as it is until
//! the whole is read: it never shrinks to its newest 100 under a user scrolled down it.

use leptos::prelude::*;

use super::{Inbox, Model, store};
use crate::store::{IMPORTED, Newest, StoreError, Summary, newest_first};

/// Summaries shown before the whole list is read: more than a tall screen's rows.
pub const FIRST: u32 = 100;

/// The model's record of its list reads.
#[derive(Default)]
pub(super) struct Reads {
    /// Reads started: the ticket of the latest.
    started: u64,
    /// The listing whose mail `messages` holds (whole or its newest).
    holds: Option<Listing>,
}

/// Which stored mail the list shows.
#[derive(Clone, PartialEq)]
enum Listing {
    Imported,
    Received(Inbox),
}

impl Listing {
    /// The store key of the mail listed, when it is one key's (`None`: the unified inbox).
    fn key(&self) -> Option<&str> {
        match self {
            Listing::Imported => Some(IMPORTED),
            Listing::Received(Inbox::Account(id)) => Some(id),
            Listing::Received(Inbox::All) => None,
        }
    }
}

impl Model {
    fn listing(self) -> Listing {
        if self.imported_shown.get_untracked() {
            Listing::Imported
        } else {
            Listing::Received(self.inbox.get_untracked())
        }
    }

    /// Reads the shown listing into `messages`: its newest [`FIRST`] (with `list_partial`
    /// set) when there are more, then all of it.
    pub(super) async fn read_list(self) -> Result<(), StoreError> {
        let listing = self.listing();
        self.list_reads.update_value(|r| r.started += 1);
        let ticket = self.list_reads.with_value(|r| r.started);
        let current =
            || self.list_reads.with_value(|r| r.started) == ticket && self.listing() == listing;
        // Opened: another listing is held, or none yet (a switch empties the list at once,
        // and the read that would have filled it may have been dropped).
        let opened = self
            .list_reads
            .with_value(|r| r.holds.as_ref() != Some(&listing))
            || self.messages.with_untracked(Vec::is_empty);
        let first = if opened {
            self.newest_of(&listing).await?
        } else {
            None
        };
        let paged = matches!(first, Some(Newest::Page(_)));
        if let Some(page) = first {
            if !current() {
                return Ok(());
            }
            self.list_reads
                .update_value(|r| r.holds = Some(listing.clone()));
            match page {
                Newest::Whole(list) => {
                    self.messages.set(list);
                    self.list_partial.set(false);
                    return Ok(());
                }
                Newest::Page(list) => {
                    self.messages.set(list);
                    self.list_partial.set(true);
                }
            }
        }
        let whole = match listing.key() {
            Some(key) => store().list(key).await,
            None => store().list_received().await,
        };
        // A failed read leaves the page shown, still marked partial.
        let whole = whole?;
        if current() {
            self.list_reads.update_value(|r| r.holds = Some(listing));
            self.messages.set(whole);
            self.list_partial.set(false);
            if paged {
                // A search answered from the page alone: the rest may hold more of its hits.
                self.refresh_found(true);
            }
        }
        Ok(())
    }

    /// The listing's newest messages, when they are worth showing before the whole list:
    /// `None` for a unified inbox whose accounts hold no more than [`FIRST`] each (the whole
    /// list is as quick to read; mail of removed accounts is found only by reading it).
    async fn newest_of(self, listing: &Listing) -> Result<Option<Newest>, StoreError> {
        if let Some(key) = listing.key() {
            return store().newest(key, FIRST).await.map(Some);
        }
        let ids: Vec<String> = self
            .accounts
            .with_untracked(|all| all.iter().map(|a| a.id.clone()).collect());
        let mut merged: Vec<Summary> = Vec::new();
        let mut more = false;
        for id in ids {
            match store().newest(&id, FIRST).await? {
                Newest::Whole(list) => merged.extend(list),
                Newest::Page(list) => {
                    more = true;
                    merged.extend(list);
                }
            }
        }
        if !more {
            return Ok(None);
        }
        // Each account's newest FIRST hold the newest FIRST of all of them.
        crate::sort::sort_by(&mut merged, newest_first);
        merged.truncate(FIRST as usize);
        Ok(Some(Newest::Page(merged)))
    }
}
