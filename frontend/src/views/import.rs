//! The import controls of Settings' "Your mail" panel ("Import mail (mbox or .eml)", "Import a
//! Maildir folder") and the import's status. The model does the work.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::import::Picked;
use crate::model::{ImportState, Model};

/// The files an `<input type=file>` holds, with their paths inside a picked folder.
fn picked(event: &leptos::ev::Event) -> Vec<Picked> {
    let Some(input) = event
        .target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
    else {
        return Vec::new();
    };
    let Some(list) = input.files() else {
        return Vec::new();
    };
    let files = (0..list.length())
        .filter_map(|i| list.get(i))
        .map(|file| {
            let relative = js_sys::Reflect::get(&file, &"webkitRelativePath".into())
                .ok()
                .and_then(|p| p.as_string())
                .filter(|p| !p.is_empty());
            let path = relative.unwrap_or_else(|| file.name());
            Picked { file, path }
        })
        .collect();
    // The same files can be picked again (after fixing one, or to see nothing is added twice).
    input.set_value("");
    files
}

#[component]
pub fn ImportControls() -> impl IntoView {
    let model = expect_context::<Model>();
    let running = move || model.import.get().running();
    let on_files = move |ev: leptos::ev::Event| model.start_import(picked(&ev));
    view! {
        <h3>"Import"</h3>
        <p class="hint">
            "Import mail saved by another program: mbox files (from Thunderbird, mutt or an export), single .eml messages, or a Maildir folder. Imported mail is kept in this browser under Imported; nothing is added twice."
        </p>
        <div class="actions">
            <label class="button secondary" class:disabled=running>
                "Import mail (mbox or .eml)"
                <input
                    type="file"
                    class="visually-hidden"
                    multiple
                    disabled=running
                    on:change=on_files
                />
            </label>
            <label class="button secondary" class:disabled=running>
                "Import a Maildir folder"
                <input
                    type="file"
                    class="visually-hidden"
                    prop:webkitdirectory=true
                    disabled=running
                    on:change=on_files
                />
            </label>
        </div>
        <ImportStatus />
    }
}

/// Progress ("Importing: 12 of 40 MB", Cancel) and how the import ended.
#[component]
fn ImportStatus() -> impl IntoView {
    let model = expect_context::<Model>();
    view! {
        <div role="status" aria-label="Import status">
            {move || match model.import.get() {
                ImportState::Idle => ().into_any(),
                ImportState::Running { read, total } => {
                    view! {
                        <div class="sync running">
                            <span class="progress-text">
                                {format!(
                                    "Importing: {} of {} MB",
                                    read >> 20,
                                    total.div_ceil(1 << 20),
                                )}
                            </span>
                            <progress
                                max=total as f64
                                value=read as f64
                                aria-label="Import progress"
                            ></progress>
                            <button
                                type="button"
                                class="secondary"
                                on:click=move |_| model.cancel_import()
                            >
                                "Cancel import"
                            </button>
                        </div>
                    }
                        .into_any()
                }
                ImportState::Done(text) => view! { <p class="banner ok">{text}</p> }.into_any(),
                ImportState::Failed(text) => view! { <p class="banner error">{text}</p> }.into_any(),
            }}
        </div>
    }
}
