//! Smoke test that the wasm test runner reaches a real browser with a real IndexedDB: write a
//! record, read it back in a new transaction, and check that a missing key stays missing.
#![cfg(target_arch = "wasm32")]

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Resolves when an IDBRequest or IDBTransaction fires `success`/`complete`, rejects on `error`.
fn settle(target: &web_sys::EventTarget, ok_event: &str) -> js_sys::Promise {
    let target = target.clone();
    let ok_event = ok_event.to_string();
    js_sys::Promise::new(&mut move |resolve, reject| {
        let ok = wasm_bindgen::closure::Closure::once_into_js(move |e: web_sys::Event| {
            resolve.call1(&JsValue::NULL, &e).unwrap();
        });
        let err = wasm_bindgen::closure::Closure::once_into_js(move |e: web_sys::Event| {
            reject.call1(&JsValue::NULL, &e).unwrap();
        });
        target
            .add_event_listener_with_callback(&ok_event, ok.unchecked_ref())
            .unwrap();
        target
            .add_event_listener_with_callback("error", err.unchecked_ref())
            .unwrap();
    })
}

#[wasm_bindgen_test]
async fn indexeddb_round_trips_a_record() {
    let factory = web_sys::window()
        .unwrap()
        .indexed_db()
        .unwrap()
        .expect("IndexedDB exists");
    let name = format!("postbag-smoke-{}", js_sys::Math::random());
    let open = factory.open_with_u32(&name, 1).unwrap();
    let upgrade = wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::Event)>::new(
        move |e: web_sys::Event| {
            let req: web_sys::IdbOpenDbRequest = e.target().unwrap().unchecked_into();
            let db: web_sys::IdbDatabase = req.result().unwrap().unchecked_into();
            db.create_object_store("records").unwrap();
        },
    );
    open.set_onupgradeneeded(Some(upgrade.as_ref().unchecked_ref()));
    JsFuture::from(settle(&open, "success")).await.unwrap();
    let db: web_sys::IdbDatabase = open.result().unwrap().unchecked_into();

    let tx = db
        .transaction_with_str_and_mode("records", web_sys::IdbTransactionMode::Readwrite)
        .unwrap();
    tx.object_store("records")
        .unwrap()
        .put_with_key(
            &JsValue::from_str("hello from postbag"),
            &JsValue::from_str("greeting"),
        )
        .unwrap();
    JsFuture::from(settle(&tx, "complete")).await.unwrap();

    let tx = db.transaction_with_str("records").unwrap();
    let store = tx.object_store("records").unwrap();
    let got = store.get(&JsValue::from_str("greeting")).unwrap();
    JsFuture::from(settle(&got, "success")).await.unwrap();
    assert_eq!(
        got.result().unwrap().as_string().as_deref(),
        Some("hello from postbag")
    );
    let missing = store.get(&JsValue::from_str("absent")).unwrap();
    JsFuture::from(settle(&missing, "success")).await.unwrap();
    assert!(missing.result().unwrap().is_undefined());
    db.close();
}
