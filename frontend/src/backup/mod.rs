//! Backup and restore of everything Postbag knows, in one file: the accounts (their remembered
//! passwords still sealed under the passphrase, exactly as stored), the UIDL ledger and the
//! pending server deletions, every message's bytes and summary (read and flagged marks
//! included), imported mail, drafts, the outbox and sent mail, and the app's settings
//! (localStorage keys `postbag.*`). The layout is [`format`] (`docs/backup-format.md`).
//!
//! Both ways stream: a backup reads the store in keyed pages and hands chunks of at most
//! [`CHUNK`] bytes to the export's sink; a restore reads the file in slices of [`CHUNK`]. A
//! restore reads the whole file once to check it (format, schema version, every record, the
//! SHA-256, optionally the passphrase) before it writes anything, and writes only into an
//! empty store: if writing fails or is cancelled half-way, it empties the store again, so the
//! store is always as it was before, or the whole backup.

mod file;
pub mod format;
mod restore;
pub mod settings;
mod write;

pub use restore::{
    Checked, HELD_BACK, LOCK, Pass, RestoreError, Restored, check, restore, unless_restoring,
};
pub use write::{BackedUp, BackupError, back_up};

use crate::store::schema;

/// Bytes read from the file, or gathered before a write to the sink, at a time.
pub const CHUNK: usize = 4 << 20;
/// Message bytes read from the store, or records written to it, per transaction (one larger
/// record makes a batch of its own).
pub const BATCH_BYTES: u64 = 4 << 20;
/// Keys read per page.
pub const PAGE: u32 = 200;

/// The oldest store version a backup may come from. Every migration from it to the current
/// one only added stores or optional fields, so its records read the same here. A migration
/// that rewrites records must raise this (or convert restored records the same way).
pub const OLDEST_SCHEMA: u32 = 4;

/// The schema versions a restore accepts.
pub fn restorable() -> std::ops::RangeInclusive<u32> {
    OLDEST_SCHEMA..=schema::current_version()
}

/// The file name offered: `postbag-backup-YYYY-MM-DD.postbag`.
pub fn file_name(now_ms: f64) -> String {
    format!("postbag-backup-{}.postbag", day(now_ms))
}

/// The UTC day of `ms`, as `YYYY-MM-DD`.
pub fn day(ms: f64) -> String {
    let iso: String = js_sys::Date::new(&ms.into()).to_iso_string().into();
    iso.chars().take(10).collect()
}
