//! The parser frame: a hidden same-origin iframe on `parse.html`, whose window DOMPurify is
//! bound to, so that mail markup is parsed in a document that may run no script and carries
//! no script policy of the app's (see the parent module).
//!
//! `parse.html` is served with `Content-Security-Policy: sandbox allow-same-origin` (the
//! proxy, `static_files.rs`) and the iframe has `sandbox="allow-same-origin"`: same origin so
//! that the app can use its parser, and no `allow-scripts`, so that nothing in it ever runs.
//! The service worker precaches it and serves it for its own navigation, so HTML mail still
//! opens offline.

use std::cell::RefCell;

use gloo_timers::future::TimeoutFuture;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

/// Why an HTML body could not be sanitised (the reader then shows the text and says why).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum SanitizeError {
    #[error("the HTML sanitiser (DOMPurify) did not load")]
    NoDomPurify,
    #[error("the HTML parser frame (parse.html) did not load")]
    NoParserFrame,
    #[error("the HTML sanitiser failed on this message")]
    Failed,
}

const FRAME_ID: &str = "pb-parser";
const FRAME_URL: &str = "parse.html";
/// Marks the real `parse.html` (not, say, an older service worker's app shell in its place).
const FRAME_MARKER: &str = "meta[name=\"postbag-parser\"]";
/// How long the first HTML message waits for the frame (it is a small local file).
const FRAME_TIMEOUT_MS: u32 = 10_000;
const FRAME_POLL_MS: u32 = 25;

/// A DOMPurify instance bound to the parser frame's window, with the app's hook added.
#[derive(Clone)]
pub struct Purifier(JsValue);

impl Purifier {
    pub fn sanitize(&self, html: &str, config: &js_sys::Object) -> Result<JsValue, JsValue> {
        let f: js_sys::Function = js_sys::Reflect::get(&self.0, &"sanitize".into())?.dyn_into()?;
        f.call2(&self.0, &html.into(), config)
    }
}

thread_local! {
    static PURIFIER: RefCell<Option<(web_sys::HtmlIFrameElement, Purifier)>> =
        const { RefCell::new(None) };
}

/// The purifier, creating and waiting for the parser frame the first time.
pub async fn purifier() -> Result<Purifier, SanitizeError> {
    if let Some(p) = PURIFIER.with(|p| {
        p.borrow()
            .as_ref()
            .filter(|(frame, _)| frame.is_connected())
            .map(|(_, p)| p.clone())
    }) {
        return Ok(p);
    }
    let factory = js_sys::Reflect::get(&js_sys::global(), &"DOMPurify".into())
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        .ok_or(SanitizeError::NoDomPurify)?;
    let frame = parser_frame()?;
    let window = loaded(&frame).await?;
    let instance = factory
        .call1(&JsValue::NULL, &window)
        .map_err(|_| SanitizeError::NoDomPurify)?;
    let supported = js_sys::Reflect::get(&instance, &"isSupported".into())
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    if !supported {
        return Err(SanitizeError::NoParserFrame);
    }
    let add_hook: js_sys::Function = js_sys::Reflect::get(&instance, &"addHook".into())
        .ok()
        .and_then(|f| f.dyn_into().ok())
        .ok_or(SanitizeError::NoDomPurify)?;
    // Registered once per instance, for the page's lifetime.
    let hook = Closure::<dyn Fn(JsValue)>::new(super::after_attributes).into_js_value();
    add_hook
        .call2(&instance, &"afterSanitizeAttributes".into(), &hook)
        .map_err(|_| SanitizeError::NoDomPurify)?;
    let purifier = Purifier(instance);
    PURIFIER.with(|p| *p.borrow_mut() = Some((frame, purifier.clone())));
    Ok(purifier)
}

/// The frame element, added to the page the first time.
fn parser_frame() -> Result<web_sys::HtmlIFrameElement, SanitizeError> {
    let doc = web_sys::window()
        .and_then(|w| w.document())
        .ok_or(SanitizeError::NoParserFrame)?;
    if let Some(el) = doc.get_element_by_id(FRAME_ID) {
        return el.dyn_into().map_err(|_| SanitizeError::NoParserFrame);
    }
    let frame: web_sys::HtmlIFrameElement = doc
        .create_element("iframe")
        .and_then(|e| e.dyn_into().map_err(JsValue::from))
        .map_err(|_| SanitizeError::NoParserFrame)?;
    let attrs = [
        ("id", FRAME_ID),
        ("sandbox", "allow-same-origin"),
        ("hidden", ""),
        ("aria-hidden", "true"),
        ("tabindex", "-1"),
        ("title", "HTML parser"),
        ("src", FRAME_URL),
    ];
    for (k, v) in attrs {
        frame
            .set_attribute(k, v)
            .map_err(|_| SanitizeError::NoParserFrame)?;
    }
    doc.body()
        .ok_or(SanitizeError::NoParserFrame)?
        .append_child(&frame)
        .map_err(|_| SanitizeError::NoParserFrame)?;
    Ok(frame)
}

/// The frame's window once `parse.html` itself has loaded in it.
async fn loaded(frame: &web_sys::HtmlIFrameElement) -> Result<web_sys::Window, SanitizeError> {
    let mut waited = 0;
    loop {
        let ready = frame.content_document().is_some_and(|d| {
            d.ready_state() == "complete" && d.query_selector(FRAME_MARKER).ok().flatten().is_some()
        });
        if ready {
            return frame.content_window().ok_or(SanitizeError::NoParserFrame);
        }
        if waited >= FRAME_TIMEOUT_MS {
            return Err(SanitizeError::NoParserFrame);
        }
        TimeoutFuture::new(FRAME_POLL_MS).await;
        waited += FRAME_POLL_MS;
    }
}
