//! The check the service worker runs when Chromium fires Periodic Background Sync
//! (`frontend/pwa/sw.js`, tag `postbag-check`): the same wasm as the app, no Leptos, no page.
//!
//! Only accounts the user opted in to ("Check in the background when Postbag is closed") are
//! checked: their secret is sealed under the device key (`account/background.rs`), the only
//! one the worker can open. Each check is the open app's check, with the same rules:
//! - the Web Lock `postbag-pop3 <account>`, taken only if free: an open tab checking that
//!   account wins, and no tab logs in while this session is on;
//! - the account as stored now (`check_account.rs`), and the schedule's rules as at the app's
//!   launch (`checking.rs`: LOGIN-DELAY, paused after a refused sign-in; failures counted) on
//!   the check record the tabs keep (`check_record.rs`: the worker has no localStorage, so
//!   it reads and writes the record's copy in the device database, and tabs take the later
//!   of the two);
//! - the sync engine itself (`sync::sync`), committing to the same store.
//!
//! Not checked here, and why: an OAuth account (its refresh needs the provider's token
//! endpoint through the page's code, and a rotated refresh token lives in the page's session
//! key); an account while the live copy on disk is on (writing the folder needs the page's
//! permission on it, and without the write nothing may be DELEd: the gate would only block).

use postbag_protocol::pop3::Secret;

use super::check_record;
use super::checking::Schedule;
use super::syncing::ended;
use crate::account::background as secrets;
use crate::account::{client_config, target};
use crate::outbox::lock;
use crate::store::device::DeviceDb;
use crate::store::{Account, Store, StoreError};
use crate::sync::{self, Answer, CancelHandle, Limits, Observer, SyncRequest};
use crate::tunnel::{TunnelSocket, default_url};

/// What the worker's check did, for the notification and the badge.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BackgroundReport {
    /// New messages per account (email), for accounts that got any.
    pub new_mail: Vec<(String, u32)>,
    /// Unread received mail of every account, for the badge.
    pub unread: u32,
    /// Accounts opted in that were not checked now, each with the reason (for the console).
    pub skipped: Vec<(String, &'static str)>,
}

#[derive(Debug, thiserror::Error)]
pub enum BackgroundError {
    #[error("the store could not be opened: {0}")]
    Store(#[from] StoreError),
}

/// Tells the worker's check the server's LOGIN-DELAY, and whether the plan fits the storage
/// left (`navigator.storage.estimate()`, which workers have too).
#[derive(Default)]
struct Quiet {
    login_delay: Option<u32>,
}

impl Observer for Quiet {
    fn login_delay(&mut self, seconds: u32) {
        self.login_delay = Some(seconds);
    }

    fn room_for(&mut self, bytes: u64) -> Answer {
        Box::pin(async move {
            crate::pwa::room_left()
                .await
                .is_none_or(|left| left >= bytes)
        })
    }
}

/// Runs one background check of every opted-in account, one after the other.
pub async fn check_in_background() -> Result<BackgroundReport, BackgroundError> {
    let device = DeviceDb::open().await?;
    let mut report = BackgroundReport::default();
    let ids = match secrets::opted_in(&device).await {
        Ok(ids) => ids,
        Err(_) => return Ok(report),
    };
    if ids.is_empty() {
        return Ok(report);
    }
    // A newer build's upgrade closes this connection; the check then fails as a store error.
    let store = Store::open(|_| {}).await?;
    for id in ids {
        let name = format!("postbag-pop3 {id}");
        let held = lock::exclusive(&name, check_one(&store, &device, &id, &mut report)).await;
        if held.is_none() {
            report.skipped.push((id, "being checked in a Postbag tab"));
        }
    }
    report.unread = store
        .list_received()
        .await
        .map(|all| all.iter().filter(|m| !m.read).count() as u32)
        .unwrap_or(0);
    store.close();
    device.close();
    // As an open tab tells it (`pwa.rs`), awaited: the worker may stop once its event ends.
    let mut told: Vec<js_sys::Promise> = report
        .new_mail
        .iter()
        .filter_map(|(email, n)| crate::pwa::notify_new_mail(email, *n))
        .collect();
    if !report.new_mail.is_empty() {
        told.extend(crate::pwa::set_badge(report.unread));
    }
    for p in told {
        let _ = wasm_bindgen_futures::JsFuture::from(p).await;
    }
    Ok(report)
}

/// One account, holding its lock.
async fn check_one(store: &Store, device: &DeviceDb, id: &str, report: &mut BackgroundReport) {
    let mut skip = |why| report.skipped.push((id.to_string(), why));
    let secret = match secrets::open(device, id).await {
        Ok(Some(secret)) => secret,
        Ok(None) => return skip("not opted in"),
        Err(_) => return skip("its secret could not be opened"),
    };
    // The account as stored now, as a tab's check reads it (`check_account.rs`).
    let account = match store.account(id).await {
        Ok(Some(account)) => account,
        Ok(None) => {
            // Removed in a tab since it opted in: nothing of it may stay.
            let _ = secrets::forget(device, id).await;
            return skip("removed");
        }
        Err(_) => return skip("the store could not be read"),
    };
    if account.oauth.is_some() {
        return skip("signs in with OAuth");
    }
    if !matches!(store.disk_copy_folder().await, Ok(None)) {
        return skip("the live copy on disk is on");
    }
    // The browser waking the worker is as the app's launch (`soon`): the server's
    // LOGIN-DELAY and a pause after a refused sign-in hold, the interval and the backoff do
    // not (the browser itself waits hours between wakes). An account checked only on Sync in
    // the app is checked here all the same: the user opted it in for this.
    let mut schedule = Schedule {
        record: check_record::read(device, id).await,
        soon: true,
    };
    let now = js_sys::Date::now();
    if !schedule.due(Some(account.check_minutes.unwrap_or(0)), now) {
        return skip("not due (LOGIN-DELAY, or paused after a refused sign-in)");
    }
    let mut quiet = Quiet::default();
    let result = session(
        store,
        &account,
        secret.password,
        secret.access_code,
        &mut quiet,
    )
    .await;
    schedule.ended(js_sys::Date::now(), ended(&result), quiet.login_delay);
    check_record::write(device, id, &schedule.record).await;
    if let Ok(outcome) = result
        && outcome.downloaded > 0
    {
        report
            .new_mail
            .push((account.email.clone(), outcome.downloaded));
    }
}

async fn session(
    store: &Store,
    account: &Account,
    password: Secret<String>,
    code: Option<crate::tunnel::AccessCode>,
    observer: &mut Quiet,
) -> Result<sync::Outcome, sync::SyncError> {
    let cancel = CancelHandle::default();
    let (mut sock, connected) =
        TunnelSocket::open(&default_url(), &target(account), code.as_ref()).await?;
    let request = SyncRequest {
        store,
        account,
        config: client_config(account, password),
        tls: connected.tls,
        now_ms: js_sys::Date::now(),
        limits: Limits::default(),
        cancel: &cancel,
        observer,
        disk: None,
    };
    sync::sync(&mut sock, request).await
}
