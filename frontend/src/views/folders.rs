//! Local folders on screen: the folder tabs of received mail (Inbox, Archive, the user's,
//! Trash, each with its unread count, each a drop target for dragged rows), the new-folder
//! form, and the bar above the list (rename or delete the folder shown, Empty Trash, and the
//! actions on the ticked messages). They only render and call the model (`model/folders.rs`).

use std::cell::RefCell;
use std::collections::BTreeSet;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::model::{BUILT_IN, Folder, Model, Outgoing};
use crate::store::{ARCHIVE, INBOX, MessageKey, TRASH};
use crate::views::ErrorBanner;

/// The drag data type of rows dragged from the list. Its value is the drag's nonce only: the
/// keys stay in the page ([`DRAGGED`]).
const ROWS_TYPE: &str = "application/x-postbag-rows";

/// A drag of rows under way: the nonce it carries under [`ROWS_TYPE`], and its messages.
struct Drag {
    nonce: String,
    keys: Vec<MessageKey>,
}

thread_local! {
    /// The drag of rows under way, from `dragstart` on a row to its `dragend` (dropped
    /// anywhere, or cancelled with Esc). A drop moves these messages only when it carries
    /// this drag's nonce: a drag ended elsewhere, text or a file dropped later move nothing.
    static DRAGGED: RefCell<Option<Drag>> = const { RefCell::new(None) };
}

/// Remembers a drag of `keys`; returns the nonce its data must carry.
fn begin_drag(keys: Vec<MessageKey>) -> String {
    let nonce = format!("{:016x}", (js_sys::Math::random() * 2f64.powi(53)) as u64);
    DRAGGED.with(|d| {
        *d.borrow_mut() = Some(Drag {
            nonce: nonce.clone(),
            keys,
        })
    });
    nonce
}

/// The drag under way is over (dropped, or cancelled).
fn end_drag() {
    DRAGGED.with(|d| d.borrow_mut().take());
}

/// The messages a drop moves: the drag under way's when the drop carries its nonce
/// (`carried`, the drop's [`ROWS_TYPE`] data), else none. The drag ends either way.
fn take_dropped(carried: Option<String>) -> Vec<MessageKey> {
    match (DRAGGED.with(|d| d.borrow_mut().take()), carried) {
        (Some(drag), Some(nonce)) if drag.nonce == nonce => drag.keys,
        _ => Vec::new(),
    }
}

/// Whether a drag over a folder tab carries rows from the list (its data cannot be read
/// before the drop, its types can).
fn carries_rows(ev: &web_sys::DragEvent) -> bool {
    ev.data_transfer()
        .is_some_and(|dt| dt.types().includes(&ROWS_TYPE.into(), 0))
}

/// Starts dragging `members` (a row's messages), or every ticked message when the row is
/// ticked.
pub fn drag_start(model: Model, members: &[MessageKey], ev: &web_sys::DragEvent) {
    let ticked = model.checked.get_untracked();
    let keys = if members.iter().all(|k| ticked.contains(k)) {
        ticked.into_iter().collect()
    } else {
        members.to_vec()
    };
    let Some(dt) = ev.data_transfer() else {
        return end_drag();
    };
    dt.set_effect_allowed("move");
    let _ = dt.set_data("text/plain", &format!("{} messages", keys.len()));
    let _ = dt.set_data(ROWS_TYPE, &begin_drag(keys));
}

/// Ticks or unticks a row's messages; with Shift, every message listed from the last one
/// ticked (in the list's message order).
pub fn tick_row(
    model: Model,
    members: Vec<MessageKey>,
    shift: bool,
    anchor: RwSignal<Option<MessageKey>>,
) {
    let on = !members
        .iter()
        .all(|k| model.checked.with_untracked(|c| c.contains(k)));
    let clicked = members.last().cloned();
    let keys = match (shift, anchor.get_untracked(), &clicked) {
        (true, Some(from), Some(to)) => crate::model::range(&listed(model), &from, to),
        _ => members,
    };
    for k in keys {
        model.tick(k, on || shift);
    }
    anchor.set(clicked);
}

