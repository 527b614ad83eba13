//! Several accounts on screen: the bar above the list that picks the inbox (all accounts or
//! one) and tells when each is checked next, and the accounts screen (add, edit, remove, the
//! pinned certificate, notifications, checks while Postbag is closed: `background.rs`). They
//! only render and call the model.

use crate::views::ErrorBanner;
use leptos::prelude::*;

use crate::model::{CheckLine, Inbox, Model, RemovedMail, Screen};
use crate::store::{Account, Security, ServerPolicy};

/// The value of the inbox picker's "All accounts" option (an account id always holds an `@`).
const ALL: &str = "all";

/// What a [`CheckLine`] says, with the account named when several share the line.
fn check_text(line: &CheckLine, named: Option<&str>) -> Option<String> {
    let text = match line {
        CheckLine::Manual => return None,
        CheckLine::In(wait) => format!("Next check in {wait}"),
        CheckLine::SignInFailed => "Checking paused: sign-in failed".into(),
        CheckLine::NeedsPassword => "Checking paused: password needed (press Sync)".into(),
        CheckLine::SignInAgain => "Checking paused: sign in again".into(),
    };
    Some(match named {
        Some(email) => format!("{email}: {text}"),
        None => text,
    })
}

/// The inbox picker, the next checks and the way to the accounts screen.
#[component]
pub fn InboxBar() -> impl IntoView {
    let model = expect_context::<Model>();
    let on_pick = move |ev| {
        let value = event_target_value(&ev);
        model.show_inbox(if value == ALL {
            Inbox::All
        } else {
            Inbox::Account(value)
        });
    };
    let lines = move || {
        let inbox = model.inbox.get();
        let accounts = model.accounts.get();
        let several = accounts.len() > 1;
        accounts
            .iter()
            .filter(|a| inbox.shows(&a.id))
            .filter_map(|a| {
                let named = (several && inbox == Inbox::All).then_some(a.email.as_str());
                check_text(&model.check_line(a), named)
            })
            .collect::<Vec<_>>()
    };
    view! {
        <div class="inbox-bar">
            <Show when=move || model.accounts.with(|a| a.len() > 1)>
                <label class="visually-hidden" for="inbox-pick">
                    "Inbox"
                </label>
                <select id="inbox-pick" on:change=on_pick>
                    <option value=ALL prop:selected=move || model.inbox.get() == Inbox::All>
                        "All accounts"
                    </option>
                    <For
                        each=move || model.accounts.get()
                        key=|a| (a.id.clone(), a.email.clone())
                        let:account
                    >
                        {
                            let id = account.id.clone();
                            let chosen = Inbox::Account(id.clone());
                            view! {
                                <option value=id prop:selected=move || model.inbox.get() == chosen>
                                    {account.email.clone()}
                                </option>
                            }
                        }
                    </For>
                </select>
            </Show>
            <p class="next-checks" role="status" aria-label="Automatic checks">
                {move || { lines().into_iter().map(|l| view! { <span>{l}</span> }).collect_view() }}
            </p>
            <button type="button" class="link" on:click=move |_| model.screen.set(Screen::Accounts)>
                "Accounts"
            </button>
        </div>
    }
}

fn security_text(s: Security) -> &'static str {
    match s {
        Security::Tls => "SSL/TLS",
        Security::StartTls => "STARTTLS",
        Security::None => "no encryption",
    }
}

fn policy_text(p: &ServerPolicy) -> String {
    match p {
        ServerPolicy::DeleteAfterDownload => "deleted from the server after download".into(),
        ServerPolicy::Leave {
            after_days: None, ..
        } => "left on the server".into(),
        ServerPolicy::Leave {
            after_days: Some(d),
            ..
        } => format!("left on the server for {d} days"),
        ServerPolicy::KeepNewest { count, .. } => {
            format!("at most {count} newest left on the server")
        }
    }
}

