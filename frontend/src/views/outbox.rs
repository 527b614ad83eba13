//! The folders beside the inbox: Drafts (resume one), Outbox (each message's state, the
//! server's reason per recipient, "Send again" / "Mark as sent" / "Discard") and Sent (read
//! with the reader's model), with the outbox's password prompt and status line.

use crate::views::ErrorBanner;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::mail::{Block, human_size};
use crate::model::{Folder, Model, Outgoing};
use crate::store::{OutboxItem, OutboxState};
use crate::views::folders::{MailFolders, NewFolder};
use crate::views::{long_date, short_date};

/// Inbox, Archive, the user's folders, Trash (`views/folders.rs`) | Drafts | Outbox | Sent,
/// with counts.
#[component]
pub fn Folders() -> impl IntoView {
    let Some(out) = use_context::<Outgoing>() else {
        return ().into_any();
    };
    let model = expect_context::<Model>();
    let tab = move |folder: Folder, label: &'static str, count: Signal<usize>| {
        view! {
            <button
                type="button"
                role="tab"
                class="folder"
                aria-selected=move || (out.folder.get() == folder).to_string()
                class:current=move || out.folder.get() == folder
                on:click=move |_| {
                    out.folder.set(folder);
                    model.show_imported(folder == Folder::Imported);
                }
            >
                {label}
                {move || {
                    (count.get() > 0).then(|| view! { <span class="count">{count.get()}</span> })
                }}
            </button>
        }
    };
    let none = Signal::derive(|| 0);
    let drafts = Signal::derive(move || out.drafts.with(Vec::len));
    let queued = Signal::derive(move || out.queued());
    view! {
        <div class="folders">
            <nav class="folder-tabs" role="tablist" aria-label="Folders">
                <MailFolders />
                {tab(Folder::Drafts, "Drafts", drafts)}
                {tab(Folder::Outbox, "Outbox", queued)}
                {tab(Folder::Sent, "Sent", none)}
                {move || {
                    (model.has_imported.get() || out.folder.get() == Folder::Imported)
                        .then(|| tab(Folder::Imported, "Imported", none))
                }}
            </nav>
            <NewFolder />
        </div>
    }
    .into_any()
}

fn state_text(item: &OutboxItem, sending_now: bool) -> (&'static str, String) {
    if sending_now {
        return ("sending", "Sending…".into());
    }
    match item.state {
        OutboxState::Queued => match (&item.last_error, item.attempts) {
            (None, _) => ("queued", "Waiting to be sent".into()),
            (Some(_), 0) => ("queued", "Waiting to be sent".into()),
            (Some(_), n) => ("queued", format!("Waiting to be sent (attempt {n} failed)")),
        },
        OutboxState::MayHaveBeenSent => (
            "doubt",
            "May have been sent: the connection broke before the server confirmed it".into(),
        ),
        OutboxState::Failed => ("failed", "Not sent".into()),
        OutboxState::PartlySent => ("partly", "Sent, but not to every recipient".into()),
    }
}

