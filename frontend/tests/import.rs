//! Import over a real IndexedDB and real `File`s in Chromium: an mbox larger than one read
//! chunk round-trips byte for byte, nothing is added twice (imported before, or synced), and
//! every part left out is named with its file and offset while the whole messages are kept.

mod common;

use common::{account, fake_pop3, fresh_store};
use postbag_web::export::mboxrd;
use postbag_web::import::{self, CHUNK, Imported, Picked};
use postbag_web::mail::summarize;
use postbag_web::store::{IMPORTED, ServerPolicy, Store, Summary};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const MAX: usize = 1 << 20;

fn file(path: &str, bytes: &[u8]) -> Picked {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let name = path.rsplit('/').next().unwrap();
    Picked {
        file: web_sys::File::new_with_u8_array_sequence(&parts, name).unwrap(),
        path: path.into(),
    }
}

async fn run(store: &Store, files: &[Picked], max: usize) -> Imported {
    let mut last = (0, 0);
    let report = import::import(store, files, max, &|| false, &mut |read, total| {
        assert!(read <= total, "progress {read} of {total}");
        last = (read, total);
    })
    .await
    .expect("import");
    let total: u64 = files.iter().map(|f| f.file.size() as u64).sum();
    assert_eq!(last, (total, total), "progress ends at the total");
    report
}

fn mbox_of(messages: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for raw in messages {
        mboxrd::append(&mut out, raw, 1_764_669_600_000.0);
    }
    out
}

async fn stored(store: &Store) -> Vec<(Summary, Vec<u8>)> {
    let mut all = Vec::new();
    for s in store.list(IMPORTED).await.unwrap() {
        let raw = store.raw(IMPORTED, &s.uidl).await.unwrap().unwrap();
        all.push((s, raw));
    }
    all
}

#[wasm_bindgen_test]
async fn an_mbox_larger_than_a_chunk_imports_byte_for_byte_and_only_once() {
    let store = fresh_store("import-mbox").await;
    // 40 messages of 250 kB: 10 MB, so messages straddle the 4 MiB read chunks.
    let messages: Vec<Vec<u8>> = (0..40)
        .map(|i| {
            let mut raw = fake_pop3::sample(i, 250_000);
            raw.extend_from_slice(b"From the body\r\n>From a quote\r\n>>From two\r\n");
            raw
        })
        .collect();
    let mbox = mbox_of(&messages);
    assert!(mbox.len() as u64 > 2 * CHUNK);

    let report = run(&store, &[file("archive.mbox", &mbox)], MAX).await;
    assert_eq!((report.added, report.duplicates), (40, 0), "{report:?}");
    assert!(report.skipped.is_empty(), "{report:?}");
    assert!(report.mboxrd, "the >>From lines are mboxrd's evidence");
    let mut got: Vec<Vec<u8>> = stored(&store).await.into_iter().map(|(_, r)| r).collect();
    let mut want = messages.clone();
    got.sort();
    want.sort();
    assert!(got == want, "every message is stored with the bytes it had");

    let again = run(&store, &[file("archive.mbox", &mbox)], MAX).await;
    assert_eq!((again.added, again.duplicates), (0, 40), "{again:?}");
    assert_eq!(store.list(IMPORTED).await.unwrap().len(), 40);
}

#[wasm_bindgen_test]
async fn messages_synced_from_an_account_are_not_imported_again() {
    let store = fresh_store("import-synced").await;
    let me = account(ServerPolicy::DeleteAfterDownload);
    store.put_account(&me).await.unwrap();
    let synced: Vec<(Summary, Vec<u8>)> = (0..5)
        .map(|i| {
            let raw = fake_pop3::sample(i, 500);
            (summarize(&raw, &me.id, &format!("u{i}"), 0.0), raw)
        })
        .collect();
    store.bulk_insert(&synced).await.unwrap();
    // The same five, and message 2 again with other bytes under the same Message-ID.
    let mut raws: Vec<Vec<u8>> = synced.iter().map(|(_, r)| r.clone()).collect();
    let mut changed = raws[2].clone();
    changed.extend_from_slice(b"a line the synced copy does not have\r\n");
    raws.push(changed.clone());

    let report = run(&store, &[file("mine.mbox", &mbox_of(&raws))], MAX).await;
    assert_eq!((report.added, report.duplicates), (1, 5), "{report:?}");
    let kept = stored(&store).await;
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].1, changed);
}

