//! The Web Locks API (`navigator.locks`): one tab at a time sends an account's outbox, one
//! caller at a time refreshes an account's OAuth tokens (`model/oauth.rs`).
//!
//! Locks are shared by every tab and worker of the origin, and released by the browser when
//! the holder's page goes away, so a crashed tab never leaves the outbox locked. web-sys binds
//! `LockManager` only behind `web_sys_unstable_apis`, so it is reached through `Reflect`.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// Runs `work` holding the lock `name`, if no other holder has it now (`ifAvailable`): `None`
/// when another tab holds it (that tab is sending; this one must not). A browser without Web
/// Locks runs `work` unlocked: every browser Postbag supports has them.
pub async fn exclusive<R>(name: &str, work: impl Future<Output = R>) -> Option<R> {
    hold(name, true, work).await.ok()
}

/// Runs `work` holding the lock `name`, waiting (in request order) while another holder, in
/// this tab or another, has it.
pub async fn queued<R>(name: &str, work: impl Future<Output = R>) -> R {
    match hold(name, false, work).await {
        Ok(out) => out,
        // Only when the browser refused the request: run unlocked, as without Web Locks.
        Err(work) => work.await,
    }
}

/// `Err(work)`, not run: the lock was not available (`if_available`) or not asked.
async fn hold<R, W: Future<Output = R>>(name: &str, if_available: bool, work: W) -> Result<R, W> {
    // A worker's navigator has the same locks: the service worker's background check and the
    // open tabs exclude one another.
    let Some(navigator) = crate::global::navigator() else {
        return Ok(work.await);
    };
    let locks = Reflect::get(&navigator, &"locks".into()).unwrap_or(JsValue::UNDEFINED);
    let request = Reflect::get(&locks, &"request".into())
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok());
    let Some(request) = request.filter(|_| !locks.is_undefined()) else {
        return Ok(work.await);
    };

    // The lock is held until the promise the callback returns settles: `release`.
    let release_fn: Rc<RefCell<Option<Function>>> = Rc::default();
    let slot = release_fn.clone();
    let release = Promise::new(&mut |resolve, _| *slot.borrow_mut() = Some(resolve));
    let mut acquired_fn: Option<Function> = None;
    let acquired = Promise::new(&mut |resolve, _| acquired_fn = Some(resolve));
    let acquired_fn = acquired_fn.expect("the executor runs at once");
    let callback = Closure::once_into_js(move |lock: JsValue| -> JsValue {
        let got = !lock.is_null();
        let _ = acquired_fn.call1(&JsValue::NULL, &JsValue::from_bool(got));
        if got {
            release.into()
        } else {
            JsValue::UNDEFINED
        }
    });
    let options = Object::new();
    if if_available {
        let _ = Reflect::set(&options, &"ifAvailable".into(), &JsValue::TRUE);
    }
    // Settles once the lock is released (or was never granted).
    let Ok(held) = request.call3(&locks, &name.into(), &options, &callback) else {
        return Err(work);
    };
    let got = JsFuture::from(acquired)
        .await
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    if !got {
        return Err(work);
    }
    // Released however `work` ends: dropping this guard resolves the lock's promise.
    let guard = Release(release_fn);
    let out = work.await;
    drop(guard);
    // Returns once the browser has let the lock go, so the caller's next request finds it free.
    let _ = JsFuture::from(Promise::resolve(&held)).await;
    Ok(out)
}

struct Release(Rc<RefCell<Option<Function>>>);

impl Drop for Release {
    fn drop(&mut self) {
        if let Some(resolve) = self.0.borrow_mut().take() {
            let _ = resolve.call0(&JsValue::NULL);
        }
    }
}
