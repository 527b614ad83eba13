//! Full-text search against the real IndexedDB in Chromium: messages committed the way a sync
//! commits them, indexed by the indexer's slices, found by the query language; deletes and
//! account removal update the index, a reopened store still answers, an upgraded store
//! indexes the mail it held.

mod common;

use common::{fresh_store, index_everything};
use leptos::prelude::*;
use postbag_web::mail::summarize;
use postbag_web::model::{Found, Hits, Model, set_store};
use postbag_web::search::find::{candidates, find, find_among, find_unless, scope, scope_where};
use postbag_web::search::parse;
use postbag_web::store::search::{INDEXED_HEAD, SLICE_BYTES};
use postbag_web::store::{NewMessage, Store, Summary, TRASH, UserFolder, schema};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const ACCOUNT: &str = "me@example.org";

/// Mail whose words sit only in their bodies, in the encodings mail really uses.
fn corpus() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        (
            "qp",
            b"From: Ann Lee <ann@example.org>\r\nTo: me@example.org\r\nSubject: Notes\r\n\
Date: Mon, 2 Mar 2026 10:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\r\nThe zebrafish d=C3=A9j=C3=A0 vu arrived, a soft=\r\nbroken word.\r\n"
                .to_vec(),
        ),
        (
            "b64",
            b"From: Bob <bob@example.net>\r\nTo: me@example.org\r\nSubject: Plain\r\n\
Date: Tue, 3 Mar 2026 10:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: base64\r\n\r\nVGhlIG9jdG9wdXMgcXVhcnRlcmx5IHJlcG9ydCBpcyByZWFkeS4=\r\n"
                .to_vec(),
        ),
        (
            "html",
            b"From: News <news@example.com>\r\nTo: me@example.org\r\nSubject: Weekly\r\n\
Date: Wed, 4 Mar 2026 10:00:00 +0000\r\nContent-Type: text/html; charset=iso-8859-1\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\r\n<p>The <b>narwhal</b> sails from Z=FCrich</p><a href=3D\"http://tracker.example/pixel\">x</a>\r\n"
                .to_vec(),
        ),
        (
            "attached",
            b"From: Ann Lee <ann@example.org>\r\nTo: me@example.org\r\nSubject: Octopus slides\r\n\
Date: Thu, 5 Mar 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n\
--b\r\nContent-Type: application/pdf; name=\"flamingo-budget.pdf\"\r\n\
Content-Disposition: attachment; filename=\"flamingo-budget.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b--\r\n"
                .to_vec(),
        ),
    ]
}

async fn stored(tag: &str) -> (Store, Vec<Summary>) {
    let store = fresh_store(tag).await;
    let batch: Vec<NewMessage> = corpus()
        .into_iter()
        .map(|(uidl, raw)| NewMessage {
            summary: summarize(&raw, ACCOUNT, uidl, 1.0),
            raw,
            server_size: None,
        })
        .collect();
    store.commit_messages(&batch, 1.0).await.unwrap();
    let list = store.list(ACCOUNT).await.unwrap();
    (store, list)
}

/// The UIDLs `text` finds in `list`, best first.
async fn search(store: &Store, list: &[Summary], text: &str) -> Vec<String> {
    let query = parse(text).unwrap();
    let hits = find(store, &query, list).await.unwrap();
    hits.keys.into_iter().map(|(_, uidl)| uidl).collect()
}

async fn check(store: &Store, list: &[Summary], text: &str, expected: &[&str]) {
    let mut got = search(store, list, text).await;
    got.sort();
    let mut want: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(got, want, "search {text:?}");
}

#[wasm_bindgen_test]
async fn a_commit_only_queues_and_the_indexer_catches_up() {
    let (store, list) = stored("search-queue").await;
    // The commit the sync awaits before DELE wrote no index: only the queue.
    assert_eq!(store.index_pending().await.unwrap(), 4);
    check(&store, &list, "zebrafish", &[]).await;
    index_everything(&store).await;
    assert_eq!(store.index_pending().await.unwrap(), 0);
    check(&store, &list, "zebrafish", &["qp"]).await;
}

