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
//! Slow and metered links (`docs/slow-links.md`): a message listed above the account's size
//! limit is fetched headers-first ([`Download::partial`]: `TOP n` with the first lines of its
//! body) and stored as a partial copy, its ledger line marked `partial`. Nothing is ever DELEd
//! whose whole body is not stored here: not a partial download under delete-after-download or
//! "keep at most N", not a partial copy that "after N days" or a deletion asked here finds due
//! ([`Plan::kept_partial`]). Only a download of the whole (the user's "Download the rest")
//! lifts that.
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
    /// Headers-first: only `TOP n PARTIAL_LINES` is fetched (listed above the account's size
    /// limit), stored as a partial copy that is never DELEd.
    pub partial: bool,
}

/// What a headers-first reply is expected to hold at most, for the RETR window and the storage
/// check (headers and 40 lines are a few KB; a reply may be larger, and is charged as it comes).
pub const PARTIAL_GUESS: u64 = 64 << 10;

impl Download {
    /// The bytes this download is expected to bring: its listed size, or for a headers-first
    /// one at most [`PARTIAL_GUESS`].
    pub fn expected(&self) -> Option<u64> {
        if self.partial {
            Some(self.size.map_or(PARTIAL_GUESS, |s| s.min(PARTIAL_GUESS)))
        } else {
            self.size
        }
    }
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
    /// Downloads the policy wants gone from the server (every one under delete-after-download,
    /// the oldest beyond "keep at most N"): DELEd in this session once their batch is durable.
    /// Never a headers-first (partial) download.
    pub delete_when_stored: HashSet<String>,
    /// UIDLs the policy or a deletion asked here wants gone from the server, kept there because
    /// only their start is (or will be) stored here: reported, DELEd only once whole.
    pub kept_partial: Vec<String>,
    /// Ledger lines to rewrite: newly unlisted (`gone_since` set), listed again (cleared),
    /// or listed with a size the line did not record yet.
    pub ledger_updates: Vec<LedgerEntry>,
    /// UIDLs whose ledger line and pending deletion are dropped: unlisted for longer than the
    /// grace period, or a pending deletion without a ledger line.
    pub forget: Vec<String>,
}

impl Plan {
    /// Marks `download` to be DELEd once its batch is durable, if `due` and it is fetched
    /// whole; a headers-first one due is kept on the server and reported.
    fn delete_when_stored(&mut self, download: &Download, due: bool) {
        if !due {
            return;
        }
        if download.partial {
            self.kept_partial.push(download.uidl.clone());
        } else {
            self.delete_when_stored.insert(download.uidl.clone());
        }
    }
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

/// How large the messages a sync downloads may be.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SizeLimits {
    /// The largest message downloaded at all (the hard cap); larger ones are skipped.
    pub max_bytes: u64,
    /// The account's size limit: a message listed above it is fetched headers-first.
    pub headers_first_above: Option<u64>,
}

/// Decides downloads, confirmations, deletions and ledger upkeep. `now_ms` is the driver's
/// clock.
pub fn plan(
    uidls: &[(u32, String)],
    sizes: &[(u32, u64)],
    ledger: &[LedgerEntry],
    pending: &[PendingDelete],
    policy: ServerPolicy,
    now_ms: f64,
    limits: SizeLimits,
) -> Plan {
    let max_bytes = limits.max_bytes;
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
        let partial = matches!((size, limits.headers_first_above), (Some(s), Some(l)) if s > l);
        let download = Download {
            msg: *n,
            uidl: uidl.clone(),
            size,
            partial,
        };
        let fits = size.is_none_or(|s| s <= max_bytes);
        let beyond = oldest.contains(n);
        // A download the policy deletes once stored: only a whole one.
        let delete_stored = policy == ServerPolicy::DeleteAfterDownload || beyond;
        let Some(line) = known.get(uidl.as_str()) else {
            if fits {
                out.delete_when_stored(&download, delete_stored);
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
            out.delete_when_stored(&download, delete_stored);
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
        let mut delete = due || pending_set.contains(uidl.as_str());
        if delete && line.partial {
            // Only its start is stored here: the server's copy is the only whole one.
            out.kept_partial.push(uidl.clone());
            delete = false;
        }
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
