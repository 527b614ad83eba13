//! The main screen: top bar with sync controls, status, password and access-code prompts, list
//! and reader.

use crate::views::ErrorBanner;
use leptos::prelude::*;

use crate::model::Outgoing;
use crate::model::{Inbox, Model, SyncState, unlock};
use crate::store::Account;
use crate::tunnel::AccessCode;
use crate::views::accounts::InboxBar;
use crate::views::compose::{ComposeForm, NewMessageButton};
use crate::views::folders::FolderBar;
use crate::views::oauth::SignInAgain;
use crate::views::outbox::{Folders, OutgoingPane};
use crate::views::safety::RiskBanner;
use crate::views::search::SearchStatus;
use crate::views::shortcuts::Shortcuts;
use crate::views::{export::ExportStatus, list::MessageList, reader::Reader};

/// What Cancel does while messages download (sync::Cancel): it stops at once, even inside a
/// large message.
const CANCEL_HINT: &str = "Stop now. Messages already downloaded are kept; \
    nothing is removed from the server until the next sync.";

#[component]
fn SyncControls() -> impl IntoView {
    let model = expect_context::<Model>();
    // Rendered anew only when the sync starts or ends, never per progress report: a Cancel
    // button replaced between a user's mouse-down and mouse-up would not be clicked.
    let busy = Memo::new(move |_| {
        matches!(
            model.sync.get(),
            SyncState::Connecting | SyncState::Running(_)
        )
    });
    let progress = move || match model.sync.get() {
        SyncState::Running(p) => Some(p),
        _ => None,
    };
    let text = move || progress().map_or_else(|| "Connecting…".to_string(), |p| p.describe());
    let pct = move || {
        progress().map_or(0.0, |p| {
            if p.total_bytes > 0 {
                (p.bytes as f64 / p.total_bytes as f64 * 100.0).min(100.0)
            } else {
                0.0
            }
        })
    };
    let running = move || progress().is_some();
    move || {
        if busy.get() {
            view! {
                <div class="sync running">
                    <span class="progress-text" aria-live="polite">
                        {text}
                    </span>
                    <Show when=running>
                        <progress max="100" value=pct aria-label="Sync progress"></progress>
                    </Show>
                    <button
                        type="button"
                        class="secondary"
                        title=CANCEL_HINT
                        on:click=move |_| model.cancel_sync()
                    >
                        "Cancel"
                    </button>
                </div>
            }
            .into_any()
        } else {
            view! {
                <button type="button" class="primary" on:click=move |_| model.start_sync()>
                    "Sync"
                </button>
            }
            .into_any()
        }
    }
}

