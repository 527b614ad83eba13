//! The reader: decoded headers, the body (text, or sanitised HTML in a sandboxed iframe),
//! attachments saved through a Blob, forwarded messages, and local actions.
//!
//! Every part is reachable: the body blocks in order, the plain-text alternative of an HTML
//! body ("Show plain text"), every other part as an attachment, the whole message as `.eml`.

use js_sys::{Array, Uint8Array};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

use crate::mail::sanitize::{IFRAME_SANDBOX, iframe_document, sanitize};
use crate::mail::view::{Block, InlineImage};
use crate::mail::{Attachment, MessageView, human_size};
use crate::model::Focus;
use crate::model::keymap::Command;
use crate::model::{Model, RestState};
use crate::store::MessageKey;
use crate::views::compose::AnswerButtons;
use crate::views::conversation::ConversationOthers;
use crate::views::long_date;
use crate::views::search::marked_text;
use crate::views::shortcuts::move_focus;

/// Offers `bytes` as a download named `name` (a Blob URL, revoked right after the click).
fn save(name: &str, mime: &str, bytes: &[u8]) {
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(mime);
    let parts = Array::of1(&Uint8Array::from(bytes));
    let Ok(blob) = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &opts) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    let doc = web_sys::window().unwrap().document().unwrap();
    if let Ok(a) = doc.create_element("a") {
        let a: web_sys::HtmlAnchorElement = a.unchecked_into();
        a.set_href(&url);
        a.set_download(name);
        a.click();
    }
    let _ = web_sys::Url::revoke_object_url(&url);
}

/// A file name for the whole message: its subject, made safe for any file system.
fn eml_name(subject: &str) -> String {
    let stem = crate::export::safe_stem(subject, " -_.,()", 80);
    let stem = stem.trim().trim_matches('.');
    if stem.is_empty() {
        "message.eml".into()
    } else {
        format!("{stem}.eml")
    }
}

