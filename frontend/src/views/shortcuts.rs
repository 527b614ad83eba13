//! The keyboard: key presses turned into the model's commands (`model/keymap.rs`,
//! `model/commands.rs`), the focus moved where the command says, and the shortcuts dialog.

use leptos::html::Dialog;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

use crate::model::conversations::window::{DEFAULT_ROW_PX, Viewport};
use crate::model::keymap::{self, HELP, Press};
use crate::model::{Focus, Model, Outgoing};

/// Whether typing happens in `el` (its keys are its own).
fn is_typing(el: &web_sys::Element) -> bool {
    matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
        || el
            .dyn_ref::<web_sys::HtmlElement>()
            .is_some_and(|h| h.is_content_editable())
}

fn document() -> Option<web_sys::Document> {
    web_sys::window()?.document()
}

fn focus(selector: &str) {
    if let Some(el) = document()
        .and_then(|d| d.query_selector(selector).ok().flatten())
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = el.focus();
    }
}

fn is_focused(el: &web_sys::HtmlElement) -> bool {
    document()
        .and_then(|d| d.active_element())
        .is_some_and(|a| &a == el.unchecked_ref::<web_sys::Element>())
}

/// Whether the focus fell to the page (its element was removed).
fn focus_dropped() -> bool {
    document()
        .and_then(|d| {
            d.active_element()
                .map(|a| Some(a) == d.body().map(Into::into))
        })
        .unwrap_or(true)
}

/// The rendered row of `key`, if the list's window holds it.
fn row_element(key: &(String, String)) -> Option<web_sys::HtmlElement> {
    let want = format!("{}\u{1f}{}", key.0, key.1);
    let rows = document()?.query_selector(".msg-list").ok()??.children();
    (0..rows.length())
        .filter_map(|i| rows.item(i))
        .filter_map(|n| n.dyn_into::<web_sys::HtmlElement>().ok())
        .find(|el| el.get_attribute("data-key").as_deref() == Some(want.as_str()))
}

/// Moves the focus where a command (or an action by mouse) says, scrolling the list to a row
/// its window has not rendered.
pub async fn move_focus(model: Model, to: Focus, help: Option<HtmlDialogRef>) {
    match to {
        Focus::Row(key) => {
            // The row may not be rendered yet (scrolled out of the list's window), and a list
            // changed by the command (read, flagged, deleted, then re-indexed) renders its rows
            // anew, which drops the focus to the page: for a second it is put back on the row,
            // unless the user moved it somewhere else meanwhile.
            for attempt in 0..60 {
                match row_element(&key) {
                    Some(el) if is_focused(&el) => {}
                    Some(el) if attempt == 0 || focus_dropped() => {
                        let _ = el.focus();
                    }
                    Some(_) => return,
                    None if attempt == 0 => scroll_list_to(model, &key),
                    None => {}
                }
                gloo_timers::future::TimeoutFuture::new(16).await;
            }
        }
        Focus::Reader => focus(".reader-pane"),
        Focus::Search => focus("#search"),
        Focus::Help => {
            if let Some(d) = help.and_then(|h| h.get_untracked()) {
                let _ = d.show_modal();
            }
        }
        Focus::Stay => {}
    }
}

type HtmlDialogRef = NodeRef<Dialog>;

fn scroll_list_to(model: Model, key: &(String, String)) {
    let Some(at) = model
        .rows
        .with_untracked(|rows| rows.iter().position(|r| &r.key() == key))
    else {
        return;
    };
    let Some(scroller) = document()
        .and_then(|d| d.query_selector(".msg-scroller").ok().flatten())
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    else {
        return;
    };
    let Some(list) = document().and_then(|d| d.query_selector(".msg-list").ok().flatten()) else {
        return;
    };
    let now = Viewport {
        scroll_top: scroller.scroll_top() as f64,
        height: scroller.client_height() as f64,
        row_height: list
            .get_attribute("data-row-height")
            .and_then(|h| h.parse().ok())
            .unwrap_or(DEFAULT_ROW_PX),
    };
    if let Some(to) = now.scroll_to_show(at) {
        scroller.set_scroll_top(to.round() as i32);
    }
}

/// The key handler (on the window, for as long as the mailbox is shown) and the dialog that
/// lists the shortcuts.
#[component]
pub fn Shortcuts() -> impl IntoView {
    let model = expect_context::<Model>();
    let outgoing = use_context::<Outgoing>();
    let dialog = NodeRef::<Dialog>::new();
    let handle = window_event_listener(leptos::ev::keydown, move |ev| {
        let target = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok());
        let composing = outgoing.is_some_and(|o| o.composing.with_untracked(Option::is_some));
        let key = ev.key();
        let press = Press {
            key: &key,
            ctrl: ev.ctrl_key(),
            alt: ev.alt_key(),
            meta: ev.meta_key(),
            typing: target.as_ref().is_some_and(is_typing),
            in_list: target
                .as_ref()
                .is_some_and(|t| t.closest(".msg-list").ok().flatten().is_some()),
            // The compose form and open dialogs keep their keys, and the list's keys wait
            // while Drafts, Outbox or Sent take its place.
            modal: composing
                || document()
                    .and_then(|d| d.query_selector("dialog[open], .panes[hidden]").ok())
                    .flatten()
                    .is_some(),
        };
        let Some(command) = keymap::command(&press) else {
            return;
        };
        ev.prevent_default();
        spawn_local(async move {
            let to = model.run_command(command, outgoing).await;
            move_focus(model, to, Some(dialog)).await;
        });
    });
    on_cleanup(move || handle.remove());
    view! {
        <dialog node_ref=dialog class="shortcuts card" aria-labelledby="shortcuts-title">
            <h2 id="shortcuts-title">"Keyboard shortcuts"</h2>
            <dl>
                {HELP
                    .iter()
                    .map(|(keys, what)| {
                        view! {
                            <div class="shortcut">
                                <dt>
                                    <kbd>{*keys}</kbd>
                                </dt>
                                <dd>{*what}</dd>
                            </div>
                        }
                    })
                    .collect_view()}
            </dl>
            <form method="dialog" class="actions">
                <button type="submit" class="primary">
                    "Close"
                </button>
            </form>
        </dialog>
    }
}
