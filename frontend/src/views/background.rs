//! "Check in the background when Postbag is closed": one checkbox per account on the accounts
//! screen, with what it costs said beside it, and what this browser allows. It only renders and
//! calls `model/background_opt_in.rs`.

use leptos::prelude::*;

use crate::model::Model;
use crate::model::background_opt_in;
use crate::pwa::periodic::Periodic;
use crate::store::Account;

fn allowed_text(periodic: &Periodic) -> &'static str {
    match periodic {
        Periodic::Registered => {
            "This browser will check now and then while Postbag is closed, when it chooses (Chrome and Edge: at most about twice a day, less for a site used less)."
        }
        Periodic::Off => "No account is checked while Postbag is closed.",
        Periodic::NotGranted => {
            "This browser does not allow it now: install Postbag as an app (Chrome, Edge), and keep the site's background sync setting on."
        }
        Periodic::Unsupported => {
            "This browser never checks while Postbag is closed (Firefox and Safari have no Periodic Background Sync); Postbag checks while it is open."
        }
    }
}

/// The section of the accounts screen.
#[component]
pub fn BackgroundChoice() -> impl IntoView {
    let model = expect_context::<Model>();
    let opted = RwSignal::new(Vec::<String>::new());
    let periodic = RwSignal::new(None::<Periodic>);
    let error = RwSignal::new(None::<String>);
    let load = Action::new_local(move |()| async move {
        if let Ok(ids) = background_opt_in::opted_in().await {
            opted.set(ids);
        }
        periodic.set(Some(background_opt_in::refresh().await));
    });
    load.dispatch(());
    let toggle = Action::new_local(move |(account, on): &(Account, bool)| {
        let (account, on) = (account.clone(), *on);
        async move {
            match background_opt_in::set(&account, on).await {
                Ok(state) => {
                    error.set(None);
                    periodic.set(Some(state));
                }
                Err(e) => error.set(Some(format!("{}: {e}", account.email))),
            }
            if let Ok(ids) = background_opt_in::opted_in().await {
                opted.set(ids);
            }
        }
    });
    view! {
        <section class="card background-check" aria-label="Checking when Postbag is closed">
            <h2>"Check in the background when Postbag is closed"</h2>
            <p>
                "For an account ticked here, this device keeps its password sealed under a key of its own, so that the browser can check while no Postbag page is open. Any page of this site in this browser can use that key (unlike a passphrase, which only you know); a backup never carries it. Untick to forget it."
            </p>
            <ul>
                <For
                    each=move || {
                        model
                            .accounts
                            .get()
                            .into_iter()
                            .filter(|a| a.oauth.is_none())
                            .collect::<Vec<_>>()
                    }
                    key=|a| a.id.clone()
                    let:account
                >
                    {
                        let id = account.id.clone();
                        let email = account.email.clone();
                        let checked = move || opted.with(|o| o.contains(&id));
                        view! {
                            <li>
                                <label>
                                    <input
                                        type="checkbox"
                                        prop:checked=checked
                                        on:change=move |ev| {
                                            toggle
                                                .dispatch((account.clone(), event_target_checked(&ev)));
                                        }
                                    />
                                    " "
                                    {email}
                                </label>
                            </li>
                        }
                    }
                </For>
            </ul>
            {move || {
                error
                    .get()
                    .map(|e| {
                        view! {
                            <p class="error" role="alert">
                                {e}
                            </p>
                        }
                    })
            }}
            {move || periodic.get().map(|p| view! { <p class="hint">{allowed_text(&p)}</p> })}
        </section>
    }
}