#[wasm_bindgen_test]
async fn words_only_in_bodies_are_found_whatever_the_encoding() {
    let (store, list) = stored("search-bodies").await;
    index_everything(&store).await;
    check(&store, &list, "zebrafish", &["qp"]).await; // quoted-printable
    check(&store, &list, "deja", &["qp"]).await; // UTF-8 accents folded
    check(&store, &list, "DÉJÀ", &["qp"]).await;
    check(&store, &list, "softbroken", &["qp"]).await; // a soft line break joins
    check(&store, &list, "quarterly", &["b64"]).await; // base64
    check(&store, &list, "narwhal", &["html"]).await; // HTML reduced to text
    check(&store, &list, "zurich", &["html"]).await; // Latin-1
    check(&store, &list, "tracker", &[]).await; // a link target is not text
    check(&store, &list, "flamingo", &["attached"]).await; // an attachment's name
    check(&store, &list, "octopus", &["b64", "attached"]).await;
}

#[wasm_bindgen_test]
async fn operators_prefixes_and_phrases() {
    let (store, mut list) = stored("search-operators").await;
    index_everything(&store).await;
    check(&store, &list, "from:ann", &["qp", "attached"]).await;
    check(&store, &list, "from:ann octopus", &["attached"]).await;
    check(&store, &list, "from:bob@example.net", &["b64"]).await;
    check(&store, &list, "to:me has:attachment", &["attached"]).await;
    check(&store, &list, "subject:octopus", &["attached"]).await;
    check(&store, &list, "subject:quarterly", &[]).await;
    // The word being typed is a prefix; once a space follows, a word.
    check(&store, &list, "zebr", &["qp"]).await;
    check(&store, &list, "zebr ", &[]).await;
    check(&store, &list, "from:an", &["qp", "attached"]).await;
    check(&store, &list, "\"quarterly report\"", &["b64"]).await;
    check(&store, &list, "\"report quarterly\"", &[]).await;
    check(&store, &list, "after:2026-03-04", &["html", "attached"]).await;
    check(
        &store,
        &list,
        "before:2026-03-04 after:2026-03-03",
        &["b64"],
    )
    .await;
    list.iter_mut().find(|s| s.uidl == "b64").unwrap().read = true;
    check(&store, &list, "is:unread octopus", &["attached"]).await;
    check(&store, &list, "is:read", &["b64"]).await;
    check(&store, &list, "in:inbox octopus", &["b64", "attached"]).await;
    check(&store, &list, "in:archive octopus", &[]).await;
    list.iter_mut().find(|s| s.uidl == "b64").unwrap().folder = "archive".into();
    check(&store, &list, "in:Archive octopus", &["b64"]).await;
    check(&store, &list, &format!("in:{ACCOUNT} zebrafish"), &["qp"]).await;
    // Ranked: the subject's octopus before the body's, whatever the dates.
    assert_eq!(search(&store, &list, "octopus").await, ["attached", "b64"]);
}

#[wasm_bindgen_test]
async fn deleting_removes_the_postings() {
    let (store, _) = stored("search-delete").await;
    index_everything(&store).await;
    assert_eq!(
        store.postings("octopus", false, 100).await.unwrap().0.len(),
        2
    );
    store.delete_local(ACCOUNT, "b64", false).await.unwrap();
    index_everything(&store).await;
    let (left, _) = store.postings("octopus", false, 100).await.unwrap();
    assert_eq!(left, [(ACCOUNT.to_string(), "attached".to_string())]);
    // Every term of the deleted message is gone, not just one.
    assert!(
        store
            .postings("quarterly", false, 100)
            .await
            .unwrap()
            .0
            .is_empty()
    );
    let list = store.list(ACCOUNT).await.unwrap();
    check(&store, &list, "octopus", &["attached"]).await;

    store.remove_account(ACCOUNT, false).await.unwrap();
    index_everything(&store).await;
    assert!(
        store.postings("a", true, 100).await.unwrap().0.is_empty(),
        "postings left"
    );
}

