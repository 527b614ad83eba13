//! The message list, virtualised: only the rows in (and near) the viewport exist in the DOM,
//! so 100,000 messages open and scroll as 1,000 do. Which rows those are is
//! `model/conversations/window.rs`; this renders them and keeps the row the keyboard is on in view.

use leptos::html::Div;
use leptos::prelude::*;

use crate::mail::human_size;
use crate::model::conversations::window::{DEFAULT_ROW_PX, MIN_VIEWPORT_PX, Viewport};
use crate::model::{Model, Row, SyncState};
use crate::store::MessageKey;
use crate::views::folders::{drag_start, tick_row};
use crate::views::short_date;

#[component]
pub fn MessageList() -> impl IntoView {
    let model = expect_context::<Model>();
    let scroller = NodeRef::<Div>::new();
    let scroll_top = RwSignal::new(0.0f64);
    let viewport = RwSignal::new(900.0f64);
    // The row last ticked, where a shift-click's range starts.
    let anchor = RwSignal::new(None);
    // One row per conversation, or per message (`model/conversations.rs`).
    let items = model.rows;
    // Scroll offsets are in pixels, so the windowing needs the row height in pixels: measured
    // on a hidden 4.75rem ruler, and again whenever it resizes (the user changed the font size).
    let ruler = NodeRef::<Div>::new();
    let row_height = RwSignal::new(DEFAULT_ROW_PX);
    Effect::new(move |_| {
        if let Some(el) = ruler.get() {
            watch_row_height(el.into(), row_height);
        }
    });

    let on_scroll = move |_| {
        if let Some(el) = scroller.get() {
            scroll_top.set(el.scroll_top() as f64);
            viewport.set(el.client_height() as f64);
        }
    };
    Effect::new(move |_| {
        if let Some(el) = scroller.get() {
            viewport.set((el.client_height() as f64).max(MIN_VIEWPORT_PX));
        }
    });
    let view_now = move || Viewport {
        scroll_top: scroll_top.get(),
        height: viewport.get(),
        row_height: row_height.get(),
    };
    // A memo: scrolling within a row changes nothing rendered, so the rows are made anew only
    // when the window moves by a row (or the list changes).
    let window = Memo::new(move |_| {
        let total = items.with(|v| v.len());
        view_now().window(total)
    });
    let total = Signal::derive(move || window.get().total);
    // The message open moved by the keyboard (j/k while reading) or opened elsewhere: its row
    // is scrolled into view, or it would go out of the window and the list show other mail.
    Effect::new(move |_| {
        let Some(key) = model.selected.get() else {
            return;
        };
        // Only a new selection scrolls: the list changing under it (a sync, a mark) must not
        // pull back a list the user scrolled away.
        let Some(at) =
            items.with_untracked(|rows| rows.iter().position(|r| r.members.contains(&key)))
        else {
            return;
        };
        let Some(el) = scroller.get_untracked() else {
            return;
        };
        let now = Viewport {
            scroll_top: el.scroll_top() as f64,
            height: el.client_height() as f64,
            row_height: row_height.get_untracked(),
        };
        // A hidden list (the phone's reader in front of it) has no height to scroll in.
        if now.height <= 0.0 {
            return;
        }
        if let Some(to) = now.scroll_to_show(at) {
            el.set_scroll_top(to.round() as i32);
            scroll_top.set(el.scroll_top() as f64);
        }
    });

    view! {
        <p class="msg-count">
            {move || {
                let partial = model.list_partial.get();
                items
                    .with(|rows| {
                        let n: usize = rows.iter().map(|r| r.members.len()).sum();
                        if partial {
                            return "The newest messages; loading the rest…".to_string();
                        }
                        let messages = if n == 1 {
                            "1 message".to_string()
                        } else {
                            format!("{n} messages")
                        };
                        match rows.len() {
                            c if c == n => messages,
                            1 => format!("{messages} in 1 conversation"),
                            c => format!("{messages} in {c} conversations"),
                        }
                    })
            }}
        </p>
        <div class="msg-scroller" node_ref=scroller on:scroll=on_scroll>
            <div class="row-ruler" aria-hidden="true" node_ref=ruler></div>
            {move || {
                (items.with(|v| v.is_empty()))
                    .then(|| {
                        view! {
                            <p class="empty">
                                {move || {
                                    if model.list_partial.get() {
                                        "Loading the list…"
                                    } else {
                                        empty_text(&model.search.get(), &model.sync.get())
                                    }
                                }}
                            </p>
                        }
                    })
            }}
            <div
                role="listbox"
                aria-label="Messages"
                class="msg-list"
                data-row-height=move || row_height.get().to_string()
                style:height=move || format!("{}px", view_now().height_of(window.get().total))
            >
                // Keyed by position and what the row shows: a row scrolled within the window keeps
                // its element (and the focus on it); one whose message changed is made anew.
                <For
                    each=move || {
                        let shown = window.get();
                        items
                            .with(|all| {
                                all[shown.first..shown.end]
                                    .iter()
                                    .enumerate()
                                    .map(|(i, row)| (shown.first + i, row.clone()))
                                    .collect::<Vec<_>>()
                            })
                    }
                    key=move |(at, row)| (*at, shown_as(model, row))
                    children=move |(at, row)| {
                        row_view(model, at, row, total, row_height, anchor)
                    }
                />
            </div>
        </div>
    }
}

