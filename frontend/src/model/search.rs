//! Search: the indexer that keeps the full-text index up to date in small slices after mail
//! is stored or deleted, and the query runner behind the search box (`docs/search-index.md`).
//!
//! The index is written after the fact: commits only queue `[account, uidl]`
//! (`store/search.rs`), so a sync's DELE never waits for indexing. The indexer yields to the
//! event loop after every slice (a few messages, about 10 ms of work), so typing and scrolling
//! stay smooth while 100,000 stored messages are indexed after an upgrade.

use std::cell::Cell;
use std::collections::HashMap;

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{Model, store};
pub use crate::search::find::Hits;
use crate::search::find::{find_unless, scope};
use crate::search::indexer::index_slice;
use crate::search::parse;
use crate::store::Summary;

/// The search runs once typing pauses this long.
const DEBOUNCE_MS: u32 = 120;

/// What the search box found.
#[derive(Clone, Debug, PartialEq)]
pub struct Found {
    /// The search box's text this answers.
    pub text: String,
    pub result: Result<Hits, String>,
}

/// Indexing progress: `(done, total)` while messages wait to be indexed.
pub type Indexing = Option<(u64, u64)>;

thread_local! {
    /// Whether this tab's indexer runs, and whether it was asked to look again.
    static RUNNING: Cell<bool> = const { Cell::new(false) };
    static AGAIN: Cell<bool> = const { Cell::new(false) };
    /// The search box's texts so far: a query runs only while it answers the latest.
    static QUERIES: Cell<u64> = const { Cell::new(0) };
}

impl Model {
    /// Starts the indexer and the search box's query runner (once, after the store opened).
    pub(super) fn start_search(self) {
        self.index_soon();
        Effect::new(move |_| {
            let text = self.search.get();
            // Every new text supersedes the query running: it stops at its next check.
            let generation = QUERIES.with(|g| g.get() + 1);
            QUERIES.with(|g| g.set(generation));
            spawn_local(async move {
                gloo_timers::future::TimeoutFuture::new(DEBOUNCE_MS).await;
                let superseded = move || QUERIES.with(Cell::get) != generation;
                if superseded() {
                    return; // typing went on: the later text runs
                }
                let Some(result) = run(self, &text, &superseded).await else {
                    return;
                };
                if !superseded() {
                    self.found.set(Some(Found { text, result }));
                }
            });
        });
    }

    /// Indexes what waits in the queue, now or right after the running pass.
    pub fn index_soon(self) {
        if RUNNING.with(Cell::get) {
            AGAIN.with(|a| a.set(true));
            return;
        }
        RUNNING.with(|r| r.set(true));
        spawn_local(async move {
            let result = index_all(self).await;
            RUNNING.with(|r| r.set(false));
            self.indexing.set(None);
            if let Err(e) = result {
                web_sys::console::warn_1(&format!("search index: {e}").into());
            }
        });
    }

    /// The list the screen shows for the search box's text: the whole list without one, else
    /// the messages found, best first (the last answer while a new one is computed).
    pub(super) fn searched(self, all: &[Summary]) -> Vec<Summary> {
        if self.search.with(|t| t.trim().is_empty()) {
            return all.to_vec();
        }
        self.found.with(|found| match found {
            Some(Found {
                result: Ok(hits), ..
            }) => {
                let by_key: HashMap<(&str, &str), &Summary> = all
                    .iter()
                    .map(|s| ((s.account.as_str(), s.uidl.as_str()), s))
                    .collect();
                hits.keys
                    .iter()
                    .filter_map(|(a, u)| by_key.get(&(a.as_str(), u.as_str())))
                    .map(|s| (*s).clone())
                    .collect()
            }
            _ => Vec::new(),
        })
    }

    /// Whether the list shows the answer to the search box's text as it is now (no search, or
    /// the query for this text has answered): until then the list holds the previous answer.
    pub fn search_answered(self) -> bool {
        self.search.with(|text| {
            text.trim().is_empty()
                || self
                    .found
                    .with(|f| f.as_ref().is_some_and(|found| found.text == *text))
        })
    }

    /// The terms the reader marks: those of the answer shown.
    pub fn highlight_terms(self) -> Vec<(String, bool)> {
        if self.search.with(|t| t.trim().is_empty()) {
            return Vec::new();
        }
        self.found.with(|f| match f {
            Some(Found {
                result: Ok(hits), ..
            }) => hits.terms.clone(),
            _ => Vec::new(),
        })
    }
}

/// Takes the queue off in slices until it is empty, telling the screen how far it got.
async fn index_all(model: Model) -> Result<(), String> {
    let store = store();
    let mut done = 0u64;
    let mut pending = store.index_pending().await.map_err(|e| e.to_string())?;
    let mut slices = 0u32;
    loop {
        if pending == 0 {
            if !AGAIN.with(|a| a.replace(false)) {
                return Ok(());
            }
            pending = store.index_pending().await.map_err(|e| e.to_string())?;
            continue;
        }
        model.indexing.set(Some((done, done + pending)));
        let applied = index_slice(&store).await.map_err(|e| e.to_string())?;
        done += applied as u64;
        slices += 1;
        // Counting is cheap but not free: now and then, and whenever a slice was skipped.
        if applied == 0 || slices.is_multiple_of(16) || pending <= applied as u64 {
            pending = store.index_pending().await.map_err(|e| e.to_string())?;
        } else {
            pending -= applied as u64;
        }
        // Back to the event loop: input and rendering go first.
        gloo_timers::future::TimeoutFuture::new(0).await;
        if applied == 0 && pending > 0 {
            // Every message of the slice was queued again meanwhile (another tab writing):
            // wait a little rather than spin.
            gloo_timers::future::TimeoutFuture::new(50).await;
        }
    }
}

/// Answers one search box text over every folder of the accounts on screen (`find::scope`),
/// or `None` once a newer text superseded it.
async fn run(
    model: Model,
    text: &str,
    superseded: &dyn Fn() -> bool,
) -> Option<Result<Hits, String>> {
    let mut query = match parse(text) {
        Ok(q) => q,
        Err(e) => return Some(Err(e.to_string())),
    };
    let shown = model.folder.get_untracked();
    let list = model.user_folders.with_untracked(|folders| {
        model
            .messages
            .with_untracked(|all| scope(&mut query, all, &shown, folders))
    });
    find_unless(&store(), &query, &list, superseded)
        .await
        .map_err(|e| e.to_string())
        .transpose()
}
