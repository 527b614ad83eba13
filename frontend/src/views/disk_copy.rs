//! The live copy on disk in Settings' "Your mail" panel: "Pick a folder", the folder and how
//! its copy stands, "Allow Postbag to write to <folder>" when the browser asks again after a
//! restart, "Stop copying". The model does the work (`model/disk_copy.rs`).

use leptos::prelude::*;

use crate::disk_copy::fs::picker_available;
use crate::model::{CopyStatus, DiskCopyState, Model};

fn count(n: u32) -> String {
    match n {
        1 => "1 message".to_string(),
        n => format!("{n} messages"),
    }
}

/// What the status line says.
fn status_text(state: &DiskCopyState) -> String {
    match state {
        DiskCopyState::Off => "Off: mail is kept in this browser only.".to_string(),
        DiskCopyState::Failed(cause) => format!("Not copying: {cause}."),
        DiskCopyState::On { folder, status } => match status {
            CopyStatus::Checking => format!("Opening “{folder}”…"),
            CopyStatus::NeedsPermission => format!(
                "The browser asks again whether Postbag may write to “{folder}”. Until you allow \
                 it, nothing is deleted on the server."
            ),
            CopyStatus::CatchingUp { done, total } => {
                format!("Writing mail into “{folder}”: {done} of {total}.")
            }
            CopyStatus::UpToDate => {
                format!("Every message is also written to “{folder}” (Maildir).")
            }
            CopyStatus::Behind { missing, cause } => format!(
                "{} not yet in “{folder}”: {cause}. {} on the server until the next sync \
                 writes {}.",
                count(*missing),
                if *missing == 1 {
                    "It stays"
                } else {
                    "They stay"
                },
                if *missing == 1 { "it" } else { "them" },
            ),
            CopyStatus::Blocked { cause } => format!(
                "Nothing can be written to “{folder}”: {cause}. Mail stays on the server until \
                 it can; pick the folder again or stop copying."
            ),
        },
    }
}

#[component]
pub fn DiskCopyControls() -> impl IntoView {
    let model = expect_context::<Model>();
    let on = move || matches!(model.disk_copy.get(), DiskCopyState::On { .. });
    let asks = move || {
        matches!(
            model.disk_copy.get(),
            DiskCopyState::On {
                status: CopyStatus::NeedsPermission,
                ..
            }
        )
    };
    let folder = move || match model.disk_copy.get() {
        DiskCopyState::On { folder, .. } => folder,
        _ => String::new(),
    };
    if !picker_available() {
        return view! {
            <p class="hint disk-copy">
                "A live copy in a folder on this computer needs the File System Access API (desktop Chrome or Edge)."
            </p>
        }
            .into_any();
    }
    view! {
        <div class="disk-copy">
            <h3>"Copy on disk"</h3>
            <p class="hint">
                "Write every message into a folder you pick, as a Maildir that mail programs read, each file exactly as the server sent it. While the copy is on, a message is deleted on the server only once it is in the folder too."
            </p>
            <p role="status" aria-label="Disk copy status">
                {move || status_text(&model.disk_copy.get())}
            </p>
            <div class="actions">
                <Show when=asks>
                    <button type="button" on:click=move |_| model.allow_disk_folder()>
                        {move || format!("Allow Postbag to write to {}", folder())}
                    </button>
                </Show>
                <button type="button" class="secondary" on:click=move |_| model.pick_disk_folder()>
                    {move || if on() { "Pick another folder" } else { "Pick a folder" }}
                </button>
                <Show when=on>
                    <button type="button" class="link" on:click=move |_| model.stop_disk_copy()>
                        "Stop copying"
                    </button>
                </Show>
            </div>
        </div>
    }
        .into_any()
}
