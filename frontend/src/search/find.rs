//! Answers a parsed [`Query`] from the index and the list's summaries: each word's postings
//! intersected, the operators the summary answers, phrases checked on decoded text, ranked.

use std::collections::{HashMap, HashSet};

use super::Query;
use super::document::holds_phrases;
use crate::store::search::INDEXED_HEAD;
use crate::store::{ARCHIVE, INBOX, TRASH, UserFolder};
use crate::store::{MessageKey, Store, StoreError, Summary};

/// Postings read per term at most: a two-letter prefix cannot read the whole index.
const POSTINGS_LIMIT: u32 = 200_000;
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
    let mut cut = false;
    let mut candidates: Option<HashSet<MessageKey>> = None;
    // Each word's postings, intersected; the first empty intersection ends it.
    for word in &query.words {
        if superseded() {
            return Ok(None);
        }
        let (keys, limited) = store
            .postings(&word.key(), word.prefix, POSTINGS_LIMIT)
            .await?;
        cut |= limited;
        let set: HashSet<MessageKey> = keys.into_iter().collect();
        let next = match candidates.take() {
            None => set,
            Some(prev) => prev.into_iter().filter(|k| set.contains(k)).collect(),
        };
        let empty = next.is_empty();
        candidates = Some(next);
        if empty {
            break;
        }
    }
    let mut found: Vec<&Summary> = list
        .iter()
        .filter(|s| {
            candidates
                .as_ref()
                .is_none_or(|c| c.contains(&(s.account.clone(), s.uidl.clone())))
        })
        .filter(|s| filters(query, s))
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
    let ranked = rank(store, query, found).await?;
    Ok(Some(Hits {
        keys: ranked,
        terms: query.highlight_terms(),
        cut,
    }))
}

/// Best first: each free word found in the subject weighs 3, in the sender 2; then newest
/// (the order `found` is in, kept by the stable sort).
async fn rank(
    store: &Store,
    query: &Query,
    found: Vec<&Summary>,
) -> Result<Vec<MessageKey>, StoreError> {
    let mut score: HashMap<MessageKey, u32> = HashMap::new();
    if found.len() > 1 {
        let wanted: HashSet<MessageKey> = found
            .iter()
            .map(|s| (s.account.clone(), s.uidl.clone()))
            .collect();
        for word in query.words.iter().filter(|w| w.field.is_none()) {
            for (prefix, weight) in [("s:", 3), ("f:", 2)] {
                let key = format!("{prefix}{}", word.term);
                let (keys, _) = store.postings(&key, word.prefix, POSTINGS_LIMIT).await?;
                for k in keys.into_iter().filter(|k| wanted.contains(k)) {
                    *score.entry(k).or_default() += weight;
                }
            }
        }
    }
    let mut keys: Vec<MessageKey> = found
        .into_iter()
        .map(|s| (s.account.clone(), s.uidl.clone()))
        .collect();
    keys.sort_by_key(|k| std::cmp::Reverse(score.get(k).copied().unwrap_or(0)));
    Ok(keys)
}

/// The operators that the summary answers: attachments, read and flagged state, dates, folder.
fn filters(query: &Query, s: &Summary) -> bool {
    (!query.has_attachment || s.has_attachments)
        && query.read.is_none_or(|read| s.read == read)
        && (!query.flagged || s.flagged)
        && query.before.is_none_or(|before| s.date < before)
        && query.after.is_none_or(|after| s.date >= after)
        && query.folder.as_deref().is_none_or(|f| in_folder(s, f))
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
    if let Some(name) = &query.folder
        && let Some(f) = folders.iter().find(|f| f.name.to_lowercase() == *name)
    {
        query.folder = Some(f.id.clone());
    }
    let trash = query.folder.is_some() || shown == TRASH;
    list.iter()
        .filter(|s| trash || s.folder != TRASH)
        .map(|s| {
            let mut s = s.clone();
            // Filed in a folder deleted since: it shows in Inbox, so `in:inbox` finds it
            // (`model::folders::folder_of`).
            let known = [INBOX, ARCHIVE, TRASH].contains(&s.folder.as_str())
                || folders.iter().any(|f| f.id == s.folder);
            if !known {
                s.folder = INBOX.to_string();
            }
            s
        })
        .collect()
}

/// `in:` names a folder (`inbox`, `archive`, `trash`, or a folder of the user's by its id
/// once [`scope`] has named it), or an account by its address; `in:imported` is imported mail.
fn in_folder(s: &Summary, folder: &str) -> bool {
    s.folder.eq_ignore_ascii_case(folder) || s.account.eq_ignore_ascii_case(folder)
}
