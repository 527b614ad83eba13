//! Interruptions: a restore that fails or is cancelled while writing, what a restore cut off
//! by a closed tab leaves (cleared by the next restore or the app's start, with nothing deleted
//! on the server unseen after setting up by hand), a cancelled backup, and the restore lock
//! held by another tab.

use std::cell::Cell;

use postbag_protocol::pop3::Secret;
use postbag_web::backup::format::{Record, Writer};
use postbag_web::backup::{self, Pass, RestoreError};
use postbag_web::mail::summarize;
use postbag_web::store::{ServerPolicy, schema};
use wasm_bindgen_test::*;

use super::common::{account, fake_pop3, fresh_store};
use super::{Chunks, ME, NOW, dump, file, filled, joined, make_backup, refused, restore};

/// A file whose records all pass the check, but whose last record IndexedDB refuses (a summary
/// without its key), after more than one batch was written.
fn fails_while_writing() -> Vec<u8> {
    let (mut writer, mut out) = Writer::header(schema::current_version(), NOW);
    for i in 0..3 {
        let record = Record::Bytes {
            store: schema::BODIES.into(),
            key: format!(r#"["{ME}","u{i}"]"#).into_bytes(),
            bytes: vec![b'x'; 3_000_000],
        };
        writer.record(&record, &mut out).unwrap();
    }
    let keyless = Record::Json {
        store: schema::SUMMARIES.into(),
        json: br#"{"subject":"no key"}"#.to_vec(),
    };
    writer.record(&keyless, &mut out).unwrap();
    out.extend(writer.end());
    out
}

#[wasm_bindgen_test]
async fn a_restore_that_fails_or_is_cancelled_while_writing_leaves_the_store_empty() {
    let store = fresh_store("backup-rollback").await;
    let err = restore(&store, &fails_while_writing(), None)
        .await
        .expect_err("a keyless summary");
    assert!(matches!(err, RestoreError::Store(_)), "{err}");
    assert_eq!(
        store.backup_records().await.unwrap(),
        0,
        "the written batch was removed"
    );

    let a = filled("backup-cancel-from", 10, 1_000_000).await;
    let chunks = make_backup(&a, &[]).await;
    let writing = Cell::new(false);
    let r = backup::restore(
        &store,
        &file(&chunks.0),
        None,
        &|| writing.get(),
        &mut |p, _, _| {
            if p == Pass::Writing {
                writing.set(true);
            }
        },
    )
    .await
    .expect("cancel is no error");
    assert!(r.cancelled);
    assert_eq!(
        store.backup_records().await.unwrap(),
        0,
        "what was written was removed"
    );

    // Cancelled while checking: nothing was ever written.
    let r = backup::restore(&store, &file(&chunks.0), None, &|| true, &mut |_, _, _| {})
        .await
        .unwrap();
    assert!(r.cancelled);
    assert_eq!(store.backup_records().await.unwrap(), 0);
}

#[wasm_bindgen_test]
async fn what_an_interrupted_restore_left_is_cleared_by_the_next() {
    let a = filled("backup-interrupted-from", 2, 1_000).await;
    let good = joined(&make_backup(&a, &[]).await);
    let b = fresh_store("backup-interrupted").await;
    // The tab closed after a batch: records, no account, the mark still set.
    b.put_imported(&[(
        summarize(b"Subject: x\r\n\r\n", "imported", "x", NOW),
        b"x".to_vec(),
    )])
    .await
    .unwrap();
    backup::settings::mark_restoring(true);
    restore(&b, &good, None)
        .await
        .expect("the leftovers are cleared");
    // As the backup, the waiting outbox message held back aside (checked in the round trip).
    let without_outbox = |d: Vec<(String, String, Vec<u8>)>| {
        d.into_iter()
            .filter(|r| r.0 != schema::OUTBOX)
            .collect::<Vec<_>>()
    };
    assert!(without_outbox(dump(&a).await) == without_outbox(dump(&b).await));
    assert!(!backup::settings::restoring());
}

#[wasm_bindgen_test]
async fn a_cancelled_backup_stops_between_batches_and_is_no_backup() {
    let a = filled("backup-cancel-out", 10, 1_000_000).await;
    let mut chunks = Chunks::default();
    let (done, total) = (Cell::new(0), Cell::new(0));
    let b = backup::back_up(
        &a,
        &[],
        NOW,
        &mut chunks,
        // After two batches of message bytes (about 8 MB: a chunk was handed over).
        &|| done.get() >= 29,
        &mut |d, t| {
            done.set(d);
            total.set(t);
        },
    )
    .await
    .unwrap();
    assert!(b.cancelled);
    assert!(b.records < total.get(), "{} of {}", b.records, total.get());
    assert!(
        !chunks.0.is_empty(),
        "a chunk was handed over before Cancel"
    );
    // What was handed over has no end: a restore calls it cut off (the model discards it).
    refused("cancelled backup", &joined(&chunks), None, "cut off").await;
}

/// Polls `work` until `stop` is set, then drops it where it stands, as a closed tab does: no
/// code of it runs after (no clean-up), what it committed stays. `None`: dropped.
async fn dropped_when<F: Future>(stop: &Cell<bool>, work: F) -> Option<F::Output> {
    let mut work = std::pin::pin!(work);
    std::future::poll_fn(|cx| {
        if stop.get() {
            return std::task::Poll::Ready(None);
        }
        match work.as_mut().poll(cx) {
            std::task::Poll::Ready(out) => std::task::Poll::Ready(Some(out)),
            std::task::Poll::Pending if stop.get() => std::task::Poll::Ready(None),
            std::task::Poll::Pending => std::task::Poll::Pending,
        }
    })
    .await
}

#[wasm_bindgen_test]
async fn setup_by_hand_after_an_interrupted_restore_downloads_everything_and_deletes_nothing_unseen()
 {
    const N: usize = 10;
    const SIZE: usize = 1_000_000;
    // Installed before the restore writes: the server's DELE check sees every commit.
    let mailbox = std::rc::Rc::new(std::cell::RefCell::new(fake_pop3::Mailbox {
        messages: (0..N)
            .map(|i| (format!("u{i:04}"), fake_pop3::sample(i, SIZE)))
            .collect(),
        ..Default::default()
    }));
    let a = filled("backup-cut-from", N, SIZE).await;
    let chunks = make_backup(&a, &[]).await;
    let b = fresh_store("backup-cut").await;
    let mut server = fake_pop3::FakeServer::new(mailbox.clone(), b.clone(), ME);

    // The tab closes once the first batch of mail was written (about 4 of the 10 MB).
    let closed = Cell::new(false);
    let mut on_progress = |p, _, _| closed.set(closed.get() || p == Pass::Writing);
    let whole = file(&chunks.0);
    let restoring = backup::restore(&b, &whole, None, &|| false, &mut on_progress);
    assert!(dropped_when(&closed, restoring).await.is_none(), "cut off");
    assert!(backup::settings::restoring(), "the mark stays");
    let bodies = b.keys_after(schema::BODIES, None, 1000).await.unwrap();
    assert!(
        !bodies.is_empty() && bodies.len() < N,
        "{} bodies",
        bodies.len()
    );
    // No ledger line without its message (but for the one deleted here before the backup): a
    // sync would take it for "deleted here".
    let ledger = b.ledger(ME).await.unwrap();
    for line in &ledger {
        if a.raw(ME, &line.uidl).await.unwrap().is_none() {
            continue;
        }
        assert!(
            b.raw(ME, &line.uidl).await.unwrap().is_some(),
            "a ledger line for {} without its message ({} lines, {} bodies)",
            line.uidl,
            ledger.len(),
            bodies.len()
        );
    }
    assert!(b.pending_deletes(ME).await.unwrap().is_empty());
    assert!(b.accounts().await.unwrap().is_empty());

    // Another tab restoring (it holds the lock): no account is stored beside it.
    let beside = postbag_web::outbox::lock::exclusive(backup::LOCK, async {
        backup::unless_restoring(
            &b,
            b.put_account(&account(ServerPolicy::DeleteAfterDownload)),
        )
        .await
    })
    .await
    .expect("the lock was free");
    assert!(matches!(beside, Err(RestoreError::UnderWay)), "{beside:?}");
    assert!(b.accounts().await.unwrap().is_empty());

    // The app's start: the leftovers are cleared and the mark removed.
    backup::unless_restoring(&b, async {}).await.unwrap();
    assert_eq!(b.backup_records().await.unwrap(), 0, "leftovers cleared");
    assert!(!backup::settings::restoring());

    // The user types the account by hand (same id as in the backup), delete after download.
    let me = account(ServerPolicy::DeleteAfterDownload);
    backup::unless_restoring(&b, b.put_account(&me))
        .await
        .unwrap()
        .unwrap();
    let cancel = Cell::new(false);
    let out = postbag_web::sync::sync(
        &mut server,
        postbag_web::sync::SyncRequest {
            store: &b,
            account: &me,
            config: postbag_web::account::client_config(&me, Secret::new("pw".into())),
            tls: None,
            now_ms: NOW,
            limits: postbag_web::sync::Limits::default(),
            cancel: &cancel,
            observer: &mut |_: &postbag_web::sync::Progress| {},
            disk: None,
        },
    )
    .await
    .expect("sync");
    assert_eq!(out.downloaded as usize, N, "everything downloaded");
    let (violations, deles) = {
        let mb = mailbox.borrow();
        (mb.violations.clone(), mb.deles())
    };
    assert!(violations.is_empty(), "deleted unseen: {violations:?}");
    assert_eq!(deles, N);
    for i in 0..N {
        assert_eq!(
            b.raw(ME, &format!("u{i:04}")).await.unwrap(),
            Some(fake_pop3::sample(i, SIZE)),
        );
    }
}

#[wasm_bindgen_test]
async fn a_restore_is_refused_while_another_tab_holds_the_restore_lock() {
    let a = filled("backup-locked-from", 2, 1_000).await;
    let good = joined(&make_backup(&a, &[]).await);
    let b = fresh_store("backup-locked").await;
    // Another tab restoring or storing an account holds the lock for its writes.
    let r = postbag_web::outbox::lock::exclusive(backup::LOCK, restore(&b, &good, None))
        .await
        .expect("the lock was free");
    assert!(matches!(r, Err(RestoreError::UnderWay)), "{r:?}");
    assert_eq!(b.backup_records().await.unwrap(), 0, "nothing written");
    // Once it let go, the same restore goes through.
    restore(&b, &good, None).await.expect("restored");
    assert_eq!(b.accounts().await.unwrap().len(), 1);
}
