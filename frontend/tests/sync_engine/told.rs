//! What the screen is told while a sync runs: each committed batch's summaries (the list is
//! never re-read), and the storage check, asked once the plan is made and before any RETR.

use std::cell::RefCell;
use std::rc::Rc;

use postbag_protocol::pop3::Secret;
use postbag_web::account::client_config;
use postbag_web::store::{ServerPolicy, Summary};
use postbag_web::sync::{self, Answer, Limits, NeverCancel, Observer, Outcome, SyncRequest};
use wasm_bindgen_test::*;

use super::common::fake_pop3::{FakeServer, Mailbox};
use super::common::{account, fresh_store};
use super::{ME, NOW, stored_uidls};

/// Records what the engine tells it; answers the storage check with `fits`.
struct Recorder {
    mailbox: Rc<RefCell<Mailbox>>,
    fits: bool,
    /// The UIDLs of each committed batch, in order.
    committed: Vec<Vec<String>>,
    /// The bytes each storage check asked about, and the RETRs the server had seen by then.
    asked: Vec<(u64, usize)>,
}

impl Observer for Recorder {
    fn committed(&mut self, summaries: &[Summary]) {
        self.committed
            .push(summaries.iter().map(|s| s.uidl.clone()).collect());
    }

    fn room_for(&mut self, bytes: u64) -> Answer {
        self.asked
            .push((bytes, self.mailbox.borrow().count("RETR")));
        let fits = self.fits;
        Box::pin(async move { fits })
    }
}

async fn sync_told(
    mailbox: &Rc<RefCell<Mailbox>>,
    fits: bool,
) -> (Outcome, Recorder, postbag_web::store::Store) {
    let store = fresh_store("told").await;
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    let acc = account(ServerPolicy::DeleteAfterDownload);
    let mut recorder = Recorder {
        mailbox: mailbox.clone(),
        fits,
        committed: Vec::new(),
        asked: Vec::new(),
    };
    let request = SyncRequest {
        store: &store,
        account: &acc,
        config: client_config(&acc, Secret::new("pw".into())),
        tls: None,
        now_ms: NOW,
        limits: Limits::default(),
        cancel: &NeverCancel,
        observer: &mut recorder,
        disk: None,
    };
    let out = sync::sync(&mut server, request).await.unwrap();
    (out, recorder, store)
}

#[wasm_bindgen_test]
async fn each_committed_batch_is_handed_over_and_the_room_asked_first() {
    // 70 messages: more than two batches of 32.
    let mailbox = Mailbox::with(70, 1000);
    let total: u64 = mailbox
        .borrow()
        .messages
        .iter()
        .map(|m| m.1.len() as u64)
        .sum();
    let (out, told, store) = sync_told(&mailbox, true).await;
    assert_eq!(out.downloaded, 70);
    assert!(
        told.committed.len() >= 3,
        "one hand-over per batch: {:?}",
        told.committed.iter().map(Vec::len).collect::<Vec<_>>()
    );
    let mut handed: Vec<String> = told.committed.concat();
    handed.sort();
    assert_eq!(
        handed,
        stored_uidls(&store, ME).await,
        "every stored message, once"
    );
    // Asked once, about the whole plan, before the first RETR.
    assert_eq!(told.asked, [(total, 0)]);
}

#[wasm_bindgen_test]
async fn a_plan_the_storage_cannot_hold_downloads_nothing() {
    let mailbox = Mailbox::with(5, 3000);
    let (out, told, store) = sync_told(&mailbox, false).await;
    assert!(out.cancelled, "told as a cancelled sync");
    assert_eq!(out.downloaded, 0);
    {
        let mb = mailbox.borrow();
        assert_eq!(mb.count("RETR"), 0, "no download started: {:?}", mb.log);
        assert_eq!(mb.count("QUIT"), 1, "the session ends cleanly");
        assert_eq!(mb.messages.len(), 5, "nothing deleted");
    }
    assert!(told.committed.is_empty());
    assert!(stored_uidls(&store, ME).await.is_empty());
}
