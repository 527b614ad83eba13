//! The live copy on disk in Chromium, against the origin's private file system (OPFS), whose
//! directory handles have the interface of a picked folder: the Maildir writer (names, flags,
//! idempotence), the catch-up, and the sync engine's DELE gate with the real IndexedDB and a
//! scripted POP3 server (`common/fake_pop3.rs`, which also checks every DELE against the
//! store's completed transactions, and here against the files placed in the folder): a message
//! is deleted on the server only once it is in the folder, and a folder that refuses writes
//! keeps every message on the server, told why. The app's gate (`Model::disk_gate`) reads the
//! folder from the store, so a folder another tab picked counts.

mod common;
// The browser faults these tests install, in a file of their own (a test crate root looks
// for its modules beside it, hence the path).
#[path = "disk_copy/faults.rs"]
mod faults;
// The DELE gate: what the sync deletes on the server with the copy on, and what it keeps.
#[path = "disk_copy/dele_gate.rs"]
mod dele_gate;

use faults::{NoMoveSecondWriteRefused, RefuseWrites};

use std::cell::Cell;
use std::collections::HashMap;

use common::fake_pop3::FakeServer;
use common::{account, fresh_store};
use js_sys::{Function, Promise, Reflect};
use postbag_protocol::pop3::Secret;
use postbag_web::account::client_config;
use postbag_web::disk_copy::catch_up::catch_up;
use postbag_web::disk_copy::{DiskError, DiskGate, Folder, Placed, fs, names};
use postbag_web::mail::summarize;
use postbag_web::store::{NewMessage, ServerPolicy, Store};
use postbag_web::sync::{self, Limits, Notice, Outcome, SyncRequest};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const ME: &str = "me@example.org";
const NOW: f64 = 1_780_000_000_000.0;
const LEAVE: ServerPolicy = ServerPolicy::Leave {
    after_days: None,
    mirror_deletes: false,
};

/// A fresh folder of the origin's private file system: what the e2e test's stubbed picker
/// returns too.
async fn opfs_folder(tag: &str) -> JsValue {
    let navigator: JsValue = web_sys::window().unwrap().navigator().into();
    let storage = Reflect::get(&navigator, &"storage".into()).unwrap();
    let get: Function = Reflect::get(&storage, &"getDirectory".into())
        .unwrap()
        .into();
    let promise: Promise = get.call0(&storage).unwrap().into();
    let root = JsFuture::from(promise).await.unwrap();
    let name = format!("{tag}-{}", js_sys::Math::random());
    fs::folder(&root, &name).await.unwrap()
}

/// The names in `dir/<sub>`, sorted.
async fn names_in(dir: &JsValue, sub: &str) -> Vec<String> {
    let mut names = fs::names(&fs::folder(dir, sub).await.unwrap())
        .await
        .unwrap();
    names.sort();
    names
}

async fn sync_with(
    server: &mut FakeServer,
    store: &Store,
    policy: ServerPolicy,
    now: f64,
    disk: Option<&DiskGate>,
) -> Outcome {
    let acc = account(policy);
    let mut observer = ();
    let request = SyncRequest {
        store,
        account: &acc,
        config: client_config(&acc, Secret::new("pw".into())),
        tls: None,
        now_ms: now,
        limits: Limits::default(),
        cancel: &Cell::new(false),
        observer: &mut observer,
        disk,
    };
    sync::sync(server, request).await.expect("sync")
}

/// A gate over `dir` after a catch-up of the account (what the app does before each sync).
async fn gate(store: &Store, dir: &JsValue) -> DiskGate {
    let folder = Folder::open(dir).await.unwrap();
    let result = catch_up(store, &folder, ME, &mut |_, _| {}, &|| true)
        .await
        .unwrap();
    DiskGate::new(folder, result.missing)
}

/// The file of `uidl` first stored at `first_seen`, read from `cur/` (unread, unflagged).
async fn file_of(dir: &JsValue, uidl: &str, first_seen: f64) -> Option<Vec<u8>> {
    let folder = Folder::open(dir).await.unwrap();
    let name = names::file_name(&names::unique(ME, uidl, first_seen), false, false);
    folder.read_cur(&name).await.unwrap()
}

fn kept_for(outcome: &Outcome) -> Vec<(u32, DiskError)> {
    outcome
        .notices
        .iter()
        .filter_map(|n| match n {
            Notice::NotOnDisk { count, cause } => Some((*count, cause.clone())),
            _ => None,
        })
        .collect()
}

