//! Plain IndexedDB access from tests, bypassing the app's types: to write records in an older
//! format and to look at records exactly as stored.

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
"#)]
extern "C" {
    async fn put_json(name: &str, store: &str, json: &str);
    async fn get_all_json(name: &str, store: &str) -> JsValue;
}

/// Puts one record (given as JSON) into `store` of database `name`, at its current version.
pub async fn put(name: &str, store: &str, json: &str) {
    put_json(name, store, json).await;
}

/// Every record of `store`, as stored, as a JSON array.
pub async fn all(name: &str, store: &str) -> serde_json::Value {
    let text = get_all_json(name, store).await.as_string().unwrap();
    serde_json::from_str(&text).unwrap()
}
