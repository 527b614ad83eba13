//! The sync engine's DELE gate: a message is deleted on the server only once the folder holds
//! it, whole and at its stored size; a folder that refuses writes keeps every message on the
//! server, told why; a folder picked in another tab, or a store that cannot say which folder
//! is picked, holds back DELE; a partial copy is never written nor let through.

use std::cell::Cell;
use std::collections::HashMap;
use std::rc::Rc;

use postbag_protocol::pop3::Secret;
use postbag_web::account::client_config;
use postbag_web::disk_copy::{DiskError, DiskGate, Folder, names};
use postbag_web::mail::summarize;
use postbag_web::store::{NewMessage, ServerPolicy};
use postbag_web::sync::{self, Limits, SyncRequest};
use wasm_bindgen_test::*;

use super::common::fake_pop3::{self, FakeServer, Mailbox};
use super::common::tab_over;
use super::common::{account, fresh_store};
use super::faults::{RefuseFolderReads, RefuseWrites, WatchPlaced};
use super::{LEAVE, ME, NOW, file_of, gate, kept_for, names_in, opfs_folder, sync_with};

#[wasm_bindgen_test]
async fn with_the_copy_on_every_message_is_in_the_folder_before_its_dele() {
    // More than one batch (32 messages a batch).
    let mailbox = Mailbox::with(40, 2_000);
    let originals = mailbox.borrow().messages.clone();
    let store = fresh_store("disk-sync").await;
    let dir = opfs_folder("sync").await;
    let disk = gate(&store, &dir).await;
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    // Each DELE is checked against the files in the folder when it arrives, not after.
    let _watch = WatchPlaced::new();
    server.also_stored = Some(Rc::new(|uidl: &str| {
        WatchPlaced::holds(&names::unique(ME, uidl, NOW))
    }));
    let out = sync_with(
        &mut server,
        &store,
        ServerPolicy::DeleteAfterDownload,
        NOW,
        Some(&disk),
    )
    .await;
    assert_eq!(out.downloaded, 40);
    assert_eq!(kept_for(&out), []);
    assert_eq!(mailbox.borrow().deles(), 40);
    assert!(mailbox.borrow().violations.is_empty());
    assert!(mailbox.borrow().messages.is_empty(), "the server is empty");
    assert_eq!(names_in(&dir, "cur").await.len(), 40);
    for (uidl, raw) in &originals {
        assert_eq!(file_of(&dir, uidl, NOW).await.as_ref(), Some(raw), "{uidl}");
    }
}

#[wasm_bindgen_test]
async fn a_folder_that_refuses_writes_keeps_every_message_on_the_server_until_a_later_sync() {
    let mailbox = Mailbox::with(40, 2_000);
    let originals = mailbox.borrow().messages.clone();
    let store = fresh_store("disk-refused").await;
    let dir = opfs_folder("refused-sync").await;
    let disk = gate(&store, &dir).await;
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    let out = {
        let _refuse = RefuseWrites::with("QuotaExceededError");
        sync_with(
            &mut server,
            &store,
            ServerPolicy::DeleteAfterDownload,
            NOW,
            Some(&disk),
        )
        .await
    };
    // Stored here, told why, deleted nowhere.
    assert_eq!(out.downloaded, 40);
    assert_eq!(store.list(ME).await.unwrap().len(), 40);
    assert_eq!(kept_for(&out), [(40, DiskError::Full)]);
    assert_eq!(
        sync::notice(&out.notices[0]),
        "40 messages stay on the server, not yet copied to your folder: the disk or the \
         folder's quota is full (the next sync writes them and then deletes them on the server)"
    );
    assert_eq!(mailbox.borrow().deles(), 0);
    assert_eq!(mailbox.borrow().messages.len(), 40);
    assert!(names_in(&dir, "cur").await.is_empty());

    // The folder takes writes again: the catch-up writes them, the sync confirms and deletes.
    let disk = gate(&store, &dir).await;
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    let out = sync_with(
        &mut server,
        &store,
        ServerPolicy::DeleteAfterDownload,
        NOW + 60_000.0,
        Some(&disk),
    )
    .await;
    assert_eq!(out.downloaded, 0);
    assert_eq!(kept_for(&out), []);
    assert_eq!(mailbox.borrow().deles(), 40);
    assert!(mailbox.borrow().messages.is_empty());
    for (uidl, raw) in &originals {
        assert_eq!(file_of(&dir, uidl, NOW).await.as_ref(), Some(raw), "{uidl}");
    }
}

