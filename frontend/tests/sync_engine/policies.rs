//! "Keep at most N on the server" against the scripted server: the oldest beyond N are DELEd
//! only once their commit completed (the server checks each DELE against IndexedDB), what could
//! not be stored stays, and the next session trims again.

use postbag_web::store::ServerPolicy;
use wasm_bindgen_test::*;

use super::common::fake_pop3::{FakeServer, Mailbox, sample};
use super::common::fresh_store;
use super::{DAY, ME, NOW, run, stored_uidls};

fn keep(count: u32) -> ServerPolicy {
    ServerPolicy::KeepNewest {
        count,
        mirror_deletes: false,
    }
}

async fn check_first_sync_trims_to_n(chunk: usize) {
    let store = fresh_store("keep-n").await;
    let mailbox = Mailbox::with(6, 2500);
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    server.chunk = chunk;
    let out = run(&mut server, &store, keep(2), NOW).await.unwrap();
    assert_eq!((out.downloaded, out.deleted_on_server), (6, 4));
    {
        let mb = mailbox.borrow();
        assert!(
            mb.violations.is_empty(),
            "DELE before commit: {:?}",
            mb.violations
        );
        assert_eq!(mb.uidls(), ["uid-0005", "uid-0006"], "the newest two stay");
    }
    assert_eq!(stored_uidls(&store, ME).await.len(), 6, "all six kept here");

    // Three more arrive: stored, and the server is trimmed to the newest two again (the two
    // stored in the last session are confirmed by TOP n 0 before their DELE).
    for i in 7..=9 {
        mailbox
            .borrow_mut()
            .messages
            .push((format!("uid-{i:04}"), sample(i, 700)));
    }
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    server.chunk = chunk;
    let out = run(&mut server, &store, keep(2), NOW + DAY).await.unwrap();
    assert_eq!((out.downloaded, out.deleted_on_server), (3, 3));
    let mb = mailbox.borrow();
    assert!(mb.violations.is_empty(), "{:?}", mb.violations);
    assert_eq!(mb.uidls(), ["uid-0008", "uid-0009"]);
    assert_eq!(mb.count("RETR"), 9, "nothing downloaded twice");
}

#[wasm_bindgen_test]
async fn keep_at_most_n_deletes_the_oldest_only_once_stored() {
    check_first_sync_trims_to_n(1 << 20).await;
}

#[wasm_bindgen_test]
async fn keep_at_most_n_byte_by_byte() {
    check_first_sync_trims_to_n(1).await;
}

/// A message among the oldest that the server refuses to send is not stored here, so it stays
/// on the server; no younger message is deleted in its place.
#[wasm_bindgen_test]
async fn keep_at_most_n_never_deletes_a_message_not_stored_here() {
    let store = fresh_store("keep-n-refused").await;
    let mailbox = Mailbox::with(4, 900);
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    server.retr_err.insert(1, "cannot read".into());
    let out = run(&mut server, &store, keep(1), NOW).await.unwrap();
    assert_eq!(
        (out.downloaded, out.failed, out.deleted_on_server),
        (3, 1, 2)
    );
    let mb = mailbox.borrow();
    assert!(mb.violations.is_empty(), "{:?}", mb.violations);
    assert_eq!(mb.uidls(), ["uid-0001", "uid-0004"]);
}
