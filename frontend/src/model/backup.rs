//! Backup and restore actions: everything in one file, and that file back into an empty
//! store, with progress and Cancel. A finished backup counts as an export for the risk
//! warning ("Last backup or export").

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{Model, store};
use crate::backup::{self, BackedUp, Checked, Pass, settings};
use crate::export::{FileKind, Opened, Sink};
use crate::sync::{Cancel, CancelHandle};

/// A backup file, as the save picker offers it.
pub const BACKUP_FILE: FileKind = FileKind {
    description: "Postbag backup",
    mime: "application/octet-stream",
    extension: ".postbag",
};

#[derive(Clone, Debug, PartialEq)]
pub enum BackupState {
    Idle,
    /// The file is being chosen (the picker is open), or the store counted.
    Starting,
    /// A backup is written: records so far of about `total`.
    BackingUp {
        done: u64,
        total: u64,
    },
    /// A restore reads the file to check it (nothing written yet), or writes it.
    Restoring {
        pass: Pass,
        read: u64,
        total: u64,
    },
    Done(String),
    /// A restore ended well: the page starts again to show it.
    Restored(String),
    Failed(String),
}

impl BackupState {
    pub fn running(&self) -> bool {
        matches!(
            self,
            BackupState::Starting | BackupState::BackingUp { .. } | BackupState::Restoring { .. }
        )
    }
}

fn plural(n: u64, one: &str) -> String {
    match n {
        1 => format!("1 {one}"),
        n => format!("{n} {one}s"),
    }
}

/// What the user is told once a backup was saved.
pub fn backed_up_text(b: &BackedUp, file: &str) -> String {
    format!(
        "Backed up {} ({}, {:.1} MB) to {file}.",
        plural(b.messages, "message"),
        plural(b.records, "record"),
        b.bytes as f64 / 1e6
    )
}

/// What the user is told once a backup was restored.
pub fn restored_text(c: &Checked, date: &str) -> String {
    let mut text = format!(
        "Restored {} and {} from the backup of {date}. A sync downloads nothing that is already here.",
        plural(c.messages, "message"),
        plural(c.accounts.len() as u64, "account"),
    );
    if c.passphrase_checked {
        text.push_str(" The passphrase opens the remembered password.");
    }
    text
}

impl Model {
    /// Backs up everything: asks where to save the file (or prepares a download), then streams
    /// the store into it. Call it from a click (the file picker needs the gesture).
    pub fn start_backup(self) {
        if self.backup.get_untracked().running() {
            return;
        }
        let cancel = CancelHandle::default();
        self.backup_cancel.set_value(cancel.clone());
        self.backup.set(BackupState::Starting);
        spawn_local(async move {
            let now = js_sys::Date::now();
            let mut sink = match Sink::open_as(&backup::file_name(now), &BACKUP_FILE).await {
                Ok(Opened::Sink(sink)) => sink,
                Ok(Opened::Declined) => return self.backup.set(BackupState::Idle),
                Err(e) => {
                    return self.backup.set(BackupState::Failed(format!(
                        "The file could not be opened: {e}"
                    )));
                }
            };
            // A streamed download waits on the browser between chunks; Cancel ends that too.
            let stop = cancel.clone();
            sink.stop_when(move || stop.cancelled());
            let cancelled = || cancel.cancelled();
            let state = self.backup;
            let mut progress = |done, total| state.set(BackupState::BackingUp { done, total });
            let result = backup::back_up(
                &store(),
                &settings::read(),
                now,
                &mut sink,
                &cancelled,
                &mut progress,
            )
            .await;
            let end = match result {
                Ok(b) if b.cancelled => {
                    sink.discard().await;
                    BackupState::Done("Backup cancelled: the file was not written.".into())
                }
                Ok(b) => match sink.finish().await {
                    Ok(file) => {
                        self.exported_now(js_sys::Date::now());
                        BackupState::Done(backed_up_text(&b, &file))
                    }
                    Err(err) => BackupState::Failed(format!("Saving the file failed: {err}")),
                },
                Err(err) => {
                    sink.discard().await;
                    BackupState::Failed(format!("Backup failed: {err}"))
                }
            };
            self.backup.set(end);
        });
    }

    /// Restores `file` into this browser's store, which must be empty. `passphrase`, if not
    /// empty, must open every remembered password before anything is written.
    pub fn start_restore(self, file: web_sys::File, passphrase: String) {
        if self.backup.get_untracked().running() {
            return;
        }
        let cancel = CancelHandle::default();
        self.backup_cancel.set_value(cancel.clone());
        let state = self.backup;
        state.set(BackupState::Starting);
        spawn_local(async move {
            let cancelled = || cancel.cancelled();
            let mut progress =
                |pass, read, total| state.set(BackupState::Restoring { pass, read, total });
            let phrase = Some(passphrase.as_str()).filter(|p| !p.is_empty());
            let result = backup::restore(&store(), &file, phrase, &cancelled, &mut progress).await;
            state.set(match result {
                Ok(r) if r.cancelled => {
                    BackupState::Done("Restore cancelled: nothing was restored.".into())
                }
                Ok(r) => {
                    self.after_restore(r.checked.created_ms);
                    let date = backup::day(r.checked.created_ms);
                    BackupState::Restored(restored_text(&r.checked, &date))
                }
                Err(e) => BackupState::Failed(format!(
                    "Restore refused: {e}. Nothing in this browser was changed."
                )),
            });
        });
    }

    /// Notes the backup as the latest copy if it is newer than the last export it recorded.
    fn after_restore(self, created_ms: f64) {
        let restored = super::safety::last_export();
        if restored.is_none_or(|t| t < created_ms) {
            self.exported_now(created_ms);
        } else {
            self.last_export.set(restored);
        }
    }

    /// "Open the restored mail": the page starts again on the restored store, so every part of
    /// the app (accounts, their checks, the outbox) reads it as at any start.
    pub fn open_restored(self) {
        if let Some(window) = web_sys::window() {
            let _ = window.location().reload();
        }
    }

    /// Stops a running backup before its next batch (nothing is saved), or a restore before its
    /// next slice of the file (what it wrote is removed).
    pub fn cancel_backup(self) {
        self.backup_cancel.with_value(CancelHandle::cancel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn the_end_of_a_backup_and_a_restore_is_told_with_counts() {
        let b = BackedUp {
            records: 12,
            messages: 1,
            bytes: 2_500_000,
            cancelled: false,
        };
        assert_eq!(
            backed_up_text(&b, "f.postbag"),
            "Backed up 1 message (12 records, 2.5 MB) to f.postbag."
        );
        let c = Checked {
            messages: 7,
            accounts: vec!["me@example.org".into()],
            passphrase_checked: true,
            ..Checked::default()
        };
        assert_eq!(
            restored_text(&c, "2026-12-02"),
            "Restored 7 messages and 1 account from the backup of 2026-12-02. A sync downloads nothing that is already here. The passphrase opens the remembered password."
        );
    }
}