#[wasm_bindgen_test]
async fn the_index_survives_a_restart() {
    let (store, list) = stored("search-restart").await;
    index_everything(&store).await;
    let name = store.name();
    store.close();
    let store = Store::open_named(&name).await.unwrap();
    assert_eq!(
        store.index_pending().await.unwrap(),
        0,
        "nothing indexed again"
    );
    check(&store, &list, "narwhal", &["html"]).await;
}

#[wasm_bindgen_test]
async fn mail_stored_before_search_is_indexed_after_the_upgrade() {
    let name = format!("postbag-test-search-upgrade-{}", js_sys::Math::random());
    let before = 6; // version 7 added the index
    let old = Store::open_at(&name, before).await.unwrap();
    assert!(!old.store_names().contains(&"search_queue".to_string()));
    old.close();
    // Written as the build before search wrote them: a summary and the bytes, no queue.
    for (uidl, raw) in corpus() {
        let s = summarize(&raw, ACCOUNT, uidl, 1.0);
        common::raw_idb::put(&name, "summaries", &serde_json::to_string(&s).unwrap()).await;
        let key = serde_json::to_string(&[ACCOUNT, uidl]).unwrap();
        common::raw_idb::put_bytes(&name, "bodies", &key, &raw).await;
    }
    let store = Store::open_named(&name).await.unwrap();
    assert_eq!(
        store.index_pending().await.unwrap(),
        4,
        "every stored message queued"
    );
    let list = store.list(ACCOUNT).await.unwrap();
    assert_eq!(list.len(), 4);
    index_everything(&store).await;
    check(&store, &list, "narwhal", &["html"]).await;
    check(&store, &list, "flamingo", &["attached"]).await;
}

/// A message of about `mb` MB whose first line of text holds `first` and whose last holds
/// `last`, in lines of 100 bytes.
fn large(mb: usize, first: &str, last: &str) -> Vec<u8> {
    let mut raw = format!(
        "From: Big <big@example.org>\r\nTo: me@example.org\r\nSubject: Log\r\n\
Date: Mon, 2 Mar 2026 10:00:00 +0000\r\nContent-Type: text/plain\r\n\r\n{first}\r\n"
    )
    .into_bytes();
    let line = format!("{}\r\n", "x".repeat(98));
    while raw.len() < mb * 1_000_000 {
        raw.extend_from_slice(line.as_bytes());
    }
    raw.extend_from_slice(format!("{last}\r\n").as_bytes());
    raw
}

#[wasm_bindgen_test]
async fn large_messages_are_indexed_in_bounded_slices() {
    let store = fresh_store("search-large").await;
    let batch: Vec<NewMessage> = (0..3)
        .map(|i| {
            let raw = large(20, "quokka", "wombat");
            NewMessage {
                summary: summarize(&raw, ACCOUNT, &format!("big{i}"), 1.0),
                raw,
                server_size: None,
            }
        })
        .collect();
    store.commit_messages(&batch, 1.0).await.unwrap();
    // The slice reads one head at a time, none of them whole.
    let slice = store.index_queue(24).await.unwrap();
    assert_eq!(slice.len(), 3);
    for ((account, uidl), _) in &slice {
        let raw = store
            .body_head(account, uidl, INDEXED_HEAD)
            .await
            .unwrap()
            .unwrap();
        assert!(raw.len() <= INDEXED_HEAD);
        assert!(raw.ends_with(b"\r\n"), "a head ends on a whole line");
    }
    const { assert!(SLICE_BYTES >= INDEXED_HEAD) };
    index_everything(&store).await;
    let list = store.list(ACCOUNT).await.unwrap();
    // The start is searchable, the text past the indexed head is not (docs/search-index.md).
    check(&store, &list, "quokka", &["big0", "big1", "big2"]).await;
    check(&store, &list, "wombat", &[]).await;
    check(&store, &list, "\"quokka\"", &["big0", "big1", "big2"]).await;
}

