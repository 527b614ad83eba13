//! Import actions: mbox files, `.eml` messages and Maildir folders into the store, with
//! progress and Cancel.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{Model, store};
use crate::import::{self, Imported, Picked};
use crate::sync::MAX_MESSAGE_BYTES;
use crate::sync::{Cancel, CancelHandle};

/// Skipped parts named in the result, at most; the rest are counted.
const NAMED_SKIPS: usize = 5;

#[derive(Clone, Debug, PartialEq)]
pub enum ImportState {
    Idle,
    Running {
        /// Bytes read of all files.
        read: u64,
        total: u64,
    },
    Done(String),
    Failed(String),
}

impl ImportState {
    pub fn running(&self) -> bool {
        matches!(self, ImportState::Running { .. })
    }
}

fn count(n: u32) -> String {
    match n {
        1 => "1 message".into(),
        n => format!("{n} messages"),
    }
}

/// What the user is told once an import ended: what was added, what was there already, and
/// each part left out with its file and offset.
pub fn done_text(r: &Imported) -> String {
    let mut text = if r.cancelled {
        format!("Import cancelled; {} added.", count(r.added))
    } else {
        format!("Imported {}.", count(r.added))
    };
    if r.duplicates > 0 {
        let verb = if r.duplicates == 1 { "was" } else { "were" };
        text.push_str(&format!(" {} {verb} already here.", count(r.duplicates)));
    }
    if !r.skipped.is_empty() {
        text.push_str(&format!(" Not imported ({}):", r.skipped.len()));
        for s in r.skipped.iter().take(NAMED_SKIPS) {
            match s.offset {
                Some(offset) => {
                    text.push_str(&format!(" {} at offset {offset}: {};", s.path, s.why))
                }
                None => text.push_str(&format!(" {}: {};", s.path, s.why)),
            }
        }
        if r.skipped.len() > NAMED_SKIPS {
            text.push_str(&format!(" and {} more.", r.skipped.len() - NAMED_SKIPS));
        } else {
            text.pop();
            text.push('.');
        }
    }
    text
}

impl Model {
    /// Imports the picked files into the "Imported" folder.
    pub fn start_import(self, files: Vec<Picked>) {
        if self.import.get_untracked().running() || files.is_empty() {
            return;
        }
        let cancel = CancelHandle::default();
        self.import_cancel.set_value(cancel.clone());
        let state = self.import;
        state.set(ImportState::Running { read: 0, total: 0 });
        spawn_local(async move {
            let cancelled = || cancel.cancelled();
            let mut progress = |read, total| state.set(ImportState::Running { read, total });
            let result = import::import(
                &store(),
                &files,
                MAX_MESSAGE_BYTES as usize,
                &cancelled,
                &mut progress,
            )
            .await;
            state.set(match result {
                // Nothing added and something refused: told as a failure, not a success.
                Ok(report) if report.added == 0 && !report.skipped.is_empty() => {
                    ImportState::Failed(done_text(&report))
                }
                Ok(report) => {
                    if report.added > 0 {
                        // The Imported folder appears, or its list shows the new mail.
                        spawn_local(self.reload());
                    }
                    ImportState::Done(done_text(&report))
                }
                Err(e) => ImportState::Failed(format!(
                    "Import stopped: {e}. The messages imported before it are kept."
                )),
            });
        });
    }

    /// Stops a running import before its next chunk; whole messages stored so far stay.
    pub fn cancel_import(self) {
        self.import_cancel.with_value(CancelHandle::cancel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::Skipped;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn the_end_of_an_import_names_what_was_left_out_and_where() {
        let skipped = |path: &str, offset, why: &str| Skipped {
            path: path.into(),
            offset,
            why: why.into(),
        };
        let r = Imported {
            added: 3,
            duplicates: 1,
            skipped: vec![
                skipped(
                    "a.mbox",
                    Some(120),
                    "the file ends inside this message: it looks cut off",
                ),
                skipped("b.bin", Some(0), "it is not an mbox file"),
            ],
            ..Imported::default()
        };
        assert_eq!(
            done_text(&r),
            "Imported 3 messages. 1 message was already here. Not imported (2): a.mbox at offset 120: the file ends inside this message: it looks cut off; b.bin at offset 0: it is not an mbox file."
        );
        let many = Imported {
            skipped: (0..7)
                .map(|i| skipped(&format!("{i}.eml"), None, "empty"))
                .collect(),
            cancelled: true,
            added: 1,
            ..Imported::default()
        };
        assert_eq!(
            done_text(&many),
            "Import cancelled; 1 message added. Not imported (7): 0.eml: empty; 1.eml: empty; 2.eml: empty; 3.eml: empty; 4.eml: empty; and 2 more."
        );
    }
}