#[wasm_bindgen_test]
async fn stored_mail_is_deleted_on_the_server_only_once_the_folder_holds_it() {
    // Stored before the copy existed, left on the server; then the policy deletes.
    let mailbox = Mailbox::with(5, 500);
    let store = fresh_store("disk-confirm").await;
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    sync_with(&mut server, &store, LEAVE, NOW, None).await;
    assert_eq!(store.list(ME).await.unwrap().len(), 5);

    // No permission (after a restart, before "Allow"): nothing deleted, told why.
    let blocked = DiskGate::blocked(DiskError::NotAllowed);
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    let out = sync_with(
        &mut server,
        &store,
        ServerPolicy::DeleteAfterDownload,
        NOW + 1000.0,
        Some(&blocked),
    )
    .await;
    assert_eq!(kept_for(&out), [(5, DiskError::NotAllowed)]);
    assert_eq!(mailbox.borrow().deles(), 0);

    // A catch-up that could not write two of them: those two stay.
    let dir = opfs_folder("confirm").await;
    let folder = Folder::open(&dir).await.unwrap();
    let mut missing = HashMap::new();
    for uidl in ["uid-0002", "uid-0004"] {
        missing.insert(uidl.to_string(), DiskError::Gone);
    }
    let partial = DiskGate::new(folder, missing);
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    let out = sync_with(
        &mut server,
        &store,
        ServerPolicy::DeleteAfterDownload,
        NOW + 2000.0,
        Some(&partial),
    )
    .await;
    assert_eq!(kept_for(&out), [(2, DiskError::Gone)]);
    assert_eq!(mailbox.borrow().uidls(), ["uid-0002", "uid-0004"]);

    // The real catch-up writes what lacks; then the rest goes.
    let disk = gate(&store, &dir).await;
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    let out = sync_with(
        &mut server,
        &store,
        ServerPolicy::DeleteAfterDownload,
        NOW + 3000.0,
        Some(&disk),
    )
    .await;
    assert_eq!(kept_for(&out), []);
    assert!(mailbox.borrow().messages.is_empty());
    assert!(mailbox.borrow().violations.is_empty());
}

#[wasm_bindgen_test]
async fn a_folder_picked_in_another_tab_holds_back_dele_in_this_one() {
    // Stored before the copy existed, left on the server.
    let mailbox = Mailbox::with(5, 500);
    let originals = mailbox.borrow().messages.clone();
    let store = fresh_store("disk-other-tab").await;
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    sync_with(&mut server, &store, LEAVE, NOW, None).await;
    let tab = tab_over(&store);

    // Another tab picks a folder (it lands in the store); this tab never heard of it, and the
    // folder refuses writes: the gate of this tab's next sync keeps every message.
    let dir = opfs_folder("other-tab").await;
    store.set_disk_copy_folder(Some(&dir)).await.unwrap();
    let disk = {
        let _refuse = RefuseWrites::with("QuotaExceededError");
        tab.disk_gate(ME, &Cell::new(false))
            .await
            .expect("the copy is on in the store")
    };
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    let out = sync_with(
        &mut server,
        &store,
        ServerPolicy::DeleteAfterDownload,
        NOW + 1000.0,
        Some(&disk),
    )
    .await;
    assert_eq!(kept_for(&out), [(5, DiskError::Full)]);
    assert_eq!(mailbox.borrow().deles(), 0);

    // The folder takes writes: this tab's gate writes them, then they go.
    let disk = tab
        .disk_gate(ME, &Cell::new(false))
        .await
        .expect("the copy is on");
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    let out = sync_with(
        &mut server,
        &store,
        ServerPolicy::DeleteAfterDownload,
        NOW + 2000.0,
        Some(&disk),
    )
    .await;
    assert_eq!(kept_for(&out), []);
    assert_eq!(mailbox.borrow().deles(), 5);
    for (uidl, raw) in &originals {
        assert_eq!(file_of(&dir, uidl, NOW).await.as_ref(), Some(raw), "{uidl}");
    }

    // The other tab stops the copy: DELE no longer waits for the folder here either.
    store.set_disk_copy_folder(None).await.unwrap();
    assert!(tab.disk_gate(ME, &Cell::new(false)).await.is_none());
}

