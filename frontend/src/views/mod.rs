//! Leptos components. They read the [`crate::model::Model`] from context and call its methods;
//! none of them touches IndexedDB or the tunnel directly.

pub mod accounts;
pub mod background;
pub mod backup;
pub mod compose;
pub mod compose_settings;
pub mod connection_test;
pub mod conversation;
pub mod disk_copy;
pub mod export;
pub mod folders;
pub mod import;
pub mod list;
pub mod mailbox;
pub mod oauth;
pub mod outbox;
pub mod reader;
pub mod rules;
pub mod safety;
pub mod search;
pub mod setup;
pub mod shortcuts;

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
///
/// Through three `Intl.DateTimeFormat`s made once: `toLocaleDateString` with options builds a
/// formatter per call (about 1 ms in Chromium), and the list formats every row it renders,
/// during a sync and at each scroll step.
pub fn short_date(ms: f64) -> String {
    let d = js_sys::Date::new(&ms.into());
    let now = js_sys::Date::new_0();
    let same_year = d.get_full_year() == now.get_full_year();
    let which = if same_year && d.get_month() == now.get_month() && d.get_date() == now.get_date() {
        DateStyle::Time
    } else if same_year {
        DateStyle::DayMonth
    } else {
        DateStyle::DayMonthYear
    };
    FORMATS.with(|formats| {
        formats[which as usize]
            .get_or_init(|| which.format())
            .call1(&wasm_bindgen::JsValue::NULL, &d)
            .ok()
            .and_then(|s| s.as_string())
            .unwrap_or_default()
    })
}

#[derive(Clone, Copy)]
enum DateStyle {
    Time = 0,
    DayMonth = 1,
    DayMonthYear = 2,
}

impl DateStyle {
    /// The `format` function of a new `Intl.DateTimeFormat` for the browser's locale.
    fn format(self) -> js_sys::Function {
        let options: &[(&str, &str)] = match self {
            DateStyle::Time => &[("hour", "2-digit"), ("minute", "2-digit")],
            DateStyle::DayMonth => &[("day", "numeric"), ("month", "short")],
            DateStyle::DayMonthYear => {
                &[("day", "numeric"), ("month", "short"), ("year", "numeric")]
            }
        };
        let opts = js_sys::Object::new();
        for (k, v) in options {
            let _ = js_sys::Reflect::set(&opts, &(*k).into(), &(*v).into());
        }
        js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &opts).format()
    }
}

thread_local! {
    /// [`short_date`]'s formats in [`DateStyle`] order, each made when first needed.
    static FORMATS: [std::cell::OnceCell<js_sys::Function>; 3] = Default::default();
}

pub fn long_date(ms: f64) -> String {
    js_sys::Date::new(&ms.into())
        .to_locale_string("default", &js_sys::Object::new())
        .into()
}
