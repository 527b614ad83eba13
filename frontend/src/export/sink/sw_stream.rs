//! A download streamed through the service worker: how an export reaches the disk in browsers
//! without the File System Access picker (Firefox, Safari, mobile), with a chunk or two in
//! memory instead of the whole file in Blobs. The worker's side, and the message protocol, are
//! at the end of `frontend/pwa/sw.js`.
//!
//! The page registers the download over a `MessageChannel`, navigates a hidden iframe to the
//! unguessable URL the worker answers with, and from then on sends one chunk per `pull` the
//! worker forwards from the download manager: a slow disk, or a download paused in the
//! browser, holds the export back instead of filling memory. (An `<a download>` is not used:
//! Chromium fetches its URL past the service worker.)

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};

use gloo_events::EventListener;
use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{HtmlIFrameElement, MessageChannel, MessageEvent, MessagePort, ServiceWorker};

use crate::tunnel::within;

/// How long the worker may take to answer the registration (it may have to start first).
const REGISTER_WAIT_MS: u32 = 5_000;
/// How long the iframe's navigation may take to reach the worker. Past it, nothing was written
/// yet, so the export falls back to Blobs.
const START_WAIT_MS: u32 = 10_000;
/// How often the page pokes the worker while the download runs. Messages on a port do not
/// count as work for a worker, and browsers stop an idle worker after about 30 s; Chromium 156
/// kept one whose stream waited 45 s for its page without these (measured), but whether a
/// streaming response counts as work elsewhere is not promised, and a poke costs nothing.
const KEEPALIVE_MS: u32 = 10_000;
/// How long the hidden iframe stays after the download ended (the download manager owns the
/// response by then; the frame is only in the way).
const FRAME_REMOVE_AFTER_MS: u32 = 60_000;
/// File names longer than this are cut (in characters) before they are encoded.
const NAME_MAX_CHARS: usize = 200;
/// While a write waits for the download manager (which may wait for a slow disk, or for the
/// user to resume a paused download), how often the caller's Cancel is asked.
const STOP_CHECK_MS: u32 = 200;

/// What the worker said on the port.
enum Told {
    Registered(String),
    Refused,
    Started,
    /// The download manager wants the next chunk.
    Pull,
    /// The download was cancelled in the browser.
    Cancelled,
    /// The worker's end of the port went away (the worker was stopped, or gave up the stream).
    Closed,
}

#[derive(Default)]
struct Inbox {
    queue: VecDeque<Told>,
    waker: Option<Waker>,
}

#[derive(Clone, Default)]
struct Port(Rc<RefCell<Inbox>>);

impl Port {
    fn push(&self, told: Told) {
        let mut inbox = self.0.borrow_mut();
        inbox.queue.push_back(told);
        if let Some(w) = inbox.waker.take() {
            w.wake();
        }
    }