/// One account on the accounts screen.
#[component]
fn AccountCard(account: Account) -> impl IntoView {
    let model = expect_context::<Model>();
    let removing = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let id = account.id.clone();
    let remove = Action::new_local(move |(id, mail): &(String, RemovedMail)| {
        let (id, mail) = (id.clone(), *mail);
        async move {
            if let Err(e) = model.remove_account(id, mail).await {
                error.set(Some(e));
            }
        }
    });
    let unpin = Action::new_local(move |account: &Account| {
        let mut account = account.clone();
        async move {
            account.pinned_sha256 = None;
            if let Err(e) = model.update_account(account).await {
                error.set(Some(e));
            }
        }
    });
    // "Next check in …" or why checks paused; nothing for an account checked on Sync only.
    let next = {
        let account = account.clone();
        move || {
            check_text(&model.check_line(&account), None).map(|text| {
                view! {
                    <dt>"Next"</dt>
                    <dd class="next-check">{text}</dd>
                }
            })
        }
    };
    let every = match account.check_minutes {
        Some(1) => "every minute".to_string(),
        Some(m) => format!("every {m} minutes"),
        None => "only when you press Sync".into(),
    };
    let (edited, pinned_of) = (account.clone(), account.clone());
    let (keep_id, delete_id) = (id.clone(), id.clone());
    view! {
        <li class="card account" aria-label=account.email.clone()>
            <h2>{account.email.clone()}</h2>
            <dl>
                <dt>"Server"</dt>
                <dd>
                    {format!(
                        "{}:{} ({})",
                        account.host,
                        account.port,
                        security_text(account.security),
                    )}
                </dd>
                <dt>"After download"</dt>
                <dd>{policy_text(&account.policy)}</dd>
                <dt>"Checks"</dt>
                <dd>{every}</dd>
                {next}
                {account
                    .pinned_sha256
                    .clone()
                    .map(|sha| {
                        view! {
                            <dt>"Pinned certificate"</dt>
                            <dd>
                                "SHA-256 " <code>{sha}</code> " "
                                <button
                                    type="button"
                                    class="link"
                                    on:click=move |_| {
                                        unpin.dispatch(pinned_of.clone());
                                    }
                                >
                                    "Remove pin"
                                </button>
                            </dd>
                        }
                    })}
            </dl>
            <ErrorBanner error=error />
            <Show
                when=move || removing.get()
                fallback=move || {
                    let edited = edited.clone();
                    view! {
                        <div class="actions">
                            <button
                                type="button"
                                class="secondary"
                                on:click=move |_| model.edit_account(Some(edited.clone()))
                            >
                                "Edit"
                            </button>
                            <button
                                type="button"
                                class="danger"
                                on:click=move |_| removing.set(true)
                            >
                                "Remove"
                            </button>
                        </div>
                    }
                }
            >
                <div class="remove" role="group" aria-label="Remove this account">
                    <p>
                        "Remove this account from Postbag? Nothing is deleted on the server. Its mail here, drafts and unsent messages included (kept ones come back when you add the address again):"
                    </p>
                    <div class="actions">
                        <button
                            type="button"
                            class="secondary"
                            on:click={
                                let id = keep_id.clone();
                                move |_| {
                                    remove.dispatch((id.clone(), RemovedMail::Keep));
                                }
                            }
                        >
                            "Keep its mail here"
                        </button>
                        <button
                            type="button"
                            class="danger"
                            on:click={
                                let id = delete_id.clone();
                                move |_| {
                                    remove.dispatch((id.clone(), RemovedMail::Delete));
                                }
                            }
                        >
                            "Delete its mail here"
                        </button>
                        <button
                            type="button"
                            class="secondary"
                            on:click=move |_| removing.set(false)
                        >
                            "Cancel"
                        </button>
                    </div>
                </div>
            </Show>
        </li>
    }
}

/// "Notify me of new mail": the permission is asked here, from the click, never at load.
#[component]
fn NotifyChoice() -> impl IntoView {
    let permission = RwSignal::new(crate::pwa::notification_permission());
    let ask = Action::new_local(move |()| async move {
        permission.set(crate::pwa::ask_notifications().await);
    });
    view! {
        <section class="card notify" aria-label="Notifications">
            {move || match permission.get().as_str() {
                "granted" => {
                    view! { <p>"New mail raises a notification (account and count only)."</p> }
                        .into_any()
                }
                "denied" => {
                    view! {
                        <p>
                            "Notifications are blocked for this site; allow them in the browser's site settings."
                        </p>
                    }
                        .into_any()
                }
                "unsupported" => {
                    view! { <p>"This browser cannot show notifications."</p> }.into_any()
                }
                _ => {
                    view! {
                        <button
                            type="button"
                            class="secondary"
                            on:click=move |_| {
                                ask.dispatch(());
                            }
                        >
                            "Notify me of new mail"
                        </button>
                    }
                        .into_any()
                }
            }}
        </section>
    }
}

/// The accounts screen.
#[component]
pub fn Accounts() -> impl IntoView {
    let model = expect_context::<Model>();
    view! {
        <main class="accounts">
            <header class="topbar">
                <span class="brand">"Postbag"</span>
                <h1 class="who">"Accounts"</h1>
                <button type="button" class="primary" on:click=move |_| model.edit_account(None)>
                    "Add account"
                </button>
                <button
                    type="button"
                    class="secondary"
                    on:click=move |_| model.screen.set(Screen::Mailbox)
                >
                    "Back to mail"
                </button>
            </header>
            <ul class="account-list" aria-label="Accounts">
                <For each=move || model.accounts.get() key=|a| format!("{a:?}") let:account>
                    <AccountCard account=account />
                </For>
            </ul>
            <NotifyChoice />
            <crate::views::background::BackgroundChoice />
        </main>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn check_lines_read_as_the_screen_says_them() {
        assert_eq!(check_text(&CheckLine::Manual, None), None);
        assert_eq!(
            check_text(&CheckLine::In("4 min".into()), Some("a@example.org")).as_deref(),
            Some("a@example.org: Next check in 4 min")
        );
        assert_eq!(
            check_text(&CheckLine::SignInFailed, None).as_deref(),
            Some("Checking paused: sign-in failed")
        );
    }
}
