//! The app's side of durable storage: a quota check the sync engine calls before it downloads
//! mail, and the storage panel for settings.
//!
//! The work happens in `frontend/pwa/storage.js` (a plain script loaded by index.html), which
//! defines `window.postbagStorage` and the `<postbag-storage>` element. Keeping it in JS lets
//! the shell show storage warnings and update banners even when the wasm app fails to start;
//! this module is only the typed door to it.
//!
//! Use:
//! ```ignore
//! match pwa::ensure_room(batch_bytes).await {
//!     Ok(room) if room.ok => { /* download the batch */ }
//!     Ok(_) => { /* stop the sync: storage.js has already shown the user a warning */ }
//!     Err(e) => { /* the Storage API is missing: sync anyway */ }
//! }
//! ```
//! and `<postbag-storage></postbag-storage>` in the settings view.

use js_sys::{Promise, Reflect};
use wasm_bindgen::prelude::*;

pub mod periodic;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_namespace = postbagStorage, js_name = ensureRoom)]
    fn js_ensure_room(bytes: f64) -> Result<Promise, JsValue>;

    #[wasm_bindgen(catch, js_namespace = postbagStorage, js_name = estimate)]
    fn js_estimate() -> Result<Promise, JsValue>;

    #[wasm_bindgen(catch, js_namespace = postbagStorage, js_name = requestPersistence)]
    fn js_request_persistence() -> Result<Promise, JsValue>;
}

/// The event storage.js sends on `window` when durability may have changed (after it asked).
pub const STORAGE_CHANGED: &str = "postbag-storage-changed";

/// Asks the browser to keep the site's data ("Keep mail durable"); `true` when it agreed.
/// storage.js tells the user the answer.
pub async fn request_persistence() -> Result<bool, StorageError> {
    let promise = js_request_persistence().map_err(unavailable)?;
    let value = JsFuture::from(promise).await.map_err(unavailable)?;
    Ok(value.as_bool().unwrap_or(false))
}

/// What the browser says about storage, in bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct StorageState {
    /// Whether the next batch fits (always `true` from [`estimate`]).
    pub ok: bool,
    pub usage: Option<f64>,
    pub quota: Option<f64>,
    pub available: Option<f64>,
    /// The browser promised not to evict this site's data.
    pub persisted: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// storage.js did not load, or the browser has no Storage API.
    #[error("the storage helper is not available: {0}")]
    Unavailable(String),
}

/// Before downloading `bytes` of mail: asks for durable storage on the first call, and answers
/// `ok: false` (after warning the user) when the batch would not fit in the quota.
pub async fn ensure_room(bytes: u64) -> Result<StorageState, StorageError> {
    // f64 holds every byte count below 2^53, far beyond any browser quota.
    let promise = js_ensure_room(bytes as f64).map_err(unavailable)?;
    let value = JsFuture::from(promise).await.map_err(unavailable)?;
    Ok(read_state(&value))
}

/// Usage, quota and durability, for a status line.
pub async fn estimate() -> Result<StorageState, StorageError> {
    let promise = js_estimate().map_err(unavailable)?;
    let value = JsFuture::from(promise).await.map_err(unavailable)?;
    let mut state = read_state(&value);
    state.ok = true;
    Ok(state)
}

fn read_state(value: &JsValue) -> StorageState {
    let number = |key: &str| {
        Reflect::get(value, &key.into())
            .ok()
            .and_then(|v| v.as_f64())
    };
    let flag = |key: &str| {
        Reflect::get(value, &key.into())
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(false)
    };
    StorageState {
        ok: flag("ok"),
        usage: number("usage"),
        quota: number("quota"),
        available: number("available"),
        persisted: flag("persisted"),
    }
}

fn unavailable(error: JsValue) -> StorageError {
    StorageError::Unavailable(
        error
            .as_string()
            .or_else(|| Reflect::get(&error, &"message".into()).ok()?.as_string())
            .unwrap_or_else(|| "unknown error".into()),
    )
}

