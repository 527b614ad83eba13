//! The copy of each account's [`CheckRecord`] that the service worker can read. Tabs keep the
//! record in localStorage (`scheduler.rs`: synchronous, and the `storage` event tells other
//! tabs at once), which workers do not have; so every record a tab writes is also written to
//! the device database (`store/device.rs`), where the background check (`background.rs`)
//! reads it and writes its own. Inside an account's lock a tab takes the [`later`] of the two,
//! so a login in the background counts for LOGIN-DELAY, backoff and the pause as a tab's does.

use super::checking::CheckRecord;
use crate::store::device::{DeviceDb, Part};

/// The device copy of `account`'s record; the default (never checked) when there is none or
/// it cannot be read.
pub async fn read(db: &DeviceDb, account: &str) -> CheckRecord {
    db.get(Part::Checks, account)
        .await
        .ok()
        .flatten()
        .and_then(|v| v.as_string())
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

/// Writes the device copy of `account`'s record. A failure is not reported: the tab's own copy
/// stays, and the next write tries again.
pub async fn write(db: &DeviceDb, account: &str, record: &CheckRecord) {
    if let Ok(text) = serde_json::to_string(record) {
        let _ = db.put(Part::Checks, account, &text.into()).await;
    }
}

/// Of a tab's record and the device copy, the one of the later session; a tab's own when they
/// tie (it holds what the user did since: a resume after a refused sign-in).
pub fn later(tab: CheckRecord, device: CheckRecord) -> CheckRecord {
    let when = |r: &CheckRecord| r.last_login_ms.unwrap_or(f64::NEG_INFINITY);
    if when(&device) > when(&tab) {
        device
    } else {
        tab
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::checking::Paused;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn record(last: Option<f64>, failures: u32, paused: Option<Paused>) -> CheckRecord {
        CheckRecord {
            last_login_ms: last,
            login_delay_s: Some(300),
            failures,
            paused,
        }
    }

    #[test]
    fn the_later_session_counts_whichever_ran_it() {
        let tab = record(Some(1_000.0), 0, None);
        let worker = record(Some(2_000.0), 1, Some(Paused::SignInFailed));
        assert_eq!(later(tab.clone(), worker.clone()), worker);
        assert_eq!(later(worker.clone(), tab.clone()), worker);
        // Never checked in the background: the tab's record.
        assert_eq!(later(tab.clone(), CheckRecord::default()), tab);
        // A tie keeps the tab's (the user may have resumed checks since).
        let resumed = record(Some(2_000.0), 0, None);
        assert_eq!(later(resumed.clone(), worker), resumed);
    }
}
