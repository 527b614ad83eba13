//! The browser's global object, whichever it is: a page's `window` or the service worker's
//! `self`. The sync engine and what it uses (the store, the tunnel's URL, the clocks, WebCrypto,
//! Web Locks) run in both: in a page, and in the service worker's background check
//! (`background.rs`). `web_sys::window()` is `None` in a worker, so code on that path asks here
//! instead. Properties are read by name (`indexedDB`, `crypto`, …): each is the same class in
//! both globals, and web-sys binds them per global type.

use js_sys::Reflect;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

fn property(name: &str) -> Option<JsValue> {
    Reflect::get(&js_sys::global(), &name.into())
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

/// Whether this code runs in a page (a `window`), not a worker.
pub fn is_page() -> bool {
    web_sys::window().is_some()
}

/// `indexedDB` of this global.
pub fn indexed_db() -> Option<web_sys::IdbFactory> {
    property("indexedDB").map(JsCast::unchecked_into)
}

/// `crypto` of this global (its `subtle` is undefined off a secure context).
pub fn crypto() -> Option<web_sys::Crypto> {
    property("crypto").map(JsCast::unchecked_into)
}

/// `navigator` of this global (a `Navigator` or a `WorkerNavigator`: both have `locks`,
/// `onLine`, `setAppBadge`, `storage`).
pub fn navigator() -> Option<JsValue> {
    property("navigator")
}

/// `navigator.onLine`; `true` where there is no navigator.
pub fn on_line() -> bool {
    navigator()
        .and_then(|n| Reflect::get(&n, &"onLine".into()).ok())
        .and_then(|v| v.as_bool())
        .unwrap_or(true)
}

/// A monotonic clock in milliseconds (`performance.now()`), or the wall clock without one.
pub fn now_ms() -> f64 {
    property("performance")
        .map(JsCast::unchecked_into::<web_sys::Performance>)
        .map_or_else(js_sys::Date::now, |p| p.now())
}

/// The `protocol` and `host` of this global's `location` (the page's, or the worker script's,
/// which is on the same origin).
pub fn location() -> Option<(String, String)> {
    let location = property("location")?;
    let read = |name: &str| {
        Reflect::get(&location, &name.into())
            .ok()
            .and_then(|v| v.as_string())
    };
    Some((read("protocol")?, read("host")?))
}

/// `fetch` of this global.
pub fn fetch(url: &str, init: &web_sys::RequestInit) -> Option<js_sys::Promise> {
    let fetch: js_sys::Function = property("fetch")?.dyn_into().ok()?;
    fetch
        .call2(&js_sys::global(), &url.into(), init)
        .ok()
        .map(JsCast::unchecked_into)
}