/// One row of the list: the row at `at` (from 0) of `total`.
fn row_view(
    model: Model,
    at: usize,
    row: Row,
    total: Signal<usize>,
    row_height: RwSignal<f64>,
    anchor: RwSignal<Option<MessageKey>>,
) -> impl IntoView {
    let m = &row.summary;
    let key = (m.account.clone(), m.uidl.clone());
    let key3 = key.clone();
    let count = row.members.len();
    let unread = row.unread;
    let sender = if count > 1 {
        row.participants.clone()
    } else {
        m.from.clone()
    };
    // Reactive: the row height is measured again when the user changes the font size.
    let top = move || {
        let v = Viewport {
            row_height: row_height.get(),
            ..Viewport::default()
        };
        format!("{}px", v.top_of(at))
    };
    let members = row.members.clone();
    let (tick_keys, drag_keys) = (members.clone(), members.clone());
    let ticked = {
        let members = members.clone();
        Memo::new(move |_| {
            model
                .checked
                .with(|c| members.iter().all(|k| c.contains(k)))
        })
    };
    let selected = move || {
        model
            .selected
            .with(|s| s.as_ref().is_some_and(|s| members.contains(s)))
    };
    let account = shows_account(model, &m.account).then(|| model.account_label(&m.account));
    let folder = model
        .search
        .with_untracked(|t| !t.trim().is_empty())
        .then(|| model.folder_name(&m.folder));
    // Ticked for a bulk action (`views/folders.rs`).
    // Each row names its account once mail of more than one
    // account (or of a removed one) can share the list,
    // and its folder while a search (over every folder) shows.
    view! {
        <div
            role="option"
            class="msg-row"
            class:unread=unread
            class:selected=selected.clone()
            class:ticked=ticked
            class:flagged=row.flagged
            draggable="true"
            on:dragstart=move |ev| drag_start(model, &drag_keys, &ev)
            aria-selected=move || selected().to_string()
            aria-setsize=total
            aria-posinset=at + 1
            data-key=format!("{}\u{1f}{}", m.account, m.uidl)
            style:top=top
            tabindex="0"
            aria-label=format!(
                "{}{}{}, {}{}{}",
                if unread { "Unread: " } else { "" },
                if count > 1 { format!("{count} messages from ") } else { String::new() },
                sender,
                m.subject,
                account.as_ref().map(|a| format!(", to {a}")).unwrap_or_default(),
                folder.as_ref().map(|f| format!(", in {f}")).unwrap_or_default(),
            )
            on:click={
                let k = key.clone();
                move |_| model.selected.set(Some(k.clone()))
            }
            on:focus=move |_| model.cursor.set(Some(key3.clone()))
        >
            // Not a control of its own (a control inside an
            // option is nested-interactive): a click target;
            // "Select all" and the toolbar are the accessible way.
            <span
                class="tick"
                aria-hidden="true"
                title="Select"
                on:click=move |ev| {
                    ev.stop_propagation();
                    tick_row(model, tick_keys.clone(), ev.shift_key(), anchor);
                }
            >
                {move || if ticked.get() { "✓" } else { "" }}
            </span>
            <div class="line1">
                <span class="from">
                    {if sender.is_empty() { "(no sender)".to_string() } else { sender.clone() }}
                </span>
                {(count > 1)
                    .then(|| {
                        view! {
                            <span class="thread-count" aria-hidden="true">
                                {count}
                            </span>
                        }
                    })}
                {account
                    .clone()
                    .map(|a| {
                        view! { <span class="account-tag">{a}</span> }
                    })}
                {folder
                    .clone()
                    .map(|f| {
                        view! { <span class="folder-tag">{f}</span> }
                    })}
                <span class="date">{short_date(m.date)}</span>
            </div>
            <div class="line2">
                <span class="subject">
                    {if m.subject.is_empty() {
                        "(no subject)".to_string()
                    } else {
                        m.subject.clone()
                    }}
                </span>
                {m
                    .has_attachments
                    .then(|| {
                        view! {
                            <svg
                                class="clip"
                                viewBox="0 0 24 24"
                                role="img"
                                aria-label="Has attachments"
                            >
                                <path
                                    d="M16.5 6.5v10a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 0V6.5"
                                    fill="none"
                                    stroke="currentColor"
                                    stroke-width="1.8"
                                    stroke-linecap="round"
                                />
                            </svg>
                        }
                    })}
                // Only its start is here (the account's size limit):
                // the row says so, with the whole's size.
                <span class="size">
                    {match m.partial_of {
                        Some(whole) => format!("start of {}", human_size(whole)),
                        None => human_size(m.size as u64),
                    }}
                </span>
            </div>
            <div class="snippet">{m.snippet.clone()}</div>
        </div>
    }
}

