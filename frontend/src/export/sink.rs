//! Where an export's chunks go: a file the user picked through the File System Access API
//! (written through its writable stream, chunk by chunk), or, in browsers without it, Blobs
//! handed to the download manager at the end.

use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// How long the fallback's Blob URL stays valid after the download started.
const REVOKE_AFTER_MS: u32 = 60_000;

/// The kind of file a sink saves: what the save picker offers, and the download's type.
pub struct FileKind {
    pub description: &'static str,
    pub mime: &'static str,
    pub extension: &'static str,
}

/// An mbox export.
pub const MBOX: FileKind = FileKind {
    description: "Mailbox (mbox)",
    mime: "application/mbox",
    extension: ".mbox",
};

/// What [`Sink::open`] got.
pub enum Opened {
    Sink(Sink),
    /// The user closed the file picker without choosing a file.
    Declined,
}

pub enum Sink {
    /// A `FileSystemWritableFileStream`: each chunk is written to disk as it comes (into the
    /// browser's swap file, which replaces the picked file at `close`).
    File { writable: JsValue, name: String },
    /// The chunks, each already copied out of wasm memory into its own Blob. The tab does not
    /// keep them: Chromium holds Blob data in the browser process and backs large Blobs on disk
    /// once they outgrow its in-memory budget, which scales with the device's memory (on a
    /// 24 GB machine a 1 GB export stayed in memory: browser process +1 GB, tab +0.2 GB;
    /// tests/e2e/bench_export.mjs). Other browsers may keep them in memory.
    Blobs {
        parts: Array,
        name: String,
        mime: &'static str,
    },
}

fn text(e: JsValue) -> String {
    if let Some(ex) = e.dyn_ref::<web_sys::DomException>() {
        return format!("{}: {}", ex.name(), ex.message());
    }
    e.as_string().unwrap_or_else(|| format!("{e:?}"))
}

/// Calls `target.method(args…)` and awaits the promise it returns.
async fn call(target: &JsValue, method: &str, args: &Array) -> Result<JsValue, JsValue> {
    let f: Function = Reflect::get(target, &method.into())?.dyn_into()?;
    let promise: Promise = f.apply(target, args)?.dyn_into()?;
    JsFuture::from(promise).await
}

impl Sink {
    /// Asks the user where to save `name` when the browser has `showSaveFilePicker`, else
    /// prepares the download fallback. Call it from a click: the picker needs the user's
    /// gesture, so nothing may be awaited before it.
    pub async fn open(name: &str) -> Result<Opened, String> {
        Self::open_as(name, &MBOX).await
    }

    /// [`Sink::open`] for a file of another `kind`.
    pub async fn open_as(name: &str, kind: &FileKind) -> Result<Opened, String> {
        let window: JsValue = web_sys::window().ok_or("no window")?.into();
        let picker = Reflect::get(&window, &"showSaveFilePicker".into()).unwrap_or_default();
        if !picker.is_function() {
            return Ok(Opened::Sink(Sink::download(name, kind)));
        }
        let options = Object::new();
        let accept = Object::new();
        let set = |o: &Object, k: &str, v: &JsValue| {
            let _ = Reflect::set(o, &k.into(), v);
        };
        set(
            &accept,
            kind.mime,
            &Array::of1(&kind.extension.into()).into(),
        );
        let offered = Object::new();
        set(&offered, "description", &kind.description.into());
        set(&offered, "accept", &accept.into());
        set(&options, "suggestedName", &name.into());
        set(&options, "types", &Array::of1(&offered.into()).into());
        let handle = match call(&window, "showSaveFilePicker", &Array::of1(&options.into())).await {
            Ok(h) => h,
            Err(e)
                if e.dyn_ref::<web_sys::DomException>()
                    .map(|x| x.name())
                    .as_deref()
                    == Some("AbortError") =>
            {
                return Ok(Opened::Declined);
            }
            // Refused (no user gesture left, a policy, a sandbox): the download still works.
            Err(_) => {
                return Ok(Opened::Sink(Sink::download(name, kind)));
            }
        };
        let file_name = Reflect::get(&handle, &"name".into())
            .ok()
            .and_then(|n| n.as_string())
            .unwrap_or_else(|| name.into());
        let writable = call(&handle, "createWritable", &Array::new())
            .await
            .map_err(text)?;
        Ok(Opened::Sink(Sink::File {
            writable,
            name: file_name,
        }))
    }

    /// The fallback: Blobs offered as a download named `name` at the end.
    fn download(name: &str, kind: &FileKind) -> Sink {
        Sink::Blobs {
            parts: Array::new(),
            name: name.into(),
            mime: kind.mime,
        }
    }

    /// Writes one chunk; the chunk leaves wasm memory here.
    pub async fn write(&mut self, chunk: Vec<u8>) -> Result<(), String> {
        match self {
            Sink::File { writable, .. } => {
                let bytes = Uint8Array::from(&chunk[..]);
                drop(chunk);
                call(writable, "write", &Array::of1(&bytes))
                    .await
                    .map_err(text)?;
            }
            Sink::Blobs { parts, .. } => {
                let bytes = Uint8Array::from(&chunk[..]);
                drop(chunk);
                let blob =
                    web_sys::Blob::new_with_u8_array_sequence(&Array::of1(&bytes)).map_err(text)?;
                parts.push(&blob);
            }
        }
        Ok(())
    }

    /// Completes the file: closes the stream, or starts the download of the Blobs. Returns the
    /// file's name.
    pub async fn finish(self) -> Result<String, String> {
        match self {
            Sink::File { writable, name } => {
                call(&writable, "close", &Array::new())
                    .await
                    .map_err(text)?;
                Ok(name)
            }
            Sink::Blobs { parts, name, mime } => {
                let opts = web_sys::BlobPropertyBag::new();
                opts.set_type(mime);
                let blob = web_sys::Blob::new_with_blob_sequence_and_options(&parts, &opts)
                    .map_err(text)?;
                download(&blob, &name)?;
                Ok(name)
            }
        }
    }

    /// Gives up: the writable stream is aborted, so the picked file does not receive a partial
    /// export; the fallback's Blobs are dropped.
    pub async fn discard(self) {
        if let Sink::File { writable, .. } = self {
            let _ = call(&writable, "abort", &Array::new()).await;
        }
    }
}

/// Offers `blob` as a download through an `<a download>`.
fn download(blob: &web_sys::Blob, name: &str) -> Result<(), String> {
    let url = web_sys::Url::create_object_url_with_blob(blob).map_err(text)?;
    let doc = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let a: web_sys::HtmlAnchorElement = doc.create_element("a").map_err(text)?.unchecked_into();
    a.set_href(&url);
    a.set_download(name);
    a.click();
    // The download reads the Blob after the click returns: revoke the URL only later.
    gloo_timers::callback::Timeout::new(REVOKE_AFTER_MS, move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    })
    .forget();
    Ok(())
}
