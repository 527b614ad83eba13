//! Automatic checking against a scripted server: the `LOGIN-DELAY` a server announces in CAPA
//! reaches the sync's observer even when it then refuses the login, and the schedule built on
//! it (`model/checking.rs`) allows no login sooner. Without the observer's word the refusal
//! would only back the schedule off by minutes (Gmail asks for 300 s, the scripted server 900).

mod common;

use common::fake_pop3::{FakeServer, Mailbox};
use common::{account, fresh_store};
use postbag_protocol::pop3::{Secret, ServerErrorKind};
use postbag_web::account::client_config;
use postbag_web::model::check_account::account_to_check;
use postbag_web::model::checking::{CheckRecord, Ended, Schedule};
use postbag_web::store::ServerPolicy;
use postbag_web::sync::{self, Limits, NeverCancel, Observer, SyncError, SyncRequest};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const NOW: f64 = 1_780_000_000_000.0;

/// Keeps the login delay the engine tells.
#[derive(Default)]
struct Delay(Option<u32>);

impl Observer for Delay {
    fn login_delay(&mut self, seconds: u32) {
        self.0 = Some(seconds);
    }
}

#[wasm_bindgen_test]
async fn a_login_refused_for_its_delay_still_tells_the_delay_and_no_check_comes_sooner() {
    let mailbox = Mailbox::with(1, 200);
    let store = fresh_store("checking").await;
    let acc = account(ServerPolicy::DeleteAfterDownload);
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), &acc.id);
    server.login_delay_refusal = Some(900);
    let mut told = Delay::default();
    let request = SyncRequest {
        store: &store,
        account: &acc,
        config: client_config(&acc, Secret::new("pw".into())),
        tls: None,
        now_ms: NOW,
        limits: Limits::default(),
        cancel: &NeverCancel,
        observer: &mut told,
        disk: None,
    };
    let err = sync::sync(&mut server, request).await.unwrap_err();
    assert!(
        matches!(&err, SyncError::Pop3(e) if e.server_kind() == Some(ServerErrorKind::LoginDelay)),
        "{err:?}"
    );
    assert_eq!(told.0, Some(900));

    // The schedule of a one-minute interval, told that delay by the failed check.
    let mut schedule = Schedule::new(CheckRecord::default());
    schedule.ended(NOW, Ended::Failed, told.0);
    assert!(!schedule.due(Some(1), NOW + 899_000.0));
    schedule.soon = true; // the network came back
    assert!(!schedule.due(Some(1), NOW + 899_000.0));
    assert!(schedule.due(Some(1), NOW + 900_000.0));
}

/// A background tab loaded the account under delete-after-download; the user has since chosen
/// "Leave on server" in another tab. The tab's check uses the record stored now: the server
/// is asked for no DELE. Once the account is removed, there is nothing to check (a check of
/// the tab's copy would sync its mail and ledger back into being).
#[wasm_bindgen_test]
async fn a_check_uses_the_stored_account_not_the_tabs_copy() {
    let mailbox = Mailbox::with(2, 200);
    let store = fresh_store("checking-stored").await;
    let tabs_copy = account(ServerPolicy::DeleteAfterDownload);
    store.put_account(&tabs_copy).await.unwrap();
    // Another tab switches the account to "Leave on server".
    let mut changed = tabs_copy.clone();
    changed.policy = ServerPolicy::Leave {
        after_days: None,
        mirror_deletes: false,
    };
    store.put_account(&changed).await.unwrap();

    let acc = account_to_check(&store, &tabs_copy)
        .await
        .unwrap()
        .expect("the account is stored");
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), &acc.id);
    let request = SyncRequest {
        store: &store,
        account: &acc,
        config: client_config(&acc, Secret::new("pw".into())),
        tls: None,
        now_ms: NOW,
        limits: Limits::default(),
        cancel: &NeverCancel,
        observer: &mut Delay::default(),
        disk: None,
    };
    sync::sync(&mut server, request).await.unwrap();
    assert_eq!(mailbox.borrow().count("RETR"), 2);
    assert_eq!(mailbox.borrow().deles(), 0, "{:?}", mailbox.borrow().log);

    // Another tab removes the account.
    store.remove_account(&tabs_copy.id, false).await.unwrap();
    assert!(
        account_to_check(&store, &tabs_copy)
            .await
            .unwrap()
            .is_none()
    );
}