#[wasm_bindgen_test]
async fn a_store_that_cannot_say_which_folder_is_picked_blocks_dele() {
    let mailbox = Mailbox::with(3, 500);
    let store = fresh_store("disk-unreadable").await;
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    sync_with(&mut server, &store, LEAVE, NOW, None).await;
    let tab = tab_over(&store);
    let disk = {
        let _refuse = RefuseFolderReads::new();
        tab.disk_gate(ME, &Cell::new(false))
            .await
            .expect("unknown is not off")
    };
    assert!(matches!(disk.lacks("any key"), Some(DiskError::Failed(_))));
    let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
    let out = sync_with(
        &mut server,
        &store,
        ServerPolicy::DeleteAfterDownload,
        NOW + 1000.0,
        Some(&disk),
    )
    .await;
    assert_eq!(mailbox.borrow().deles(), 0);
    assert_eq!(kept_for(&out).len(), 1);
    assert_eq!(kept_for(&out)[0].0, 3);
}

/// A message of which only the start is stored (headers-first above the account's size limit)
/// is no Maildir message: neither the sync nor the catch-up writes it into the folder. Once
/// "Download the rest" stored the whole, its file is the whole, and only then (delete after
/// download) is it deleted on the server.
#[wasm_bindgen_test]
async fn a_partial_copy_is_never_written_to_the_folder_the_whole_is() {
    let mailbox = Mailbox::with(2, 2_000);
    mailbox.borrow_mut().messages[1].1 = fake_pop3::sample(2, 60_000);
    let large = mailbox.borrow().messages[1].1.clone();
    let store = fresh_store("disk-partial").await;
    let dir = opfs_folder("partial").await;
    let acc = postbag_web::store::Account {
        headers_first_above: Some(10_000),
        ..account(ServerPolicy::DeleteAfterDownload)
    };
    let session = async |rest: Option<&str>, now: f64| {
        let disk = gate(&store, &dir).await;
        let mut server = FakeServer::new(mailbox.clone(), store.clone(), ME);
        let mut observer = ();
        let request = SyncRequest {
            store: &store,
            account: &acc,
            config: client_config(&acc, Secret::new("pw".into())),
            tls: None,
            now_ms: now,
            limits: Limits::default(),
            cancel: &Cell::new(false),
            observer: &mut observer,
            disk: Some(&disk),
        };
        match rest {
            Some(uidl) => sync::download_rest(&mut server, request, uidl).await,
            None => sync::sync(&mut server, request).await,
        }
        .expect("session")
    };
    let out = session(None, NOW).await;
    assert_eq!((out.downloaded, out.deleted_on_server), (2, 1));
    assert_eq!(names_in(&dir, "cur").await.len(), 1, "only the whole one");
    assert_eq!(file_of(&dir, "uid-0002", NOW).await, None);
    // The catch-up before the next session does not write it either.
    session(None, NOW + 1.0).await;
    assert_eq!(names_in(&dir, "cur").await.len(), 1);
    assert_eq!(mailbox.borrow().uidls(), ["uid-0002"]);

    let later = NOW + 2.0;
    let out = session(Some("uid-0002"), later).await;
    assert_eq!((out.downloaded, out.deleted_on_server), (1, 1));
    assert_eq!(file_of(&dir, "uid-0002", later).await, Some(large));
    assert_eq!(names_in(&dir, "cur").await.len(), 2);
    assert!(mailbox.borrow().violations.is_empty());
    assert!(mailbox.borrow().messages.is_empty());
}

/// A partial copy is missing from the folder as far as the DELE gate is concerned, with a
/// cause that names it, so that a ledger line which ever took it for whole cannot have it
/// deleted on the server with no file in the folder. The whole one beside it is written.
#[wasm_bindgen_test]
async fn the_gate_refuses_dele_of_a_partial_copy_whatever_its_ledger_says() {
    let store = fresh_store("disk-partial-gate").await;
    for (uidl, partial_of) in [("whole", None), ("start", Some(60_000))] {
        let raw = fake_pop3::sample(1, 300);
        let mut summary = summarize(&raw, ME, uidl, NOW);
        summary.partial_of = partial_of;
        let m = NewMessage {
            summary,
            raw,
            server_size: Some(60_000),
        };
        store.commit_messages(&[m], NOW).await.unwrap();
    }
    let dir = opfs_folder("partial-gate").await;
    let gate = gate(&store, &dir).await;
    assert_eq!(gate.lacks("start"), Some(DiskError::OnlyStartStored));
    assert_eq!(gate.lacks("whole"), None);
    assert_eq!(names_in(&dir, "cur").await.len(), 1, "only the whole one");
}
