//! What a sync does, decided from the server's listing and the ledger. Pure: no I/O, no clock.
//!
//! Messages are identified by UIDL, never by message number: numbers are only valid inside one
//! session, UIDLs across sessions. A UIDL alone is not trusted, in either direction:
//!
//! - A server that lost its UIDL state can hand an old UIDL to a new message, even at the same
//!   size. That message must be downloaded like any new one, never deleted unseen. So a message
//!   not downloaded in this session is deleted only once its headers (`TOP n 0`) show it is the
//!   one stored here ([`Confirm`], `crate::store::identity`).
//! - A server may rewrite a message it has served: GNU mailutils adds `Status:` and `X-UID:`
//!   headers, so the next session lists it with another size. A different size alone would
//!   download every such message again (a duplicate each). So a different size is also only a
//!   question for `TOP n 0`: the same Message-ID, Date and From mean the same message (its
//!   line learns the new size), others mean a reused UIDL (downloaded, the old copy set aside).
//!   Only a UIDL whose message the server confirmed deleting is certainly reused.
//! - A server that lists one UIDL for two messages gives no way to tell them apart later: both
//!   are left alone (neither downloaded nor deleted) and reported.
//!
//! "Keep at most N on the server" counts what the server lists, in its order (message numbers
//! grow with arrival): the oldest beyond N are due. A due message stored here is confirmed and
//! DELEd like any other; a due message not yet stored is DELEd only once this session committed
//! it ([`Plan::delete_when_stored`]); one that cannot be stored (over the cap, a shared UIDL)
//! stays, so the server may keep more than N, never loses mail not held here.
//!
//! Ledger lines are not dropped when the server stops listing a message: some servers list only
//! a window of mail, and a line forgotten too early means the message comes back as new (a
//! message deleted here reappears, read state is lost). Lines are marked `gone_since` and
//! forgotten only after [`GONE_GRACE_MS`].

use std::collections::{HashMap, HashSet};

use crate::store::{LedgerEntry, PendingDelete, ServerPolicy};

const DAY_MS: f64 = 86_400_000.0;

/// How long a ledger line is kept after the server stopped listing its message.
pub const GONE_GRACE_MS: f64 = 30.0 * DAY_MS;

/// One message to download.
#[derive(Clone, Debug, PartialEq)]
pub struct Download {
    /// Its number in this session.
    pub msg: u32,
    pub uidl: String,
    /// The size the server listed, if it did.
    pub size: Option<u64>,
}

/// A locally stored message whose UIDL the server now uses for another message: its local copy
/// moves to `key` before the new message is stored under the UIDL, so nothing is overwritten.
#[derive(Clone, Debug, PartialEq)]
pub struct SetAside {
    pub uidl: String,
    pub key: String,
}

/// A listed message under a UIDL the ledger knows, to be compared with the stored one (its
/// `TOP n 0` headers against `line.identity`) before anything is done with it.
#[derive(Clone, Debug, PartialEq)]
pub struct Confirm {
    pub download: Download,
    /// The ledger line of the stored message.
    pub line: LedgerEntry,
    /// The listed size differs from the line's: if it is the same message, the line learns the
    /// new size; if not, the UIDL was reused and the message is downloaded.
    pub size_changed: bool,
    /// The policy or the user asks to delete the stored message on the server: DELE it once
    /// confirmed to be that message.
    pub delete: bool,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    /// Messages to download, in server order.
    pub download: Vec<Download>,
    /// Known UIDLs to confirm with `TOP n 0` first (to delete them, or because their size
    /// changed), in server order.
    pub confirm: Vec<Confirm>,
    /// Listed larger than the most one message may be: not downloaded, reported.
    pub too_large: Vec<Download>,
    /// Messages listed under a UIDL the server also gives another message: (number, UIDL),
    /// left alone and reported.
    pub shared_uidl: Vec<(u32, String)>,
    /// Local copies to move aside before their UIDL's new message is stored.
    pub set_aside: Vec<SetAside>,
    /// Downloads the policy wants gone from the server (the oldest beyond "keep at most N"):
    /// DELEd in this session once their batch is durable, like every download under
    /// delete-after-download.
    pub delete_when_stored: HashSet<String>,
    /// Ledger lines to rewrite: newly unlisted (`gone_since` set), listed again (cleared),
    /// or listed with a size the line did not record yet.
    pub ledger_updates: Vec<LedgerEntry>,
    /// UIDLs whose ledger line and pending deletion are dropped: unlisted for longer than the
    /// grace period, or a pending deletion without a ledger line.
    pub forget: Vec<String>,
}

/// The local key an older message moves to when its UIDL is reused. It contains a space, which
/// RFC 1939 does not allow in a UIDL, so it never collides with a server's UIDL.
pub fn set_aside_key(uidl: &str, first_seen: f64) -> String {
    format!("{uidl} replaced {}", first_seen as i64)
}

