//! What a sync does, decided from the server's listing and the ledger. Pure: no I/O, no clock.
//!
//! Messages are identified by UIDL, never by message number: numbers are only valid inside one
//! session, UIDLs across sessions. A UIDL is trusted together with the size the server listed
//! for it: a server that lost its UIDL state can hand an old UIDL to a new message, and that
//! message must be downloaded like any new one, never deleted unseen.
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

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    /// Messages to download, in server order.
    pub download: Vec<Download>,
    /// Messages already stored here to DELE now: (number in this session, UIDL).
    pub delete: Vec<(u32, String)>,
    /// Local copies to move aside before their UIDL's new message is stored.
    pub set_aside: Vec<SetAside>,
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

/// Whether the server lists a new message under a line's UIDL. Certain when the server already
/// confirmed deleting the line's message. Otherwise the listed size tells them apart; unknown on
/// either side means "the same": old lines have no size, and guessing "new" would download
/// every old message again.
fn is_reused(line: &LedgerEntry, listed: Option<u64>) -> bool {
    line.deleted || matches!((line.size, listed), (Some(stored), Some(now)) if stored != now)
}

/// Decides downloads, deletions and ledger upkeep. `now_ms` is the driver's clock.
pub fn plan(
    uidls: &[(u32, String)],
    sizes: &[(u32, u64)],
    ledger: &[LedgerEntry],
    pending: &[PendingDelete],
    policy: ServerPolicy,
    now_ms: f64,
) -> Plan {
    let sizes: HashMap<u32, u64> = sizes.iter().copied().collect();
    let known: HashMap<&str, &LedgerEntry> = ledger.iter().map(|l| (l.uidl.as_str(), l)).collect();
    let pending_set: HashSet<&str> = pending.iter().map(|p| p.uidl.as_str()).collect();
    let mut out = Plan::default();
    let mut listed = HashSet::new();
    for (n, uidl) in uidls {
        // A server that lists one UIDL twice is broken; take the first and never guess.
        if !listed.insert(uidl.as_str()) {
            continue;
        }
        let size = sizes.get(n).copied();
        let download = Download {
            msg: *n,
            uidl: uidl.clone(),
            size,
        };
        let Some(line) = known.get(uidl.as_str()) else {
            out.download.push(download);
            continue;
        };
        if is_reused(line, size) {
            // Neither the policy nor a pending deletion of the old message applies to the new
            // one; the engine DELEs it only after it is committed, like any download.
            out.set_aside.push(SetAside {
                uidl: uidl.clone(),
                key: set_aside_key(uidl, line.first_seen),
            });
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
        };
        if due || pending_set.contains(uidl.as_str()) {
            out.delete.push((*n, uidl.clone()));
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
