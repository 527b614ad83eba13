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
use crate::search::find::{best_of, candidates, find_among, scope_where};
use crate::search::indexer::index_slice;
use crate::search::parse;
use crate::store::Summary;
use crate::store::search::Compacted;

/// Tombstones (messages deleted or indexed again) that start a compaction pass: each costs
/// a few bytes per term in the blocks and a number skipped per query until then.
const COMPACT_AT: u64 = 1000;

/// The search runs once typing pauses this long.
const DEBOUNCE_MS: u32 = 120;

/// While indexing goes on, the answer on screen is asked again at most this often: mail
/// indexed since it answered (an import, a sync's new mail) is found too.
const REFRESH_MS: f64 = 2000.0;

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
    /// How many of the answer's best the list shows ("Show more" adds [`PAGE`]).
    static SHOWN: Cell<usize> = const { Cell::new(PAGE) };
    /// When the answer on screen was last asked again because the index grew.
    static REFRESHED_AT: Cell<f64> = const { Cell::new(f64::NEG_INFINITY) };
}

/// The messages an answer shows at first, best first. A word in every one of 100,000 messages
/// took 585 ms to sort, copy and lay out whole; the best page is a partial selection.
pub const PAGE: usize = 500;

impl Model {
    /// Starts the indexer and the search box's query runner (once, after the store opened).
    pub(super) fn start_search(self) {
        self.index_soon();
        Effect::new(move |_| {
            let text = self.search.get();
            SHOWN.with(|n| n.set(PAGE));
            self.query_soon(text, DEBOUNCE_MS);
        });
    }

    /// Shows [`PAGE`] more of the answer shown (its text asked again, at once).
    pub fn show_more_found(self) {
        SHOWN.with(|n| n.set(n.get().saturating_add(PAGE)));
        self.query_soon(self.search.get_untracked(), 0);
    }

    /// Asks the search box's text again because the index grew: an answer given before mail
    /// was indexed (searched before an import, or before a sync's new mail) never took it in,
    /// since queries ran only when the text changed. While indexing goes on (`done` false),
    /// at most every [`REFRESH_MS`] and only once the last answer came (a query slower than
    /// the slices would otherwise be superseded forever); at the end, at once. The page of
    /// the answer shown ("Show more") is kept. Also asked (`done`) when a long list's whole
    /// read ends: an answer given from its newest page alone lacked the rest.
    pub(super) fn refresh_found(self, done: bool) {
        let text = self.search.get_untracked();
        if text.trim().is_empty() {
            return;
        }
        let now = crate::global::now_ms();
        let answered = self
            .found
            .with_untracked(|f| f.as_ref().is_some_and(|found| found.text == text));
        if !done && (now - REFRESHED_AT.with(Cell::get) < REFRESH_MS || !answered) {
            return;
        }
        REFRESHED_AT.with(|r| r.set(now));
        self.query_soon(text, 0);
    }

    /// Answers `text` after `wait` ms unless a newer text comes first.
    fn query_soon(self, text: String, wait: u32) {
        // Every new text supersedes the query running: it stops at its next check.
        let generation = QUERIES.with(|g| g.get() + 1);
        QUERIES.with(|g| g.set(generation));
        spawn_local(async move {
            if wait > 0 {
                gloo_timers::future::TimeoutFuture::new(wait).await;
            }
            let superseded = move || QUERIES.with(Cell::get) != generation;
            if superseded() {
                return; // typing went on: the later text runs
            }
            let limit = SHOWN.with(Cell::get);
            let Some(result) = run(self, &text, limit, &superseded).await else {
                return;
            };
            if !superseded() {
                self.found.set(Some(Found { text, result }));
            }
        });
    }

    /// Every message the search box's text finds, best first (not only the page shown): what
    /// "Export" saves. `None` if the text does not parse or the index could not be read.
    pub(super) async fn found_all(self) -> Option<Vec<crate::store::MessageKey>> {
        let text = self.search.get_untracked();
        match run(self, &text, usize::MAX, &|| false).await {
            Some(Ok(hits)) => Some(hits.keys),
            _ => None,
        }
    }

