//! What a sync does, decided from the server's listing and the ledger. Pure: no I/O, no clock.
//!
//! Messages are identified by UIDL, never by message number: numbers are only valid inside one
//! session, UIDLs across sessions.

use std::collections::{HashMap, HashSet};

use crate::store::{LedgerEntry, PendingDelete, ServerPolicy};

const DAY_MS: f64 = 86_400_000.0;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    /// Messages to download: (number in this session, UIDL, size).
    pub download: Vec<(u32, String, u64)>,
    /// Messages already stored here to DELE now: (number in this session, UIDL).
    pub delete: Vec<(u32, String)>,
    /// Ledger lines whose message the server no longer lists.
    pub gone: Vec<String>,
}

/// Decides downloads and deletions. `now_ms` is the driver's clock.
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
    let pending: HashSet<&str> = pending.iter().map(|p| p.uidl.as_str()).collect();
    let mut out = Plan::default();
    let mut seen = HashSet::new();
    for (n, uidl) in uidls {
        // A server that lists one UIDL twice is broken; take the first and never guess.
        if !seen.insert(uidl.as_str()) {
            continue;
        }
        match known.get(uidl.as_str()) {
            None => out
                .download
                .push((*n, uidl.clone(), sizes.get(n).copied().unwrap_or(0))),
            Some(line) => {
                let due = match policy {
                    ServerPolicy::DeleteAfterDownload => true,
                    ServerPolicy::Leave { after_days, .. } => after_days
                        .is_some_and(|d| now_ms - line.first_seen >= f64::from(d) * DAY_MS),
                };
                if due || pending.contains(uidl.as_str()) {
                    out.delete.push((*n, uidl.clone()));
                }
            }
        }
    }
    out.gone = ledger
        .iter()
        .filter(|l| !seen.contains(l.uidl.as_str()))
        .map(|l| l.uidl.clone())
        .collect();
    out
}
