//! The File System Access API calls the copy makes, through `Reflect` (web-sys binds only part
//! of it, and not `move`, `showDirectoryPicker` or the permission methods). Every browser
//! error becomes a [`DiskError`] naming its cause.

use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, future_to_promise};

use super::DiskError;

/// Whether the folder may be written, as the browser says (`queryPermission`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Granted,
    /// The browser asks the user again (after a restart): only from a click.
    Prompt,
    Denied,
}

/// How a file got into `cur/` ([`write`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placed {
    /// Written whole under `tmp/`, then moved into `cur/` (the Maildir way).
    Moved,
    /// `move()` is missing: written straight into `cur/` through a writable stream, which
    /// Chromium fills in a swap file and puts in place at `close()`, so the name never shows a
    /// partial file either.
    Direct,
}

/// Calls `target.method(args…)` and awaits the result when it is a promise.
async fn call(target: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let f: Function = Reflect::get(target, &method.into())?.dyn_into()?;
    let out = f.apply(target, &args.iter().collect::<Array>())?;
    match out.dyn_into::<Promise>() {
        Ok(promise) => JsFuture::from(promise).await,
        Err(value) => Ok(value),
    }
}

fn has(target: &JsValue, method: &str) -> bool {
    Reflect::get(target, &method.into()).is_ok_and(|f| f.is_function())
}

fn options(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        let _ = Reflect::set(&o, &(*k).into(), v);
    }
    o.into()
}

/// Whether this browser can pick a folder (desktop Chromium).
pub fn picker_available() -> bool {
    web_sys::window().is_some_and(|w| has(&w, "showDirectoryPicker"))
}

/// Asks the user for a folder to write into; `None` if they closed the picker. Call it from a
/// click: nothing may be awaited before it.
pub async fn pick() -> Result<Option<JsValue>, DiskError> {
    let window: JsValue = web_sys::window().ok_or(DiskError::Unsupported)?.into();
    if !has(&window, "showDirectoryPicker") {
        return Err(DiskError::Unsupported);
    }
    let opts = options(&[
        ("mode", "readwrite".into()),
        // The picker opens where it was last used for this id.
        ("id", "postbag-disk-copy".into()),
    ]);
    match call(&window, "showDirectoryPicker", &[opts]).await {
        Ok(handle) => Ok(Some(handle)),
        Err(e) if DiskError::dom_name(&e).as_deref() == Some("AbortError") => Ok(None),
        Err(e) => Err(DiskError::from_js(&e)),
    }
}

/// The folder's name as the picker showed it.
pub fn name(handle: &JsValue) -> String {
    Reflect::get(handle, &"name".into())
        .ok()
        .and_then(|n| n.as_string())
        .unwrap_or_default()
}

/// Whether `handle` may be written; with `ask`, asks the user (needs a click). A handle
/// without the permission methods (the origin's private file system in other engines) is
/// always writable.
pub async fn permission(handle: &JsValue, ask: bool) -> Access {
    let method = if ask {
        "requestPermission"
    } else {
        "queryPermission"
    };
    if !has(handle, method) {
        return Access::Granted;
    }
    match call(handle, method, &[options(&[("mode", "readwrite".into())])]).await {
        Ok(state) => match state.as_string().as_deref() {
            Some("granted") => Access::Granted,
            Some("denied") => Access::Denied,
            _ => Access::Prompt,
        },
        Err(_) => Access::Prompt,
    }
}

/// The subfolder `name` of `parent`, made if missing.
pub async fn folder(parent: &JsValue, name: &str) -> Result<JsValue, DiskError> {
    let opts = options(&[("create", true.into())]);
    call(parent, "getDirectoryHandle", &[name.into(), opts])
        .await
        .map_err(|e| DiskError::from_js(&e))
}

/// The names of the entries of `dir`.
pub async fn names(dir: &JsValue) -> Result<Vec<String>, DiskError> {
    let fail = |e: JsValue| DiskError::from_js(&e);
    let iter = call(dir, "keys", &[]).await.map_err(fail)?;
    let mut out = Vec::new();
    loop {
        let step = call(&iter, "next", &[]).await.map_err(fail)?;
        if Reflect::get(&step, &"done".into()).is_ok_and(|d| d.is_truthy()) {
            return Ok(out);
        }
        if let Some(name) = Reflect::get(&step, &"value".into())
            .ok()
            .and_then(|v| v.as_string())
        {
            out.push(name);
        }
    }
}

