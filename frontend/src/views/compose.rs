//! The compose form (To, Cc, Bcc, Subject, the text, attachments; Send, Save draft, Close,
//! Discard) and the reader's Reply / Reply all / Forward buttons. Everything it does goes
//! through [`Outgoing`]; the draft saves itself while the user types.

use std::sync::Arc;

use js_sys::{Array, Function, Promise, Reflect, Uint8Array};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::compose::{Attachment, Draft};
use crate::mail::human_size;
use crate::model::{Answer, Outgoing, Saved};

/// The files of a file input, read whole (name, type, bytes).
async fn read_files(input: JsValue) -> Vec<Attachment> {
    let files = Reflect::get(&input, &"files".into()).unwrap_or(JsValue::NULL);
    if files.is_null() || files.is_undefined() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for file in Array::from(&files).iter() {
        let text = |k: &str| {
            Reflect::get(&file, &k.into())
                .ok()
                .and_then(|v| v.as_string())
                .unwrap_or_default()
        };
        let Some(read) = Reflect::get(&file, &"arrayBuffer".into())
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok())
        else {
            continue;
        };
        let Ok(promise) = read.call0(&file) else {
            continue;
        };
        let Ok(buffer) = JsFuture::from(Promise::from(promise)).await else {
            continue;
        };
        let mime = text("type");
        out.push(Attachment {
            name: text("name"),
            mime: if mime.is_empty() {
                "application/octet-stream".into()
            } else {
                mime
            },
            bytes: Uint8Array::new(&buffer).to_vec(),
        });
    }
    out
}

/// A text field of the form bound to one field of the draft.
#[component]
fn Field(
    id: &'static str,
    label: &'static str,
    read: fn(&Draft) -> String,
    write: fn(&mut Draft, String),
    #[prop(optional)] placeholder: &'static str,
) -> impl IntoView {
    let out = expect_context::<Outgoing>();
    let value = move || {
        out.composing
            .with(|c| c.as_ref().map(|c| read(&c.draft)).unwrap_or_default())
    };
    view! {
        <div class="compose-field">
            <label for=id>{label}</label>
            <input
                id=id
                type="text"
                autocomplete="off"
                spellcheck="false"
                placeholder=placeholder
                prop:value=value
                on:input=move |ev| {
                    let typed = event_target_value(&ev);
                    out.edit(move |d| write(d, typed));
                }
            />
        </div>
    }
}