#[component]
fn PasswordPrompt() -> impl IntoView {
    let model = expect_context::<Model>();
    let value = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    // What the passphrase unseals: the saved password, or an OAuth account's tokens.
    let sealed = move || {
        model.needs_password.get().and_then(|a| {
            a.sealed_password
                .or_else(|| a.oauth.and_then(|o| o.sealed_tokens))
        })
    };
    // Unlock (or take) the password, then check that account (its checks resume).
    let answer = Action::new_local(move |(account, typed): &(Account, String)| {
        let (account, typed) = (account.clone(), typed.clone());
        async move {
            if let Err(e) = unlock(&account, typed).await {
                return error.set(Some(e.to_string()));
            }
            value.set(String::new());
            error.set(None);
            model.needs_password.set(None);
            model.resume_checks(&account.id);
            model.sync_now(&account.id);
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Some(account) = model.needs_password.get_untracked() {
            answer.dispatch((account, value.get_untracked()));
        }
    };
    view! {
        <form class="prompt card" on:submit=submit>
            {move || {
                if sealed().is_some() {
                    view! {
                        <label>
                            "Passphrase to unlock the saved password or sign-in"
                            <input type="password" autocomplete="off" bind:value=value />
                        </label>
                    }
                        .into_any()
                } else {
                    view! {
                        <label>
                            {move || {
                                format!(
                                    "Password for {}",
                                    model
                                        .needs_password
                                        .get()
                                        .map(|a| a.username)
                                        .unwrap_or_default(),
                                )
                            }}
                            <input
                                type="password"
                                autocomplete="current-password"
                                bind:value=value
                            />
                        </label>
                    }
                        .into_any()
                }
            }}
            <p class="hint">"Kept in memory for this session only."</p>
            <PromptEnd
                error=error
                submit="Unlock and sync"
                not_now=Callback::new(move |()| model.needs_password.set(None))
            />
        </form>
    }
}

/// The end of a prompt the sync asked for: its error, the button that answers it, and
/// "Not now", which puts the prompt away.
#[component]
fn PromptEnd(
    error: RwSignal<Option<String>>,
    submit: &'static str,
    not_now: Callback<()>,
) -> impl IntoView {
    view! {
        <ErrorBanner error=error />
        <div class="actions">
            <button type="submit" class="primary">
                {submit}
            </button>
            <button type="button" class="secondary" on:click=move |_| not_now.run(())>
                "Not now"
            </button>
        </div>
    }
}

/// Shown when the proxy refused a sync for want of its access code (or a right one).
#[component]
fn AccessCodePrompt() -> impl IntoView {
    let model = expect_context::<Model>();
    let value = RwSignal::new(String::new());
    let remember = RwSignal::new(false);
    let passphrase = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let sealed = move || {
        model
            .account
            .get()
            .is_some_and(|a| a.sealed_password.is_some())
    };
    // Keep (and maybe seal) the code, then sync again (`Model::use_access_code`).
    let answer = Action::new_local(move |(code, phrase): &(AccessCode, Option<String>)| {
        let (code, phrase) = (code.clone(), phrase.clone());
        async move {
            match model.use_access_code(code, phrase).await {
                Ok(()) => {
                    value.set(String::new());
                    passphrase.set(String::new());
                    error.set(None);
                }
                Err(e) => error.set(Some(e)),
            }
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let code = match AccessCode::parse(&value.get_untracked()) {
            Ok(code) => code,
            Err(e) => return error.set(Some(e.to_string())),
        };
        let phrase = remember.get_untracked().then(|| passphrase.get_untracked());
        answer.dispatch((code, phrase));
    };
    view! {
        <form class="prompt card" on:submit=submit aria-label="Access code for this Postbag server">
            <div class="field">
                <label for="m-access-code">"Access code"</label>
                <input
                    id="m-access-code"
                    type="password"
                    autocomplete="off"
                    spellcheck="false"
                    bind:value=value
                />
            </div>
            <Show when=sealed>
                <label class="check">
                    <input type="checkbox" bind:checked=remember />
                    "Remember it with the saved password"
                </label>
            </Show>
            <Show
                when=move || sealed() && remember.get()
                fallback=|| {
                    view! {
                        <p class="hint">
                            "The code the administrator of this Postbag server gave you. Kept in memory for this session only."
                        </p>
                    }
                }
            >
                <div class="field">
                    <label for="m-code-passphrase">"Passphrase of the saved password"</label>
                    <input
                        id="m-code-passphrase"
                        type="password"
                        autocomplete="off"
                        bind:value=passphrase
                    />
                </div>
                <p class="hint">"The code is stored encrypted together with the password."</p>
            </Show>
            <PromptEnd
                error=error
                submit="Connect and sync"
                not_now=Callback::new(move |()| model.needs_access_code.set(false))
            />
        </form>
    }
}

#[component]
fn StatusLine() -> impl IntoView {
    let model = expect_context::<Model>();
    view! {
        <div
            class="status"
            role="status"
            aria-label="Sync status"
            data-runs=move || model.runs.get()
        >
            {move || match (model.offline.get(), model.sync.get()) {
                (true, state) => {
                    // One banner when offline: the state first, then the reason it was detected.
                    view! {
                        <p class="banner offline">
                            "Offline — the mail server cannot be reached. You can still read and search stored mail."
                            {match state {
                                SyncState::Failed(ex) => {
                                    Some(view! { <span class="reason">{ex.message}</span> })
                                }
                                _ => None,
                            }}
                        </p>
                    }
                        .into_any()
                }
                (false, SyncState::Done(text)) => {
                    view! { <p class="banner ok">{text}</p> }.into_any()
                }
                (false, SyncState::Failed(ex)) => {
                    view! { <p class="banner error">{ex.message}</p> }.into_any()
                }
                _ => ().into_any(),
            }}
        </div>
    }
}

#[component]
pub fn Mailbox() -> impl IntoView {
    let model = expect_context::<Model>();
    // Drafts, Outbox and Sent take the inbox's place (views/outbox.rs); the compose form
    // opens over the screen.
    let outgoing = use_context::<Outgoing>();
    let outgoing_shown = move || outgoing.is_some_and(|o| !o.folder.get().is_received());
    let composing = move || outgoing.is_some_and(|o| o.composing.with(Option::is_some));
    view! {
        <div class="mailbox" class:reading=move || model.selected.get().is_some()>
            <header class="topbar">
                <span class="brand">"Postbag"</span>
                <span class="who" title="Inbox">
                    {move || match model.inbox.get() {
                        Inbox::All if model.accounts.with(|a| a.len() > 1) => {
                            "All accounts".to_string()
                        }
                        Inbox::All => model.account.get().map(|a| a.email).unwrap_or_default(),
                        Inbox::Account(id) => model.account_label(&id),
                    }}
                </span>
                <NewMessageButton />
                <SyncControls />
                <button
                    type="button"
                    class="secondary"
                    on:click=move |_| model.edit_account(model.account.get_untracked())
                >
                    "Settings"
                </button>
            </header>
            <InboxBar />
            <StatusLine />
            <RiskBanner />
            <Show when=move || model.needs_password.with(Option::is_some)>
                <PasswordPrompt />
            </Show>
            <SignInAgain />
            <Show when=move || {
                model.needs_access_code.get() && model.needs_password.with(Option::is_none)
            }>
                <AccessCodePrompt />
            </Show>
            <Folders />
            <OutgoingPane />
            <div
                class="panes pb-shell"
                hidden=outgoing_shown
                data-pane=move || if model.selected.get().is_some() { "message" } else { "list" }
            >
                <section class="list-pane pb-list" aria-label="Message list">
                    <div class="search">
                        <label class="visually-hidden" for="search">
                            "Search mail"
                        </label>
                        <input
                            id="search"
                            type="search"
                            placeholder="Search all mail (from: subject: has:attachment …)"
                            bind:value=model.search
                        />
                    </div>
                    <SearchStatus />
                    <Show when=move || !model.search.get().trim().is_empty()>
                        <div class="search-export">
                            <button
                                type="button"
                                class="link"
                                disabled=move || {
                                    model.export.get().running() || !model.search_answered()
                                }
                                on:click=move |_| model.export_search_result()
                            >
                                "Export these messages (mbox)"
                            </button>
                            <ExportStatus />
                        </div>
                    </Show>
                    <FolderBar />
                    <label class="check threads-toggle">
                        <input
                            type="checkbox"
                            prop:checked=move || model.threaded.get()
                            on:change=move |ev| model.set_threaded(event_target_checked(&ev))
                        />
                        "Group into conversations"
                    </label>
                    <MessageList />
                </section>
                <section class="reader-pane pb-reader" aria-label="Reader" tabindex="-1">
                    <Reader />
                </section>
            </div>
            <Show when=composing>
                <ComposeForm />
            </Show>
            <Shortcuts />
        </div>
    }
}