/// Every message the list shows, in its order.
fn listed(model: Model) -> Vec<MessageKey> {
    untrack(|| model.visible())
        .into_iter()
        .map(|m| (m.account, m.uidl))
        .collect()
}

/// One folder tab.
#[component]
fn FolderTab(id: String, label: Signal<String>) -> impl IntoView {
    let model = expect_context::<Model>();
    let out = use_context::<Outgoing>();
    let over = RwSignal::new(false);
    let current = {
        let id = id.clone();
        move || {
            model.folder.with(|f| f == &id)
                && !model.imported_shown.get()
                && out.is_none_or(|o| o.folder.get() == Folder::Inbox)
        }
    };
    let unread = {
        let id = id.clone();
        move || model.folder_unread(&id)
    };
    let show = {
        let id = id.clone();
        move |_| {
            if let Some(o) = out {
                o.folder.set(Folder::Inbox);
            }
            model.show_imported(false);
            model.show_folder(id.clone());
        }
    };
    let drop = {
        let id = id.clone();
        move |ev: web_sys::DragEvent| {
            over.set(false);
            if !carries_rows(&ev) {
                return; // text or a file: not ours to take
            }
            ev.prevent_default();
            let carried = ev
                .data_transfer()
                .and_then(|dt| dt.get_data(ROWS_TYPE).ok());
            let keys = take_dropped(carried);
            if !keys.is_empty() {
                spawn_local(model.move_to(keys, id.clone()));
            }
        }
    };
    view! {
        <button
            type="button"
            role="tab"
            class="folder"
            class:current=current.clone()
            class:drop-over=move || over.get()
            data-folder=id.clone()
            aria-selected=move || current().to_string()
            on:click=show
            on:dragover=move |ev: web_sys::DragEvent| {
                if carries_rows(&ev) {
                    ev.prevent_default();
                    over.set(true);
                }
            }
            on:dragleave=move |_| over.set(false)
            on:drop=drop
        >
            {label}
            {move || {
                let n = unread();
                (n > 0)
                    .then(|| {
                        view! {
                            <span class="count" aria-label=format!("{n} unread")>
                                {n}
                            </span>
                        }
                    })
            }}
        </button>
    }
}

/// Inbox, Archive, the user's folders, Trash, and "New folder".
#[component]
pub fn MailFolders() -> impl IntoView {
    let model = expect_context::<Model>();
    // `dragend` reaches the window however a drag of rows ends (after its drop, dropped
    // elsewhere, Esc), so no drag outlives its gesture.
    let handle = window_event_listener(leptos::ev::dragend, |_| end_drag());
    on_cleanup(move || handle.remove());
    let label = |text: &'static str| Signal::derive(move || text.to_string());
    let (inbox, archive, trash) = (BUILT_IN[0], BUILT_IN[1], BUILT_IN[2]);
    view! {
        <FolderTab id=inbox.0.to_string() label=label(inbox.1) />
        <FolderTab id=archive.0.to_string() label=label(archive.1) />
        <For each=move || model.user_folders.get() key=|f| f.id.clone() let:folder>
            {
                let id = folder.id.clone();
                let name = Signal::derive(move || model.folder_name(&id));
                view! { <FolderTab id=folder.id.clone() label=name /> }
            }
        </For>
        <FolderTab id=trash.0.to_string() label=label(trash.1) />
    }
}

/// "+" and the new folder's name: beside the folder tabs, not among them (a tablist holds
/// only tabs; axe: aria-required-children).
#[component]
pub fn NewFolder() -> impl IntoView {
    let model = expect_context::<Model>();
    let naming = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    view! {
        <button
            type="button"
            class="folder new-folder"
            title="New folder"
            aria-label="New folder"
            on:click=move |_| naming.update(|n| *n = !*n)
        >
            "+"
        </button>
        <Show when=move || naming.get()>
            <NameForm
                initial=String::new()
                submit="Create"
                error=error
                on_done=Callback::new(move |()| naming.set(false))
                save=Callback::new(move |name: String| {
                    spawn_local(async move {
                        match model.create_folder(name).await {
                            Ok(()) => naming.set(false),
                            Err(e) => error.set(Some(e)),
                        }
                    })
                })
            />
        </Show>
    }
}