#[component]
pub fn ComposeForm() -> impl IntoView {
    let out = expect_context::<Outgoing>();
    let body = move || {
        out.composing
            .with(|c| c.as_ref().map(|c| c.draft.body.clone()).unwrap_or_default())
    };
    let attachments = move || {
        out.composing.with(|c| {
            c.as_ref()
                .map(|c| {
                    let mut list: Vec<(usize, Attachment)> =
                        c.draft.attachments.iter().cloned().enumerate().collect();
                    if let Some(f) = &c.draft.forwarded {
                        list.push((usize::MAX, f.clone()));
                    }
                    list
                })
                .unwrap_or_default()
        })
    };
    let on_files = move |ev: leptos::ev::Event| {
        let Some(input) = ev.target().map(JsValue::from) else {
            return;
        };
        spawn_local(async move {
            let files = read_files(input.clone()).await;
            // The same file can be chosen again after a removal.
            let _ = Reflect::set(&input, &"value".into(), &"".into());
            out.edit(move |d| d.attachments.extend(files));
        });
    };
    let saved = move || {
        out.composing.with(|c| match c.as_ref().map(|c| &c.saved) {
            Some(Saved::Saved) => "Draft saved".to_string(),
            Some(Saved::Pending) => "Saving draft…".to_string(),
            Some(Saved::Failed(e)) => format!("The draft could not be saved: {e}"),
            _ => String::new(),
        })
    };
    let error = move || {
        out.composing
            .with(|c| c.as_ref().and_then(|c| c.error.clone()))
    };
    let from = move || {
        out.account.with(|a| {
            a.as_ref().map(|a| match &a.sending {
                Some(s) if s.name.is_empty() => s.address.clone(),
                Some(s) => format!("{} <{}>", s.name, s.address),
                None => format!("{} (set up sending in Settings)", a.email),
            })
        })
    };
    view! {
        <div class="compose-backdrop">
            <form
                class="compose card"
                aria-label="New message"
                on:submit=move |ev| {
                    ev.prevent_default();
                    out.send();
                }
            >
                <header class="compose-head">
                    <h2>"New message"</h2>
                    <span class="compose-saved" role="status" aria-live="polite">
                        {saved}
                    </span>
                </header>
                <p class="compose-from">
                    <span>"From"</span>
                    " "
                    {from}
                </p>
                <Field
                    id="c-to"
                    label="To"
                    read=|d| d.to.clone()
                    write=|d, v| d.to = v
                    placeholder="name@example.org, …"
                />
                <Field id="c-cc" label="Cc" read=|d| d.cc.clone() write=|d, v| d.cc = v />
                <Field id="c-bcc" label="Bcc" read=|d| d.bcc.clone() write=|d, v| d.bcc = v />
                <Field
                    id="c-subject"
                    label="Subject"
                    read=|d| d.subject.clone()
                    write=|d, v| d.subject = v
                />
                <label for="c-body" class="visually-hidden">
                    "Message"
                </label>
                <textarea
                    id="c-body"
                    class="compose-body"
                    prop:value=body
                    on:input=move |ev| {
                        let typed = event_target_value(&ev);
                        out.edit(move |d| d.body = typed);
                    }
                ></textarea>
                <ul class="attachments" aria-label="Attachments">
                    {move || {
                        attachments()
                            .into_iter()
                            .map(|(i, a)| {
                                let label = format!("Remove {}", a.name);
                                view! {
                                    <li>
                                        <span class="att-name">{a.name.clone()}</span>
                                        <span class="att-size">
                                            {human_size(a.bytes.len() as u64)}
                                        </span>
                                        <button
                                            type="button"
                                            class="link"
                                            aria-label=label
                                            on:click=move |_| {
                                                out.edit(move |d| {
                                                    if i == usize::MAX {
                                                        d.forwarded = None;
                                                    } else if i < d.attachments.len() {
                                                        d.attachments.remove(i);
                                                    }
                                                });
                                            }
                                        >
                                            "Remove"
                                        </button>
                                    </li>
                                }
                            })
                            .collect_view()
                    }}
                </ul>
                {move || {
                    error()
                        .map(|e| {
                            view! {
                                <p class="banner error" role="alert">
                                    {e}
                                </p>
                            }
                        })
                }}
                <div class="actions compose-actions">
                    <button type="submit" class="primary">
                        "Send"
                    </button>
                    <label class="button secondary attach">
                        "Attach files"
                        <input type="file" multiple class="visually-hidden" on:change=on_files />
                    </label>
                    <button
                        type="button"
                        class="secondary"
                        on:click=move |_| spawn_local(out.save())
                    >
                        "Save draft"
                    </button>
                    <button type="button" class="secondary" on:click=move |_| out.close()>
                        "Close"
                    </button>
                    <button type="button" class="danger" on:click=move |_| out.discard()>
                        "Discard"
                    </button>
                </div>
            </form>
        </div>
    }
}

/// Reply, Reply all, Forward and Forward as attachment for the message whose bytes are `raw`.
#[component]
pub fn AnswerButtons(raw: Arc<Vec<u8>>) -> impl IntoView {
    let Some(out) = use_context::<Outgoing>() else {
        return ().into_any();
    };
    let button = move |label: &'static str, how: Answer| {
        let raw = raw.clone();
        view! {
            <button type="button" class="secondary" on:click=move |_| out.answer(how, &raw)>
                {label}
            </button>
        }
    };
    view! {
        {button("Reply", Answer::Reply)}
        {button("Reply all", Answer::ReplyAll)}
        {button("Forward", Answer::Forward)}
        {button("Forward as attachment", Answer::ForwardAttached)}
    }
    .into_any()
}

/// "New message".
#[component]
pub fn NewMessageButton() -> impl IntoView {
    let Some(out) = use_context::<Outgoing>() else {
        return ().into_any();
    };
    view! {
        <button type="button" class="primary compose-new" on:click=move |_| out.compose_new()>
            "New message"
        </button>
    }
    .into_any()
}
