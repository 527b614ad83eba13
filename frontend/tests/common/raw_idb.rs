//! Plain IndexedDB access from tests, bypassing the app's types: to write records in an older
//! format and to look at records exactly as stored.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(inline_js = r#"
function open(name) {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(name);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}
export async function put_json(name, store, json) {
  const db = await open(name);
  await new Promise((resolve, reject) => {
    const tx = db.transaction(store, 'readwrite');
    tx.objectStore(store).put(JSON.parse(json));
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
  });
  db.close();
}
export async function put_bytes_json(name, store, key, bytes) {
  const db = await open(name);
  await new Promise((resolve, reject) => {
    const tx = db.transaction(store, 'readwrite');
    tx.objectStore(store).put(bytes, JSON.parse(key));
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
  });
  db.close();
}
export async function get_all_json(name, store) {
  const db = await open(name);
  const all = await new Promise((resolve, reject) => {
    const req = db.transaction(store).objectStore(store).getAll();
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  db.close();
  return JSON.stringify(all);
}
// A connection held open without a `versionchange` handler, as an older build's tab holds it.
export function hold(name, version) {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(name, version);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}
export function release(db) {
  db.close();
}
// Resolves true once `name` is open at `version` (the upgrade done), false after `ms` if the
// request is still waiting (blocked by a connection that does not close).
export function upgrade_within(name, version, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(false), ms);
    const req = indexedDB.open(name, version);
    req.onupgradeneeded = () => {};
    req.onsuccess = () => {
      clearTimeout(timer);
      req.result.close();
      resolve(true);
    };
    req.onerror = () => {
      clearTimeout(timer);
      reject(req.error);
    };
  });
}
"#)]
extern "C" {
    /// An open database connection, as `hold` returns it.
    pub type Held;
    async fn hold(name: &str, version: u32) -> JsValue;
    fn release(db: &Held);
    async fn upgrade_within(name: &str, version: u32, ms: u32) -> JsValue;
    async fn put_json(name: &str, store: &str, json: &str);
    async fn put_bytes_json(name: &str, store: &str, key: &str, bytes: &[u8]);
    async fn get_all_json(name: &str, store: &str) -> JsValue;
}

/// Puts one record (given as JSON) into `store` of database `name`, at its current version.
pub async fn put(name: &str, store: &str, json: &str) {
    put_json(name, store, json).await;
}

/// Puts `bytes` under the out-of-line `key` (given as JSON) into `store` of database `name`.
pub async fn put_bytes(name: &str, store: &str, key: &str, bytes: &[u8]) {
    put_bytes_json(name, store, key, bytes).await;
}

/// Every record of `store`, as stored, as a JSON array.
pub async fn all(name: &str, store: &str) -> serde_json::Value {
    let text = get_all_json(name, store).await.as_string().unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Opens `name` at `version` and keeps the connection open until [`Held::close`], deaf to
/// other connections' upgrade requests (an old build of the app, before it handled them).
pub async fn hold_open(name: &str, version: u32) -> Held {
    hold(name, version).await.unchecked_into()
}

impl Held {
    pub fn close(&self) {
        release(self);
    }
}

/// Whether opening `name` at the higher `version` completes within `ms` milliseconds (`false`:
/// the request was still waiting on connections that did not close). Upgrades create nothing.
pub async fn upgrade(name: &str, version: u32, ms: u32) -> bool {
    upgrade_within(name, version, ms).await.as_bool().unwrap()
}
