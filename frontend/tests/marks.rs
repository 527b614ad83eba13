//! Read and flagged marks in the real IndexedDB (Chromium), set through the app's model: the
//! store changes only those marks on the summary it holds. A tab whose list is older than the
//! store (another tab's "Download the rest" replaced the partial copy with the whole) must not
//! put its old copy back by marking the message. And the reader's "Download the rest" keeps
//! a state per message asked: one ending says nothing of another.

mod common;

use common::{fresh_store, tab_over};
use leptos::prelude::*;
use postbag_web::mail::summarize;
use postbag_web::model::RestState;
use postbag_web::store::{NewMessage, Summary};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const ME: &str = "me@example.org";
const NOW: f64 = 1_780_000_000_000.0;

#[wasm_bindgen_test]
async fn marking_an_outdated_copy_changes_only_the_marks_of_the_stored_summary() {
    let store = fresh_store("marks-outdated").await;
    let raw = common::fake_pop3::sample(1, 2_000);
    let mut partial = summarize(&raw, ME, "u1", NOW);
    partial.partial_of = Some(60_000);
    let m = NewMessage {
        summary: partial.clone(),
        raw,
        server_size: Some(60_000),
    };
    store.commit_messages(&[m], NOW).await.unwrap();
    // This tab lists the partial copy; then the whole replaces it (another tab).
    let model = tab_over(&store);
    model.messages.set(vec![partial.clone()]);
    let whole = Summary {
        partial_of: None,
        size: 60_000,
        snippet: "the whole of it".into(),
        ..partial.clone()
    };
    store.update_summary(&whole).await.unwrap();

    let key = (ME.to_string(), "u1".to_string());
    model.set_read(&key, true).await;
    let stored = store.summary(ME, "u1").await.unwrap().unwrap();
    assert_eq!(
        stored,
        Summary {
            read: true,
            ..whole.clone()
        },
        "the whole stays whole, and is read"
    );
    model.set_flagged(&key, true).await;
    let stored = store.summary(ME, "u1").await.unwrap().unwrap();
    assert_eq!(
        stored,
        Summary {
            read: true,
            flagged: true,
            ..whole
        }
    );
    // The list takes the summary as stored.
    assert_eq!(model.messages.get_untracked(), vec![stored]);
}

#[wasm_bindgen_test]
async fn a_message_gone_from_the_store_is_not_written_back_by_marking_it() {
    let store = fresh_store("marks-gone").await;
    let raw = common::fake_pop3::sample(1, 500);
    let summary = summarize(&raw, ME, "u1", NOW);
    let model = tab_over(&store);
    model.messages.set(vec![summary]);
    let key = (ME.to_string(), "u1".to_string());
    model.set_read(&key, true).await;
    assert_eq!(store.summary(ME, "u1").await.unwrap(), None);
}

#[wasm_bindgen_test]
async fn two_rests_asked_at_once_each_keep_their_own_state() {
    let store = fresh_store("rest-two-at-once").await;
    let model = tab_over(&store);
    let a = ("gone".to_string(), "ua".to_string());
    let b = ("gone".to_string(), "ub".to_string());
    // The second is asked while the first waits for its turn; neither account exists, so the
    // scheduler answers each with its own reason.
    model.download_rest(a.clone());
    model.download_rest(b.clone());
    assert_eq!(
        model
            .rest
            .with_untracked(|r| (r.get(&a).cloned(), r.get(&b).cloned())),
        (Some(RestState::Asked), Some(RestState::Asked)),
    );
    let removed = RestState::Failed("This account was removed.".into());
    for _ in 0..100 {
        if model
            .rest
            .with_untracked(|r| r.values().all(|s| *s == removed))
        {
            break;
        }
        gloo_timers::future::TimeoutFuture::new(20).await;
    }
    assert_eq!(
        model
            .rest
            .with_untracked(|r| (r.get(&a).cloned(), r.get(&b).cloned())),
        (Some(removed.clone()), Some(removed)),
    );
}
