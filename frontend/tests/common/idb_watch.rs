//! Watches the real IndexedDB from outside the app, so tests can check the DELE invariant as
//! strongly as it is stated: "the message's raw bytes are in a transaction that has COMPLETED".
//!
//! Reading the body back with a new read-only transaction is not enough: by the IndexedDB spec
//! that read waits for every earlier read-write transaction on the same store, so it would also
//! pass for a DELE sent after `put` succeeded but before `complete` (or without waiting at all).
//! Instead this wraps `IDBDatabase.prototype.transaction` and `IDBObjectStore.prototype.put`:
//! a successful put into `bodies` is remembered on its transaction, and only that transaction's
//! `complete` event publishes the bytes as committed, and only if the transaction was opened
//! with `durability: "strict"` (flushed to disk before `complete`). An aborted transaction
//! publishes nothing. The production code is not touched and has no hooks.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(inline_js = r#"
const committed = new Map();
let failAt = null;
let bodyTransactions = 0;
const keyOf = (db, key) => JSON.stringify([db, key]);

export function install() {
  if (globalThis.committedBodies) return;
  globalThis.committedBodies = committed;
  const transaction = IDBDatabase.prototype.transaction;
  IDBDatabase.prototype.transaction = function (...args) {
    const tx = transaction.apply(this, args);
    const pending = [];
    tx.__postbagBodies = pending;
    // Registered before the caller can set `oncomplete`, so this runs before any code that
    // reacts to the commit (e.g. by sending DELE).
    tx.addEventListener('complete', () => {
      if (pending.length) bodyTransactions += 1;
      // Only a flushed transaction counts as durable: with the default ("relaxed" in
      // Chromium) `complete` may fire before the bytes reach the disk.
      if (tx.durability !== 'strict') return;
      for (const [k, v] of pending) committed.set(k, v);
    });
    tx.addEventListener('abort', () => { pending.length = 0; });
    return tx;
  };
  const put = IDBObjectStore.prototype.put;
  IDBObjectStore.prototype.put = function (value, key) {
    if (failAt && failAt.store === this.name && --failAt.n === 0) {
      failAt = null;
      throw new DOMException('put refused by the test', 'DataError');
    }
    const req = put.apply(this, arguments);
    if (this.name === 'bodies') {
      const tx = this.transaction;
      const k = keyOf(tx.db.name, key);
      // Only a put that succeeded can be part of the commit.
      req.addEventListener('success', () => tx.__postbagBodies.push([k, value]));
    }
    return req;
  };
}

export function committed_body(db, account, uidl) {
  const v = committed.get(keyOf(db, [account, uidl]));
  return v === undefined ? undefined : new Uint8Array(v);
}

export function committed_anywhere(db, account, bytes) {
  const prefix = keyOf(db, [account, '']).slice(0, -4); // '["db",["account",'
  for (const [k, v] of committed) {
    if (!k.startsWith(prefix)) continue;
    const b = new Uint8Array(v);
    if (b.length === bytes.length && b.every((x, i) => x === bytes[i])) return true;
  }
  return false;
}

export function fail_nth_put(store, n) { failAt = { store, n }; }

export function body_transactions() { return bodyTransactions; }
"#)]
extern "C" {
    /// Installs the wrappers (idempotent). Call before the code under test opens transactions.
    pub fn install();
    fn committed_body(db: &str, account: &str, uidl: &str) -> Option<Vec<u8>>;
    /// Whether some completed strict transaction put exactly `bytes` as a body of `account`,
    /// under any key (a server without UIDL: the app keys messages by their headers).
    pub fn committed_anywhere(db: &str, account: &str, bytes: &[u8]) -> bool;
    /// The `n`th `put` (from 1) into object store `store` from now on throws synchronously (as
    /// a browser may, e.g. `DataError`), to test what the caller does with a half-written
    /// transaction.
    pub fn fail_nth_put(store: &str, n: u32);
    /// How many transactions that wrote message bodies have completed (in every database).
    pub fn body_transactions() -> u32;
}

/// The bytes of `[account, uidl]` in database `db` as of the last COMPLETED transaction that
/// put them, or `None` if no such transaction has completed.
pub fn committed(db: &str, account: &str, uidl: &str) -> Option<Vec<u8>> {
    committed_body(db, account, uidl)
}

/// The next `put` into `store` throws (see [`fail_nth_put`]).
pub fn fail_next_put(store: &str) {
    fail_nth_put(store, 1);
}
