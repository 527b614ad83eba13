//! The ledger across sessions: a server that stops listing messages for a while, the grace
//! period after which their lines are forgotten, and a server that reuses a UIDL.

use postbag_web::store::ServerPolicy;
use postbag_web::sync::{GONE_GRACE_MS, set_aside_key};
use wasm_bindgen_test::*;

use super::common::fake_pop3::{FakeServer, Mailbox, sample};
use super::common::fresh_store;
use super::{DAY, ME, NOW, run};

const KEEP: ServerPolicy = ServerPolicy::Leave {
    after_days: None,
    mirror_deletes: false,
};

fn retrs(mailbox: &std::cell::RefCell<Mailbox>) -> usize {
    mailbox
        .borrow()
        .log
        .iter()
        .filter(|l| l.starts_with("RETR"))
        .count()
}

/// Some servers list only a window of mail. A message deleted here must not come back when the
/// server lists it again, and a kept one must not be downloaded again (losing its read state).
#[wasm_bindgen_test]
async fn messages_the_server_stops_listing_for_a_while_are_not_downloaded_again() {
    let store = fresh_store("window").await;
    let mailbox = Mailbox::with(4, 600);
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    run(&mut server, &store, KEEP, NOW).await.unwrap();
    store.delete_local(ME, "uid-0002", false).await.unwrap();
    let mut three = store
        .list(ME)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.uidl == "uid-0003")
        .unwrap();
    three.read = true;
    store.update_summary(&three).await.unwrap();

    // The server hides messages 2 and 3 for a sync...
    let hidden: Vec<_> = mailbox.borrow_mut().messages.drain(1..3).collect();
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    let out = run(&mut server, &store, KEEP, NOW + DAY).await.unwrap();
    assert_eq!(out.downloaded, 0);
    let ledger = store.ledger(ME).await.unwrap();
    assert_eq!(ledger.len(), 4, "lines kept while unlisted");
    for line in ledger
        .iter()
        .filter(|l| l.uidl == "uid-0002" || l.uidl == "uid-0003")
    {
        assert_eq!(
            (line.on_server, line.gone_since),
            (false, Some(NOW + DAY)),
            "{line:?}"
        );
    }

    // ...and lists them again.
    mailbox.borrow_mut().messages.splice(1..1, hidden);
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    let out = run(&mut server, &store, KEEP, NOW + 2.0 * DAY)
        .await
        .unwrap();
    assert_eq!(out.downloaded, 0, "nothing downloaded again");
    assert_eq!(retrs(&mailbox), 4, "each message was retrieved once in all");
    let list = store.list(ME).await.unwrap();
    assert_eq!(list.len(), 3, "the message deleted here stays deleted");
    assert!(list.iter().find(|s| s.uidl == "uid-0003").unwrap().read);
    assert!(
        store
            .ledger(ME)
            .await
            .unwrap()
            .iter()
            .all(|l| l.on_server && l.gone_since.is_none())
    );
}

#[wasm_bindgen_test]
async fn an_unlisted_line_is_forgotten_after_the_grace_period() {
    let store = fresh_store("grace").await;
    let mailbox = Mailbox::with(2, 600);
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    run(&mut server, &store, KEEP, NOW).await.unwrap();
    mailbox.borrow_mut().messages.pop();
    for (day, lines) in [
        (1.0, 2),
        (1.0 + GONE_GRACE_MS / DAY - 0.5, 2),
        (1.0 + GONE_GRACE_MS / DAY, 1),
    ] {
        let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
        run(&mut server, &store, KEEP, NOW + day * DAY)
            .await
            .unwrap();
        assert_eq!(store.ledger(ME).await.unwrap().len(), lines, "day {day}");
    }
    // The local copy is untouched: only the server-side memory goes.
    assert_eq!(store.list(ME).await.unwrap().len(), 2);
}

/// A server that lost its UIDL state lists a new message under an old UIDL, with another size.
/// It is downloaded (the old plan DELEd it unseen), the old local copy is kept under another
/// key, and the new one is deleted on the server only after its own commit.
#[wasm_bindgen_test]
async fn a_reused_uidl_is_downloaded_and_the_old_copy_kept() {
    let store = fresh_store("reuse").await;
    let mailbox = Mailbox::with(3, 600);
    let old = mailbox.borrow().messages[1].1.clone();
    let dad = ServerPolicy::DeleteAfterDownload;
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    run(&mut server, &store, dad, NOW).await.unwrap();
    assert!(mailbox.borrow().messages.is_empty());

    let new = sample(99, 5000);
    let new_size = new.len() as u64;
    mailbox
        .borrow_mut()
        .messages
        .push(("uid-0002".into(), new.clone()));
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    let out = run(&mut server, &store, dad, NOW + DAY).await.unwrap();
    assert_eq!((out.downloaded, out.deleted_on_server), (1, 1));
    assert!(
        mailbox.borrow().violations.is_empty(),
        "DELE only after the NEW bytes were committed: {:?}",
        mailbox.borrow().violations
    );
    assert_eq!(store.raw(ME, "uid-0002").await.unwrap(), Some(new));
    let aside = set_aside_key("uid-0002", NOW);
    assert_eq!(store.raw(ME, &aside).await.unwrap(), Some(old));
    let list = store.list(ME).await.unwrap();
    assert_eq!(list.len(), 4);
    assert!(list.iter().any(|s| s.uidl == aside));
    let line = store
        .ledger(ME)
        .await
        .unwrap()
        .into_iter()
        .find(|l| l.uidl == "uid-0002")
        .unwrap();
    assert_eq!((line.size, line.first_seen), (Some(new_size), NOW + DAY));
}