#[wasm_bindgen_test]
async fn a_superseded_query_gives_up() {
    let (store, list) = stored("search-superseded").await;
    index_everything(&store).await;
    let query = parse("\"quarterly report\"").unwrap();
    let asked = std::cell::Cell::new(0);
    // Superseded once the postings were read: the phrase check reads no message.
    let superseded = || {
        asked.set(asked.get() + 1);
        asked.get() > 1
    };
    let hits = find_unless(&store, &query, &list, &superseded)
        .await
        .unwrap();
    assert_eq!(hits, None);
    assert_eq!(
        asked.get(),
        2,
        "asked before the postings and before the first message"
    );
    let hits = find_unless(&store, &query, &list, &|| false).await.unwrap();
    assert_eq!(hits.unwrap().keys.len(), 1);
}

/// The UIDLs a search box text finds with `shown` on screen, as the app asks (`scope`).
async fn search_from(
    store: &Store,
    list: &[Summary],
    shown: &str,
    folders: &[UserFolder],
    text: &str,
) -> Vec<String> {
    let mut query = parse(text).unwrap();
    let scoped = scope(&mut query, list, shown, folders);
    let hits = find(store, &query, &scoped).await.unwrap();
    let mut uidls: Vec<String> = hits.keys.into_iter().map(|(_, uidl)| uidl).collect();
    uidls.sort();
    uidls
}

#[wasm_bindgen_test]
async fn a_search_looks_in_every_folder_and_in_names_the_users_folders() {
    let (store, _) = stored("search-folders").await;
    let work = UserFolder {
        id: "f1733150000000k3x9".into(),
        name: "Work".into(),
    };
    store.put_folder(&work).await.unwrap();
    let key = |uidl: &str| (ACCOUNT.to_string(), uidl.to_string());
    store
        .move_messages(&[key("b64")], "archive", 2.0)
        .await
        .unwrap();
    store
        .move_messages(&[key("attached")], &work.id, 2.0)
        .await
        .unwrap();
    store
        .move_messages(&[key("html")], TRASH, 2.0)
        .await
        .unwrap();
    // Filed by a sync into a folder deleted since: shown, and searched, in Inbox.
    store
        .move_messages(&[key("qp")], "f1733150000000gone", 2.0)
        .await
        .unwrap();
    index_everything(&store).await;
    let list = store.list(ACCOUNT).await.unwrap();
    let folders = store.folders().await.unwrap();
    // Typed in Inbox: archived mail and the user's folder's mail are found, Trash is not.
    assert_eq!(
        search_from(&store, &list, "inbox", &folders, "octopus").await,
        ["attached", "b64"]
    );
    assert_eq!(
        search_from(&store, &list, "inbox", &folders, "narwhal").await,
        Vec::<String>::new()
    );
    assert_eq!(
        search_from(&store, &list, "trash", &folders, "narwhal").await,
        ["html"]
    );
    assert_eq!(
        search_from(&store, &list, "inbox", &folders, "in:archive octopus").await,
        ["b64"]
    );
    assert_eq!(
        search_from(&store, &list, "inbox", &folders, "in:Work").await,
        ["attached"]
    );
    assert_eq!(
        search_from(&store, &list, "archive", &folders, "in:work octopus").await,
        ["attached"]
    );
    assert_eq!(
        search_from(&store, &list, "inbox", &folders, "in:trash narwhal").await,
        ["html"]
    );

    assert_eq!(
        search_from(&store, &list, "archive", &folders, "in:inbox zebrafish").await,
        ["qp"]
    );

    // The list on screen shows the answer whatever tab it was typed in.
    static MOUNTED: std::sync::Once = std::sync::Once::new();
    MOUNTED.call_once(|| leptos::mount::mount_to_body(|| ()));
    set_store(store.clone());
    let model = Model::new();
    model.user_folders.set(folders.clone());
    model.messages.set(list.clone());
    model.folder.set("inbox".into());
    model.search.set("octopus".into());
    model.found.set(Some(Found {
        text: "octopus".into(),
        result: Ok(Hits {
            keys: vec![key("attached"), key("b64")],
            terms: Vec::new(),
            cut: false,
            total: 2,
        }),
    }));
    let shown: Vec<String> = model.visible().into_iter().map(|s| s.uidl).collect();
    assert_eq!(shown, ["attached", "b64"]);
    model.search.set(String::new());
    let shown: Vec<String> = model.visible().into_iter().map(|s| s.uidl).collect();
    assert_eq!(shown, ["qp"], "without a search, the folder shown");
}

