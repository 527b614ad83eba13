//! Backup and restore over a real IndexedDB in Chromium: every store round-trips record for
//! record (the sealed password byte for byte), through a file of several chunks read back in
//! slices; a newer schema, a changed byte, a cut file, a hostile record length, a wrong
//! passphrase and a store that is not empty are refused with nothing written; a restore that
//! fails or is cancelled while writing leaves the store empty again.

mod common;
// A restore that fails, is cancelled or cut off by a closed tab; a cancelled backup; the
// restore lock.
#[path = "backup/interrupted.rs"]
mod interrupted;

use common::{account, fake_pop3, fresh_store};
use postbag_protocol::pop3::Secret;
use postbag_web::account::remembered::{self, Remembered};
use postbag_web::backup::format;
use postbag_web::backup::{self, CHUNK, Pass, RestoreError, Restored};
use postbag_web::compose::Draft;
use postbag_web::export::Write;
use postbag_web::mail::summarize;
use postbag_web::store::backup::{BACKED_UP, LEFT_OUT};
use postbag_web::store::{
    NewMessage, OutboxItem, OutboxState, Rule, RuleField, RuleTest, ServerPolicy, Store,
    StoredDraft, UserFolder, schema,
};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const ME: &str = "me@example.org";
const PASSPHRASE: &str = "correct horse battery";
const NOW: f64 = 1_764_669_600_000.0;

/// Collects the chunks as they come.
#[derive(Default)]
struct Chunks(Vec<Vec<u8>>);

impl Write for Chunks {
    async fn write(&mut self, chunk: Vec<u8>) -> Result<(), String> {
        self.0.push(chunk);
        Ok(())
    }
}

/// A store holding something in every backed-up store: an account with a sealed password
/// and a size limit, `n` synced messages of `size` bytes (one read and flagged, one deleted
/// here with its server deletion pending, one stored headers-first: a partial copy, its
/// summary and ledger line saying so), imported mail, a draft, an outbox message.
async fn filled(tag: &str, n: usize, size: usize) -> Store {
    let store = fresh_store(tag).await;
    let mut me = account(ServerPolicy::Leave {
        after_days: None,
        mirror_deletes: true,
    });
    let remembered = Remembered {
        password: Secret::new("hunter2".to_string()),
        access_code: None,
    };
    me.sealed_password = Some(remembered::seal(&remembered, PASSPHRASE).await.unwrap());
    me.headers_first_above = Some(1_000_000);
    store.put_account(&me).await.unwrap();
    let batch: Vec<NewMessage> = (0..n)
        .map(|i| {
            let raw = fake_pop3::sample(i, size);
            let mut summary = summarize(&raw, ME, &format!("u{i:04}"), NOW);
            summary.read = i == 1;
            summary.flagged = i == 1;
            if i == 2 {
                summary.partial_of = Some(5_000_000);
            }
            NewMessage {
                server_size: Some(raw.len() as u64),
                summary,
                raw,
            }
        })
        .collect();
    for part in batch.chunks(8) {
        store.commit_messages(part, NOW).await.unwrap();
    }
    store.delete_local(ME, "u0000", true).await.unwrap();
    let imported = fake_pop3::sample(900, 500);
    let s = summarize(&imported, postbag_web::store::IMPORTED, "sha-of-it", NOW);
    store.put_imported(&[(s, imported)]).await.unwrap();
    let draft = StoredDraft {
        id: "d1".into(),
        account: ME.into(),
        updated: NOW,
        draft: Draft {
            to: "you@example.org".into(),
            subject: "Grüße".into(),
            body: "not done yet\n".into(),
            ..Draft::default()
        },
    };
    store.put_draft(&draft).await.unwrap();
    let item = OutboxItem {
        id: "<o1@example.org>".into(),
        account: ME.into(),
        envelope_from: ME.into(),
        recipients: vec!["you@example.org".into()],
        subject: "Waiting".into(),
        to: "you@example.org".into(),
        size: 40,
        created: NOW,
        state: OutboxState::Queued,
        attempts: 0,
        next_attempt: 0.0,
        last_error: None,
        refused: Vec::new(),
    };
    store
        .queue_outgoing(&item, b"Subject: Waiting\r\n\r\nbody\r\n", None)
        .await
        .unwrap();
    // A folder of the user's and a rule filing into it: both travel in the backup.
    let lists = UserFolder {
        id: "f1lists".into(),
        name: "Lists".into(),
    };
    store.put_folder(&lists).await.unwrap();
    let rule = Rule {
        id: "r1".into(),
        position: 0,
        field: RuleField::Subject,
        test: RuleTest::Contains,
        value: "[team]".into(),
        move_to: Some(lists.id.clone()),
        mark_read: true,
        flag: false,
    };
    store.put_rules(&[rule]).await.unwrap();
    store
}

