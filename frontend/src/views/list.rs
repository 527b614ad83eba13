//! The message list, virtualised: only the rows in (and near) the viewport exist in the DOM,
//! so 10 000 messages scroll as smoothly as 10.

use leptos::html::Div;
use leptos::prelude::*;

use crate::mail::human_size;
use crate::model::Model;
use crate::views::short_date;

/// Row height in CSS pixels; must match `.msg-row` in main.css.
pub const ROW_HEIGHT: f64 = 76.0;
/// Extra rows rendered above and below the viewport.
const OVERSCAN: usize = 8;

#[component]
pub fn MessageList() -> impl IntoView {
    let model = expect_context::<Model>();
    let scroller = NodeRef::<Div>::new();
    let scroll_top = RwSignal::new(0.0f64);
    let viewport = RwSignal::new(900.0f64);
    let items = Memo::new(move |_| model.visible());

    let on_scroll = move |_| {
        if let Some(el) = scroller.get() {
            scroll_top.set(el.scroll_top() as f64);
            viewport.set(el.client_height() as f64);
        }
    };
    Effect::new(move |_| {
        if let Some(el) = scroller.get() {
            viewport.set((el.client_height() as f64).max(300.0));
        }
    });

    let window = move || {
        let total = items.with(|v| v.len());
        let first = ((scroll_top.get() / ROW_HEIGHT) as usize).saturating_sub(OVERSCAN);
        let count = (viewport.get() / ROW_HEIGHT) as usize + 2 * OVERSCAN + 1;
        let last = (first + count).min(total);
        (first, last, total)
    };

    view! {
        <p class="msg-count">
            {move || match items.with(|v| v.len()) {
                1 => "1 message".to_string(),
                n => format!("{n} messages"),
            }}
        </p>
        <div class="msg-scroller" node_ref=scroller on:scroll=on_scroll>
            {move || (items.with(|v| v.is_empty())).then(|| view! {
                <p class="empty">{move || if model.search.get().is_empty() { "No messages yet. Press Sync to download your mail." } else { "No messages match your search." }}</p>
            })}
            <div role="list" aria-label="Messages" class="msg-list"
                style:height=move || format!("{}px", window().2 as f64 * ROW_HEIGHT)>
                {move || {
                    let (first, last, _) = window();
                    items.with(|all| all[first..last].iter().enumerate().map(|(i, m)| {
                        let uidl = m.uidl.clone();
                        let uidl2 = m.uidl.clone();
                        let top = (first + i) as f64 * ROW_HEIGHT;
                        let selected = move || model.selected.get().as_deref() == Some(uidl2.as_str());
                        view! {
                            <div role="listitem" class="msg-row" class:unread=!m.read class:selected=selected
                                style:top=format!("{top}px") tabindex="0"
                                aria-label=format!("{}{}, {}", if m.read { "" } else { "Unread: " }, m.from, m.subject)
                                on:click={let u = uidl.clone(); move |_| model.selected.set(Some(u.clone()))}
                                on:keydown=move |ev| if ev.key() == "Enter" { model.selected.set(Some(uidl.clone())) }>
                                <div class="line1">
                                    <span class="from">{if m.from.is_empty() { "(no sender)".to_string() } else { m.from.clone() }}</span>
                                    <span class="date">{short_date(m.date)}</span>
                                </div>
                                <div class="line2">
                                    <span class="subject">{if m.subject.is_empty() { "(no subject)".to_string() } else { m.subject.clone() }}</span>
                                    {m.has_attachments.then(|| view! {
                                        <svg class="clip" viewBox="0 0 24 24" role="img" aria-label="Has attachments">
                                            <path d="M16.5 6.5v10a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 0V6.5"
                                                fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round"/>
                                        </svg>
                                    })}
                                    <span class="size">{human_size(m.size as u64)}</span>
                                </div>
                                <div class="snippet">{m.snippet.clone()}</div>
                            </div>
                        }
                    }).collect_view())
                }}
            </div>
        </div>
    }
}