/// The files of `dir` with their sizes in bytes. A file that cannot be looked at (removed
/// meanwhile by another Maildir client, unreadable) is left out. Files are looked at
/// [`SIZES_AT_ONCE`] at a time: each is a round trip to the storage backend.
pub async fn sizes(dir: &JsValue) -> Result<Vec<(String, u64)>, DiskError> {
    let fail = |e: JsValue| DiskError::from_js(&e);
    let iter = call(dir, "entries", &[]).await.map_err(fail)?;
    let mut files = Vec::new();
    loop {
        let step = call(&iter, "next", &[]).await.map_err(fail)?;
        if Reflect::get(&step, &"done".into()).is_ok_and(|d| d.is_truthy()) {
            break;
        }
        let entry = Reflect::get(&step, &"value".into()).map_err(fail)?;
        let name = Reflect::get(&entry, &0.into())
            .ok()
            .and_then(|n| n.as_string());
        let handle = Reflect::get(&entry, &1.into()).map_err(fail)?;
        let kind = Reflect::get(&handle, &"kind".into())
            .ok()
            .and_then(|k| k.as_string());
        if let (Some(name), Some("file")) = (name, kind.as_deref()) {
            files.push((name, handle));
        }
    }
    let mut out = Vec::with_capacity(files.len());
    for group in files.chunks(SIZES_AT_ONCE) {
        let promises: Array = group
            .iter()
            .map(|(_, handle)| {
                let handle = handle.clone();
                JsValue::from(future_to_promise(async move {
                    // Every promise resolves (NULL: not looked at), so `all` waits for all.
                    Ok(match call(&handle, "getFile", &[]).await {
                        Ok(file) => Reflect::get(&file, &"size".into()).unwrap_or(JsValue::NULL),
                        Err(_) => JsValue::NULL,
                    })
                }))
            })
            .collect();
        let sizes: Array = JsFuture::from(Promise::all(&promises))
            .await
            .map_err(fail)?
            .unchecked_into();
        for ((name, _), size) in group.iter().zip(sizes.iter()) {
            if let Some(size) = size.as_f64() {
                out.push((name.clone(), size as u64));
            }
        }
    }
    Ok(out)
}

/// Files whose size [`sizes`] asks for at once.
const SIZES_AT_ONCE: usize = 32;

/// Writes `bytes` as `cur/<name>`: whole into `tmp/<name>`, then moved into `cur/`; where the
/// browser has no `move()`, straight into `cur/` (see [`Placed`]). A file already there under
/// that name is replaced (by the same bytes: names are deterministic).
pub async fn write(
    tmp: &JsValue,
    cur: &JsValue,
    name: &str,
    bytes: &[u8],
) -> Result<Placed, DiskError> {
    let fail = |e: JsValue| DiskError::from_js(&e);
    let create = || options(&[("create", true.into())]);
    let staged = call(tmp, "getFileHandle", &[name.into(), create()])
        .await
        .map_err(fail)?;
    write_whole(&staged, bytes).await?;
    if has(&staged, "move") {
        call(&staged, "move", &[cur.clone(), name.into()])
            .await
            .map_err(fail)?;
        return Ok(Placed::Moved);
    }
    // `getFileHandle` with `create` makes an empty `cur/<name>` at once: if the write then
    // fails, a name this write made is removed again, so no empty file passes for a copy.
    let existed = call(cur, "getFileHandle", &[name.into()]).await.is_ok();
    let target = call(cur, "getFileHandle", &[name.into(), create()])
        .await
        .map_err(fail)?;
    if let Err(e) = write_whole(&target, bytes).await {
        if !existed {
            let _ = call(cur, "removeEntry", &[name.into()]).await;
        }
        return Err(e);
    }
    // A leftover in tmp/ is harmless to Maildir readers; removing it is tidiness only.
    let _ = call(tmp, "removeEntry", &[name.into()]).await;
    Ok(Placed::Direct)
}

/// Replaces the contents of `file` with `bytes`: the writable stream's swap file takes the
/// bytes, and `close()` puts it in place whole (or leaves the file as it was).
async fn write_whole(file: &JsValue, bytes: &[u8]) -> Result<(), DiskError> {
    let fail = |e: JsValue| DiskError::from_js(&e);
    let writable = call(file, "createWritable", &[]).await.map_err(fail)?;
    let data: JsValue = Uint8Array::from(bytes).into();
    if let Err(e) = call(&writable, "write", &[data]).await {
        // Drops the swap file: nothing half-written takes the name.
        let _ = call(&writable, "abort", &[]).await;
        return Err(fail(e));
    }
    call(&writable, "close", &[]).await.map_err(fail)?;
    Ok(())
}

/// The bytes of `dir/<name>`, if there is such a file (tests and checks).
pub async fn read(dir: &JsValue, name: &str) -> Result<Option<Vec<u8>>, DiskError> {
    let file = match call(dir, "getFileHandle", &[name.into()]).await {
        Ok(f) => f,
        Err(e) if DiskError::dom_name(&e).as_deref() == Some("NotFoundError") => return Ok(None),
        Err(e) => return Err(DiskError::from_js(&e)),
    };
    let fail = |e: JsValue| DiskError::from_js(&e);
    let blob = call(&file, "getFile", &[]).await.map_err(fail)?;
    let buffer = call(&blob, "arrayBuffer", &[]).await.map_err(fail)?;
    Ok(Some(Uint8Array::new(&buffer).to_vec()))
}
