//! Browser faults and watches the disk-copy tests install, each until its guard drops: refused
//! writes, a browser without `move()`, a watch on what lands in `cur/`, refused IndexedDB reads.

use js_sys::{Function, Reflect};
use postbag_web::disk_copy::names;
use wasm_bindgen::prelude::*;

/// Every write refused by the browser as `error` (a DOMException name) until the guard drops:
/// `createWritable` is what a full disk or a lost permission refuses.
pub struct RefuseWrites;

impl RefuseWrites {
    pub fn with(error: &str) -> RefuseWrites {
        Function::new_no_args(&format!(
            "const p = FileSystemFileHandle.prototype;
             globalThis.__createWritable = p.createWritable;
             p.createWritable = function () {{
               return Promise.reject(new DOMException('refused by the test', '{error}'));
             }};"
        ))
        .call0(&JsValue::NULL)
        .unwrap();
        RefuseWrites
    }
}

impl Drop for RefuseWrites {
    fn drop(&mut self) {
        Function::new_no_args(
            "FileSystemFileHandle.prototype.createWritable = globalThis.__createWritable;",
        )
        .call0(&JsValue::NULL)
        .unwrap();
    }
}

/// A browser without `move()` on file handles (the fallback writes straight into `cur/`) whose
/// second `createWritable` is refused as `QuotaExceededError` (the first, into `tmp/`, passes),
/// until the guard drops.
pub struct NoMoveSecondWriteRefused;

impl NoMoveSecondWriteRefused {
    pub fn new() -> NoMoveSecondWriteRefused {
        Function::new_no_args(
            "const p = FileSystemFileHandle.prototype;
             globalThis.__move = Object.getOwnPropertyDescriptor(p, 'move');
             Object.defineProperty(p, 'move', { value: undefined, configurable: true });
             globalThis.__createWritable = p.createWritable;
             let calls = 0;
             p.createWritable = function (...args) {
               calls += 1;
               if (calls === 2) {
                 return Promise.reject(new DOMException('refused by the test', 'QuotaExceededError'));
               }
               return globalThis.__createWritable.apply(this, args);
             };",
        )
        .call0(&JsValue::NULL)
        .unwrap();
        NoMoveSecondWriteRefused
    }
}

impl Drop for NoMoveSecondWriteRefused {
    fn drop(&mut self) {
        Function::new_no_args(
            "const p = FileSystemFileHandle.prototype;
             p.createWritable = globalThis.__createWritable;
             if (globalThis.__move) { Object.defineProperty(p, 'move', globalThis.__move); }
             else { delete p.move; }",
        )
        .call0(&JsValue::NULL)
        .unwrap();
    }
}

/// Records each file placed in a `cur/` folder as the browser's call that put it there
/// resolves: a `move()` into it, or the `close()` of a stream written straight into it. Nothing
/// is awaited between that and the record, so the fake server's DELE check
/// ([`FakeServer::also_stored`]) sees exactly what the folder held when the DELE arrived.
/// Until the guard drops.
pub struct WatchPlaced;

impl WatchPlaced {
    pub fn new() -> WatchPlaced {
        Function::new_no_args(
            "const f = FileSystemFileHandle.prototype;
             const d = FileSystemDirectoryHandle.prototype;
             const was = {
               move: Object.getOwnPropertyDescriptor(f, 'move'),
               createWritable: f.createWritable,
               getFileHandle: d.getFileHandle,
             };
             globalThis.__watch = was;
             globalThis.__placed = new Set();
             const move = f.move;
             f.move = function (...args) {
               return move.apply(this, args).then((v) => {
                 if (args[0] && args[0].name === 'cur') globalThis.__placed.add(args[1]);
                 return v;
               });
             };
             d.getFileHandle = function (...args) {
               const dir = this.name;
               return was.getFileHandle.apply(this, args).then((h) => {
                 h.__dir = dir;
                 return h;
               });
             };
             f.createWritable = function (...args) {
               const file = this;
               return was.createWritable.apply(this, args).then((w) => {
                 const close = w.close;
                 w.close = function (...a) {
                   return close.apply(this, a).then((v) => {
                     if (file.__dir === 'cur') globalThis.__placed.add(file.name);
                     return v;
                   });
                 };
                 return w;
               });
             };",
        )
        .call0(&JsValue::NULL)
        .unwrap();
        WatchPlaced
    }

    /// Whether a file of `unique` (any flags) was placed in `cur/`.
    pub fn holds(unique: &str) -> bool {
        let placed: js_sys::Set = Reflect::get(&js_sys::global(), &"__placed".into())
            .unwrap()
            .unchecked_into();
        let mut found = false;
        placed.for_each(&mut |name, _, _| {
            found |= name
                .as_string()
                .is_some_and(|n| names::unique_of(&n) == unique);
        });
        found
    }
}

impl Drop for WatchPlaced {
    fn drop(&mut self) {
        Function::new_no_args(
            "const f = FileSystemFileHandle.prototype;
             const was = globalThis.__watch;
             if (was.move) { Object.defineProperty(f, 'move', was.move); } else { delete f.move; }
             f.createWritable = was.createWritable;
             FileSystemDirectoryHandle.prototype.getFileHandle = was.getFileHandle;",
        )
        .call0(&JsValue::NULL)
        .unwrap();
    }
}

/// Every IndexedDB transaction over the live copy's store (`disk_copy`) refused until the
/// guard drops: the store cannot say which folder is picked.
pub struct RefuseFolderReads;

impl RefuseFolderReads {
    pub fn new() -> RefuseFolderReads {
        Function::new_no_args(
            "const p = IDBDatabase.prototype;
             globalThis.__transaction = p.transaction;
             p.transaction = function (names, mode, options) {
               const list = typeof names === 'string' ? [names] : Array.from(names);
               if (list.includes('disk_copy')) {
                 throw new DOMException('refused by the test', 'UnknownError');
               }
               return globalThis.__transaction.call(this, names, mode, options);
             };",
        )
        .call0(&JsValue::NULL)
        .unwrap();
        RefuseFolderReads
    }
}

impl Drop for RefuseFolderReads {
    fn drop(&mut self) {
        Function::new_no_args("IDBDatabase.prototype.transaction = globalThis.__transaction;")
            .call0(&JsValue::NULL)
            .unwrap();
    }
}
