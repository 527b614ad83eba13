//! The reader: decoded headers, the body (text, or sanitised HTML in a sandboxed iframe),
//! attachments saved through a Blob, forwarded messages, and local actions.

use js_sys::{Array, Uint8Array};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

use crate::mail::sanitize::{IFRAME_SANDBOX, has_remote_content, iframe_document, sanitize};
use crate::mail::{Attachment, MessageView, human_size, parse_view};
use crate::model::{Model, store};
use crate::views::long_date;

#[derive(Clone, Debug, PartialEq)]
struct Open {
    uidl: String,
    view: Option<MessageView>,
    raw_len: usize,
}

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

fn attachments_view(list: Vec<Attachment>) -> impl IntoView {
    (!list.is_empty()).then(|| {
        view! {
            <ul class="attachments" aria-label="Attachments">
                {list.into_iter().map(|a| {
                    let label = format!("Save {}", a.name);
                    view! {
                        <li>
                            <span class="att-name">{a.name.clone()}</span>
                            <span class="att-size">{human_size(a.bytes.len() as u64)}</span>
                            <button type="button" class="link" aria-label=label
                                on:click=move |_| save(&a.name, &a.mime, &a.bytes)>"Save"</button>
                        </li>
                    }
                }).collect_view()}
            </ul>
        }
    })
}

fn body_view(v: &MessageView, allow_remote: RwSignal<bool>) -> AnyView {
    if let Some(html) = &v.html {
        let Some(clean) = sanitize(html) else {
            return view! {
                <p class="banner warn">"The HTML sanitiser did not load, so the HTML part is not shown."</p>
                <div class="text-body">{v.text.clone().unwrap_or_default()}</div>
            }
            .into_any();
        };
        let remote = has_remote_content(&clean);
        let inline = v.inline_images.clone();
        let doc = move || iframe_document(&clean, &inline, allow_remote.get());
        return view! {
            {(remote).then(|| view! {
                <div class="remote-note">
                    {move || if allow_remote.get() {
                        view! { <span>"Remote content allowed for this message."</span> }.into_any()
                    } else {
                        view! {
                            <span>"Remote images and other remote content are blocked to protect your privacy."</span>
                            <button type="button" class="secondary" on:click=move |_| allow_remote.set(true)>"Load remote content"</button>
                        }.into_any()
                    }}
                </div>
            })}
            <iframe class="html-body" title="Message body" sandbox=IFRAME_SANDBOX
                referrerpolicy="no-referrer" srcdoc=doc></iframe>
        }
        .into_any();
    }
    view! { <div class="text-body">{v.text.clone().unwrap_or_default()}</div> }.into_any()
}

fn forwarded_view(list: Vec<MessageView>) -> impl IntoView {
    list.into_iter()
        .map(|f| {
            let allow = RwSignal::new(false);
            view! {
                <section class="forwarded" aria-label="Forwarded message">
                    <h3>"Forwarded message"</h3>
                    <dl class="headers">
                        <dt>"From"</dt><dd>{f.from.clone()}</dd>
                        <dt>"Subject"</dt><dd>{f.subject.clone()}</dd>
                        {f.date_ms.map(|d| view! { <dt>"Date"</dt><dd>{long_date(d)}</dd> })}
                    </dl>
                    {body_view(&f, allow)}
                    {attachments_view(f.attachments.clone())}
                </section>
            }
        })
        .collect_view()
}

#[component]
pub fn Reader() -> impl IntoView {
    let model = expect_context::<Model>();
    let open = RwSignal::new(None::<Open>);
    let allow_remote = RwSignal::new(false);

    Effect::new(move |_| {
        let Some(uidl) = model.selected.get() else {
            return open.set(None);
        };
        let Some(account) = model.account.get_untracked() else {
            return;
        };
        allow_remote.set(false);
        spawn_local(async move {
            let raw = store()
                .raw(&account.id, &uidl)
                .await
                .ok()
                .flatten()
                .unwrap_or_default();
            let view = parse_view(&raw);
            open.set(Some(Open {
                uidl: uidl.clone(),
                view,
                raw_len: raw.len(),
            }));
            model.set_read(&uidl, true).await;
        });
    });

    move || {
        let Some(o) = open.get() else {
            return view! { <div class="reader empty"><p>"Select a message to read it."</p></div> }
                .into_any();
        };
        let uidl = o.uidl.clone();
        let (u1, u2) = (uidl.clone(), uidl.clone());
        let Some(v) = o.view else {
            return view! { <div class="reader"><p class="banner error">"This message could not be read."</p></div> }.into_any();
        };
        view! {
            <article class="reader" aria-label="Message">
                <div class="reader-actions">
                    <button type="button" class="secondary back pb-back" on:click=move |_| model.selected.set(None)>"Back"</button>
                    <button type="button" class="secondary" on:click=move |_| {
                        let u = u1.clone();
                        spawn_local(async move { model.set_read(&u, false).await; model.selected.set(None); });
                    }>"Mark unread"</button>
                    <button type="button" class="danger" on:click=move |_| {
                        let u = u2.clone();
                        spawn_local(async move { model.delete(&u).await; });
                    }>"Delete"</button>
                </div>
                <h2 class="subject">{if v.subject.is_empty() { "(no subject)".to_string() } else { v.subject.clone() }}</h2>
                <dl class="headers">
                    <dt>"From"</dt><dd>{v.from.clone()} {(!v.from_addr.is_empty() && v.from_addr != v.from).then(|| view! { <span class="addr">{format!("<{}>", v.from_addr)}</span> })}</dd>
                    <dt>"To"</dt><dd>{v.to.clone()}</dd>
                    {(!v.cc.is_empty()).then(|| view! { <dt>"Cc"</dt><dd>{v.cc.clone()}</dd> })}
                    {v.date_ms.map(|d| view! { <dt>"Date"</dt><dd>{long_date(d)}</dd> })}
                    <dt>"Size"</dt><dd>{human_size(o.raw_len as u64)}</dd>
                </dl>
                {attachments_view(v.attachments.clone())}
                {body_view(&v, allow_remote)}
                {forwarded_view(v.forwarded.clone())}
            </article>
        }
        .into_any()
    }
}
