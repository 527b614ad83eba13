//! The mbox export over a real IndexedDB in Chromium: keyed pages across their boundaries, one
//! account apart from the others, a listed selection (a search result) with deleted messages,
//! batches bounded in bytes, Cancel between batches.

mod common;

use common::{fake_pop3, fresh_store};
use postbag_web::export::{self, BATCH_BYTES, Exported, PAGE, Write, mboxrd};
use postbag_web::mail::summarize;
use postbag_web::store::{Scope, Store, Summary};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Collects the chunks as they come.
#[derive(Default)]
struct Chunks(Vec<Vec<u8>>);

impl Write for Chunks {
    async fn write(&mut self, chunk: Vec<u8>) -> Result<(), String> {
        self.0.push(chunk);
        Ok(())
    }
}

/// `n` messages of `account` with UIDLs `u0000`…, some with `From ` body lines.
fn messages(account: &str, n: usize, size: usize) -> Vec<(Summary, Vec<u8>)> {
    (0..n)
        .map(|i| {
            let mut raw = fake_pop3::sample(i, size);
            if i % 7 == 0 {
                raw.extend_from_slice(b"From the body\r\n>From a quote\r\n");
            }
            let s = summarize(&raw, account, &format!("u{i:04}"), 0.0);
            (s, raw)
        })
        .collect()
}

/// The file the export must write for `items`, in key order (account, then UIDL).
fn expected(items: &[&(Summary, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (s, raw) in items {
        mboxrd::append(&mut out, raw, s.date);
    }
    out
}

async fn run(
    store: &Store,
    scope: &Scope,
    cancel_after: Option<usize>,
) -> (Exported, Chunks, Vec<(u32, u32)>) {
    let mut chunks = Chunks::default();
    let mut calls = Vec::new();
    let written = std::cell::Cell::new(0usize);
    let cancelled = || cancel_after.is_some_and(|n| written.get() >= n);
    let mut progress = |done, total| {
        calls.push((done, total));
        written.set(calls.len() - 1);
    };
    let e = export::export(store, scope, &mut chunks, &cancelled, &mut progress)
        .await
        .expect("export");
    (e, chunks, calls)
}

#[wasm_bindgen_test]
async fn an_export_reads_every_page_and_one_account_alone() {
    let store = fresh_store("export").await;
    // 2.5 pages for "a", a few for the accounts sorting before and after it.
    let n = PAGE as usize * 2 + PAGE as usize / 2;
    let a = messages("a@example.org", n, 600);
    let before = messages("0@example.org", 3, 300);
    let after = messages("b@example.org", 4, 300);
    for items in [&a, &before, &after] {
        store.bulk_insert(items).await.unwrap();
    }

    let (e, chunks, calls) = run(&store, &Scope::Account("a@example.org".into()), None).await;
    assert_eq!((e.messages, e.missing, e.cancelled), (n as u32, 0, false));
    assert_eq!(chunks.0.concat(), expected(&a.iter().collect::<Vec<_>>()));
    assert_eq!(e.bytes, chunks.0.concat().len() as u64);
    assert_eq!(calls.first(), Some(&(0, n as u32)));
    assert_eq!(calls.last(), Some(&(n as u32, n as u32)));

    let (e, chunks, _) = run(&store, &Scope::All, None).await;
    let all: Vec<_> = before.iter().chain(&a).chain(&after).collect();
    assert_eq!(e.messages as usize, all.len());
    assert_eq!(chunks.0.concat(), expected(&all));
}

#[wasm_bindgen_test]
async fn batches_are_bounded_in_bytes_and_cancel_stops_between_them() {
    let store = fresh_store("export-batches").await;
    // 40 messages of 1 MiB: 10 batches of 4 MiB at most.
    let items = messages("a@example.org", 40, 1 << 20);
    store.bulk_insert(&items).await.unwrap();
    let scope = Scope::Account("a@example.org".into());

    let (e, chunks, _) = run(&store, &scope, None).await;
    assert_eq!(e.messages, 40);
    assert!(chunks.0.len() >= 10, "{} chunks", chunks.0.len());
    for c in &chunks.0 {
        // The quoting adds a little: the separator, the blank line, a few `>`.
        assert!(
            c.len() as u64 <= BATCH_BYTES + 4096,
            "a chunk of {} bytes",
            c.len()
        );
    }

    // Cancelled after two batches: exactly those are written, and the export says so.
    let (e, chunks, _) = run(&store, &scope, Some(2)).await;
    assert!(e.cancelled);
    assert_eq!(chunks.0.len(), 2);
    let first: Vec<_> = items.iter().take(e.messages as usize).collect();
    assert_eq!(chunks.0.concat(), expected(&first));
}

#[wasm_bindgen_test]
async fn a_listed_selection_is_exported_in_its_order_without_the_deleted() {
    let store = fresh_store("export-listed").await;
    let n = PAGE as usize * 2 + 50;
    let items = messages("a@example.org", n, 300);
    let other = messages("b@example.org", 2, 300);
    store.bulk_insert(&items).await.unwrap();
    store.bulk_insert(&other).await.unwrap();
    // Newest first, as the list shows them, with another account's message in between; then a
    // whole page's worth of the selection is deleted before the export reads it.
    let mut listed: Vec<&(Summary, Vec<u8>)> = items.iter().rev().collect();
    listed.insert(10, &other[1]);
    let keys = listed
        .iter()
        .map(|(s, _)| (s.account.clone(), s.uidl.clone()))
        .collect();
    for (s, _) in &listed[20..20 + PAGE as usize] {
        store
            .delete_local(&s.account, &s.uidl, false)
            .await
            .unwrap();
    }

    let (e, chunks, _) = run(&store, &Scope::Listed(keys), None).await;
    let mut kept = listed.clone();
    kept.drain(20..20 + PAGE as usize);
    assert_eq!(e.messages as usize, kept.len());
    assert_eq!(chunks.0.concat(), expected(&kept));
}

/// A message of which only the start is stored (headers-first on a slow link) is never
/// passed off as whole: left out of the file and counted; the whole messages around it are
/// written as ever.
#[wasm_bindgen_test]
async fn a_partial_copy_is_left_out_and_counted() {
    let store = fresh_store("export-partial").await;
    let mut items = messages("a@example.org", 3, 500);
    items[1].0.partial_of = Some(5_000_000);
    store.bulk_insert(&items).await.unwrap();
    let (e, chunks, calls) = run(&store, &Scope::All, None).await;
    assert_eq!((e.messages, e.partial, e.missing), (2, 1, 0));
    assert_eq!(chunks.0.concat(), expected(&[&items[0], &items[2]]));
    assert_eq!(
        calls.last(),
        Some(&(3, 3)),
        "the partial one counts as seen"
    );
}