/// Every backed-up store's records: key JSON and value (JSON, or bytes as hex-free lengths
/// and a hash would hide a difference: the bytes themselves).
async fn dump(store: &Store) -> Vec<(String, String, Vec<u8>)> {
    let mut out = Vec::new();
    for (name, shape) in BACKED_UP {
        let keys = store.keys_after(name, None, 100_000).await.unwrap();
        for r in store.records(name, &keys).await.unwrap() {
            let key = json(&r.key);
            if shape.bytes() {
                out.push((
                    name.to_string(),
                    key,
                    postbag_web::store::backup::bytes_of(&r.value),
                ));
            } else {
                out.push((name.to_string(), key, json(&r.value).into_bytes()));
            }
        }
    }
    out
}

fn json(value: &JsValue) -> String {
    js_sys::JSON::stringify(value).unwrap().into()
}

async fn make_backup(store: &Store, settings: &[(String, String)]) -> Chunks {
    let mut chunks = Chunks::default();
    let b = backup::back_up(store, settings, NOW, &mut chunks, &|| false, &mut |_, _| {})
        .await
        .expect("backup");
    assert!(!b.cancelled);
    chunks
}

fn file(parts: &[Vec<u8>]) -> web_sys::File {
    let array = js_sys::Array::new();
    for p in parts {
        array.push(&js_sys::Uint8Array::from(&p[..]));
    }
    web_sys::File::new_with_u8_array_sequence(&array, "b.postbag").unwrap()
}

fn joined(chunks: &Chunks) -> Vec<u8> {
    chunks.0.concat()
}

async fn restore(
    store: &Store,
    bytes: &[u8],
    passphrase: Option<&str>,
) -> Result<Restored, RestoreError> {
    backup::restore(
        store,
        &file(&[bytes.to_vec()]),
        passphrase,
        &|| false,
        &mut |_, _, _| {},
    )
    .await
}

#[wasm_bindgen_test]
async fn every_store_is_backed_up_or_left_out_on_purpose() {
    let store = fresh_store("backup-stores").await;
    for name in store.store_names() {
        let known =
            BACKED_UP.iter().any(|(n, _)| *n == name) || LEFT_OUT.iter().any(|(n, _)| *n == name);
        assert!(
            known,
            "the store {name} is neither backed up nor left out with a reason"
        );
    }
    assert_eq!(
        BACKED_UP.len() + LEFT_OUT.len(),
        store.store_names().len(),
        "every listed store exists"
    );
}

#[wasm_bindgen_test]
async fn a_backup_restores_every_store_record_for_record_through_several_chunks() {
    // 14 messages of 1.5 MB: about 21 MB, so several chunks out and several slices in.
    let a = filled("backup-from", 14, 1_500_000).await;
    let settings = vec![("postbag.test-setting".to_string(), "on".to_string())];
    let chunks = make_backup(&a, &settings).await;
    assert!(chunks.0.len() >= 4, "{} chunks", chunks.0.len());
    for c in &chunks.0 {
        assert!(c.len() <= CHUNK + 2_000_000, "a chunk of {} bytes", c.len());
    }
    let bytes = joined(&chunks);
    assert!(bytes.len() > 4 * CHUNK);

    let b = fresh_store("backup-to").await;
    let mut passes = Vec::new();
    let r = backup::restore(
        &b,
        &file(&chunks.0),
        Some(PASSPHRASE),
        &|| false,
        &mut |p, read, total| passes.push((p, read, total)),
    )
    .await
    .expect("restore");
    assert!(!r.cancelled);
    assert!(r.checked.passphrase_checked);
    assert_eq!(r.checked.accounts, vec![ME.to_string()]);
    // 13 synced (one deleted here) and the imported one, plus the outbox's bytes are not mail.
    assert_eq!(r.checked.messages, 14);
    assert_eq!(r.checked.schema, schema::current_version());
    assert_eq!(r.checked.created_ms, NOW);
    let checking = passes.iter().filter(|p| p.0 == Pass::Checking).count();
    assert!(
        checking >= 5,
        "checked in slices: {checking} progress calls"
    );
    assert!(passes.iter().any(|p| p.0 == Pass::Writing));

    let (from, to) = (dump(&a).await, dump(&b).await);
    assert_eq!(from.len(), to.len());
    for (x, y) in from.iter().zip(&to) {
        assert_eq!((&x.0, &x.1), (&y.0, &y.1));
        // The waiting outbox message is held back (below); everything else is as it was.
        if x.0 != schema::OUTBOX {
            assert!(x.2 == y.2, "{} {} differs", x.0, x.1);
        }
    }
    for (store, _) in BACKED_UP {
        assert!(
            to.iter().any(|r| r.0 == *store),
            "nothing restored into {store}"
        );
    }
    // What the app reads: the flags, the ledger with its pending deletion, the sealed password.
    let list = b.list(ME).await.unwrap();
    assert_eq!(list.len(), 13);
    assert!(
        list.iter()
            .any(|s| s.uidl == "u0001" && s.read && s.flagged)
    );
    assert_eq!(b.ledger(ME).await.unwrap().len(), 14);
    assert_eq!(b.pending_deletes(ME).await.unwrap().len(), 1);
    // A partial copy stays one: its summary and its ledger line (no policy DELEs it).
    assert!(
        list.iter()
            .any(|s| s.uidl == "u0002" && s.partial_of == Some(5_000_000))
    );
    assert!(
        b.ledger(ME)
            .await
            .unwrap()
            .iter()
            .any(|l| l.uidl == "u0002" && l.partial)
    );
    let restored = b.accounts().await.unwrap().remove(0);
    assert_eq!(restored.headers_first_above, Some(1_000_000));
    let opened = remembered::unseal(restored.sealed_password.as_ref().unwrap(), PASSPHRASE)
        .await
        .unwrap();
    assert_eq!(opened.password.expose_secret(), "hunter2");
    // A message waiting to be sent may have been sent since by the browser the backup came
    // from: restored, it waits for the user's "Send again", never sent on its own.
    let outbox = b.outbox(ME).await.unwrap();
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].state, OutboxState::MayHaveBeenSent);
    assert_eq!(outbox[0].last_error.as_deref(), Some(backup::HELD_BACK));
    let mut same = outbox[0].clone();
    same.state = OutboxState::Queued;
    same.last_error = None;
    assert_eq!(same, a.outbox(ME).await.unwrap()[0], "nothing else changed");
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    assert_eq!(
        storage.get_item("postbag.test-setting").unwrap().as_deref(),
        Some("on")
    );
    storage.remove_item("postbag.test-setting").unwrap();
    assert_eq!(storage.get_item(backup::settings::RESTORING).unwrap(), None);
}

