//! The conversation-id back-fill's reads against the real IndexedDB in Chromium: the header
//! parts of stored messages come back, read one body at a time (each `get` holds the whole
//! value in the JS heap until its transaction ends, and messages may be 128 MiB).

mod common;

use common::fresh_store;
use js_sys::{Function, Reflect};
use postbag_web::mail::summarize;
use postbag_web::store::NewMessage;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const ACCOUNT: &str = "me@example.org";

/// Counts the reads of the bodies store waiting for their value at once, from outside the
/// app, until dropped.
struct BodyReads;

impl BodyReads {
    fn watch() -> Self {
        Function::new_no_args(
            "const get = IDBObjectStore.prototype.get;
             globalThis.__get = get;
             globalThis.__bodyReads = { now: 0, most: 0 };
             IDBObjectStore.prototype.get = function (...args) {
               const req = get.apply(this, args);
               if (this.name === 'bodies') {
                 const r = globalThis.__bodyReads;
                 r.now += 1;
                 r.most = Math.max(r.most, r.now);
                 const done = () => { r.now -= 1; };
                 req.addEventListener('success', done);
                 req.addEventListener('error', done);
               }
               return req;
             };",
        )
        .call0(&JsValue::NULL)
        .unwrap();
        BodyReads
    }

    fn most(&self) -> f64 {
        let reads = Reflect::get(&js_sys::global(), &"__bodyReads".into()).unwrap();
        Reflect::get(&reads, &"most".into())
            .unwrap()
            .as_f64()
            .unwrap()
    }
}

impl Drop for BodyReads {
    fn drop(&mut self) {
        Function::new_no_args("IDBObjectStore.prototype.get = globalThis.__get;")
            .call0(&JsValue::NULL)
            .unwrap();
    }
}

#[wasm_bindgen_test]
async fn header_parts_are_read_one_body_at_a_time() {
    let store = fresh_store("thread-ids-heads").await;
    let batch: Vec<NewMessage> = (0..6)
        .map(|i| {
            let raw = format!(
                "From: a@example.org\r\nSubject: n{i}\r\nMessage-ID: <m{i}@example.org>\r\n\r\n{}\r\n",
                "body line\r\n".repeat(20_000)
            )
            .into_bytes();
            NewMessage {
                summary: summarize(&raw, ACCOUNT, &format!("u{i}"), 1.0),
                raw,
                server_size: None,
            }
        })
        .collect();
    store.commit_messages(&batch, 1.0).await.unwrap();
    let mut keys: Vec<_> = (0..6)
        .map(|i| (ACCOUNT.to_string(), format!("u{i}")))
        .collect();
    keys.push((ACCOUNT.to_string(), "gone".to_string()));
    let reads = BodyReads::watch();
    let heads = store.raw_heads(&keys, 4096).await.unwrap();
    let most = reads.most();
    drop(reads);
    assert_eq!(most, 1.0, "bodies read at once");
    assert_eq!(heads.len(), 7);
    for (i, head) in heads[..6].iter().enumerate() {
        let head = head.as_ref().unwrap();
        assert!(head.len() <= 4096);
        let text = String::from_utf8_lossy(head);
        assert!(text.contains(&format!("Message-ID: <m{i}@example.org>")));
    }
    assert_eq!(heads[6], None, "a message no longer stored");
}