/// Mail whose terms the first normalisation got wrong: a one-letter word of a phrase, German
/// ß, Chinese and Japanese written without spaces.
fn exact_corpus() -> Vec<(&'static str, Vec<u8>)> {
    let plain = |from: &str, subject: &str, body: &str| {
        format!(
            "From: {from}\r\nTo: me@example.org\r\nSubject: {subject}\r\n\
Date: Mon, 2 Mar 2026 10:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n"
        )
        .into_bytes()
    };
    vec![
        (
            "s3",
            plain("Sender 3 <s3@example.org>", "Report", "Page 3 of 4."),
        ),
        (
            "s30",
            plain("Sender 30 <s30@example.org>", "Report", "Page 30."),
        ),
        (
            "de",
            plain(
                "Jo <jo@example.de>",
                "Umleitung",
                "Die Straße ist gesperrt.",
            ),
        ),
        (
            "ja",
            plain(
                "Ken <ken@example.jp>",
                "=?UTF-8?B?5p2x5Lqs6YO944Gu5LqI5a6a?=", // 東京都の予定
                "来週、大阪へ行きます。",
            ),
        ),
        (
            "zh",
            plain("Li <li@example.cn>", "Hi", "京都和东京都很好。东京大学"),
        ),
    ]
}

/// Commits [`exact_corpus`] into `store` as a sync does; the list it holds then.
async fn commit_exact(store: &Store) -> Vec<Summary> {
    let batch: Vec<NewMessage> = exact_corpus()
        .into_iter()
        .map(|(uidl, raw)| NewMessage {
            summary: summarize(&raw, ACCOUNT, uidl, 1.0),
            raw,
            server_size: None,
        })
        .collect();
    store.commit_messages(&batch, 1.0).await.unwrap();
    store.list(ACCOUNT).await.unwrap()
}

#[wasm_bindgen_test]
async fn phrases_are_exact_and_every_script_is_found() {
    let store = fresh_store("search-exact").await;
    let list = commit_exact(&store).await;
    index_everything(&store).await;
    // "3" is no index term; the phrase is checked on the text, so "Sender 30" is not found.
    check(&store, &list, "\"Sender 3\"", &["s3"]).await;
    check(&store, &list, "from:\"sender 3\"", &["s3"]).await;
    check(&store, &list, "\"Sender 30\"", &["s30"]).await;
    check(&store, &list, "\"page 3\" report", &["s3"]).await;
    check(&store, &list, "subject:\"page 3\"", &[]).await;
    // Full case folding: ß is ss, whichever way it is typed.
    for text in ["strasse", "STRASSE", "Straße", "straß"] {
        check(&store, &list, text, &["de"]).await;
    }
    // CJK by bigrams: a word is found inside a run, and a longer word only in its order.
    check(&store, &list, "東京", &["ja"]).await;
    check(&store, &list, "大阪 ", &["ja"]).await;
    check(&store, &list, "subject:予定 ", &["ja"]).await;
    check(&store, &list, "東京都 ", &["ja"]).await;
    check(&store, &list, "东京都 ", &["zh"]).await;
    check(&store, &list, "京都 ", &["ja", "zh"]).await;
    check(&store, &list, "東京大阪 ", &[]).await;
}

