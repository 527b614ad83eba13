//! A server that answers UIDL with `-ERR`: messages are named by their `TOP n 0` headers and
//! size. Nothing is downloaded twice, every DELE still follows a completed commit of those very
//! bytes (the scripted server looks them up under any key), and what the headers cannot tell
//! apart stays on the server.

use postbag_web::store::ServerPolicy;
use postbag_web::sync::{Notice, SyncError};
use wasm_bindgen_test::*;

use super::common::fake_pop3::{FakeServer, Mailbox, sample};
use super::common::fresh_store;
use super::{DAY, ME, NOW, run};

const KEEP: ServerPolicy = ServerPolicy::Leave {
    after_days: None,
    mirror_deletes: false,
};

fn without_uidl(
    mailbox: &std::rc::Rc<std::cell::RefCell<Mailbox>>,
    store: &postbag_web::store::Store,
) -> FakeServer {
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    server.no_uidl = true;
    server
}

#[wasm_bindgen_test]
async fn a_server_without_uidl_is_synced_by_headers_and_nothing_comes_twice() {
    let store = fresh_store("no-uidl").await;
    let mailbox = Mailbox::with(4, 900);
    let out = run(&mut without_uidl(&mailbox, &store), &store, KEEP, NOW)
        .await
        .unwrap();
    assert_eq!(out.downloaded, 4);
    assert!(
        matches!(&out.notices[..], [Notice::HeadersOnly { unnamed, refused }] if unnamed.is_empty() && refused.is_empty()),
        "{:?}",
        out.notices
    );
    // One more arrives, in front (a server's numbers are no names): only it is downloaded.
    mailbox
        .borrow_mut()
        .messages
        .insert(0, ("new".into(), sample(50, 700)));
    let out = run(&mut without_uidl(&mailbox, &store), &store, KEEP, NOW + DAY)
        .await
        .unwrap();
    assert_eq!(out.downloaded, 1);
    assert_eq!(
        mailbox.borrow().count("RETR"),
        5,
        "nothing downloaded twice"
    );
    assert_eq!(store.list(ME).await.unwrap().len(), 5);

    // Delete after download now: the five stored are confirmed by their headers and deleted,
    // each only because its bytes are committed here.
    let out = run(
        &mut without_uidl(&mailbox, &store),
        &store,
        ServerPolicy::DeleteAfterDownload,
        NOW + 2.0 * DAY,
    )
    .await
    .unwrap();
    assert_eq!((out.downloaded, out.deleted_on_server), (0, 5));
    let mb = mailbox.borrow();
    assert!(mb.violations.is_empty(), "{:?}", mb.violations);
    assert!(mb.messages.is_empty());
    assert_eq!(mb.count("RETR"), 5);
}

/// Two copies alike in Message-ID, Date, From and size, and one message with none of those
/// headers: none of them is downloaded or deleted, under delete-after-download too; the
/// others are.
#[wasm_bindgen_test]
async fn messages_the_headers_cannot_tell_apart_stay_on_the_server() {
    let store = fresh_store("no-uidl-alike").await;
    let mailbox = Mailbox::with(3, 800);
    {
        let mut mb = mailbox.borrow_mut();
        let copy = mb.messages[1].1.clone();
        mb.messages.push(("copy".into(), copy));
        mb.messages
            .push(("bare".into(), b"Subject: no names\r\n\r\nbody\r\n".to_vec()));
    }
    let out = run(
        &mut without_uidl(&mailbox, &store),
        &store,
        ServerPolicy::DeleteAfterDownload,
        NOW,
    )
    .await
    .unwrap();
    assert_eq!((out.downloaded, out.deleted_on_server), (2, 2));
    let mb = mailbox.borrow();
    assert!(mb.violations.is_empty(), "{:?}", mb.violations);
    assert_eq!(mb.uidls(), ["uid-0002", "copy", "bare"]);
    assert!(
        out.notices
            .iter()
            .any(|n| matches!(n, Notice::HeadersOnly { unnamed, .. } if unnamed == &[5])),
        "{:?}",
        out.notices
    );
    assert!(
        out.notices
            .iter()
            .any(|n| matches!(n, Notice::SharedUidl { msgs } if msgs == &[2, 4])),
        "{:?}",
        out.notices
    );
}

/// Neither UIDL nor TOP: nothing can be named, so nothing is downloaded or deleted.
#[wasm_bindgen_test]
async fn a_server_without_uidl_or_top_is_refused_and_touched_nowhere() {
    let store = fresh_store("no-uidl-no-top").await;
    let mailbox = Mailbox::with(3, 800);
    let mut server = without_uidl(&mailbox, &store);
    server.no_top = true;
    let err = run(&mut server, &store, ServerPolicy::DeleteAfterDownload, NOW)
        .await
        .unwrap_err();
    assert!(matches!(err, SyncError::NoUidl), "{err:?}");
    assert_eq!(mailbox.borrow().count("RETR"), 0);
    assert_eq!(mailbox.borrow().deles(), 0);
    assert!(store.list(ME).await.unwrap().is_empty());
}

/// One message deleted by another program between LIST and TOP (its TOP answered -ERR): the
/// others are named, downloaded and deleted as usual; that one is left alone this time and
/// said so. Before, the one -ERR failed the whole sync as "neither UIDL nor TOP".
#[wasm_bindgen_test]
async fn one_refused_top_leaves_that_message_alone_and_syncs_the_rest() {
    let store = fresh_store("no-uidl-one-top").await;
    let mailbox = Mailbox::with(3, 800);
    let mut server = without_uidl(&mailbox, &store);
    server.top_err.insert(2);
    let out = run(&mut server, &store, ServerPolicy::DeleteAfterDownload, NOW)
        .await
        .unwrap();
    assert_eq!((out.downloaded, out.deleted_on_server), (2, 2));
    let mb = mailbox.borrow();
    assert!(mb.violations.is_empty(), "{:?}", mb.violations);
    assert_eq!(
        mb.uidls(),
        ["uid-0002"],
        "the refused one stays on the server"
    );
    assert!(
        out.notices
            .iter()
            .any(|n| matches!(n, Notice::HeadersOnly { refused, .. } if refused == &[2])),
        "{:?}",
        out.notices
    );
}
