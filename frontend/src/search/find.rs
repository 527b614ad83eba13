//! Answers a parsed [`Query`] from the index and the list's summaries: each word's postings
//! intersected, the operators the summary answers, phrases checked on decoded text, ranked.

use std::collections::{HashMap, HashSet};

use super::Query;
use super::blocks;
use super::document::holds_phrases;
use crate::store::search::INDEXED_HEAD;
use crate::store::{ARCHIVE, INBOX, TRASH, UserFolder};
use crate::store::{MessageKey, Store, StoreError, Summary};

/// Message bytes read for phrase checks per query (newest candidates first, each at most its
/// indexed head): a count let 400 large messages be read and parsed for one keystroke.
const PHRASE_BYTES: usize = 24 * 1024 * 1024;

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Hits {
    /// Best first: more matched words in the subject and sender, then newest.
    pub keys: Vec<MessageKey>,
    /// `(term, prefix)` to mark in the reader.
    pub terms: Vec<(String, bool)>,
    /// A limit cut the answer (a very short prefix, or too many phrase candidates).
    pub cut: bool,
    /// How many messages the query found: more than `keys` holds when only the best were
    /// asked for ([`best_of`]).
    pub total: usize,
}

/// The messages of `list` that `query` finds, best first.
pub async fn find(store: &Store, query: &Query, list: &[Summary]) -> Result<Hits, StoreError> {
    Ok(find_unless(store, query, list, &|| false)
        .await?
        .expect("never superseded"))
}

/// [`find`], given up (`None`) as soon as `superseded` says a newer query replaced this one:
/// it is asked between postings reads and between the messages read for a phrase check, so
/// typing a phrase never leaves older scans running behind the newest.
pub async fn find_unless(
    store: &Store,
    query: &Query,
    list: &[Summary],
    superseded: &dyn Fn() -> bool,
) -> Result<Option<Hits>, StoreError> {
    match candidates(store, query, superseded).await? {
        Some(c) => find_among(store, query, list, c, superseded).await,
        None => Ok(None),
    }
}

/// What the index says before any summary is read: the messages holding every word.
pub struct Candidates {
    /// Uidls by account; `None` when the query has no words (every message is one).
    keys: Option<HashMap<String, HashSet<String>>>,
    /// The live numbers found, for ranking.
    live: Vec<u32>,
    /// A limit cut the postings (a very short prefix).
    cut: bool,
}

impl Candidates {
    /// Whether the index found `s` (looked up by borrowed strings: this runs over the whole
    /// list, 100,000 summaries, per query).
    pub fn holds(&self, s: &Summary) -> bool {
        self.keys.as_ref().is_none_or(|keys| {
            keys.get(s.account.as_str())
                .is_some_and(|uidls| uidls.contains(s.uidl.as_str()))
        })
    }
}

/// The index's half of [`find_unless`]: each word's postings intersected, mapped to messages.
pub async fn candidates(
    store: &Store,
    query: &Query,
    superseded: &dyn Fn() -> bool,
) -> Result<Option<Candidates>, StoreError> {
    let mut cut = false;
    // Each word's numbers (its blocks, or a prefix's, unioned), intersected; the first empty
    // intersection ends it. Tombstones go once, at the end.
    let mut candidates: Option<Vec<u32>> = None;
    for word in &query.words {
        if superseded() {
            return Ok(None);
        }
        let (docs, limited) = store.doc_postings(&word.key(), word.prefix).await?;
        cut |= limited;
        let next = match candidates.take() {
            None => docs,
            Some(prev) => blocks::intersect(&prev, &docs),
        };
        let empty = next.is_empty();
        candidates = Some(next);
        if empty {
            break;
        }
    }
    let live = match candidates {
        Some(docs) if !docs.is_empty() => blocks::without(&docs, &store.dead_docs().await?),
        _ => Vec::new(),
    };
    // Only the live candidates are mapped back to messages (the tab's map of numbers).
    let candidates = if query.words.is_empty() {
        None
    } else if live.is_empty() {
        // Nothing to name: the map is not needed (nor waited for while the start reads it).
        Some(Vec::new())
    } else {
        Some(store.doc_keys(&live).await?)
    };
    let keys = candidates.map(|keys| {
        let mut by_account: HashMap<String, HashSet<String>> = HashMap::new();
        for (account, uidl) in keys {
            by_account.entry(account).or_default().insert(uidl);
        }
        by_account
    });
    Ok(Some(Candidates { keys, live, cut }))
}

