//! The export panel of Settings ("Export all mail (mbox)", "Export this account (mbox)") and
//! the export's status (progress with Cancel, how it ended), also shown beside the search's
//! "Export these messages (mbox)". The model does the work.

use leptos::prelude::*;

use crate::model::{ExportState, Model};
use crate::store::Scope;
use crate::views::backup::BackupControls;
use crate::views::disk_copy::DiskCopyControls;
use crate::views::import::ImportControls;
use crate::views::safety::LastExport;

#[component]
pub fn ExportPanel() -> impl IntoView {
    let model = expect_context::<Model>();
    let account = move || model.account.get().map(|a| a.id);
    let export_account = move |_| {
        if let Some(id) = account() {
            model.start_export(Scope::Account(id));
        }
    };
    view! {
        <section class="card export" aria-label="Your mail">
            <h2>"Your mail"</h2>
            <p class="hint">
                "Save a copy of the mail stored in this browser as an mbox file (mboxrd), each message exactly as the server sent it. Mail programs such as Thunderbird and mutt open it."
            </p>
            <div class="actions">
                <button
                    type="button"
                    class="secondary"
                    disabled=move || model.export.get().running()
                    on:click=move |_| model.start_export(Scope::All)
                >
                    "Export all mail (mbox)"
                </button>
                <button
                    type="button"
                    class="secondary"
                    disabled=move || model.export.get().running()
                    on:click=export_account
                >
                    "Export this account (mbox)"
                </button>
            </div>
            <ExportStatus />
            <LastExport />
            <ImportControls />
            <DiskCopyControls />
            <BackupControls />
        </section>
    }
}

/// Progress ("Exporting k of N", Cancel) and how the export ended.
#[component]
pub fn ExportStatus() -> impl IntoView {
    let model = expect_context::<Model>();
    view! {
        <div role="status" aria-label="Export status">
            {move || match model.export.get() {
                ExportState::Idle => ().into_any(),
                ExportState::Starting => {
                    view! { <p class="progress-text">"Preparing the export…"</p> }.into_any()
                }
                ExportState::Running { done, total } => {
                    view! {
                        <div class="sync running">
                            <span class="progress-text">
                                {format!("Exporting {done} of {total}")}
                            </span>
                            <progress max=total value=done aria-label="Export progress"></progress>
                            <button
                                type="button"
                                class="secondary"
                                on:click=move |_| model.cancel_export()
                            >
                                "Cancel export"
                            </button>
                        </div>
                    }
                        .into_any()
                }
                ExportState::Done(text) => view! { <p class="banner ok">{text}</p> }.into_any(),
                ExportState::Failed(text) => view! { <p class="banner error">{text}</p> }.into_any(),
            }}
        </div>
    }
}