/// Whether the listed size differs from the one the line recorded (unknown on either side
/// counts as equal: old lines have no size).
fn size_changed(line: &LedgerEntry, listed: Option<u64>) -> bool {
    matches!((line.size, listed), (Some(stored), Some(now)) if stored != now)
}

/// The message numbers "keep at most N" wants gone: the oldest listed beyond N (none under
/// other policies). Every listed message counts toward N, those that cannot be deleted too.
fn oldest_beyond(uidls: &[(u32, String)], policy: ServerPolicy) -> HashSet<u32> {
    let ServerPolicy::KeepNewest { count, .. } = policy else {
        return HashSet::new();
    };
    let mut numbers: Vec<u32> = uidls.iter().map(|(n, _)| *n).collect();
    numbers.sort_unstable();
    numbers.dedup();
    let excess = numbers.len().saturating_sub(count as usize);
    numbers.into_iter().take(excess).collect()
}

/// Decides downloads, confirmations, deletions and ledger upkeep. `now_ms` is the driver's
/// clock; `max_bytes` the largest message downloaded.
#[allow(clippy::too_many_arguments)]
pub fn plan(
    uidls: &[(u32, String)],
    sizes: &[(u32, u64)],
    ledger: &[LedgerEntry],
    pending: &[PendingDelete],
    policy: ServerPolicy,
    now_ms: f64,
    max_bytes: u64,
) -> Plan {
    let sizes: HashMap<u32, u64> = sizes.iter().copied().collect();
    let known: HashMap<&str, &LedgerEntry> = ledger.iter().map(|l| (l.uidl.as_str(), l)).collect();
    let pending_set: HashSet<&str> = pending.iter().map(|p| p.uidl.as_str()).collect();
    let mut times: HashMap<&str, u32> = HashMap::new();
    for (_, uidl) in uidls {
        *times.entry(uidl.as_str()).or_default() += 1;
    }
    let mut out = Plan::default();
    let mut listed = HashSet::new();
    let oldest = oldest_beyond(uidls, policy);
    for (n, uidl) in uidls {
        listed.insert(uidl.as_str());
        if times[uidl.as_str()] > 1 {
            // Which of them a ledger line, a DELE or a later session means cannot be known.
            out.shared_uidl.push((*n, uidl.clone()));
            continue;
        }
        let size = sizes.get(n).copied();
        let download = Download {
            msg: *n,
            uidl: uidl.clone(),
            size,
        };
        let fits = size.is_none_or(|s| s <= max_bytes);
        let beyond = oldest.contains(n);
        let Some(line) = known.get(uidl.as_str()) else {
            if fits {
                if beyond {
                    out.delete_when_stored.insert(uidl.clone());
                }
                out.download.push(download);
            } else {
                out.too_large.push(download);
            }
            continue;
        };
        if line.deleted {
            // The server confirmed deleting the stored message: this one is new, whatever
            // its size or headers.
            if !fits {
                out.too_large.push(download);
                continue;
            }
            // Neither the policy nor a pending deletion of the old message applies to the new
            // one; the engine DELEs it only after it is committed, like any download.
            out.set_aside.push(SetAside {
                uidl: uidl.clone(),
                key: set_aside_key(uidl, line.first_seen),
            });
            if beyond {
                out.delete_when_stored.insert(uidl.clone());
            }
            out.download.push(download);
            continue;
        }
        let mut seen = (*line).clone();
        seen.on_server = true;
        seen.gone_since = None;
        if seen.size.is_none() {
            seen.size = size;
        }
        if seen != **line {
            out.ledger_updates.push(seen);
        }
        let due = match policy {
            ServerPolicy::DeleteAfterDownload => true,
            ServerPolicy::Leave { after_days, .. } => {
                after_days.is_some_and(|d| now_ms - line.first_seen >= f64::from(d) * DAY_MS)
            }
            ServerPolicy::KeepNewest { .. } => beyond,
        };
        let delete = due || pending_set.contains(uidl.as_str());
        let size_changed = size_changed(line, size);
        if delete || size_changed {
            out.confirm.push(Confirm {
                download,
                line: (*line).clone(),
                size_changed,
                delete,
            });
        }
    }
    for line in ledger.iter().filter(|l| !listed.contains(l.uidl.as_str())) {
        match line.gone_since {
            None => out.ledger_updates.push(LedgerEntry {
                on_server: false,
                gone_since: Some(now_ms),
                ..line.clone()
            }),
            Some(since) if now_ms - since >= GONE_GRACE_MS => out.forget.push(line.uidl.clone()),
            Some(_) => {}
        }
    }
    // A deletion queued for a message the ledger does not know (a set-aside copy) can never
    // be carried out, and must not hit a new message that later gets that UIDL.
    out.forget.extend(
        pending
            .iter()
            .filter(|p| !known.contains_key(p.uidl.as_str()))
            .map(|p| p.uidl.clone()),
    );
    out
}

#[cfg(test)]
mod tests;