/// The list's half of [`find_unless`]: the summaries of `list` the index found that the
/// operators keep, phrases checked, ranked.
pub async fn find_among(
    store: &Store,
    query: &Query,
    list: &[Summary],
    index: Candidates,
    superseded: &dyn Fn() -> bool,
) -> Result<Option<Hits>, StoreError> {
    let mut cut = index.cut;
    let mut found: Vec<&Summary> = list
        .iter()
        .filter(|s| index.holds(s) && filters(query, s))
        .collect();
    // Newest first, as the list is; the phrase check reads the newest candidates.
    found.sort_by(|a, b| crate::store::newest_first(a, b));
    if !query.phrases.is_empty() {
        let mut kept = Vec::new();
        let mut budget = PHRASE_BYTES;
        let mut checked = 0;
        for s in &found {
            let cost = (s.size as usize).min(INDEXED_HEAD);
            if cost > budget {
                break;
            }
            if superseded() {
                return Ok(None);
            }
            budget -= cost;
            checked += 1;
            if let Some(raw) = store.body_head(&s.account, &s.uidl, INDEXED_HEAD).await?
                && holds_phrases(&raw, &query.phrases)
            {
                kept.push(*s);
            }
        }
        cut |= checked < found.len();
        found = kept;
    }
    if superseded() {
        return Ok(None);
    }
    let scores = scores(store, query, &index.live).await?;
    let total = found.len();
    let keys = best(found, &scores, usize::MAX)
        .into_iter()
        .map(|s| (s.account.clone(), s.uidl.clone()))
        .collect();
    Ok(Some(Hits {
        keys,
        terms: query.highlight_terms(),
        cut,
        total,
    }))
}

/// The best `limit` of the scope's summaries in `list` that the index found and the
/// operators keep, best first, and how many there are in all: what the search box shows for
/// a query without phrases. Only the best are ordered (a partial selection) and copied, so a
/// word in every one of 100,000 messages neither sorts nor copies them all. `query` is
/// [`scope`]d first (its `in:` named by id).
pub async fn best_of(
    store: &Store,
    query: &mut Query,
    list: impl FnOnce(&mut dyn FnMut(&[Summary])),
    scoped: (&str, &[UserFolder]),
    index: Candidates,
    limit: usize,
) -> Result<Hits, StoreError> {
    debug_assert!(
        query.phrases.is_empty(),
        "phrases are checked by find_among"
    );
    let (shown, folders) = scoped;
    name_folder(query, folders);
    let scores = scores(store, query, &index.live).await?;
    let mut answer = (Vec::new(), 0);
    list(&mut |all: &[Summary]| {
        let trash = query.folder.is_some() || shown == TRASH;
        let mut found = Vec::new();
        for s in all {
            if (trash || s.folder != TRASH)
                && index.holds(s)
                && filters_in(query, s, known_folder(s, folders))
            {
                found.push(s);
            }
        }
        let total = found.len();
        let keys = best(found, &scores, limit)
            .into_iter()
            .map(|s| (s.account.clone(), s.uidl.clone()))
            .collect();
        answer = (keys, total);
    });
    let (keys, total) = answer;
    Ok(Hits {
        keys,
        terms: query.highlight_terms(),
        cut: index.cut,
        total,
    })
}

/// The best `limit` of `found`, best first: score, then newest (see [`scores`]).
fn best<'a>(found: Vec<&'a Summary>, scores: &Scores, limit: usize) -> Vec<&'a Summary> {
    let score = |s: &Summary| {
        scores
            .get(s.account.as_str())
            .and_then(|uidls| uidls.get(s.uidl.as_str()))
            .copied()
            .unwrap_or(0)
    };
    let mut scored: Vec<(u32, &Summary)> = found.into_iter().map(|s| (score(s), s)).collect();
    let order = |a: &(u32, &Summary), b: &(u32, &Summary)| {
        b.0.cmp(&a.0)
            .then_with(|| crate::store::newest_first(a.1, b.1))
    };
    if scored.len() > limit {
        if limit == 0 {
            return Vec::new();
        }
        scored.select_nth_unstable_by(limit - 1, order);
        scored.truncate(limit);
    }
    scored.sort_unstable_by(order);
    scored.into_iter().map(|(_, s)| s).collect()
}

