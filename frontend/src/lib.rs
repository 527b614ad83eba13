//! Postbag's web app: a POP3 client that runs in the browser.
//!
//! Code map (model apart from view):
//! - [`store`]: IndexedDB schema, migrations and a small typed API. Views never touch IndexedDB.
//! - [`tunnel`]: the browser WebSocket speaking docs/tunnel-protocol.md to the proxy.
//! - [`sync`]: the engine that drives the protocol crate's POP3 client over a [`tunnel::Transport`].
//! - [`compose`]: drafts into RFC 5322 bytes (mail-builder); reply, reply-all, forward.
//! - [`outbox`]: queued messages sent over SMTP through the tunnel; never twice silently.
//! - [`export`]: stored mail streamed out as an mboxrd file (File System Access or a download).
//! - [`backup`]: everything in one file (streamed, checked by SHA-256) and restored into an
//!   empty store.
//! - [`mail`]: mail-parser → view model; HTML sanitising (DOMPurify) and the iframe document.
//! - [`search`]: full-text search: terms, what of a message is searchable, the query language.
//! - [`account`]: provider defaults, credential sealing (WebCrypto).
//! - [`global`]: `window` or the service worker's `self`, for code that runs in both.
//! - [`views`]: Leptos components; [`app`] wires them together.
//!
//! Architecture invariant: DELE is enqueued only for a message whose raw bytes sit in an
//! IndexedDB transaction that has fired `complete` (see `sync::engine`).

pub mod account;
pub mod app;
pub mod backup;
pub mod compose;
pub mod disk_copy;
pub mod export;
pub mod global;
pub mod import;
pub mod mail;
pub mod model;
pub mod outbox;
pub mod pwa;
pub mod search;
pub mod sort;
pub mod store;
pub mod sync;
pub mod tunnel;
pub mod views;