/// Refused with `expected`'s error and nothing written into an empty store.
async fn refused(tag: &str, bytes: &[u8], passphrase: Option<&str>, expected: &str) {
    let store = fresh_store(tag).await;
    let err = restore(&store, bytes, passphrase).await.expect_err(tag);
    assert!(err.to_string().contains(expected), "{tag}: {err}");
    assert_eq!(
        store.backup_records().await.unwrap(),
        0,
        "{tag}: something was written"
    );
}

#[wasm_bindgen_test]
async fn a_bad_file_is_refused_and_nothing_is_written() {
    let a = filled("backup-bad", 6, 3_000).await;
    let good = joined(&make_backup(&a, &[]).await);

    // Checked before anything is written (the passphrase is the user's, not the file's).
    refused(
        "wrong passphrase",
        &good,
        Some("not the passphrase"),
        "the passphrase does not open",
    )
    .await;

    // A newer schema: the header says so.
    let mut newer = good.clone();
    newer[10..14].copy_from_slice(&(schema::current_version() + 1).to_be_bytes());
    refused("newer", &newer, None, "comes from a newer Postbag").await;

    // One changed byte inside a message: found by the SHA-256, after every record was read.
    let mut corrupt = good.clone();
    let at = good
        .windows(15)
        .position(|w| w == b"Hello number 3.")
        .unwrap();
    corrupt[at] = b'J';
    refused("corrupt", &corrupt, None, "damaged").await;
    // One changed byte inside a record's JSON: damaged too, not a record "Postbag does not keep".
    let mut corrupt = good.clone();
    let at = good.windows(8).position(|w| w == b"\"uidl\":\"").unwrap();
    corrupt[at] = b'{';
    refused("corrupt JSON", &corrupt, None, "damaged").await;

    // Cut: an unfinished download.
    refused("cut", &good[..good.len() - 100], None, "cut off").await;

    // A hostile record announcing 4 GiB after a valid header: refused on its frame.
    let mut hostile = good[..format::HEADER_LEN].to_vec();
    hostile.extend([2, 0xFF, 0xFF, 0xFF, 0xFF]);
    hostile.extend(vec![0u8; 1000]);
    refused("hostile", &hostile, None, "more than any record may hold").await;

    refused(
        "not a backup",
        b"From MAILER-DAEMON Mon Jan  1 00:00:00 2024\r\n",
        None,
        "not a Postbag backup",
    )
    .await;
}

#[wasm_bindgen_test]
async fn a_store_that_holds_anything_is_refused_and_kept() {
    let a = filled("backup-full", 3, 2_000).await;
    let good = joined(&make_backup(&a, &[]).await);
    let before = dump(&a).await;
    let err = restore(&a, &good, None).await.expect_err("not empty");
    assert!(matches!(err, RestoreError::NotEmpty { .. }), "{err}");
    assert!(dump(&a).await == before, "the store was changed");
}