pub(super) fn attachments_view(list: Vec<Attachment>) -> impl IntoView {
    (!list.is_empty()).then(|| {
        view! {
            <ul class="attachments" aria-label="Attachments">
                {list
                    .into_iter()
                    .map(|a| {
                        let label = format!("Save {}", a.name);
                        view! {
                            <li>
                                <span class="att-name">{a.name.clone()}</span>
                                <span class="att-size">{human_size(a.bytes.len() as u64)}</span>
                                <button
                                    type="button"
                                    class="link"
                                    aria-label=label
                                    on:click=move |_| save(&a.name, &a.mime, &a.bytes)
                                >
                                    "Save"
                                </button>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        }
    })
}

/// Images the sanitiser left out (the document's image budget was spent), as attachments.
fn omitted_view(omitted: &[String], images: &[InlineImage]) -> impl IntoView + use<> {
    let list: Vec<Attachment> = images
        .iter()
        .filter(|i| omitted.contains(&i.cid))
        .map(|i| Attachment {
            name: format!("{}.{}", i.cid, i.mime.rsplit('/').next().unwrap_or("img")),
            mime: i.mime.to_string(),
            bytes: i.bytes.clone(),
        })
        .collect();
    (!list.is_empty()).then(|| {
        view! {
            <p class="banner warn">
                "Some inline images are not shown: this message repeats them more often than one page can hold. They are listed here."
            </p>
            {attachments_view(list)}
        }
    })
}

/// One HTML block: sanitised in the parser frame, shown in a sandboxed iframe.
fn html_view(html: String, images: Vec<InlineImage>, allow_remote: RwSignal<bool>) -> AnyView {
    let source = (html, images);
    let clean = LocalResource::new(move || {
        let (html, images) = source.clone();
        async move { (sanitize(&html, &images).await, images) }
    });
    (move || match clean.get() {
        None => view! { <p class="muted">"Preparing the message…"</p> }.into_any(),
        Some((Err(e), _)) => view! {
            <p class="banner warn">
                {format!(
                    "The HTML part is not shown: {e}. Its plain text, if it has one, is under \"Show plain text\"; the whole message can be saved as .eml.",
                )}
            </p>
        }
        .into_any(),
        Some((Ok(c), images)) => {
            let doc_html = c.html.clone();
            let doc = move || iframe_document(&doc_html, allow_remote.get());
            view! {
                {c
                    .remote
                    .then(|| {
                        view! {
                            <div class="remote-note">
                                {move || {
                                    if allow_remote.get() {
                                        view! {
                                            <span>"Remote content allowed for this message."</span>
                                        }
                                            .into_any()
                                    } else {
                                        view! {
                                            <span>
                                                "Remote images and other remote content are blocked to protect your privacy."
                                            </span>
                                            <button
                                                type="button"
                                                class="secondary"
                                                on:click=move |_| allow_remote.set(true)
                                            >
                                                "Load remote content"
                                            </button>
                                        }
                                            .into_any()
                                    }
                                }}
                            </div>
                        }
                    })}
                {omitted_view(&c.omitted, &images)}
                <iframe
                    class="html-body"
                    title="Message body"
                    sandbox=IFRAME_SANDBOX
                    referrerpolicy="no-referrer"
                    srcdoc=doc
                ></iframe>
            }
            .into_any()
        }
    })
    .into_any()
}

fn blocks_view(v: &MessageView, allow_remote: RwSignal<bool>) -> AnyView {
    v.body
        .iter()
        .map(|b| match b {
            Block::Text(t) => {
                view! { <div class="text-body">{marked_text(t.clone())}</div> }.into_any()
            }
            Block::Html(h) => html_view(h.clone(), v.inline_images.clone(), allow_remote),
        })
        .collect_view()
        .into_any()
}

pub(super) fn body_view(v: &MessageView, allow_remote: RwSignal<bool>) -> AnyView {
    if v.body.is_empty() {
        return view! { <p class="muted">"This message has no text."</p> }.into_any();
    }
    if !v.has_html() || v.plain.is_empty() {
        return blocks_view(v, allow_remote);
    }
    let show_plain = RwSignal::new(false);
    let plain = v.plain.clone();
    let rich = blocks_view(v, allow_remote);
    view! {
        <div class="body-switch">
            <button
                type="button"
                class="link"
                aria-pressed=move || show_plain.get().to_string()
                on:click=move |_| show_plain.update(|p| *p = !*p)
            >
                {move || if show_plain.get() { "Show formatted" } else { "Show plain text" }}
            </button>
        </div>
        <div hidden=move || {
            !show_plain.get()
        }>
            {plain
                .into_iter()
                .map(|t| view! { <div class="text-body">{marked_text(t)}</div> })
                .collect_view()}
        </div>
        <div class="rich-body" hidden=move || show_plain.get()>
            {rich}
        </div>
    }
    .into_any()
}

fn forwarded_view(list: Vec<MessageView>) -> AnyView {
    list.into_iter()
        .map(|f| {
            let allow = RwSignal::new(false);
            view! {
                <section class="forwarded" aria-label="Forwarded message">
                    <h3>"Forwarded message"</h3>
                    <dl class="headers">
                        <dt>"From"</dt>
                        <dd>{f.from.clone()}</dd>
                        <dt>"Subject"</dt>
                        <dd>{f.subject.clone()}</dd>
                        {f
                            .date_ms
                            .map(|d| {
                                view! {
                                    <dt>"Date"</dt>
                                    <dd>{long_date(d)}</dd>
                                }
                            })}
                    </dl>
                    {body_view(&f, allow)}
                    {attachments_view(f.attachments.clone())}
                    {forwarded_view(f.forwarded.clone())}
                </section>
            }
            .into_any()
        })
        .collect_view()
        .into_any()
}

/// A message stored headers-first (the account's size limit): the reader says plainly that
/// only its start is here, with the whole's size, and offers "Download the rest".
#[component]
fn PartialBanner(key: MessageKey) -> impl IntoView {
    let model = expect_context::<Model>();
    let whole = {
        let key = key.clone();
        move || model.partial_of(&key)
    };
    move || {
        let size = whole()?;
        let asked = {
            let key = key.clone();
            move || model.rest.with(|r| r.get(&key) == Some(&RestState::Asked))
        };
        let failed = {
            let key = key.clone();
            move || {
                model.rest.with(|r| match r.get(&key) {
                    Some(RestState::Failed(why)) => Some(why.clone()),
                    _ => None,
                })
            }
        };
        let ask = {
            let key = key.clone();
            move |_| model.download_rest(key.clone())
        };
        let asked_label = asked.clone();
        Some(view! {
            <div class="banner partial" role="note" aria-label="Partial message">
                <p>
                    {format!(
                        "Only the start of this message is here (its headers and first lines): the whole message is {} on the server.",
                        human_size(size),
                    )}
                </p>
                <button type="button" on:click=ask disabled=asked>
                    {move || {
                        if asked_label() { "Downloading the rest…" } else { "Download the rest" }
                    }}
                </button>
                {move || {
                    failed()
                        .map(|why| {
                            view! {
                                <p class="error" role="alert">
                                    {why}
                                </p>
                            }
                        })
                }}
            </div>
        })
    }
}

#[component]
pub fn Reader() -> impl IntoView {
    let model = expect_context::<Model>();
    move || {
        // The model loads the selection (`model/reading.rs`); while the next one loads, the
        // one shown stays.
        let Some(o) = model.open.get().flatten() else {
            return view! {
                <div class="reader empty">
                    <p>"Select a message to read it."</p>
                </div>
            }
            .into_any();
        };
        // Remote content is allowed per message: every message opens blocked.
        let allow_remote = RwSignal::new(false);
        let uidl = o.key.clone();
        let (u1, u2, u3) = (uidl.clone(), uidl.clone(), uidl.clone());
        // In Trash: Restore (to Inbox), and Delete deletes for good.
        let in_trash = {
            let key = uidl.clone();
            move || {
                model.messages.track();
                model.in_trash(&key)
            }
        };
        let raw = o.raw.clone();
        let subject = o
            .view
            .as_ref()
            .map(|v| v.subject.clone())
            .unwrap_or_default();
        let save_eml = move |_| save(&eml_name(&subject), "message/rfc822", &raw);
        let actions = view! {
            <div class="reader-actions">
                <button
                    type="button"
                    class="secondary back pb-back"
                    on:click=move |_| model.selected.set(None)
                >
                    "Back"
                </button>
                <button
                    type="button"
                    class="secondary"
                    on:click=move |_| {
                        let u = u1.clone();
                        spawn_local(async move {
                            model.set_read(&u, false).await;
                            model.selected.set(None);
                        });
                    }
                >
                    "Mark unread"
                </button>
                <AnswerButtons raw=o.raw.clone() />
                <button type="button" class="secondary" on:click=save_eml>
                    "Save as .eml"
                </button>
                <Show when=in_trash.clone()>
                    <button
                        type="button"
                        class="secondary"
                        on:click={
                            let u3 = u3.clone();
                            move |_| {
                                let u = u3.clone();
                                spawn_local(async move {
                                    model.move_to(vec![u], crate::store::RESTORED_TO.into()).await;
                                });
                            }
                        }
                    >
                        "Restore"
                    </button>
                </Show>
                <button
                    type="button"
                    class="danger"
                    on:click=move |_| {
                        let u = u2.clone();
                        spawn_local(async move {
                            let to = if model.selected.get_untracked().as_ref() == Some(&u) {
                                model.run_command(Command::Delete, None).await
                            } else {
                                model.delete(&u).await;
                                Focus::Stay
                            };
                            move_focus(model, to, None).await;
                        });
                    }
                >
                    {move || if in_trash() { "Delete forever" } else { "Delete" }}
                </button>
            </div>
        };
        let Some(v) = o.view else {
            return view! {
                <article class="reader" aria-label="Message">
                    {actions}
                    <p class="banner error">
                        "This message could not be read as mail. Its bytes are kept as they arrived: save it as .eml to look at them."
                    </p>
                </article>
            }
            .into_any();
        };
        let whole = {
            let key = o.key.clone();
            move || model.partial_of(&key)
        };
        let here = o.raw.len() as u64;
        view! {
            <article class="reader" aria-label="Message">
                {actions}
                <PartialBanner key=o.key.clone() />
                <h2 class="subject">
                    {if v.subject.is_empty() {
                        "(no subject)".to_string()
                    } else {
                        v.subject.clone()
                    }}
                </h2>
                <ConversationOthers open=o.key.clone() />
                <dl class="headers">
                    <dt>"From"</dt>
                    <dd>
                        {v.from.clone()}
                        {(!v.from_addr.is_empty() && v.from_addr != v.from)
                            .then(|| {
                                view! { <span class="addr">{format!("<{}>", v.from_addr)}</span> }
                            })}
                    </dd>
                    <dt>"To"</dt>
                    <dd>{v.to.clone()}</dd>
                    {(!v.cc.is_empty())
                        .then(|| {
                            view! {
                                <dt>"Cc"</dt>
                                <dd>{v.cc.clone()}</dd>
                            }
                        })}
                    {v
                        .date_ms
                        .map(|d| {
                            view! {
                                <dt>"Date"</dt>
                                <dd>{long_date(d)}</dd>
                            }
                        })}
                    <dt>"Size"</dt>
                    <dd>
                        {move || match whole() {
                            Some(w) => format!("{} here of {}", human_size(here), human_size(w)),
                            None => human_size(here),
                        }}
                    </dd>
                </dl>
                {attachments_view(v.attachments.clone())}
                {body_view(&v, allow_remote)}
                {forwarded_view(v.forwarded.clone())}
            </article>
        }
        .into_any()
    }
}
