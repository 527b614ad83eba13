//! Writing what the folder lacks: every message of an account stored here whose file is not
//! in `cur/` or `new/`. Runs when the copy is turned on or allowed again, and before each sync
//! (so a failed write is retried before anything is deleted on the server). The bytes of at
//! most [`WRITES_IN_FLIGHT`] messages are held at a time.

use std::collections::HashMap;

use super::{DiskError, Folder, Job, WRITES_IN_FLIGHT, names};
use crate::store::{Store, StoreError, Summary};

/// How a catch-up of one account ended.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CatchUp {
    /// Files written now.
    pub written: u32,
    /// Messages stored here (by store key) still not in the folder, and why.
    pub missing: HashMap<String, DiskError>,
}

/// The unique file name of a stored message: first stored at its ledger line's time. A reused
/// UIDL's old copy, set aside under `<uidl> replaced <first_seen ms>` (`sync::set_aside_key`),
/// has no line: its name is the one it was written under before, from the UIDL and time its
/// key keeps, so it does not get a second file. Any other message without a line: its date.
fn unique_of(summary: &Summary, first_seen: &HashMap<String, f64>) -> String {
    if let Some(&at) = first_seen.get(&summary.uidl) {
        return names::unique(&summary.account, &summary.uidl, at);
    }
    if let Some((uidl, at)) = set_aside_origin(&summary.uidl) {
        return names::unique(&summary.account, uidl, at);
    }
    names::unique(&summary.account, &summary.uidl, summary.date)
}

/// The UIDL and first-stored time (ms) a set-aside key was made from. Parsed here rather than
/// imported: `sync` uses this module, so this module does not use `sync` (the wasm test
/// `a_message_set_aside_for_a_reused_uidl_keeps_its_one_file` holds the two formats together).
/// A UIDL has no space (RFC 1939), so only such a key matches.
fn set_aside_origin(key: &str) -> Option<(&str, f64)> {
    let (uidl, ms) = key.rsplit_once(" replaced ")?;
    Some((uidl, ms.parse::<i64>().ok()? as f64))
}

/// Writes the messages of `account` the folder lacks. `progress(done, total)` is told before
/// the first and after each write; `keep_going` is asked before each (false: stop, the rest
/// stays missing). A storage error ends it; a folder error is noted per message, and one that
/// concerns the whole folder (permission, gone, full) marks the rest missing without trying.
pub async fn catch_up(
    store: &Store,
    folder: &Folder,
    account: &str,
    progress: &mut dyn FnMut(u32, u32),
    keep_going: &dyn Fn() -> bool,
) -> Result<CatchUp, StoreError> {
    let summaries = store.list(account).await?;
    let first_seen: HashMap<String, f64> = store
        .ledger(account)
        .await?
        .into_iter()
        .map(|l| (l.uidl, l.first_seen))
        .collect();
    let mut out = CatchUp::default();
    let present = match folder.present().await {
        Ok(p) => p,
        Err(cause) => {
            out.missing = summaries
                .into_iter()
                .map(|s| (s.uidl, cause.clone()))
                .collect();
            return Ok(out);
        }
    };
    // A partial copy (headers-first) is no Maildir message: written once whole. Until then it
    // is missing, so that the DELE gate refuses it whatever its ledger line says.
    let (partial, whole): (Vec<Summary>, Vec<Summary>) =
        summaries.into_iter().partition(|s| s.partial_of.is_some());
    out.missing.extend(
        partial
            .into_iter()
            .map(|s| (s.uidl, DiskError::OnlyStartStored)),
    );
    let absent: Vec<(Summary, String)> = whole
        .into_iter()
        .map(|s| {
            let unique = unique_of(&s, &first_seen);
            (s, unique)
        })
        .filter(|(s, unique)| !present.contains(&(unique.clone(), u64::from(s.size))))
        .collect();
    let total = absent.len() as u32;
    progress(0, total);
    let mut stop: Option<DiskError> = None;
    let mut done = 0;
    let mut absent = absent.into_iter().peekable();
    while absent.peek().is_some() {
        let group: Vec<(Summary, String)> = absent.by_ref().take(WRITES_IN_FLIGHT).collect();
        done += group.len() as u32;
        if stop.is_none() && !keep_going() {
            stop = Some(DiskError::Stopped);
        }
        if let Some(cause) = &stop {
            out.missing
                .extend(group.into_iter().map(|(s, _)| (s.uidl, cause.clone())));
            continue;
        }
        let mut uidls = Vec::new();
        let mut jobs = Vec::new();
        for (s, unique) in group {
            // Gone from the store since the listing (deleted here): nothing to copy.
            let Some(raw) = store.raw(account, &s.uidl).await? else {
                continue;
            };
            jobs.push(Job {
                unique,
                read: s.read,
                flagged: s.flagged,
                raw,
            });
            uidls.push(s.uidl);
        }
        for (uidl, result) in uidls.into_iter().zip(folder.write_many(jobs).await) {
            match result {
                Ok(()) => out.written += 1,
                Err(cause) => {
                    if cause.whole_folder() {
                        stop = Some(cause.clone());
                    }
                    out.missing.insert(uidl, cause);
                }
            }
        }
        progress(done, total);
    }
    Ok(out)
}