#[wasm_bindgen_test]
async fn a_message_is_written_whole_under_its_name_and_writing_it_again_changes_nothing() {
    let dir = opfs_folder("writer").await;
    let folder = Folder::open(&dir).await.unwrap();
    let raw = b"Subject: hi\r\n\r\nbody\r\n.leading dot\r\n".to_vec();
    let unique = names::unique(ME, "uid/1:x", NOW);
    // Chromium has move(): written under tmp/, then moved into cur/.
    assert_eq!(
        folder.write(&unique, true, false, &raw).await,
        Ok(Placed::Moved)
    );
    let name = format!("{unique}:2,S");
    assert_eq!(names_in(&dir, "cur").await, vec![name.clone()]);
    assert!(
        names_in(&dir, "tmp").await.is_empty(),
        "nothing left in tmp/"
    );
    assert_eq!(names_in(&dir, "new").await, Vec::<String>::new());
    assert_eq!(folder.read_cur(&name).await.unwrap(), Some(raw.clone()));
    // Again, the same: one file, the same bytes.
    folder.write(&unique, true, false, &raw).await.unwrap();
    assert_eq!(names_in(&dir, "cur").await, vec![name.clone()]);
    assert_eq!(folder.read_cur(&name).await.unwrap(), Some(raw.clone()));
    let present = folder.present().await.unwrap();
    assert!(present.contains(&(unique, raw.len() as u64)));
}

#[wasm_bindgen_test]
async fn a_refused_write_is_a_typed_error_and_leaves_no_file() {
    let dir = opfs_folder("refused").await;
    let folder = Folder::open(&dir).await.unwrap();
    let unique = names::unique(ME, "u", NOW);
    {
        let _refuse = RefuseWrites::with("QuotaExceededError");
        assert_eq!(
            folder.write(&unique, false, false, b"x").await,
            Err(DiskError::Full)
        );
    }
    {
        let _refuse = RefuseWrites::with("NotAllowedError");
        assert_eq!(
            folder.write(&unique, false, false, b"x").await,
            Err(DiskError::NotAllowed)
        );
    }
    assert!(names_in(&dir, "cur").await.is_empty());
    assert!(folder.present().await.unwrap().is_empty());
}

#[wasm_bindgen_test]
async fn the_catch_up_writes_what_the_folder_lacks_with_its_flags_and_only_once() {
    let store = fresh_store("disk-catch-up").await;
    let mut stored = HashMap::new();
    for i in 1..=3 {
        let raw = common::fake_pop3::sample(i, 300);
        let uidl = format!("u{i}");
        let mut summary = summarize(&raw, ME, &uidl, NOW);
        summary.read = i == 2;
        summary.flagged = i == 3;
        let m = NewMessage {
            summary,
            raw: raw.clone(),
            server_size: Some(raw.len() as u64),
        };
        store
            .commit_messages(&[m], NOW + i as f64 * 1000.0)
            .await
            .unwrap();
        stored.insert(uidl, raw);
    }
    let dir = opfs_folder("catch-up").await;
    let folder = Folder::open(&dir).await.unwrap();
    let mut told = Vec::new();
    let result = catch_up(&store, &folder, ME, &mut |d, t| told.push((d, t)), &|| true)
        .await
        .unwrap();
    assert_eq!(result.written, 3);
    assert!(result.missing.is_empty());
    assert_eq!(told.first(), Some(&(0, 3)), "progress");
    assert_eq!(told.last(), Some(&(3, 3)), "progress");
    let names = names_in(&dir, "cur").await;
    assert_eq!(names.len(), 3);
    for (uidl, raw) in &stored {
        let i: f64 = uidl[1..].parse().unwrap();
        let unique = names::unique(ME, uidl, NOW + i * 1000.0);
        let name = names.iter().find(|n| n.starts_with(&unique)).expect(uidl);
        let flags = match uidl.as_str() {
            "u2" => "S",
            "u3" => "F",
            _ => "",
        };
        assert_eq!(name, &format!("{unique}:2,{flags}"));
        assert_eq!(folder.read_cur(name).await.unwrap().as_ref(), Some(raw));
    }
    // Nothing lacks: nothing written. A file removed from the folder is written again.
    let again = catch_up(&store, &folder, ME, &mut |_, _| {}, &|| true)
        .await
        .unwrap();
    assert_eq!(again.written, 0);
    let cur = fs::folder(&dir, "cur").await.unwrap();
    let remove: Function = Reflect::get(&cur, &"removeEntry".into()).unwrap().into();
    let promise: Promise = remove.call1(&cur, &names[0].clone().into()).unwrap().into();
    JsFuture::from(promise).await.unwrap();
    let refill = catch_up(&store, &folder, ME, &mut |_, _| {}, &|| true)
        .await
        .unwrap();
    assert_eq!(refill.written, 1);
    assert_eq!(names_in(&dir, "cur").await, names);
    // A folder that refuses writes: every stored message is missing, with the cause.
    let other = Folder::open(&opfs_folder("catch-up-full").await)
        .await
        .unwrap();
    let _refuse = RefuseWrites::with("QuotaExceededError");
    let full = catch_up(&store, &other, ME, &mut |_, _| {}, &|| true)
        .await
        .unwrap();
    assert_eq!(full.written, 0);
    assert_eq!(full.missing.len(), 3);
    assert!(full.missing.values().all(|c| *c == DiskError::Full));
}

