//! Periodic Background Sync (Chromium only, installed app only): the tag `postbag-check` is
//! registered while at least one account is opted in to background checks, and unregistered
//! when none is. The browser decides when (and whether) the service worker's `periodicsync`
//! fires, from how much the site is used; `minInterval` is only the least it may wait.
//! web-sys binds neither `periodicSync` nor `permissions.query` for it: reached by name.

use js_sys::{Object, Promise, Reflect};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// The tag the service worker answers (`frontend/pwa/sw.js`, `CHECK_TAG`).
pub const TAG: &str = "postbag-check";
/// The least wait between two background checks asked of the browser. Chromium waits at least
/// 12 hours anyway, more for a site used less.
const MIN_INTERVAL_MS: f64 = 60.0 * 60_000.0;

/// What the browser allows, as the accounts screen says it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Periodic {
    /// Registered: the browser will fire it when it chooses.
    Registered,
    /// Not registered (no account opted in).
    Off,
    /// The permission is not granted: in Chromium, the app is not installed, or the site's
    /// background sync setting is off.
    NotGranted,
    /// This browser has no Periodic Background Sync (Firefox, Safari), or no service worker.
    Unsupported,
}

async fn call(target: &JsValue, name: &str, args: &[JsValue]) -> Option<JsValue> {
    let f: js_sys::Function = Reflect::get(target, &name.into()).ok()?.dyn_into().ok()?;
    let args: js_sys::Array = args.iter().collect();
    let value = f.apply(target, &args).ok()?;
    match value.dyn_into::<Promise>() {
        Ok(p) => JsFuture::from(p).await.ok(),
        Err(value) => Some(value),
    }
}

async fn permission() -> Option<String> {
    let navigator = crate::global::navigator()?;
    let permissions = Reflect::get(&navigator, &"permissions".into()).ok()?;
    let query = Object::new();
    Reflect::set(&query, &"name".into(), &"periodic-background-sync".into()).ok()?;
    let status = call(&permissions, "query", &[query.into()]).await?;
    Reflect::get(&status, &"state".into()).ok()?.as_string()
}

/// Registers (`on`) or unregisters the check, and says what the browser allows.
pub async fn set(on: bool) -> Periodic {
    let Some(navigator) = crate::global::navigator() else {
        return Periodic::Unsupported;
    };
    let Ok(container) = Reflect::get(&navigator, &"serviceWorker".into()) else {
        return Periodic::Unsupported;
    };
    let ready = Reflect::get(&container, &"ready".into())
        .ok()
        .and_then(|p| p.dyn_into::<Promise>().ok());
    let Some(ready) = ready else {
        return Periodic::Unsupported;
    };
    let Ok(registration) = JsFuture::from(ready).await else {
        return Periodic::Unsupported;
    };
    let periodic = Reflect::get(&registration, &"periodicSync".into()).unwrap_or_default();
    if periodic.is_undefined() || periodic.is_null() {
        return Periodic::Unsupported;
    }
    if !on {
        let _ = call(&periodic, "unregister", &[TAG.into()]).await;
        return Periodic::Off;
    }
    if permission().await.as_deref() != Some("granted") {
        return Periodic::NotGranted;
    }
    let options = Object::new();
    let _ = Reflect::set(&options, &"minInterval".into(), &MIN_INTERVAL_MS.into());
    match call(&periodic, "register", &[TAG.into(), options.into()]).await {
        Some(_) => Periodic::Registered,
        None => Periodic::NotGranted,
    }
}