    async fn next(&self) -> Told {
        poll_fn(|cx| {
            let mut inbox = self.0.borrow_mut();
            match inbox.queue.pop_front() {
                Some(told) => Poll::Ready(told),
                None => {
                    inbox.waker = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
        .await
    }
}

fn told(data: &JsValue) -> Option<Told> {
    let field = |k: &str| {
        Reflect::get(data, &k.into())
            .ok()
            .and_then(|v| v.as_string())
    };
    Some(match field("type")?.as_str() {
        "registered" => Told::Registered(field("url")?),
        "refused" => Told::Refused,
        "started" => Told::Started,
        "pull" => Told::Pull,
        "cancelled" => Told::Cancelled,
        _ => return None,
    })
}

fn message(kind: &str) -> Object {
    let m = Object::new();
    let _ = Reflect::set(&m, &"type".into(), &kind.into());
    m
}

/// One download the worker streams. Dropped before [`SwDownload::finish`], it is aborted: the
/// browser shows the download as failed, never as a complete file.
pub struct SwDownload {
    port: MessagePort,
    inbox: Port,
    frame: HtmlIFrameElement,
    /// `end` or `abort` was sent: the worker takes nothing more.
    ended: bool,
    /// The caller's Cancel, asked while a write waits (see [`SwDownload::stop_when`]).
    stop: Option<Box<dyn Fn() -> bool>>,
    /// A write gave up on a Cancel: the download was aborted and cannot be finished.
    stopped: bool,
    _listeners: [EventListener; 2],
    _keepalive: gloo_timers::callback::Interval,
}

/// The worker controlling this page, if any (none on the first visit before it took over, in
/// a private window that refuses workers, or outside a secure context).
fn controller() -> Option<ServiceWorker> {
    let navigator: JsValue = web_sys::window()?.navigator().into();
    let container = Reflect::get(&navigator, &"serviceWorker".into()).ok()?;
    if container.is_undefined() {
        return None;
    }
    container
        .unchecked_into::<web_sys::ServiceWorkerContainer>()
        .controller()
}

impl SwDownload {
    /// Registers a download of `name` with the controlling worker and starts it in the
    /// browser. `None` when no worker controls the page or it did not take the download: the
    /// caller falls back to Blobs, with nothing written yet.
    pub async fn start(name: &str, mime: &str) -> Option<SwDownload> {
        let worker = controller()?;
        let channel = MessageChannel::new().ok()?;
        let port = channel.port1();
        let inbox = Port::default();
        let on_message = {
            let inbox = inbox.clone();
            EventListener::new(&port, "message", move |e| {
                if let Some(t) = told(&e.unchecked_ref::<MessageEvent>().data()) {
                    inbox.push(t);
                }
            })
        };
        let on_close = {
            let inbox = inbox.clone();
            EventListener::new(&port, "close", move |_| inbox.push(Told::Closed))
        };
        // A port listened to with addEventListener delivers nothing until started.
        port.start();
        let register = message("DOWNLOAD");
        let _ = Reflect::set(
            &register,
            &"disposition".into(),
            &content_disposition(name).into(),
        );
        let _ = Reflect::set(&register, &"mime".into(), &mime.into());
        worker
            .post_message_with_transferable(&register, &Array::of1(&channel.port2()))
            .ok()?;
        let Some(Told::Registered(url)) = within(REGISTER_WAIT_MS, inbox.next()).await else {
            return None;
        };
        let frame = hidden_frame(&url)?;
        let keepalive = {
            let poke = message("DOWNLOAD_KEEPALIVE");
            gloo_timers::callback::Interval::new(KEEPALIVE_MS, move || {
                let _ = worker.post_message(&poke);
            })
        };
        let download = SwDownload {
            port,
            inbox,
            frame,
            ended: false,
            stop: None,
            stopped: false,
            _listeners: [on_message, on_close],
            _keepalive: keepalive,
        };
        // Dropped on the way out unless started: the worker forgets the URL.
        match within(START_WAIT_MS, download.inbox.next()).await {
            Some(Told::Started) => Some(download),
            _ => None,
        }
    }

    /// Makes a write that waits for the download manager give up once `stop` says so: the
    /// download is aborted then, and the chunk dropped; the caller, asking the same Cancel
    /// before its next write, ends the export as cancelled (and [`SwDownload::finish`] fails
    /// should it not).
    pub fn stop_when(&mut self, stop: impl Fn() -> bool + 'static) {
        self.stop = Some(Box::new(stop));
    }

    /// Sends one chunk once the download manager asked for it; the chunk leaves wasm memory
    /// here and its buffer is handed to the worker, not copied.
    pub async fn write(&mut self, chunk: Vec<u8>) -> Result<(), String> {
        if self.stopped {
            return Err(STOPPED.into());
        }
        loop {
            let told = match &self.stop {
                Some(stop) => match within(STOP_CHECK_MS, self.inbox.next()).await {
                    Some(told) => told,
                    None if stop() => {
                        self.abort();
                        self.stopped = true;
                        return Ok(());
                    }
                    None => continue,
                },
                None => self.inbox.next().await,
            };
            match told {
                Told::Pull => break,
                Told::Cancelled => return Err("the download was cancelled in the browser".into()),
                Told::Closed => return Err("the browser stopped the download".into()),
                Told::Registered(_) | Told::Refused | Told::Started => {}
            }
        }
        let bytes = Uint8Array::from(&chunk[..]);
        drop(chunk);
        let m = message("chunk");
        let _ = Reflect::set(&m, &"bytes".into(), &bytes);
        self.port
            .post_message_with_transferable(&m, &Array::of1(&bytes.buffer()))
            .map_err(|e| format!("{e:?}"))
    }

    /// Ends the file: the worker closes the stream once the download manager has read the
    /// last chunk. Fails if a write gave up on a Cancel (the download was aborted).
    pub fn finish(mut self) -> Result<(), String> {
        if self.stopped {
            return Err(STOPPED.into());
        }
        let _ = self.port.post_message(&message("end"));
        self.ended = true;
        Ok(())
    }

    fn abort(&mut self) {
        if !self.ended {
            let _ = self.port.post_message(&message("abort"));
            self.ended = true;
        }
    }
}

const STOPPED: &str = "the export was cancelled";

impl Drop for SwDownload {
    fn drop(&mut self) {
        self.abort();
        let frame = self.frame.clone();
        gloo_timers::callback::Timeout::new(FRAME_REMOVE_AFTER_MS, move || frame.remove()).forget();
    }
}

/// A hidden iframe navigated to `url`, where the worker answers with an attachment.
fn hidden_frame(url: &str) -> Option<HtmlIFrameElement> {
    let doc = web_sys::window()?.document()?;
    let frame: HtmlIFrameElement = doc.create_element("iframe").ok()?.dyn_into().ok()?;
    frame.set_hidden(true);
    frame.set_src(url);
    doc.body()?.append_child(&frame).ok()?;
    Some(frame)
}

/// The `Content-Disposition` of a download named `name` (RFC 6266): `attachment`, a plain
/// ASCII `filename` for old clients, and the exact name as `filename*` in UTF-8 (RFC 5987
/// percent-encoding). Whatever `name` holds, the value is one header line of printable ASCII:
/// control characters, path separators, quotes and `%` are replaced (the browser names the
/// file from `filename*`, and would also cut a name at a separator).
pub fn content_disposition(name: &str) -> String {
    let name: String = name
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '/' | '\\') {
                '_'
            } else {
                c
            }
        })
        .take(NAME_MAX_CHARS)
        .collect();
    let name = match name.trim() {
        "" | "." | ".." => "download".to_string(),
        _ => name,
    };
    let fallback: String = name
        .chars()
        .map(|c| match c {
            ' '..='~' if !matches!(c, '"' | '%' | ';' | '\\') => c,
            _ => '_',
        })
        .collect();
    let mut encoded = String::with_capacity(name.len() * 3);
    for b in name.bytes() {
        // RFC 5987 attr-char: sent as is; every other byte is %XX.
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            let _ = write!(encoded, "%{b:02X}");
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn check(name: &str, expected: &str) {
        let value = content_disposition(name);
        assert_eq!(value, expected, "{name:?}");
        assert!(
            value.bytes().all(|b| (0x20..0x7f).contains(&b)),
            "{value:?}"
        );
    }

    #[test]
    fn file_names_are_encoded_for_any_browser() {
        check(
            "postbag-2024-01-01.mbox",
            "attachment; filename=\"postbag-2024-01-01.mbox\"; filename*=UTF-8''postbag-2024-01-01.mbox",
        );
        check(
            "postbag-jörg@例え.jp.mbox",
            "attachment; filename=\"postbag-j_rg@__.jp.mbox\"; \
             filename*=UTF-8''postbag-j%C3%B6rg%40%E4%BE%8B%E3%81%88.jp.mbox",
        );
        // A header injection and a second parameter stay inside the value, quoted or encoded.
        check(
            "a\r\nSet-Cookie: x=1\"; filename=evil.exe",
            "attachment; filename=\"a__Set-Cookie: x=1__ filename=evil.exe\"; \
             filename*=UTF-8''a__Set-Cookie%3A%20x%3D1%22%3B%20filename%3Devil.exe",
        );
        // Paths cannot climb out of the downloads folder; percent signs are not decoded twice.
        check(
            "../../.bashrc%2F",
            "attachment; filename=\".._.._.bashrc_2F\"; filename*=UTF-8''.._.._.bashrc%252F",
        );
        check(
            "..",
            "attachment; filename=\"download\"; filename*=UTF-8''download",
        );
        check(
            "  ",
            "attachment; filename=\"download\"; filename*=UTF-8''download",
        );
        // Long names are cut by characters, never inside one.
        let long = "é".repeat(500);
        let value = content_disposition(&long);
        assert_eq!(value.matches("%C3%A9").count(), NAME_MAX_CHARS);
    }
}