    /// Indexes what waits in the queue, now or right after the running pass.
    pub fn index_soon(self) {
        if super::bench::indexer_off() {
            return;
        }
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

    /// The list the screen shows for a search box's text (`Model::visible` asks only when there
    /// is one): the messages found, best first (the last answer while a new one is computed).
    pub(super) fn searched(self, all: &[Summary]) -> Vec<Summary> {
        self.found.with(|found| match found {
            Some(Found {
                result: Ok(hits), ..
            }) => {
                // The hits' places by key, then one pass over the list: a map of the whole
                // list (100,000 entries) was built on every render of an answer.
                let place: HashMap<(&str, &str), usize> = hits
                    .keys
                    .iter()
                    .enumerate()
                    .map(|(i, (a, u))| ((a.as_str(), u.as_str()), i))
                    .collect();
                let mut slots: Vec<Option<&Summary>> = vec![None; hits.keys.len()];
                for s in all {
                    if let Some(&i) = place.get(&(s.account.as_str(), s.uidl.as_str())) {
                        slots[i] = Some(s);
                    }
                }
                slots.into_iter().flatten().cloned().collect()
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
    // The answer on screen is asked again at the end if any mail was indexed.
    let mut grew = false;
    loop {
        // A sync of this tab is writing: the indexer gives way after the slice it was on, and
        // the sync's end starts it again (`model/syncing.rs`). Beside the sync it made the
        // sync 1.2 to 1.3 times slower (`tests/benches/README.md`).
        if model.syncing() && !super::bench::index_during_sync() {
            return Ok(());
        }
        if pending == 0 {
            // Emptied once: every message indexed before edge terms existed has them now.
            if !store.index_drained().await.map_err(|e| e.to_string())? {
                pending = store.index_pending().await.map_err(|e| e.to_string())?;
                continue;
            }
            if !AGAIN.with(|a| a.replace(false)) && compact_if_due().await? {
                // The first query would otherwise read the map of numbers first (100,000
                // lines: seconds).
                store.read_doc_keys().await.map_err(|e| e.to_string())?;
                if grew {
                    model.refresh_found(true);
                }
                return Ok(());
            }
            pending = store.index_pending().await.map_err(|e| e.to_string())?;
            continue;
        }
        model.indexing.set(Some((done, done + pending)));
        let applied = index_slice(&store).await.map_err(|e| e.to_string())?;
        done += applied as u64;
        if applied > 0 {
            grew = true;
            model.refresh_found(false);
        }
        // Counted again only when a slice was skipped or the count runs out (mail queued
        // meanwhile is found then): IndexedDB counts by walking the queue, about 2 s at
        // 100,000 queued, and every other read of the store (opening a message) waited
        // behind each count, which came every 16 slices.
        if applied == 0 || pending <= applied as u64 {
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

/// Once enough mail was deleted or indexed again, one compaction pass: the tombstoned numbers
/// taken out of the blocks (a step per transaction, yielding between), then forgotten.
/// `false` when mail queued meanwhile interrupted it: indexing goes first, and the pass goes
/// on from its position afterwards.
async fn compact_if_due() -> Result<bool, String> {
    let store = store();
    if store.dead_count().await.map_err(|e| e.to_string())? < COMPACT_AT {
        return Ok(true);
    }
    loop {
        if AGAIN.with(|a| a.replace(false)) {
            return Ok(false);
        }
        match store.compact_step().await.map_err(|e| e.to_string())? {
            Compacted::Partway => gloo_timers::future::TimeoutFuture::new(0).await,
            Compacted::PassEnded { .. } => return Ok(true),
        }
    }
}

/// Answers one search box text over every folder of the accounts on screen (`find::scope`),
/// its best `limit` messages without phrases, or `None` once a newer text superseded it.
async fn run(
    model: Model,
    text: &str,
    limit: usize,
    superseded: &dyn Fn() -> bool,
) -> Option<Result<Hits, String>> {
    let mut query = match parse(text) {
        Ok(q) => q,
        Err(e) => return Some(Err(e.to_string())),
    };
    let store = store();
    let index = match candidates(&store, &query, superseded).await {
        Ok(Some(index)) => index,
        Ok(None) => return None,
        Err(e) => return Some(Err(e.to_string())),
    };
    let shown = model.folder.get_untracked();
    let folders = model.user_folders.get_untracked();
    if query.phrases.is_empty() {
        // The list is read after the index, so mail stored meanwhile is not missed; only the
        // best `limit` are ordered and copied.
        let list =
            |read: &mut dyn FnMut(&[Summary])| model.messages.with_untracked(|all| read(all));
        let hits = best_of(&store, &mut query, list, (&shown, &folders), index, limit).await;
        return (!superseded()).then(|| hits.map_err(|e| e.to_string()));
    }
    // Phrases are checked on the text of the candidates, newest first: only what the index
    // found is copied out of the list.
    let list = model
        .messages
        .with_untracked(|all| scope_where(&mut query, all, &shown, &folders, |s| index.holds(s)));
    find_among(&store, &query, &list, index, superseded)
        .await
        .map_err(|e| e.to_string())
        .transpose()
}