/// What a row shows, hashed: its key in the list's `For`, so a row is made anew when its
/// message (or how it is shown) changed, and kept while only the window moved.
fn shown_as(model: Model, row: &Row) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    // A search names each row's folder; more accounts name each row's account.
    let searching = model.search.with_untracked(|t| !t.trim().is_empty());
    (searching, model.accounts.with_untracked(Vec::len)).hash(&mut h);
    let m = &row.summary;
    (
        &m.account, &m.uidl, &m.from, &m.subject, &m.snippet, &m.folder,
    )
        .hash(&mut h);
    (m.date.to_bits(), m.size, m.has_attachments, m.partial_of).hash(&mut h);
    (&row.members, &row.participants, row.unread, row.flagged).hash(&mut h);
    h.finish()
}

/// Keeps `row_height` equal to the ruler's height in pixels, for as long as the list is mounted.
fn watch_row_height(ruler: web_sys::HtmlElement, row_height: RwSignal<f64>) {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;

    let measure = {
        let ruler = ruler.clone();
        move || {
            // Fractional, not offsetHeight: at 18 px text a row is 85.5 px, and rounding would
            // drift the 10,000th row by thousands of pixels.
            let h = ruler.get_bounding_client_rect().height();
            if h > 0.0 && (h - row_height.get_untracked()).abs() > 0.01 {
                row_height.set(h);
            }
        }
    };
    measure();
    let callback = Closure::<dyn FnMut()>::new(measure);
    let Ok(observer) = web_sys::ResizeObserver::new(callback.as_ref().unchecked_ref()) else {
        return;
    };
    observer.observe(&ruler);
    // Owned by the list's reactive scope: dropped (and the observer disconnected) with it.
    let held = StoredValue::new_local((observer, callback));
    on_cleanup(move || {
        held.try_with_value(|(observer, _)| observer.disconnect());
    });
}

/// Whether a row names its account: not while one account is all there is to see.
fn shows_account(model: Model, key: &str) -> bool {
    model.accounts.with_untracked(|all| {
        key != crate::store::IMPORTED && !(all.len() == 1 && all[0].id == key)
    })
}

/// What an empty list says: never "press Sync" while a sync is already under way.
fn empty_text(search: &str, sync: &SyncState) -> &'static str {
    match (search.is_empty(), sync) {
        (false, _) => "No messages match your search.",
        (true, SyncState::Connecting | SyncState::Running(_)) => {
            "No messages yet. Checking the server; new mail appears here as it arrives."
        }
        (true, _) => "No messages yet. Press Sync to download your mail.",
    }
}