/// The installed app's badge (Badging API): the unread count, cleared at zero. Browsers
/// without the API, or a page not installed, ignore it. Returns the browser's promise, which
/// the service worker awaits (it may stop once its event is done); a page need not.
pub fn set_badge(unread: u32) -> Option<Promise> {
    // A page's navigator or the service worker's (its background check sets it too).
    let navigator = crate::global::navigator()?;
    let (name, args) = if unread == 0 {
        ("clearAppBadge", js_sys::Array::new())
    } else {
        ("setAppBadge", js_sys::Array::of1(&JsValue::from(unread)))
    };
    if let Ok(f) = Reflect::get(&navigator, &name.into())
        && let Ok(f) = f.dyn_into::<js_sys::Function>()
        && let Ok(p) = f.apply(&navigator, &args)
        && let Ok(p) = p.dyn_into::<Promise>()
    {
        // A refusal (not installed, no permission) changes nothing for the user: not shown.
        let waited = p.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let _ = JsFuture::from(waited).await;
        });
        return Some(p);
    }
    None
}

fn notification_class() -> Option<js_sys::Function> {
    // Workers have the class too, for its permission; only a page may construct one.
    Reflect::get(&js_sys::global(), &"Notification".into())
        .ok()?
        .dyn_into()
        .ok()
}

/// The notification permission: `"granted"`, `"denied"`, `"default"` (not asked yet), or
/// `"unsupported"`.
pub fn notification_permission() -> String {
    notification_class()
        .and_then(|n| Reflect::get(&n, &"permission".into()).ok())
        .and_then(|p| p.as_string())
        .unwrap_or_else(|| "unsupported".into())
}

/// Asks for the permission to notify; call only from a user gesture (a click), never at
/// load: browsers block, and users resent, an unasked prompt. Returns the answer.
pub async fn ask_notifications() -> String {
    let Some(class) = notification_class() else {
        return "unsupported".into();
    };
    let asked = Reflect::get(&class, &"requestPermission".into())
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        .and_then(|f| f.call0(&class).ok())
        .and_then(|p| p.dyn_into::<Promise>().ok());
    if let Some(p) = asked {
        let _ = JsFuture::from(p).await;
    }
    notification_permission()
}

/// "3 new messages" for `account`, as a system notification when the user allowed them. The
/// notification names the account and the count only, never a sender or subject: it shows on
/// the lock screen. In the service worker, returns the promise of `showNotification`, which
/// the worker must await before its event ends.
pub fn notify_new_mail(account: &str, count: u32) -> Option<Promise> {
    if notification_permission() != "granted" {
        return None;
    }
    let class = notification_class()?;
    let body = match count {
        1 => format!("1 new message for {account}"),
        n => format!("{n} new messages for {account}"),
    };
    let options = js_sys::Object::new();
    let _ = Reflect::set(&options, &"body".into(), &body.into());
    let _ = Reflect::set(
        &options,
        &"tag".into(),
        &format!("postbag {account}").into(),
    );
    let title = "Postbag: new mail";
    if crate::global::is_page() {
        let _ = Reflect::construct(&class, &js_sys::Array::of2(&title.into(), &options));
        return None;
    }
    // The service worker: `new Notification` throws there; its registration shows it.
    let registration = Reflect::get(&js_sys::global(), &"registration".into()).ok()?;
    let show: js_sys::Function = Reflect::get(&registration, &"showNotification".into())
        .ok()?
        .dyn_into()
        .ok()?;
    show.call2(&registration, &title.into(), &options)
        .ok()?
        .dyn_into()
        .ok()
}

/// The bytes this origin may still store (`navigator.storage.estimate()`: quota less usage),
/// or `None` where the browser does not say. Read without `storage.js`, which only pages load.
pub async fn room_left() -> Option<u64> {
    let navigator = crate::global::navigator()?;
    let storage = Reflect::get(&navigator, &"storage".into()).ok()?;
    let estimate: js_sys::Function = Reflect::get(&storage, &"estimate".into())
        .ok()?
        .dyn_into()
        .ok()?;
    let promise: Promise = estimate.call0(&storage).ok()?.dyn_into().ok()?;
    let value = JsFuture::from(promise).await.ok()?;
    let number = |key: &str| Reflect::get(&value, &key.into()).ok()?.as_f64();
    Some((number("quota")? - number("usage")?).max(0.0) as u64)
}
