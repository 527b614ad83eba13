//! Cancel: at once inside a large message (connection closed without QUIT), cleanly before any
//! download (QUIT commits only deletions of messages stored earlier).

use std::cell::Cell;
use std::rc::Rc;

use postbag_web::store::ServerPolicy;
use wasm_bindgen_test::*;

use super::common::fake_pop3::{FakeServer, Mailbox, sample};
use super::common::fresh_store;
use super::{ME, NOW, run, run_with, stored_uidls};

#[wasm_bindgen_test]
async fn cancel_inside_a_large_message_stops_at_once_and_keeps_what_was_complete() {
    let store = fresh_store("cancel-big").await;
    let mailbox = Mailbox::with(6, 2000);
    let big = sample(4, 3 << 20);
    mailbox.borrow_mut().messages[3].1 = big.clone();
    let flag = Rc::new(Cell::new(false));
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    server.chunk = 16 << 10;
    // The user presses Cancel once 1 MiB has arrived: well inside message 4 (3 MiB), after
    // messages 1-3 (2 KB each).
    let cancel_at = 1 << 20;
    server.cancel_at = Some((flag.clone(), cancel_at));
    let out = run_with(
        &mut server,
        &store,
        ServerPolicy::DeleteAfterDownload,
        NOW,
        &*flag,
        &mut |_| {},
    )
    .await
    .unwrap();
    assert!(out.cancelled);
    assert!(
        server.delivered() <= cancel_at + server.chunk,
        "stopped within one read of the cancel: {} bytes read, cancel at {cancel_at}",
        server.delivered()
    );
    assert_eq!(out.downloaded, 3, "messages 1-3 arrived whole and are kept");
    let stored = stored_uidls(&store, ME).await;
    assert_eq!(stored, ["uid-0001", "uid-0002", "uid-0003"]);
    assert_eq!(
        store.raw(ME, "uid-0004").await.unwrap(),
        None,
        "nothing of the partial message"
    );
    {
        let mb = mailbox.borrow();
        assert!(
            !mb.log.iter().any(|l| l == "QUIT"),
            "closed without QUIT: {:?}",
            mb.log
        );
        assert_eq!(mb.messages.len(), 6, "the server committed no deletion");
        assert!(mb.violations.is_empty());
    }

    // The next sync downloads only the rest and then empties the server.
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    server.chunk = 64 << 10;
    let out = run(&mut server, &store, ServerPolicy::DeleteAfterDownload, NOW)
        .await
        .unwrap();
    assert_eq!((out.downloaded, out.deleted_on_server), (3, 6));
    assert_eq!(store.list(ME).await.unwrap().len(), 6);
    assert_eq!(store.raw(ME, "uid-0004").await.unwrap(), Some(big));
    assert!(mailbox.borrow().messages.is_empty());
    assert!(mailbox.borrow().violations.is_empty());
}

#[wasm_bindgen_test]
async fn cancel_before_any_download_quits_cleanly() {
    let store = fresh_store("cancel-plan").await;
    let mailbox = Mailbox::with(3, 500);
    let keep = ServerPolicy::Leave {
        after_days: None,
        mirror_deletes: false,
    };
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    run(&mut server, &store, keep, NOW).await.unwrap();
    mailbox
        .borrow_mut()
        .messages
        .push(("uid-new".into(), sample(9, 700)));

    // Now delete-after-download, cancelled as soon as the plan is known (the first progress
    // report): nothing is under way, so the session ends with QUIT, which commits the
    // deletions of the three messages stored before, and the new one stays.
    let cancel = Cell::new(false);
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    let out = run_with(
        &mut server,
        &store,
        ServerPolicy::DeleteAfterDownload,
        NOW,
        &cancel,
        &mut |_| cancel.set(true),
    )
    .await
    .unwrap();
    assert!(out.cancelled);
    assert_eq!((out.downloaded, out.deleted_on_server), (0, 3));
    assert_eq!(mailbox.borrow().uidls(), ["uid-new"]);
    assert!(mailbox.borrow().log.iter().any(|l| l == "QUIT"));
    assert!(mailbox.borrow().violations.is_empty());
}