/// A folder name field with its error line.
#[component]
fn NameForm(
    initial: String,
    submit: &'static str,
    error: RwSignal<Option<String>>,
    on_done: Callback<()>,
    save: Callback<String>,
) -> impl IntoView {
    let value = RwSignal::new(initial);
    error.set(None);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        save.run(value.get_untracked());
    };
    view! {
        <form class="folder-name" on:submit=on_submit>
            <label class="visually-hidden" for="folder-name">
                "Folder name"
            </label>
            <input id="folder-name" type="text" maxlength="60" bind:value=value />
            <button type="submit" class="primary">
                {submit}
            </button>
            <button type="button" class="secondary" on:click=move |_| on_done.run(())>
                "Cancel"
            </button>
            <ErrorBanner error=error />
        </form>
    }
}

/// Above the list: what can be done with the folder shown and with the ticked messages.
#[component]
pub fn FolderBar() -> impl IntoView {
    let model = expect_context::<Model>();
    let folder = move || model.folder.get();
    let own = move || !BUILT_IN.iter().any(|(b, _)| *b == folder()) && !model.imported_shown.get();
    let ticked = move || model.checked.with(BTreeSet::len);
    let renaming = RwSignal::new(false);
    let deleting = RwSignal::new(false);
    let emptying = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let delete_to = move |to: &'static str| {
        let id = model.folder.get_untracked();
        spawn_local(async move {
            match model.delete_folder(id, to).await {
                Ok(()) => deleting.set(false),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let tick_all = move |_| {
        for k in listed(model) {
            model.tick(k, true);
        }
    };
    let targets = move || {
        let here = folder();
        let mut all: Vec<(String, String)> = vec![
            (INBOX.into(), "Inbox".into()),
            (ARCHIVE.into(), "Archive".into()),
        ];
        all.extend(model.user_folders.get().into_iter().map(|f| (f.id, f.name)));
        all.retain(|(id, _)| *id != here);
        all
    };
    let pick = move |copy: bool| {
        move |ev: leptos::ev::Event| {
            let id = event_target_value(&ev);
            if id.is_empty() {
                return;
            }
            if copy {
                model.copy_ticked(id);
            } else {
                model.move_ticked(id);
            }
        }
    };
    let options = move || {
        targets()
            .into_iter()
            .map(|(id, name)| view! { <option value=id>{name}</option> })
            .collect_view()
    };
    view! {
        <div class="folder-bar" role="toolbar" aria-label="Folder actions">
            <Show when=move || ticked() == 0>
                <button type="button" class="link" on:click=tick_all>
                    "Select all"
                </button>
                <Show when=own>
                    <button type="button" class="link" on:click=move |_| renaming.set(true)>
                        "Rename folder"
                    </button>
                    <button type="button" class="link" on:click=move |_| deleting.set(true)>
                        "Delete folder"
                    </button>
                </Show>
                <Show when=move || folder() == TRASH && !model.imported_shown.get()>
                    <span class="hint">
                        {move || {
                            format!("Deleted for good after {} days.", model.trash_days.get())
                        }}
                    </span>
                    <button type="button" class="link danger" on:click=move |_| emptying.set(true)>
                        "Empty Trash"
                    </button>
                </Show>
            </Show>
            <Show when=move || { ticked() > 0 }>
                <span class="ticked" role="status">
                    {move || format!("{} selected", ticked())}
                </span>
                <Show
                    when=move || folder() == TRASH
                    fallback=move || {
                        view! {
                            <button
                                type="button"
                                class="secondary"
                                on:click=move |_| model.move_ticked(ARCHIVE.into())
                                disabled=move || folder() == ARCHIVE
                            >
                                "Archive"
                            </button>
                            <button
                                type="button"
                                class="secondary"
                                on:click=move |_| model.delete_ticked()
                            >
                                "Delete"
                            </button>
                        }
                    }
                >
                    <button
                        type="button"
                        class="secondary"
                        on:click=move |_| model.restore_ticked()
                    >
                        "Restore"
                    </button>
                    <button type="button" class="danger" on:click=move |_| model.delete_ticked()>
                        "Delete forever"
                    </button>
                </Show>
                <label class="visually-hidden" for="move-to">
                    "Move to…"
                </label>
                <select id="move-to" on:change=pick(false) prop:value="">
                    <option value="">"Move to…"</option>
                    {options}
                </select>
                <label class="visually-hidden" for="copy-to">
                    "Copy to…"
                </label>
                <select id="copy-to" on:change=pick(true) prop:value="">
                    <option value="">"Copy to…"</option>
                    {options}
                </select>
                <button
                    type="button"
                    class="link"
                    on:click=move |_| model.checked.set(BTreeSet::new())
                >
                    "Clear selection"
                </button>
            </Show>
        </div>
        <Show when=move || renaming.get() && own()>
            <NameForm
                initial=model.folder_name(&model.folder.get_untracked())
                submit="Rename"
                error=error
                on_done=Callback::new(move |()| renaming.set(false))
                save=Callback::new(move |name: String| {
                    let id = model.folder.get_untracked();
                    spawn_local(async move {
                        match model.rename_folder(id, name).await {
                            Ok(()) => renaming.set(false),
                            Err(e) => error.set(Some(e)),
                        }
                    })
                })
            />
        </Show>
        <Show when=move || { emptying.get() && folder() == TRASH && !model.imported_shown.get() }>
            <div class="prompt card" role="alertdialog" aria-label="Empty Trash">
                <p>
                    {move || {
                        let (all, server) = model.trash_counts();
                        let s = if all == 1 { "" } else { "s" };
                        let mut ask = format!(
                            "Delete {all} message{s} in Trash for good? This cannot be undone.",
                        );
                        if server > 0 {
                            ask.push_str(
                                &format!(
                                    " {server} of them are deleted from the server too at the next check.",
                                ),
                            );
                        }
                        ask
                    }}
                </p>
                <div class="actions">
                    <button
                        type="button"
                        class="danger"
                        on:click=move |_| {
                            emptying.set(false);
                            model.empty_trash();
                        }
                    >
                        "Delete forever"
                    </button>
                    <button type="button" class="link" on:click=move |_| emptying.set(false)>
                        "Cancel"
                    </button>
                </div>
            </div>
        </Show>
        <Show when=move || deleting.get() && own()>
            <div class="prompt card" role="alertdialog" aria-label="Delete folder">
                <p>
                    {move || {
                        let n = model
                            .messages
                            .with(|all| all.iter().filter(|m| m.folder == folder()).count());
                        format!(
                            "Delete the folder \"{}\"? Its {n} messages go to:",
                            model.folder_name(&folder()),
                        )
                    }}
                </p>
                <div class="actions">
                    <button type="button" class="secondary" on:click=move |_| delete_to(INBOX)>
                        "Inbox"
                    </button>
                    <button type="button" class="secondary" on:click=move |_| delete_to(TRASH)>
                        "Trash"
                    </button>
                    <button type="button" class="link" on:click=move |_| deleting.set(false)>
                        "Cancel"
                    </button>
                </div>
                <ErrorBanner error=error />
            </div>
        </Show>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn keys() -> Vec<MessageKey> {
        vec![("a".into(), "u1".into()), ("a".into(), "u2".into())]
    }

    #[test]
    fn a_drop_moves_only_the_drag_it_carries() {
        let nonce = begin_drag(keys());
        assert!(
            take_dropped(Some("other".into())).is_empty(),
            "another drag's data"
        );
        // The drag ended with that drop: its own nonce comes too late.
        assert!(take_dropped(Some(nonce)).is_empty());

        let nonce = begin_drag(keys());
        assert_eq!(take_dropped(Some(nonce)), keys());

        // Ended elsewhere (released over the list, Esc): text or a file dropped later on a
        // folder carries no nonce and moves nothing.
        let nonce = begin_drag(keys());
        end_drag();
        assert!(take_dropped(None).is_empty());
        assert!(take_dropped(Some(nonce)).is_empty());
    }
}