/// Scores by account, then uidl (looked up by borrowed strings for every hit).
type Scores = HashMap<String, HashMap<String, u32>>;

/// What ranks a hit before newest first: each free word found in the subject weighs 3, in the
/// sender 2. Only live candidates score (a tombstoned number may name a message indexed again
/// since, whose subject changed); messages that score nothing are left out.
async fn scores(store: &Store, query: &Query, live: &[u32]) -> Result<Scores, StoreError> {
    let mut score = Scores::new();
    if live.len() > 1 {
        for word in query.words.iter().filter(|w| w.field.is_none()) {
            for (prefix, weight) in [("s:", 3), ("f:", 2)] {
                let key = format!("{prefix}{}", word.term);
                let (docs, _) = store.doc_postings(&key, word.prefix).await?;
                for (account, uidl) in store.doc_keys(&blocks::intersect(&docs, live)).await? {
                    *score.entry(account).or_default().entry(uidl).or_default() += weight;
                }
            }
        }
    }
    Ok(score)
}

/// The operators that the summary answers: attachments, read and flagged state, dates, folder.
fn filters(query: &Query, s: &Summary) -> bool {
    filters_in(query, s, &s.folder)
}

/// [`filters`] with `folder` as the summary's folder (see [`known_folder`]).
fn filters_in(query: &Query, s: &Summary, folder: &str) -> bool {
    (!query.has_attachment || s.has_attachments)
        && query.read.is_none_or(|read| s.read == read)
        && (!query.flagged || s.flagged)
        && query.before.is_none_or(|before| s.date < before)
        && query.after.is_none_or(|after| s.date >= after)
        && query
            .folder
            .as_deref()
            .is_none_or(|f| folder.eq_ignore_ascii_case(f) || s.account.eq_ignore_ascii_case(f))
}

/// Where a search looks, given the folder on screen and the user's folders. It names the
/// folder of `in:` by its id (the user types "in:Work"; mail is filed under `f<ms><rand>`);
/// and without `in:` it keeps every folder of `list` but Trash (Trash too while it is the one
/// shown), the way a mail client's "All mail" does, not just the tab the search was typed in.
pub fn scope(
    query: &mut Query,
    list: &[Summary],
    shown: &str,
    folders: &[UserFolder],
) -> Vec<Summary> {
    scope_where(query, list, shown, folders, |_| true)
}

/// [`scope`], copying only the summaries `keep` accepts: the app passes the index's
/// [`Candidates`], so a rare word copies a few summaries, not all 100,000 per query.
pub fn scope_where(
    query: &mut Query,
    list: &[Summary],
    shown: &str,
    folders: &[UserFolder],
    keep: impl Fn(&Summary) -> bool,
) -> Vec<Summary> {
    name_folder(query, folders);
    let trash = query.folder.is_some() || shown == TRASH;
    list.iter()
        .filter(|s| (trash || s.folder != TRASH) && keep(s))
        .map(|s| {
            let mut s = s.clone();
            s.folder = known_folder(&s, folders).to_string();
            s
        })
        .collect()
}

/// `in:` with a user folder's name becomes its id ("in:Work"; mail is filed under
/// `f<ms><rand>`).
fn name_folder(query: &mut Query, folders: &[UserFolder]) {
    if let Some(name) = &query.folder
        && let Some(f) = folders.iter().find(|f| f.name.to_lowercase() == *name)
    {
        query.folder = Some(f.id.clone());
    }
}

/// The folder `s` shows in: filed in a folder deleted since, it shows in Inbox, so `in:inbox`
/// finds it (`model::folders::folder_of`).
fn known_folder<'a>(s: &'a Summary, folders: &[UserFolder]) -> &'a str {
    let known = [INBOX, ARCHIVE, TRASH].contains(&s.folder.as_str())
        || folders.iter().any(|f| f.id == s.folder);
    if known { &s.folder } else { INBOX }
}
