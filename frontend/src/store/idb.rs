//! The few IndexedDB primitives the store needs, as futures.
//!
//! IndexedDB is callback-based; each helper turns one request or one transaction into a
//! `js_sys::Promise` and awaits it. Transactions are awaited on `complete`, not on the last
//! request's `success`: only `complete` means the data is durable, and the sync engine's
//! DELE invariant depends on that distinction.

use js_sys::{Array, Promise};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbRequest, IdbTransaction};

use super::StoreError;

/// Awaits one request and returns its `result`.
///
/// The handlers are dropped (and unset) once the request settled or the future is dropped. A
/// handler that never ran must not outlive the request: `Closure::once_into_js` would leak it,
/// and what it captured (the request, the promise's resolve and reject) with it, so every
/// request's `result` stayed reachable. An export read the whole archive and kept all of it.
pub async fn request(req: &IdbRequest) -> Result<JsValue, StoreError> {
    let mut handlers = Handlers {
        req: req.clone(),
        closures: Vec::new(),
    };
    let promise = Promise::new(&mut |resolve, reject| {
        let on_success = Closure::once(move |ev: web_sys::Event| {
            let value = ev
                .target()
                .and_then(|t| t.dyn_into::<IdbRequest>().ok())
                .and_then(|r| r.result().ok())
                .unwrap_or(JsValue::UNDEFINED);
            let _ = resolve.call1(&JsValue::NULL, &value);
        });
        let on_error = Closure::once(move |ev: web_sys::Event| {
            let err = ev
                .target()
                .and_then(|t| t.dyn_into::<IdbRequest>().ok())
                .and_then(|r| r.error().ok().flatten())
                .map(JsValue::from)
                .unwrap_or_else(|| JsValue::from_str("request failed"));
            let _ = reject.call1(&JsValue::NULL, &err);
        });
        req.set_onsuccess(Some(on_success.as_ref().unchecked_ref()));
        req.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        handlers.closures.extend([on_success, on_error]);
    });
    let result = JsFuture::from(promise).await.map_err(StoreError::from_js);
    drop(handlers);
    result
}

/// A request's handlers; dropping it unsets and frees them.
struct Handlers {
    req: IdbRequest,
    closures: Vec<Closure<dyn FnMut(web_sys::Event)>>,
}

impl Drop for Handlers {
    fn drop(&mut self) {
        self.req.set_onsuccess(None);
        self.req.set_onerror(None);
    }
}

/// Resolves when the transaction has committed (`complete`); fails on `error` or `abort`.
///
/// The listeners are attached now, not at the first poll, so the returned future can be kept
/// and awaited later (the sync engine keeps receiving while a batch commits).
pub fn completion(tx: &IdbTransaction) -> JsFuture {
    let tx2 = tx.clone();
    let promise = Promise::new(&mut |resolve, reject| {
        let on_complete = Closure::once_into_js(move |_ev: web_sys::Event| {
            let _ = resolve.call0(&JsValue::NULL);
        });
        let rej2 = reject.clone();
        let err_tx = tx2.clone();
        let on_error = Closure::once_into_js(move |_ev: web_sys::Event| {
            let err = err_tx
                .error()
                .map(JsValue::from)
                .unwrap_or_else(|| JsValue::from_str("transaction failed"));
            let _ = reject.call1(&JsValue::NULL, &err);
        });
        let on_abort = Closure::once_into_js(move |_ev: web_sys::Event| {
            let _ = rej2.call1(&JsValue::NULL, &JsValue::from_str("transaction aborted"));
        });
        tx2.set_oncomplete(Some(on_complete.unchecked_ref()));
        tx2.set_onerror(Some(on_error.unchecked_ref()));
        tx2.set_onabort(Some(on_abort.unchecked_ref()));
    });
    JsFuture::from(promise)
}

/// Awaits [`completion`].
pub async fn committed(tx: &IdbTransaction) -> Result<(), StoreError> {
    completion(tx)
        .await
        .map(|_| ())
        .map_err(StoreError::from_js)
}

/// Queues `write`'s requests on `tx`, then awaits `complete`. If `write` fails part-way (a
/// record that does not serialise, a `put` the browser refuses synchronously), the transaction
/// is aborted before it could auto-commit, so the requests already queued are undone: no body
/// without its summary and ledger line, no half of a batch.
pub async fn write_all(
    tx: &IdbTransaction,
    write: impl FnOnce(&IdbTransaction) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    queue_all(tx, write)?;
    committed(tx).await
}

/// The first half of [`write_all`]: queues the writes (aborting on failure) without waiting,
/// then asks the browser to commit at once: no request may be added to `tx` afterwards.
///
/// Without `commit()` a transaction commits only once the page has been handed the `success`
/// event of every request (three per message in a sync batch), each a task on the busy main
/// thread; with it the storage backend starts writing as soon as the last request is queued
/// (about a quarter less time per batch, measured in Chromium). `complete` still means
/// durable, and an error still aborts the whole transaction. A browser without `commit()`
/// (Safari before 15) commits as before.
pub fn queue_all(
    tx: &IdbTransaction,
    write: impl FnOnce(&IdbTransaction) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    write(tx).inspect_err(|_| {
        let _ = tx.abort();
    })?;
    // web-sys marks `commit` deprecated for want of support in old browsers, not in the spec.
    #[allow(deprecated)]
    let _ = tx.commit();
    Ok(())
}

/// A compound key `[account, uidl]`.
pub fn key2(a: &str, b: &str) -> JsValue {
    Array::of2(&JsValue::from_str(a), &JsValue::from_str(b)).into()
}

/// Serialises a record into a plain JS object (through JSON, so key paths see real fields).
pub fn to_js<T: serde::Serialize>(value: &T) -> Result<JsValue, StoreError> {
    let text = serde_json::to_string(value).map_err(|e| StoreError::Codec(e.to_string()))?;
    js_sys::JSON::parse(&text).map_err(StoreError::from_js)
}

/// The reverse of [`to_js`]; also used for whole arrays from `getAll`.
pub fn from_js<T: serde::de::DeserializeOwned>(value: &JsValue) -> Result<T, StoreError> {
    let text: String = js_sys::JSON::stringify(value)
        .map_err(StoreError::from_js)?
        .into();
    serde_json::from_str(&text).map_err(|e| StoreError::Codec(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use crate::store::schema::BODIES;
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// Regression: a settled request keeps no handler. A handler left behind held the request,
    /// and with it its result: an export of 1 GB left 1 GB of message bytes reachable in the tab.
    #[test]
    async fn a_settled_request_keeps_no_handler() {
        let name = format!("postbag-test-idb-{}", js_sys::Math::random());
        let store = Store::open_named(&name).await.unwrap();
        let tx = store
            .tx(&[BODIES], web_sys::IdbTransactionMode::Readwrite)
            .unwrap();
        let os = tx.object_store(BODIES).unwrap();
        let put = os
            .put_with_key(&JsValue::from_str("bytes"), &key2("a", "u"))
            .unwrap();
        request(&put).await.unwrap();
        let get = os.get(&key2("a", "u")).unwrap();
        assert_eq!(request(&get).await.unwrap(), JsValue::from_str("bytes"));
        // A failing request too: a second add under the same key.
        let add = os
            .add_with_key(&JsValue::from_str("again"), &key2("a", "u"))
            .unwrap();
        assert!(request(&add).await.is_err());
        for req in [&put, &get, &add] {
            assert!(req.onsuccess().is_none(), "onsuccess left set");
            assert!(req.onerror().is_none(), "onerror left set");
        }
        store.close();
    }
}
