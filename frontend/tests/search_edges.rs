//! Edge terms (`search/edges.rs`) against the real IndexedDB: a short prefix reads its edge
//! blocks, not one block per term it starts, and answers exactly what the plain terms'
//! range answered; a store indexed before edges existed answers as before until every
//! message was indexed again, then from edges.

mod common;

use common::index_everything;

use postbag_web::mail::summarize;
use postbag_web::search::find::find;
use postbag_web::search::parse;
use postbag_web::store::{NewMessage, Store, Summary, schema};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const ACCOUNT: &str = "me@example.org";
/// Distinct words starting "ter" in the mail: what a plain prefix range reads per slice.
const TER_WORDS: usize = 60;

/// Letters only: a word of the index (digits would be words of their own).
fn letters(mut n: usize) -> String {
    let mut s = String::new();
    for _ in 0..3 {
        s.push((b'a' + (n % 26) as u8) as char);
        n /= 26;
    }
    s
}

fn mail(uidl: &str, subject: &str, body: &str) -> (String, Vec<u8>) {
    let raw = format!(
        "From: Ann Lee <ann@example.org>\r\nTo: me@example.org\r\nSubject: {subject}\r\n\
         Date: Mon, 2 Mar 2026 10:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    );
    (uidl.to_string(), raw.into_bytes())
}

/// Three messages holding twenty "ter…" words each, one with "te" alone, one with a subject
/// starting "ter", one with Japanese, one with none of them.
fn corpus() -> Vec<(String, Vec<u8>)> {
    let ter = |from: usize| {
        (from..from + TER_WORDS / 3)
            .map(|i| format!("ter{}", letters(i)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    vec![
        mail("m1", "Monday", &ter(0)),
        mail("m2", "Tuesday", &ter(20)),
        mail("m3", "Wednesday", &ter(40)),
        mail("m4", "Short", "te amo, a two-letter word"),
        mail("m5", "Terrace plans", "nothing else"),
        mail("m6", "Kyoto", "東京都庁 and kyoto"),
        mail("m7", "Other", "plain words only"),
    ]
}

async fn commit(store: &Store) -> Vec<Summary> {
    let batch: Vec<NewMessage> = corpus()
        .into_iter()
        .map(|(uidl, raw)| NewMessage {
            summary: summarize(&raw, ACCOUNT, &uidl, 1.0),
            raw,
            server_size: None,
        })
        .collect();
    store.commit_messages(&batch, 1.0).await.unwrap();
    store.list(ACCOUNT).await.unwrap()
}

/// The prefixes compared, as typed (no space after: a prefix).
const PREFIXES: [&str; 8] = [
    "te",
    "ter",
    "tera",
    "subject:te",
    "subject:ter",
    "東",
    "東京",
    "kyo",
];

/// Each prefix's answer (UIDLs, sorted) and the block records the queries read.
async fn answers(store: &Store, list: &[Summary]) -> (Vec<Vec<String>>, u64) {
    let before = store.blocks_read();
    let mut all = Vec::new();
    for text in PREFIXES {
        let hits = find(store, &parse(text).unwrap(), list).await.unwrap();
        let mut uidls: Vec<String> = hits.keys.into_iter().map(|(_, u)| u).collect();
        uidls.sort();
        all.push(uidls);
    }
    (all, store.blocks_read() - before)
}

async fn ter_reads(store: &Store, list: &[Summary]) -> u64 {
    let before = store.blocks_read();
    find(store, &parse("ter").unwrap(), list).await.unwrap();
    store.blocks_read() - before
}

#[wasm_bindgen_test]
async fn a_store_indexed_before_edges_answers_the_same_then_reads_edges() {
    let name = format!("postbag-test-search-edges-{}", js_sys::Math::random());
    let before = schema::current_version() - 1;
    let old = Store::open_at(&name, before).await.unwrap();
    let list = commit(&old).await;
    index_everything(&old).await;
    old.close();

    // The upgrade queues every message again and marks edges pending: short prefixes read
    // the plain terms' range, a block per term, until the queue has drained.
    let store = Store::open_named(&name).await.unwrap();
    assert_eq!(store.index_pending().await.unwrap(), corpus().len() as u64);
    assert!(!store.index_drained().await.unwrap(), "the queue is full");
    let (plain, _) = answers(&store, &list).await;
    let plain_ter = ter_reads(&store, &list).await;
    assert!(
        plain_ter >= TER_WORDS as u64,
        "a plain range reads a block per term: {plain_ter}"
    );
    assert_eq!(plain[0], ["m1", "m2", "m3", "m4", "m5"], "te");
    assert_eq!(plain[1], ["m1", "m2", "m3", "m5"], "ter");
    assert_eq!(plain[2], ["m1", "m2", "m3"], "tera");
    assert_eq!(plain[4], ["m5"], "subject:ter");
    assert_eq!(plain[6], ["m6"], "東京");
    index_everything(&store).await;
    assert_eq!(
        answers(&store, &list).await.0,
        plain,
        "indexed, edges not marked yet"
    );
    assert!(store.index_drained().await.unwrap());

    // From edges now: the same answers. Per slice, "ter" reads its edge and the ranking's
    // subject edge (m5): two slices here, the first numbering's (tombstoned, its blocks left
    // for compaction) and the new one.
    let (edged, _) = answers(&store, &list).await;
    assert_eq!(edged, plain, "{PREFIXES:?}");
    let edge_ter = ter_reads(&store, &list).await;
    assert!(
        edge_ter <= 4,
        "'ter' read {edge_ter} blocks, against {plain_ter} from the plain range"
    );
    store.close();
}

#[wasm_bindgen_test]
async fn a_new_store_reads_edges_once_its_queue_drained() {
    let store = common::fresh_store("search-edges-new").await;
    let list = commit(&store).await;
    index_everything(&store).await;
    assert!(store.index_drained().await.unwrap());
    let (answers, _) = answers(&store, &list).await;
    assert_eq!(
        answers[0],
        ["m1", "m2", "m3", "m4", "m5"],
        "te: 'te' alone, and longer"
    );
    assert_eq!(answers[1], ["m1", "m2", "m3", "m5"], "ter");
    assert_eq!(
        answers[2],
        ["m1", "m2", "m3"],
        "tera: a plain range (four letters)"
    );
    assert_eq!(answers[3], ["m5"], "subject:te");
    assert_eq!(answers[5], ["m6"], "東");
    assert_eq!(answers[7], ["m6"], "kyo");
    assert!(ter_reads(&store, &list).await <= 3);
}
