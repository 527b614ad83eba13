//! The root component: picks the screen and provides the model.

use leptos::prelude::*;

use crate::model::{Model, Screen};
use crate::views::{mailbox::Mailbox, setup::Setup};

#[component]
pub fn App() -> impl IntoView {
    let model = Model::new();
    provide_context(model);
    model.start();
    view! {
        <div class="app">
            {move || model.storage_error.get().map(|e| view! {
                <p class="banner error" role="alert">"Local storage is unavailable: " {e}</p>
            })}
            {move || match model.screen.get() {
                Screen::Loading => view! { <p class="loading" role="status">"Opening your mail…"</p> }.into_any(),
                Screen::Setup => view! { <Setup/> }.into_any(),
                Screen::Mailbox => view! { <Mailbox/> }.into_any(),
            }}
        </div>
    }
}
