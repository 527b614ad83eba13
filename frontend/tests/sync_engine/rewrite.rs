//! Servers whose UIDL and size do not tell messages apart: GNU mailutils rewrites a message's
//! headers once it was read (so it is listed with another size next time), and a broken server
//! reuses a UIDL for another message of the same size. Before deleting a message it did not
//! download in this session, or when its size changed, the engine compares `TOP n 0` headers
//! with the stored message.

use postbag_web::store::ServerPolicy;
use postbag_web::sync::{Notice, set_aside_key};
use wasm_bindgen_test::*;

use super::common::fake_pop3::{FakeServer, Mailbox};
use super::common::fresh_store;
use super::{DAY, ME, NOW, run, stored_uidls};

fn after(days: u32) -> ServerPolicy {
    ServerPolicy::Leave {
        after_days: Some(days),
        mirror_deletes: false,
    }
}

/// mailutils: a second sync of an unchanged mailbox downloaded every message again (12 became
/// 24 in the list). Now nothing is downloaded twice, the ledger learns the new sizes, and the
/// messages are deleted after N days as promised (the bytes stored are the message the server
/// still holds, before its own headers were added).
#[wasm_bindgen_test]
async fn a_server_that_rewrites_headers_after_reading_causes_no_duplicates() {
    let store = fresh_store("mailutils").await;
    let mailbox = Mailbox::with(4, 900);
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    server.rewrite_on_read = true;
    assert_eq!(
        run(&mut server, &store, after(7), NOW)
            .await
            .unwrap()
            .downloaded,
        4
    );
    assert!(
        mailbox.borrow().messages[0].1.starts_with(b"Status: RO"),
        "the server rewrote what was read"
    );

    for day in [1.0, 2.0] {
        let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
        server.rewrite_on_read = true;
        let out = run(&mut server, &store, after(7), NOW + day * DAY)
            .await
            .unwrap();
        assert_eq!(out.downloaded, 0, "day {day}: nothing again");
        assert!(out.notices.is_empty(), "{:?}", out.notices);
    }
    assert_eq!(store.list(ME).await.unwrap().len(), 4, "no duplicates");
    assert_eq!(mailbox.borrow().count("RETR"), 4);
    assert_eq!(
        mailbox.borrow().count("TOP"),
        4,
        "the changed sizes were asked once, then learnt"
    );
    let sizes: Vec<_> = store
        .ledger(ME)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.size)
        .collect();
    let listed: Vec<_> = mailbox
        .borrow()
        .messages
        .iter()
        .map(|m| Some(m.1.len() as u64))
        .collect();
    assert_eq!(sizes, listed);

    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    let out = run(&mut server, &store, after(7), NOW + 8.0 * DAY)
        .await
        .unwrap();
    assert_eq!((out.downloaded, out.deleted_on_server), (0, 4));
    let mb = mailbox.borrow();
    assert!(mb.messages.is_empty());
    assert!(mb.violations.is_empty(), "{:?}", mb.violations);
}

/// "Leave on the server, delete after 7 days", and the server reuses a UIDL for another
/// message of the very same size. Before, day 8 DELEd the new message unseen. Now it is
/// downloaded (the old copy kept aside) and not deleted.
#[wasm_bindgen_test]
async fn a_uidl_reused_at_the_same_size_is_never_deleted_unseen() {
    let store = fresh_store("reuse-same-size").await;
    let mailbox = Mailbox::with(2, 700);
    let old = mailbox.borrow().messages[1].1.clone();
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    run(&mut server, &store, after(7), NOW).await.unwrap();

    // Another message, same length, same UIDL.
    let new = String::from_utf8(old.clone())
        .unwrap()
        .replace("<2@example.org>", "<7@example.org>")
        .replace("Sender 2", "Sender 7")
        .into_bytes();
    assert_eq!(new.len(), old.len());
    mailbox.borrow_mut().messages[1].1 = new.clone();
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    let out = run(&mut server, &store, after(7), NOW + 8.0 * DAY)
        .await
        .unwrap();
    assert_eq!(
        (out.downloaded, out.deleted_on_server),
        (1, 1),
        "the new one downloaded, only the old uid-0001 deleted"
    );
    {
        let mb = mailbox.borrow();
        assert!(
            mb.violations.is_empty(),
            "DELE of an unseen message: {:?}",
            mb.violations
        );
        assert_eq!(
            mb.uidls(),
            ["uid-0002"],
            "the new message stays on the server"
        );
    }
    assert_eq!(store.raw(ME, "uid-0002").await.unwrap(), Some(new));
    let aside = set_aside_key("uid-0002", NOW);
    assert_eq!(store.raw(ME, &aside).await.unwrap(), Some(old));
    assert_eq!(stored_uidls(&store, ME).await.len(), 3);
}

/// A server without TOP cannot confirm: a message due for deletion that was not downloaded in
/// this session stays on the server, and the user is told.
#[wasm_bindgen_test]
async fn without_top_nothing_unseen_is_deleted() {
    let store = fresh_store("no-top").await;
    let mailbox = Mailbox::with(2, 700);
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    run(&mut server, &store, after(7), NOW).await.unwrap();
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    server.no_top = true;
    let out = run(&mut server, &store, after(7), NOW + 8.0 * DAY)
        .await
        .unwrap();
    assert_eq!((out.downloaded, out.deleted_on_server), (0, 0));
    assert_eq!(
        out.notices,
        [
            Notice::NotConfirmed { msg: 1 },
            Notice::NotConfirmed { msg: 2 }
        ]
    );
    assert_eq!(mailbox.borrow().messages.len(), 2);
    assert_eq!(mailbox.borrow().deles(), 0);
}
