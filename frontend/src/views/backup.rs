//! Backup and restore in Settings' "Your mail" panel ("Back up everything", "Restore from a
//! backup…"), the same restore on the setup screen of an empty Postbag (a new browser or
//! profile), and their status (progress with Cancel, how it ended). The model does the work.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::backup::Pass;
use crate::model::{BackupState, Model};

/// The file an `<input type=file>` holds, if any; the input is emptied so the same file can be
/// picked again (after a refusal, with the right passphrase).
fn picked(event: &leptos::ev::Event) -> Option<web_sys::File> {
    let input = event
        .target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())?;
    let file = input.files().and_then(|list| list.get(0));
    input.set_value("");
    file
}

/// The controls of Settings' "Your mail" panel.
#[component]
pub fn BackupControls() -> impl IntoView {
    let model = expect_context::<Model>();
    view! {
        <h3>"Backup"</h3>
        <p class="hint">
            "One file with everything Postbag keeps in this browser: accounts (a remembered password stays encrypted under your passphrase), all mail with its read marks, imported mail, drafts, the outbox and sent mail, settings, and which messages were already downloaded. Restored into an empty Postbag (a new browser or profile), a sync downloads nothing twice."
        </p>
        <div class="actions">
            <button
                type="button"
                class="secondary"
                disabled=move || model.backup.get().running()
                on:click=move |_| model.start_backup()
            >
                "Back up everything"
            </button>
        </div>
        <RestoreControls />
        <BackupStatus />
    }
}

/// The setup screen's offer while no account exists: restore a backup instead of setting up.
#[component]
pub fn RestorePanel() -> impl IntoView {
    view! {
        <section class="card backup" aria-label="Restore">
            <h2>"Restore from a backup"</h2>
            <p class="hint">
                "Made a backup in another browser? Restore it here instead of setting up: accounts, mail, read marks, drafts and settings come back, and a sync downloads nothing twice."
            </p>
            <RestoreControls />
            <BackupStatus />
        </section>
    }
}

/// The optional passphrase and the file picker that starts a restore.
#[component]
fn RestoreControls() -> impl IntoView {
    let model = expect_context::<Model>();
    let passphrase = RwSignal::new(String::new());
    let running = move || model.backup.get().running();
    let on_file = move |ev: leptos::ev::Event| {
        if let Some(file) = picked(&ev) {
            model.start_restore(file, passphrase.get_untracked());
        }
    };
    view! {
        <p class="hint">
            "A restore writes only into an empty Postbag, and checks the whole file first: a damaged, cut or newer backup is refused and nothing here changes."
        </p>
        // One restore form is shown at a time (Settings, or the setup screen of an empty
        // Postbag), so the id is unique.
        <div class="field">
            <label for="restore-passphrase">
                "Passphrase of the remembered password (optional: checked before restoring)"
            </label>
            <input
                id="restore-passphrase"
                type="password"
                autocomplete="off"
                bind:value=passphrase
            />
        </div>
        <div class="actions">
            <label class="button secondary" class:disabled=running>
                "Restore from a backup…"
                <input
                    type="file"
                    class="visually-hidden"
                    accept=".postbag"
                    disabled=running
                    on:change=on_file
                />
            </label>
        </div>
    }
}

/// Progress ("Backing up k of N records", "Checking the backup: x of y MB", Cancel) and how it
/// ended.
#[component]
fn BackupStatus() -> impl IntoView {
    let model = expect_context::<Model>();
    let mb = |bytes: u64| format!("{:.1}", bytes as f64 / 1e6);
    view! {
        <div role="status" aria-label="Backup status">
            {move || match model.backup.get() {
                BackupState::Idle => ().into_any(),
                BackupState::Starting => {
                    view! { <p class="progress-text">"Preparing…"</p> }.into_any()
                }
                BackupState::BackingUp { done, total } => {
                    running(
                            model,
                            format!("Backing up {done} of {total} records"),
                            done as f64,
                            total as f64,
                            "Cancel backup",
                        )
                        .into_any()
                }
                BackupState::Restoring { pass, read, total } => {
                    let text = match pass {
                        Pass::Checking => {
                            format!("Checking the backup: {} of {} MB", mb(read), mb(total))
                        }
                        Pass::Writing => format!("Restoring: {} of {} MB", mb(read), mb(total)),
                    };
                    running(model, text, read as f64, total as f64, "Cancel restore").into_any()
                }
                BackupState::Done(text) => view! { <p class="banner ok">{text}</p> }.into_any(),
                BackupState::Restored(text) => {
                    view! {
                        <p class="banner ok">{text}</p>
                        <button type="button" on:click=move |_| model.open_restored()>
                            "Open the restored mail"
                        </button>
                    }
                        .into_any()
                }
                BackupState::Failed(text) => view! { <p class="banner error">{text}</p> }.into_any(),
            }}
        </div>
    }
}

/// A running backup or restore: its words, a progress bar and Cancel.
fn running(
    model: Model,
    text: String,
    value: f64,
    max: f64,
    cancel: &'static str,
) -> impl IntoView {
    view! {
        <div class="sync running">
            <span class="progress-text">{text}</span>
            <progress max=max value=value aria-label="Backup progress"></progress>
            <button type="button" class="secondary" on:click=move |_| model.cancel_backup()>
                {cancel}
            </button>
        </div>
    }
}