#[wasm_bindgen_test]
async fn mail_indexed_before_blocks_is_indexed_again_into_blocks() {
    let name = format!("postbag-test-search-blocks-{}", js_sys::Math::random());
    // Stored at version 8, whose index was one key per posting.
    let before = 8;
    // The block postings came with version 9; later versions add what they add on top.
    assert!(schema::current_version() > before);
    let old = Store::open_at(&name, before).await.unwrap();
    assert!(old.store_names().contains(&"search_postings".to_string()));
    let list = commit_exact(&old).await;
    old.close();
    // A posting as the old build wrote it: it must not answer, nor be left behind.
    let key = serde_json::to_string(&["oldterm", ACCOUNT, "de"]).unwrap();
    common::raw_idb::put_bytes(&name, "search_postings", &key, &[0]).await;
    let store = Store::open_named(&name).await.unwrap();
    let names = store.store_names();
    assert!(!names.contains(&"search_postings".to_string()), "{names:?}");
    assert!(!names.contains(&"search_terms".to_string()), "{names:?}");
    assert_eq!(
        store.index_pending().await.unwrap(),
        exact_corpus().len() as u64,
        "every stored message queued again"
    );
    index_everything(&store).await;
    check(&store, &list, "strasse", &["de"]).await;
    check(&store, &list, "東京都 ", &["ja"]).await;
    check(&store, &list, "oldterm", &[]).await;
    // One slice: one block per term, whatever the number of messages holding it.
    let blocks = common::raw_idb::all(&name, "search_blocks").await;
    let docs = common::raw_idb::all(&name, "search_docs").await;
    assert_eq!(docs.as_array().unwrap().len(), exact_corpus().len());
    let report = store.postings("report", false, 100).await.unwrap().0;
    assert_eq!(report.len(), 2, "s3 and s30 share the block of 'report'");
    assert!(!blocks.as_array().unwrap().is_empty());
}

#[wasm_bindgen_test]
async fn one_cjk_character_finds_every_run_holding_it() {
    let store = fresh_store("search-cjk-char").await;
    let list = commit_exact(&store).await;
    index_everything(&store).await;
    // The last character of a run starts no bigram: found by the run's end.
    check(&store, &list, "定 ", &["ja"]).await; // 東京都の予定
    check(&store, &list, "す ", &["ja"]).await; // 大阪へ行きます
    check(&store, &list, "学 ", &["zh"]).await; // 东京大学
    // A character inside a run: by the bigrams it starts, quoted or not.
    check(&store, &list, "京 ", &["ja", "zh"]).await;
    check(&store, &list, "\"阪\"", &["ja"]).await;
    check(&store, &list, "猫 ", &[]).await;
}

/// The app copies only the summaries the index found out of the list (`scope_where` with the
/// index's candidates), then answers from those: the same hits as from the whole list.
#[wasm_bindgen_test]
async fn the_app_copies_only_what_the_index_found_and_answers_the_same() {
    let (store, list) = stored("search-copies-found").await;
    index_everything(&store).await;
    for text in [
        "octopus",
        "quarterly report",
        "from:ann",
        "zebra",
        "nothingatall",
    ] {
        let mut query = parse(text).unwrap();
        let whole = find(&store, &query, &list).await.unwrap();
        let index = candidates(&store, &query, &|| false)
            .await
            .unwrap()
            .unwrap();
        let copied = scope_where(&mut query, &list, "inbox", &[], |s| index.holds(s));
        assert!(
            copied.len() <= whole.keys.len().max(1) && copied.len() < list.len(),
            "{text}: {} of {} summaries copied for {} hits",
            copied.len(),
            list.len(),
            whole.keys.len()
        );
        let hits = find_among(&store, &query, &copied, index, &|| false)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(hits, whole, "{text}");
    }
}
