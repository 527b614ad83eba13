//! The root component: picks the screen and provides the model.

use leptos::prelude::*;

use crate::model::{Model, Outgoing, Screen};
use crate::store::OtherTab;
use crate::views::{accounts::Accounts, mailbox::Mailbox, setup::Setup};

#[component]
pub fn App() -> impl IntoView {
    let model = Model::new();
    provide_context(model);
    model.start();
    // Drafts, Outbox and Sent (model/outbox.rs) follow the account the model shows.
    let outgoing = Outgoing::new(model.account);
    provide_context(outgoing);
    outgoing.start();
    view! {
        <div class="app">
            {move || {
                model
                    .storage_error
                    .get()
                    .map(|e| {
                        view! {
                            <p class="banner error" role="alert">
                                "Local storage is unavailable: "
                                {e}
                            </p>
                        }
                    })
            }}
            {move || {
                model
                    .other_tab
                    .get()
                    .map(|event| match event {
                        OtherTab::BlocksUpgrade => {
                            view! {
                                <p class="banner warn" role="status">
                                    "Postbag was updated. Close other Postbag tabs to finish the update."
                                </p>
                            }
                                .into_any()
                        }
                        OtherTab::Upgraded => {
                            // This tab's database connection closed itself so the other tab could upgrade:
                            // only a reload (which loads the newer build) can use the store again.
                            view! {
                                <p class="banner warn" role="alert">
                                    "Postbag was updated in another tab. Reload this page to go on using it. "
                                    <button
                                        type="button"
                                        on:click=|_| {
                                            if let Some(w) = web_sys::window() {
                                                let _ = w.location().reload();
                                            }
                                        }
                                    >
                                        "Reload"
                                    </button>
                                </p>
                            }
                                .into_any()
                        }
                    })
            }}
            {move || match model.screen.get() {
                Screen::Loading => {
                    view! {
                        <p class="loading" role="status">
                            "Opening your mail…"
                        </p>
                    }
                        .into_any()
                }
                Screen::Setup => view! { <Setup /> }.into_any(),
                Screen::Mailbox => view! { <Mailbox /> }.into_any(),
                Screen::Accounts => view! { <Accounts /> }.into_any(),
            }}
        </div>
    }
}
