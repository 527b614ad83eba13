//! "Sign in with …" in the setup form, and "Sign in again" above the mailbox for an account
//! whose sign-in expired or was revoked. They render and call the model
//! (`model/oauth.rs`) and the flow (`account/oauth/`).

use leptos::prelude::*;

use crate::account::oauth::{Client, Grant, OAuthError, cancel_sign_in, sign_in};
use crate::model::{CheckLine, Model, listed_clients, session_access_code};
use crate::views::ErrorBanner;

/// The setup form's sign-in buttons: one per client the proxy lists. A finished sign-in is
/// put in `grant`, which the form's Save keeps with the account. `signed_in_with` names the
/// provider an edited account already signs in with.
#[component]
pub fn SignInWith(
    email: RwSignal<String>,
    grant: RwSignal<Option<Grant>>,
    signed_in_with: Option<String>,
) -> impl IntoView {
    let clients = LocalResource::new(listed_clients);
    let error = RwSignal::new(None::<String>);
    // The client whose sign-in window the browser blocked: "Try again" is a new click.
    let blocked = RwSignal::new(None::<Client>);
    let run = Action::new_local(move |client: &Client| {
        let client = client.clone();
        async move {
            error.set(None);
            blocked.set(None);
            match sign_in(&client, email.get_untracked().trim(), session_access_code()).await {
                Ok(g) => grant.set(Some(g)),
                Err(OAuthError::PopupBlocked) => blocked.set(Some(client)),
                Err(e) => error.set(Some(e.to_string())),
            }
        }
    });
    let status = move || {
        let name = grant
            .with(|g| g.as_ref().map(|g| g.client.display_name()))
            .or_else(|| signed_in_with.clone());
        name.map(|n| {
            view! {
                <p class="banner ok" role="status">
                    {format!("Signed in with {n}: no password needed.")}
                </p>
            }
        })
    };
    view! {
        {move || {
            let listed = clients.get().map(|c| c.to_vec()).unwrap_or_default();
            (!listed.is_empty())
                .then(|| {
                    view! {
                        <div class="oauth-sign-in" aria-label="Sign in with a provider">
                            {listed
                                .into_iter()
                                .map(|client| {
                                    let label = format!("Sign in with {}", client.display_name());
                                    view! {
                                        <button
                                            type="button"
                                            class="secondary"
                                            disabled=move || run.pending().get()
                                            on:click=move |_| {
                                                run.dispatch(client.clone());
                                            }
                                        >
                                            {label}
                                        </button>
                                    }
                                })
                                .collect_view()}
                            <p class="hint">
                                "Signs in on the provider's own page, in a new window; Postbag never sees that password. Tick “Remember” below to keep the sign-in across sessions (sealed under your passphrase)."
                            </p>
                        </div>
                    }
                })
        }}
        {move || run.pending().get().then(waiting_for_sign_in)}
        {move || {
            blocked
                .get()
                .map(|client| {
                    popup_blocked(move || {
                        run.dispatch(client.clone());
                    })
                })
        }}
        {status}
        <ErrorBanner error=error />
    }
}

/// "Sign in again" for each account whose checks wait for a new sign-in.
#[component]
pub fn SignInAgain() -> impl IntoView {
    let model = expect_context::<Model>();
    let error = RwSignal::new(None::<String>);
    let blocked = RwSignal::new(None::<crate::store::Account>);
    let again = Action::new_local(move |account: &crate::store::Account| {
        let account = account.clone();
        async move {
            error.set(None);
            blocked.set(None);
            match model.sign_in_again(account.clone()).await {
                Ok(()) => {}
                Err(e) if e.popup_blocked() => blocked.set(Some(account)),
                Err(e) => error.set(Some(e.to_string())),
            }
        }
    });
    let waiting = move || {
        model
            .accounts
            .get()
            .into_iter()
            .filter(|a| a.oauth.is_some() && model.check_line(a) == CheckLine::SignInAgain)
            .collect::<Vec<_>>()
    };
    view! {
        <For each=waiting key=|a| a.id.clone() let:account>
            <div class="banner warn" role="alert">
                {format!(
                    "{}: the sign-in with {} has expired or was revoked. Checking is paused.",
                    account.email,
                    account.oauth.as_ref().map(|o| o.name.clone()).unwrap_or_default(),
                )}
                " "
                <button
                    type="button"
                    class="primary"
                    disabled=move || again.pending().get()
                    on:click=move |_| {
                        again.dispatch(account.clone());
                    }
                >
                    "Sign in again"
                </button>
            </div>
        </For>
        {move || again.pending().get().then(waiting_for_sign_in)}
        {move || {
            blocked
                .get()
                .map(|account| {
                    popup_blocked(move || {
                        again.dispatch(account.clone());
                    })
                })
        }}
        <ErrorBanner error=error />
    }
}

/// The browser blocked the provider's window: what to allow, and "Try again", a click of its
/// own (browsers open a popup only in a click). There is no same-tab fallback (docs/oauth.md).
fn popup_blocked(retry: impl Fn() + 'static) -> impl IntoView {
    view! {
        <div class="banner warn" role="alert">
            {OAuthError::PopupBlocked.to_string()}
            " "
            <button type="button" class="primary" on:click=move |_| retry()>
                "Try again"
            </button>
        </div>
    }
}

/// While a sign-in runs: where it happens, and the only way to end it early. The window's
/// closing does not end it: a provider may cut the window off from this page
/// (`Cross-Origin-Opener-Policy`), which then cannot tell that from the user closing it.
fn waiting_for_sign_in() -> impl IntoView {
    view! {
        <p class="hint" role="status">
            "Finish signing in in the provider's window. Closed it, or changed your mind? "
            <button type="button" class="secondary" on:click=move |_| cancel_sign_in()>
                "Cancel sign-in"
            </button>
        </p>
    }
}
