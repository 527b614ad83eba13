//! Export actions: the whole store or one account as an mboxrd file, with progress and Cancel.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{Model, store};
use crate::export::{self, Exported, Opened, Sink};
use crate::store::Scope;
use crate::sync::{Cancel, CancelHandle};

#[derive(Clone, Debug, PartialEq)]
pub enum ExportState {
    Idle,
    /// The file is being chosen (the picker is open), or the store counted.
    Starting,
    Running {
        done: u32,
        total: u32,
    },
    Done(String),
    Failed(String),
}

impl ExportState {
    pub fn running(&self) -> bool {
        matches!(self, ExportState::Starting | ExportState::Running { .. })
    }
}

/// What the user is told once an export ended.
fn done_text(e: &Exported, file: &str) -> String {
    let n = match e.messages {
        1 => "1 message".to_string(),
        n => format!("{n} messages"),
    };
    let mut text = format!("Exported {n} to {file}.");
    if e.missing > 0 {
        text.push_str(&format!(
            " {} deleted during the export {} not included.",
            e.missing,
            if e.missing == 1 { "was" } else { "were" }
        ));
    }
    if e.partial > 0 {
        text.push_str(&format!(
            " {} of which only the start is here {} left out (the whole is on the server: \
             \"Download the rest\", then export again).",
            e.partial,
            if e.partial == 1 { "was" } else { "were" }
        ));
    }
    text
}

impl Model {
    /// Exports `scope` as mboxrd: asks where to save it (or prepares a download), then streams
    /// the store into it. Call it from a click (the file picker needs the gesture).
    pub fn start_export(self, scope: Scope) {
        if self.export.get_untracked().running() {
            return;
        }
        let cancel = CancelHandle::default();
        self.export_cancel.set_value(cancel.clone());
        self.export.set(ExportState::Starting);
        spawn_local(async move {
            let name = export::file_name(&scope, js_sys::Date::now());
            let mut sink = match Sink::open(&name).await {
                Ok(Opened::Sink(sink)) => sink,
                Ok(Opened::Declined) => return self.export.set(ExportState::Idle),
                Err(e) => {
                    return self.export.set(ExportState::Failed(format!(
                        "The file could not be opened: {e}"
                    )));
                }
            };
            // A streamed download waits on the browser between chunks; Cancel ends that too.
            let stop = cancel.clone();
            sink.stop_when(move || stop.cancelled());
            let cancelled = || cancel.cancelled();
            let state = self.export;
            let mut progress = |done, total| state.set(ExportState::Running { done, total });
            let result =
                export::export(&store(), &scope, &mut sink, &cancelled, &mut progress).await;
            let end = match result {
                Ok(e) if e.cancelled => {
                    sink.discard().await;
                    ExportState::Done("Export cancelled: the file was not written.".into())
                }
                Ok(e) => match sink.finish().await {
                    Ok(file) => {
                        // A search result is not a copy of the mail; all or an account is.
                        if !matches!(scope, Scope::Listed(_)) {
                            self.exported_now(js_sys::Date::now());
                        }
                        ExportState::Done(done_text(&e, &file))
                    }
                    Err(err) => ExportState::Failed(format!("Saving the file failed: {err}")),
                },
                Err(err) => {
                    sink.discard().await;
                    ExportState::Failed(format!("Export failed: {err}"))
                }
            };
            self.export.set(end);
        });
    }

    /// Exports the messages the search shows, newest first.
    pub fn export_search_result(self) {
        // Before the query answers, the list still holds the previous answer (or nothing): the
        // file would not be what the search finds. The button waits for it too.
        if !untrack(|| self.search_answered()) {
            return;
        }
        // The list shows the best page of a large answer: the file holds all of it.
        leptos::task::spawn_local(async move {
            if let Some(keys) = self.found_all().await {
                self.start_export(Scope::Listed(keys));
            }
        });
    }

    /// Stops a running export before its next batch; nothing is saved.
    pub fn cancel_export(self) {
        self.export_cancel.with_value(CancelHandle::cancel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn the_end_of_an_export_is_told_with_its_count() {
        let cases: &[(u32, u32, &str)] = &[
            (0, 0, "Exported 0 messages to f.mbox."),
            (1, 0, "Exported 1 message to f.mbox."),
            (
                3,
                1,
                "Exported 3 messages to f.mbox. 1 deleted during the export was not included.",
            ),
            (
                3,
                2,
                "Exported 3 messages to f.mbox. 2 deleted during the export were not included.",
            ),
        ];
        for &(messages, missing, expected) in cases {
            let e = Exported {
                messages,
                missing,
                ..Exported::default()
            };
            assert_eq!(done_text(&e, "f.mbox"), expected);
        }
        // A partial copy (headers-first) is never passed off as the message: left out, counted.
        let e = Exported {
            messages: 2,
            partial: 1,
            ..Exported::default()
        };
        assert_eq!(
            done_text(&e, "f.mbox"),
            "Exported 2 messages to f.mbox. 1 of which only the start is here was left out \
             (the whole is on the server: \"Download the rest\", then export again)."
        );
    }
}
