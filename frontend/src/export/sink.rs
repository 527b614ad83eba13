//! Where an export's chunks go, the first of these the browser offers:
//! 1. a file the user picked through the File System Access API (desktop Chromium), written
//!    through its writable stream chunk by chunk;
//! 2. a download streamed through the service worker ([`sw_stream`]), chunk by chunk as the
//!    download manager asks;
//! 3. the last resort, when no service worker controls the page (the very first visit, a
//!    private window that refuses workers, plain HTTP): Blobs handed to the download manager at
//!    the end, which the browser holds whole until then.

mod sw_stream;

use sw_stream::SwDownload;

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
    /// A download the service worker streams: one chunk at a time leaves the tab, when the
    /// download manager asks for it (bounded memory, whatever the file's size).
    Stream { download: SwDownload, name: String },
    /// The last resort: the chunks, each already copied out of wasm memory into its own Blob,
    /// offered as one download at the end. The tab does not
    /// keep them: Chromium holds Blob data in the browser process and backs large Blobs on disk
    /// once they outgrow its in-memory budget, which scales with the device's memory (on a
    /// 24 GB machine a 1 GB export stayed in memory: browser process +1 GB, tab +0.2 GB;
    /// tests/e2e/bench_export.mjs; a 2 GB export took the browser process from 232 to
    /// 2,253 MB). Other browsers may keep them in memory.
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
    /// starts the download (streamed, else Blobs). Call it from a click: the picker needs the
    /// user's gesture, so nothing may be awaited before it.
    pub async fn open(name: &str) -> Result<Opened, String> {
        Self::open_as(name, &MBOX).await
    }

    /// [`Sink::open`] for a file of another `kind`.
    pub async fn open_as(name: &str, kind: &FileKind) -> Result<Opened, String> {
        let window: JsValue = web_sys::window().ok_or("no window")?.into();
        let picker = Reflect::get(&window, &"showSaveFilePicker".into()).unwrap_or_default();
        if !picker.is_function() {
            return Ok(Opened::Sink(Sink::download(name, kind).await));
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
                return Ok(Opened::Sink(Sink::download(name, kind).await));
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

    /// Without a picker: the download streamed through the service worker, which starts now
    /// (the browser shows it from the click on), else Blobs offered at the end.
    async fn download(name: &str, kind: &FileKind) -> Sink {
        if let Some(download) = SwDownload::start(name, kind.mime).await {
            return Sink::Stream {
                download,
                name: name.into(),
            };
        }
        Sink::Blobs {
            parts: Array::new(),
            name: name.into(),
            mime: kind.mime,
        }
    }

    /// Lets a write that waits for the browser give up once `stop` says so (the caller's
    /// Cancel). Only the streamed download waits that way: on the download manager, which
    /// waits for the user while a download is paused.
    pub fn stop_when(&mut self, stop: impl Fn() -> bool + 'static) {
        if let Sink::Stream { download, .. } = self {
            download.stop_when(stop);
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
            Sink::Stream { download, .. } => download.write(chunk).await?,
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
            Sink::Stream { download, name } => {
                download.finish()?;
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
    /// export; the streamed download is aborted (the browser shows it as failed, not as a
    /// shorter file); the fallback's Blobs are dropped.
    pub async fn discard(self) {
        match self {
            Sink::File { writable, .. } => {
                let _ = call(&writable, "abort", &Array::new()).await;
            }
            // Dropping it aborts it.
            Sink::Stream { download, .. } => drop(download),
            Sink::Blobs { .. } => {}
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
