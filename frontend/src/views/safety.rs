//! "No silent risk": the mailbox's warning when the only copy of the mail could be cleared by
//! the browser (with a fix per cause), and Settings' line on the last export. The model decides
//! (`model/safety.rs`); these only render.

use leptos::prelude::*;

use crate::disk_copy::fs::picker_available;
use crate::model::{Model, RECENT_EXPORT_DAYS};
use crate::store::Scope;
use crate::views::export::ExportStatus;
use crate::views::long_date;

/// Shown in the mailbox while the shown account's mail is at risk.
#[component]
pub fn RiskBanner() -> impl IntoView {
    let model = expect_context::<Model>();
    view! {
        <Show when=move || model.at_risk() && !model.risk_dismissed.get()>
            <div class="banner warn risk" role="alert" aria-label="Your mail is at risk">
                <p>
                    "Your mail is only in this browser once the server deletes it, the browser may clear this site's storage when space runs low, and there is no export of the last "
                    {RECENT_EXPORT_DAYS} " days."
                </p>
                <div class="actions">
                    <button type="button" class="secondary" on:click=move |_| model.keep_durable()>
                        "Keep mail durable"
                    </button>
                    // The live copy on disk, where the browser can write to a folder.
                    <Show when=picker_available>
                        <button
                            type="button"
                            class="secondary"
                            on:click=move |_| model.pick_disk_folder()
                        >
                            "Pick a folder"
                        </button>
                    </Show>
                    <button
                        type="button"
                        class="secondary"
                        disabled=move || model.export.get().running()
                        on:click=move |_| model.start_export(Scope::All)
                    >
                        "Export all mail now"
                    </button>
                    // For this session only: the warning is back at the next start.
                    <button
                        type="button"
                        class="link"
                        on:click=move |_| model.risk_dismissed.set(true)
                    >
                        "Not now"
                    </button>
                </div>
                <ExportStatus />
            </div>
        </Show>
    }
}

/// "Last backup or export: …" in Settings' "Your mail" panel.
#[component]
pub fn LastExport() -> impl IntoView {
    let model = expect_context::<Model>();
    view! {
        <p class="hint last-export">
            {move || match model.last_export.get() {
                Some(ms) => format!("Last backup or export: {}.", long_date(ms)),
                None => "No backup or export from this browser yet.".to_string(),
            }}
        </p>
    }
}
