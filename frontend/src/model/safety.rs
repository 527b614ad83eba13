//! "No silent risk": whether the only copy of the user's mail could vanish without a word.
//!
//! With delete-after-download the server keeps nothing, so this browser's store is the only
//! copy. It is at risk when the browser may clear it (storage not persisted) and no recent
//! export exists elsewhere. The mailbox and the setup form say so, with one click to fix each
//! cause; Settings shows when the last export was made.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::Model;
use crate::pwa;
use crate::store::ServerPolicy;

/// An export older than this no longer counts as a copy of the mail.
pub const RECENT_EXPORT_DAYS: f64 = 7.0;
const DAY_MS: f64 = 86_400_000.0;
/// Where the time of the last export is kept. localStorage shares IndexedDB's fate: when the
/// browser clears the site's data, the record of an export goes with the mail it covered.
const LAST_EXPORT_KEY: &str = "postbag.last-export";

/// True when mail deleted on the server (after download, or some days later) lives only in a
/// store the browser may clear (not persisted), no export of the last [`RECENT_EXPORT_DAYS`]
/// exists and no healthy live copy on disk (`disk_copy`) holds it. `durable` is `None` until
/// the browser answered: no warning on a guess.
pub fn at_risk(
    policy: &ServerPolicy,
    durable: Option<bool>,
    last_export_ms: Option<f64>,
    disk_copy: bool,
    now_ms: f64,
) -> bool {
    // Deleting after some days, or beyond a count, leaves the same single copy, only later.
    let deletes = matches!(
        policy,
        ServerPolicy::DeleteAfterDownload
            | ServerPolicy::KeepNewest { .. }
            | ServerPolicy::Leave {
                after_days: Some(_),
                ..
            }
    );
    let no_recent_export = last_export_ms.is_none_or(|t| now_ms - t > RECENT_EXPORT_DAYS * DAY_MS);
    deletes && durable == Some(false) && no_recent_export && !disk_copy
}

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// When the last export of all mail or of an account finished, if this browser knows.
pub fn last_export() -> Option<f64> {
    local_storage()?
        .get_item(LAST_EXPORT_KEY)
        .ok()
        .flatten()?
        .parse()
        .ok()
}

impl Model {
    /// Reads whether storage is durable now, and again whenever storage.js asked the browser
    /// (from this model or from the storage panel's own button).
    pub fn watch_durability(self) {
        self.refresh_durability();
        if let Some(window) = web_sys::window() {
            let listener =
                gloo_events::EventListener::new(&window, pwa::STORAGE_CHANGED, move |_| {
                    self.refresh_durability()
                });
            // For the page's lifetime, like the model itself.
            listener.forget();
        }
    }

    /// Reads whether storage is durable. storage.js is a deferred script that may run after
    /// the app started: until it answers, ask again a few times.
    fn refresh_durability(self) {
        spawn_local(async move {
            for _ in 0..50 {
                if let Ok(state) = pwa::estimate().await {
                    return self.durable.set(Some(state.persisted));
                }
                gloo_timers::future::TimeoutFuture::new(100).await;
            }
            // No Storage API or no storage.js: nothing is known, nothing is claimed.
            self.durable.set(None);
        });
    }

    /// "Keep mail durable": asks the browser, then reads the answer back.
    pub fn keep_durable(self) {
        // storage.js announces the answer (STORAGE_CHANGED), which refreshes `durable`.
        spawn_local(async move {
            let _ = pwa::request_persistence().await;
        });
    }

    /// Notes a finished export (all mail or an account) as the latest copy.
    pub fn exported_now(self, now_ms: f64) {
        if let Some(storage) = local_storage() {
            let _ = storage.set_item(LAST_EXPORT_KEY, &now_ms.to_string());
        }
        self.last_export.set(Some(now_ms));
    }

    /// Whether the shown account's mail is at risk ([`at_risk`]); reactive.
    pub fn at_risk(self) -> bool {
        self.account.get().is_some_and(|account| {
            at_risk(
                &account.policy,
                self.durable.get(),
                self.last_export.get(),
                self.disk_copy.get().healthy(),
                js_sys::Date::now(),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    const NOW: f64 = 1_764_669_600_000.0;

    #[test]
    fn only_the_only_copy_in_a_store_the_browser_may_clear_is_at_risk() {
        let delete = ServerPolicy::DeleteAfterDownload;
        let leave = ServerPolicy::Leave {
            after_days: None,
            mirror_deletes: false,
        };
        assert!(at_risk(&delete, Some(false), None, false, NOW));
        let old = NOW - 8.0 * DAY_MS;
        assert!(at_risk(&delete, Some(false), Some(old), false, NOW));
        let later = ServerPolicy::Leave {
            after_days: Some(14),
            mirror_deletes: false,
        };
        assert!(at_risk(&later, Some(false), None, false, NOW));
        let newest = ServerPolicy::KeepNewest {
            count: 100,
            mirror_deletes: false,
        };
        assert!(at_risk(&newest, Some(false), None, false, NOW));
        // Any one of: the server keeps a copy, the store is durable, a recent export, a healthy
        // live copy on disk.
        assert!(!at_risk(&leave, Some(false), None, false, NOW));
        assert!(!at_risk(&delete, Some(true), None, false, NOW));
        assert!(!at_risk(
            &delete,
            Some(false),
            Some(NOW - DAY_MS),
            false,
            NOW
        ));
        assert!(!at_risk(&delete, Some(false), None, true, NOW));
        // Until the browser answered, nothing is claimed.
        assert!(!at_risk(&delete, None, None, false, NOW));
    }
}