#[component]
fn OutboxRow(item: OutboxItem) -> impl IntoView {
    let out = expect_context::<Outgoing>();
    let id = item.id.clone();
    let now = {
        let id = id.clone();
        move || out.sending_now.get().as_deref() == Some(id.as_str())
    };
    let (i1, i2, i3) = (id.clone(), id.clone(), id.clone());
    let state = item.state.clone();
    let it = item.clone();
    let now2 = now.clone();
    view! {
        <li class="out-item" data-state=move || state_text(&it, now2()).0>
            <div class="line1">
                <span class="subject">
                    {if item.subject.is_empty() {
                        "(no subject)".to_string()
                    } else {
                        item.subject.clone()
                    }}
                </span>
                <span class="size">{human_size(item.size)}</span>
            </div>
            <div class="line2">
                <span class="to">"To: "{item.to.clone()}</span>
            </div>
            <p class="out-state" role="status">
                {
                    let it = item.clone();
                    move || state_text(&it, now()).1
                }
            </p>
            {item
                .last_error
                .clone()
                .filter(|_| item.state != OutboxState::PartlySent)
                .map(|e| view! { <p class="out-reason">{e}</p> })}
            // The per-recipient list says more than the sentence when some were taken, or several
            // refused.
            {(item.state == OutboxState::PartlySent || item.refused.len() > 1)
                .then(|| {
                    view! {
                        <ul class="refused" aria-label="Refused recipients">
                            {item
                                .refused
                                .iter()
                                .map(|r| {
                                    view! {
                                        <li>
                                            <strong>{r.address.clone()}</strong>
                                            ": "
                                            {r.reply.clone()}
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                })}
            <div class="actions">
                {match state {
                    OutboxState::MayHaveBeenSent => {
                        view! {
                            <p class="hint">
                                "Check the recipient's copy or your provider's Sent folder before sending it again."
                            </p>
                            <button
                                type="button"
                                class="secondary"
                                on:click=move |_| out.send_again(i1.clone())
                            >
                                "Send again"
                            </button>
                            <button
                                type="button"
                                class="primary"
                                on:click=move |_| out.mark_sent(i2.clone())
                            >
                                "Mark as sent"
                            </button>
                        }
                            .into_any()
                    }
                    OutboxState::Failed => {
                        view! {
                            <button
                                type="button"
                                class="secondary"
                                on:click=move |_| out.send_again(i1.clone())
                            >
                                "Send again"
                            </button>
                            <button
                                type="button"
                                class="danger"
                                on:click=move |_| out.remove(i3.clone())
                            >
                                "Discard"
                            </button>
                        }
                            .into_any()
                    }
                    OutboxState::PartlySent => {
                        view! {
                            <button
                                type="button"
                                class="secondary"
                                on:click=move |_| out.remove(i3.clone())
                            >
                                "Dismiss"
                            </button>
                        }
                            .into_any()
                    }
                    OutboxState::Queued => {
                        view! {
                            <button
                                type="button"
                                class="secondary"
                                on:click=move |_| out.send_again(i1.clone())
                            >
                                "Send now"
                            </button>
                        }
                            .into_any()
                    }
                }}
            </div>
        </li>
    }
}

/// Asks for the sending password when queued mail waits for it.
#[component]
fn SendingPasswordPrompt() -> impl IntoView {
    let out = expect_context::<Outgoing>();
    let value = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let sealed = move || {
        out.account.with(|a| {
            a.as_ref().is_some_and(|a| {
                a.sealed_password.is_some() && a.sending.as_ref().is_none_or(|s| s.same_password)
            })
        })
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let typed = value.get_untracked();
        spawn_local(async move {
            match out.unlock(typed).await {
                Ok(()) => {
                    value.set(String::new());
                    error.set(None);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <form class="prompt card" on:submit=submit aria-label="Password for sending">
            <label>
                {move || {
                    if sealed() {
                        "Passphrase to unlock the saved password"
                    } else {
                        "Password for sending"
                    }
                }} <input type="password" autocomplete="current-password" bind:value=value />
            </label>
            <p class="hint">"Queued messages wait for it. Kept in memory for this session only."</p>
            <ErrorBanner error=error />
            <div class="actions">
                <button type="submit" class="primary">
                    "Unlock and send"
                </button>
                <button
                    type="button"
                    class="secondary"
                    on:click=move |_| out.needs_password.set(false)
                >
                    "Not now"
                </button>
            </div>
        </form>
    }
}

#[component]
fn OutboxList() -> impl IntoView {
    let out = expect_context::<Outgoing>();
    view! {
        <div class="status" role="status" aria-label="Outbox status">
            // What stops the whole outbox (offline, a password, the proxy); a message's own
            // refusal is told on the message.
            {move || {
                out.problem
                    .get()
                    .filter(|p| p.offline || p.login_refused || p.asks_access_code)
                    .map(|p| {
                        let class = if p.offline { "banner offline" } else { "banner error" };
                        let lead = if p.offline {
                            "Offline — messages wait in the outbox and go when the network is back. "
                        } else {
                            ""
                        };
                        view! { <p class=class>{lead}{p.message}</p> }
                    })
            }}
        </div>
        <Show when=move || out.needs_password.get()>
            <SendingPasswordPrompt />
        </Show>
        {move || {
            out.account
                .with(|a| a.as_ref().is_some_and(|a| a.sending.is_none()))
                .then(|| {
                    view! {
                        <p class="banner warn">
                            "Sending is not set up for this account: Settings, Sending."
                        </p>
                    }
                })
        }}
        <ul class="out-list" aria-label="Outbox">
            {move || {
                let items = out.outbox.get();
                if items.is_empty() {
                    return view! { <li class="empty">"The outbox is empty."</li> }.into_any();
                }
                items
                    .into_iter()
                    .map(|item| view! { <OutboxRow item=item /> })
                    .collect_view()
                    .into_any()
            }}
        </ul>
    }
}

#[component]
fn DraftList() -> impl IntoView {
    let out = expect_context::<Outgoing>();
    view! {
        <ul class="out-list" aria-label="Drafts">
            {move || {
                let drafts = out.drafts.get();
                if drafts.is_empty() {
                    return view! { <li class="empty">"No drafts."</li> }.into_any();
                }
                drafts
                    .into_iter()
                    .map(|d| {
                        let subject = if d.draft.subject.trim().is_empty() {
                            "(no subject)".to_string()
                        } else {
                            d.draft.subject.clone()
                        };
                        let to = d.draft.to.clone();
                        let when = short_date(d.updated);
                        view! {
                            <li class="out-item draft">
                                <button
                                    type="button"
                                    class="row-button"
                                    on:click=move |_| out.open_draft(d.clone())
                                >
                                    <span class="line1">
                                        <span class="subject">{subject}</span>
                                        <span class="date">{when}</span>
                                    </span>
                                    <span class="line2">"To: "{to}</span>
                                </button>
                            </li>
                        }
                    })
                    .collect_view()
                    .into_any()
            }}
        </ul>
    }
}

#[component]
fn SentList() -> impl IntoView {
    let out = expect_context::<Outgoing>();
    view! {
        {move || match out.opened.get() {
            Some((_, view)) => {
                let Some(v) = view else {
                    return view! { <p class="banner error">"This message could not be read."</p> }
                        .into_any();
                };
                let text: Vec<String> = v
                    .body
                    .iter()
                    .map(|b| match b {
                        Block::Text(t) => t.clone(),
                        Block::Html(_) => String::new(),
                    })
                    .collect();
                view! {
                    <article class="reader" aria-label="Sent message">
                        <div class="reader-actions">
                            <button
                                type="button"
                                class="secondary"
                                on:click=move |_| out.open_sent(None)
                            >
                                "Back"
                            </button>
                        </div>
                        <h2 class="subject">
                            {if v.subject.is_empty() {
                                "(no subject)".to_string()
                            } else {
                                v.subject.clone()
                            }}
                        </h2>
                        <dl class="headers">
                            <dt>"From"</dt>
                            <dd>{v.from.clone()}</dd>
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
                        </dl>
                        {(!v.attachments.is_empty())
                            .then(|| {
                                view! {
                                    <ul class="attachments" aria-label="Attachments">
                                        {v
                                            .attachments
                                            .iter()
                                            .map(|a| {
                                                view! {
                                                    <li>
                                                        <span class="att-name">{a.name.clone()}</span>
                                                        <span class="att-size">
                                                            {human_size(a.bytes.len() as u64)}
                                                        </span>
                                                    </li>
                                                }
                                            })
                                            .collect_view()}
                                    </ul>
                                }
                            })}
                        <div class="text-body">{text.join("\n")}</div>
                    </article>
                }
                    .into_any()
            }
            None => {
                view! {
                    <ul class="out-list" aria-label="Sent">
                        {move || {
                            let sent = out.sent.get();
                            if sent.is_empty() {
                                return view! { <li class="empty">"Nothing sent yet."</li> }
                                    .into_any();
                            }
                            sent.into_iter()
                                .map(|s| {
                                    let id = s.uidl.clone();
                                    view! {
                                        <li class="out-item sent">
                                            <button
                                                type="button"
                                                class="row-button"
                                                on:click=move |_| out.open_sent(Some(id.clone()))
                                            >
                                                <span class="line1">
                                                    <span class="subject">{s.subject.clone()}</span>
                                                    <span class="date">{short_date(s.date)}</span>
                                                </span>
                                                <span class="line2">"To: "{s.to.clone()}</span>
                                            </button>
                                        </li>
                                    }
                                })
                                .collect_view()
                                .into_any()
                        }}
                    </ul>
                }
                    .into_any()
            }
        }}
    }
}

/// What the main screen shows instead of the inbox's list and reader for the other folders.
#[component]
pub fn OutgoingPane() -> impl IntoView {
    let Some(out) = use_context::<Outgoing>() else {
        return ().into_any();
    };
    let _ = use_context::<Model>();
    view! {
        <Show when=move || !out.folder.get().is_received()>
            <section
                class="outgoing-pane"
                aria-label=move || match out.folder.get() {
                    Folder::Drafts => "Drafts",
                    Folder::Outbox => "Outbox",
                    Folder::Sent => "Sent",
                    Folder::Inbox => "Inbox",
                    Folder::Imported => "Imported",
                }
            >
                {move || match out.folder.get() {
                    Folder::Drafts => view! { <DraftList /> }.into_any(),
                    Folder::Outbox => view! { <OutboxList /> }.into_any(),
                    Folder::Sent => view! { <SentList /> }.into_any(),
                    Folder::Inbox | Folder::Imported => ().into_any(),
                }}
            </section>
        </Show>
    }
    .into_any()
}