#[wasm_bindgen_test]
async fn without_move_a_failed_write_leaves_no_empty_file_in_cur() {
    let dir = opfs_folder("no-move").await;
    let folder = Folder::open(&dir).await.unwrap();
    let unique = names::unique(ME, "u", NOW);
    {
        let _browser = NoMoveSecondWriteRefused::new();
        assert_eq!(
            folder.write(&unique, false, false, b"x").await,
            Err(DiskError::Full)
        );
    }
    assert_eq!(names_in(&dir, "cur").await, Vec::<String>::new());
    // The same browser: its first write is refused again, the next goes straight into cur/.
    let _browser = NoMoveSecondWriteRefused::new();
    assert!(folder.write(&unique, false, false, b"x").await.is_err());
    assert_eq!(
        folder.write(&unique, false, false, b"x").await,
        Ok(Placed::Direct)
    );
    assert_eq!(
        folder.read_cur(&format!("{unique}:2,")).await.unwrap(),
        Some(b"x".to_vec())
    );
}

#[wasm_bindgen_test]
async fn a_file_whose_size_is_not_the_stored_one_is_not_a_copy() {
    let store = fresh_store("disk-sizes").await;
    let raw = common::fake_pop3::sample(1, 300);
    let m = NewMessage {
        summary: summarize(&raw, ME, "u1", NOW),
        raw: raw.clone(),
        server_size: Some(raw.len() as u64),
    };
    store.commit_messages(&[m], NOW).await.unwrap();
    let dir = opfs_folder("sizes").await;
    let folder = Folder::open(&dir).await.unwrap();
    // What a write cut off (a closed tab) may leave: the name, empty.
    let name = names::file_name(&names::unique(ME, "u1", NOW), false, false);
    let cur = fs::folder(&dir, "cur").await.unwrap();
    let get: Function = Reflect::get(&cur, &"getFileHandle".into()).unwrap().into();
    let create = js_sys::Object::new();
    Reflect::set(&create, &"create".into(), &true.into()).unwrap();
    let promise: Promise = get
        .call2(&cur, &name.clone().into(), &create)
        .unwrap()
        .into();
    JsFuture::from(promise).await.unwrap();
    let result = catch_up(&store, &folder, ME, &mut |_, _| {}, &|| true)
        .await
        .unwrap();
    assert_eq!(result.written, 1, "the empty file does not count");
    assert_eq!(folder.read_cur(&name).await.unwrap(), Some(raw));
}

#[wasm_bindgen_test]
async fn a_message_set_aside_for_a_reused_uidl_keeps_its_one_file() {
    let store = fresh_store("disk-set-aside").await;
    let raw = common::fake_pop3::sample(1, 300);
    let m = NewMessage {
        summary: summarize(&raw, ME, "r", NOW),
        raw: raw.clone(),
        server_size: Some(raw.len() as u64),
    };
    // First stored at a time that is not its Date header's.
    let first_seen = NOW + 123_456.0;
    store.commit_messages(&[m], first_seen).await.unwrap();
    let dir = opfs_folder("set-aside").await;
    let folder = Folder::open(&dir).await.unwrap();
    let first = catch_up(&store, &folder, ME, &mut |_, _| {}, &|| true)
        .await
        .unwrap();
    assert_eq!(first.written, 1);
    let before = names_in(&dir, "cur").await;
    // The server reuses the UIDL: the stored message moves to its set-aside key.
    let key = sync::set_aside_key("r", first_seen);
    store
        .set_aside(ME, &[("r".to_string(), key.clone())])
        .await
        .unwrap();
    assert_eq!(store.list(ME).await.unwrap()[0].uidl, key);
    let again = catch_up(&store, &folder, ME, &mut |_, _| {}, &|| true)
        .await
        .unwrap();
    assert_eq!(again.written, 0, "its file is the one written before");
    assert_eq!(names_in(&dir, "cur").await, before);
}