#[wasm_bindgen_test]
async fn whole_messages_are_kept_and_every_part_left_out_is_named_with_its_offset() {
    let store = fresh_store("import-mixed").await;
    let whole = fake_pop3::sample(1, 300);
    let mut cut = mbox_of(&[whole.clone(), fake_pop3::sample(2, 300)]);
    let cut_at = mbox_of(std::slice::from_ref(&whole)).len() as u64;
    cut.truncate(cut.len() - 50);
    let big = fake_pop3::sample(3, 5000);
    let small = fake_pop3::sample(4, 300);
    let too_large = mbox_of(&[big, small.clone()]);
    let eml = fake_pop3::sample(5, 300);
    let maildir = fake_pop3::sample(6, 300);
    let binary: Vec<u8> = (0..=255u8).cycle().take(3000).collect();

    let files = [
        file("cut.mbox", &cut),
        file("big.mbox", &too_large),
        file("one.eml", &eml),
        file("Mail/cur/1700000000.M1P1.host:2,FS", &maildir),
        file("Mail/tmp/1700000001.M2P2.host", b"half written"),
        file("Mail/dovecot-uidlist", b"3 V1 N2\n"),
        file("photo.jpg", &binary),
    ];
    let report = run(&store, &files, 4000).await;
    assert_eq!(report.added, 4, "{report:?}");
    let why: Vec<(&str, Option<u64>)> = report
        .skipped
        .iter()
        .map(|s| (s.path.as_str(), s.offset))
        .collect();
    assert_eq!(
        why,
        vec![
            ("cut.mbox", Some(cut_at)),
            ("big.mbox", Some(0)),
            ("photo.jpg", Some(0))
        ],
        "{report:?}"
    );
    assert!(report.skipped[0].why.contains("cut off"), "{report:?}");
    assert!(report.skipped[1].why.contains("larger"), "{report:?}");
    assert!(
        report.skipped[2]
            .why
            .contains("neither an mbox file nor a message")
    );

    let kept = stored(&store).await;
    let mut raws: Vec<Vec<u8>> = kept.iter().map(|(_, r)| r.clone()).collect();
    raws.sort();
    let mut want = vec![whole, small, eml, maildir.clone()];
    want.sort();
    assert!(raws == want, "only the whole messages are stored");
    let from_maildir = kept.iter().find(|(_, r)| *r == maildir).unwrap();
    assert!(
        from_maildir.0.read && from_maildir.0.flagged,
        "Maildir flags S and F"
    );
    assert!(
        kept.iter()
            .filter(|(_, r)| *r != maildir)
            .all(|(s, _)| !s.read)
    );
}

#[wasm_bindgen_test]
async fn cancel_stops_between_chunks_and_keeps_what_was_whole() {
    let store = fresh_store("import-cancel").await;
    let messages: Vec<Vec<u8>> = (0..30).map(|i| fake_pop3::sample(i, 400_000)).collect();
    let mbox = mbox_of(&messages);
    let reads = std::cell::Cell::new(0u32);
    let report = import::import(
        &store,
        &[file("a.mbox", &mbox)],
        MAX,
        &|| reads.get() >= 1,
        &mut |_, _| reads.set(reads.get() + 1),
    )
    .await
    .unwrap();
    assert!(report.cancelled);
    let kept = stored(&store).await;
    assert!(!kept.is_empty() && kept.len() < 30, "{} kept", kept.len());
    assert_eq!(kept.len() as u32, report.added);
    for (_, raw) in kept {
        assert!(messages.contains(&raw), "a kept message is whole");
    }
}
