//! The rest of a conversation in the reader: its other messages in order, each collapsed to a
//! line (sender, date, snippet) and opened on a click; the message open stays expanded below.

use leptos::prelude::*;

use super::reader::{attachments_view, body_view};
use crate::model::Model;
use crate::store::{MessageKey, Summary};
use crate::views::short_date;

#[component]
pub fn ConversationOthers(open: MessageKey) -> impl IntoView {
    let model = expect_context::<Model>();
    // Rendered anew only when the conversation's messages change, not when one is marked
    // read (opening one does): an opened message stays open.
    let others = Memo::new(move |_| {
        let all = model.conversation_of(&open);
        let total = all.len();
        let list: Vec<Summary> = all
            .into_iter()
            .filter(|m| (m.account.as_str(), m.uidl.as_str()) != (open.0.as_str(), open.1.as_str()))
            .map(|m| Summary {
                read: true,
                flagged: false,
                ..m
            })
            .collect();
        (total, list)
    });
    move || {
        let (total, list) = others.get();
        (!list.is_empty()).then(|| {
            view! {
                <section class="conversation" aria-label=format!("Conversation, {total} messages")>
                    {list.into_iter().map(|m| view! { <Collapsed summary=m /> }).collect_view()}
                </section>
            }
        })
    }
}

/// One message of the conversation, loaded only once it is opened.
#[component]
fn Collapsed(summary: Summary) -> impl IntoView {
    let model = expect_context::<Model>();
    let opened = RwSignal::new(false);
    let key: MessageKey = (summary.account.clone(), summary.uidl.clone());
    let from = if summary.from.is_empty() {
        "(no sender)".to_string()
    } else {
        summary.from.clone()
    };
    view! {
        <details
            class="thread-item"
            on:toggle=move |ev| {
                use wasm_bindgen::JsCast;
                let open = ev
                    .target()
                    .and_then(|t| t.dyn_into::<web_sys::HtmlDetailsElement>().ok())
                    .is_some_and(|d| d.open());
                if open {
                    opened.set(true);
                }
            }
        >
            <summary>
                <span class="from">{from}</span>
                <span class="date">{short_date(summary.date)}</span>
                <span class="snippet">{summary.snippet.clone()}</span>
            </summary>
            <Show when=move || {
                opened.get()
            }>
                {
                    let key = key.clone();
                    let loaded = LocalResource::new(move || model.read_message(key.clone()));
                    move || match loaded.get() {
                        None => view! { <p class="muted">"Opening…"</p> }.into_any(),
                        Some(None) => {
                            view! {
                                <p class="banner error">
                                    "This message could not be read as mail. Open it on its own to save it as .eml."
                                </p>
                            }
                                .into_any()
                        }
                        Some(Some(v)) => {
                            let allow_remote = RwSignal::new(false);
                            view! {
                                {attachments_view(v.attachments.clone())}
                                {body_view(&v, allow_remote)}
                            }
                                .into_any()
                        }
                    }
                }
            </Show>
        </details>
    }
}
