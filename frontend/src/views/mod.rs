//! Leptos components. They read the [`crate::model::Model`] from context and call its methods;
//! none of them touches IndexedDB or the tunnel directly.

pub mod accounts;
pub mod backup;
pub mod compose;
pub mod compose_settings;
pub mod disk_copy;
pub mod export;
pub mod import;
pub mod list;
pub mod mailbox;
pub mod outbox;
pub mod reader;
pub mod safety;
pub mod setup;

use leptos::prelude::*;

/// A form's error line (`role="alert"`), shown while `error` holds one.
#[component]
pub fn ErrorBanner(#[prop(into)] error: Signal<Option<String>>) -> impl IntoView {
    move || {
        error.get().map(|e| {
            view! {
                <p class="banner error" role="alert">
                    {e}
                </p>
            }
        })
    }
}

/// A local date for lists: time today, else day and month, else the full date.
pub fn short_date(ms: f64) -> String {
    let d = js_sys::Date::new(&ms.into());
    let now = js_sys::Date::new_0();
    let opts = js_sys::Object::new();
    let set = |k: &str, v: &str| {
        let _ = js_sys::Reflect::set(&opts, &k.into(), &v.into());
    };
    if d.to_date_string() == now.to_date_string() {
        set("hour", "2-digit");
        set("minute", "2-digit");
        return d
            .to_locale_time_string_with_options("default", &opts)
            .into();
    }
    if d.get_full_year() == now.get_full_year() {
        set("day", "numeric");
        set("month", "short");
    } else {
        set("day", "numeric");
        set("month", "short");
        set("year", "numeric");
    }
    d.to_locale_date_string("default", &opts).into()
}

pub fn long_date(ms: f64) -> String {
    js_sys::Date::new(&ms.into())
        .to_locale_string("default", &js_sys::Object::new())
        .into()
}
