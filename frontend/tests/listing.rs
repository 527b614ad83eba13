//! The list the app shows, read from the real IndexedDB (Chromium) by the model: a long list
//! shows its newest messages first, marked partial, then all of them; a read that ends after
//! the user moved to another listing never replaces the one shown.

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use common::{fresh_store, sleep, tab_over};
use leptos::prelude::*;
use postbag_web::mail::summarize;
use postbag_web::model::Model;
use postbag_web::store::{IMPORTED, Store, Summary};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const NOW: f64 = 1_780_000_000_000.0;

/// `n` messages stored under `account`, dated 1..=n.
async fn stored(store: &Store, account: &str, n: usize) {
    let items: Vec<(Summary, Vec<u8>)> = (1..=n)
        .map(|i| {
            let raw = common::fake_pop3::sample(i, 300);
            let mut s = summarize(&raw, account, &format!("u{i:05}"), NOW);
            s.date = i as f64;
            (s, raw)
        })
        .collect();
    store.bulk_insert(&items).await.unwrap();
}

/// Waits until the list holds `n` messages and is no longer partial.
async fn listed(model: Model, n: usize) {
    for _ in 0..400 {
        if model.messages.with_untracked(Vec::len) == n && !model.list_partial.get_untracked() {
            return;
        }
        sleep(25).await;
    }
    panic!(
        "the list holds {} (partial: {}), not {n}",
        model.messages.with_untracked(Vec::len),
        model.list_partial.get_untracked()
    );
}

/// A state of the list: how many messages, whether partial, the newest one's UIDL.
type State = (usize, bool, String);

/// The states recorded from the `from`-th on.
fn record_since(recorded: &Rc<RefCell<Vec<State>>>, from: usize) -> Vec<State> {
    recorded.borrow()[from..].to_vec()
}

#[wasm_bindgen_test]
async fn a_long_list_shows_its_newest_first_then_all() {
    let store = fresh_store("listing-long").await;
    stored(&store, IMPORTED, 2_000).await;
    let model = tab_over(&store);
    // Every state the list passes through, as (messages, partial, newest uidl).
    let seen: Rc<RefCell<Vec<State>>> = Rc::default();
    let record = seen.clone();
    Effect::new(move |_| {
        let partial = model.list_partial.get();
        let (n, top) = model.messages.with(|m| {
            (
                m.len(),
                m.first().map(|s| s.uidl.clone()).unwrap_or_default(),
            )
        });
        record.borrow_mut().push((n, partial, top));
    });
    model.show_imported(true);
    listed(model, 2_000).await;
    let recorded = seen.clone();
    let seen = seen.borrow().clone();
    let shown: Vec<_> = seen.iter().filter(|(n, ..)| *n > 0).collect();
    assert_eq!(
        shown
            .first()
            .map(|(n, partial, top)| (*n, *partial, top.as_str())),
        Some((100, true, "u02000")),
        "the newest 100 first, marked partial: {seen:?}"
    );
    assert_eq!(
        shown
            .last()
            .map(|(n, partial, top)| (*n, *partial, top.as_str())),
        Some((2_000, false, "u02000")),
        "then all of them: {seen:?}"
    );
    // Read again (as after every sync and automatic check), the list shown stays whole until
    // the new read replaces it: it never shrinks to its newest under a user scrolled down it.
    let before = seen.len();
    model.reload().await;
    listed(model, 2_000).await;
    let again = record_since(&recorded, before);
    assert!(
        again.iter().all(|(n, partial, _)| *n == 2_000 && !partial),
        "a second read of the same list: {again:?}"
    );
    // A short list is read once, whole, never marked partial.
    let short = fresh_store("listing-short").await;
    stored(&short, IMPORTED, 40).await;
    let model = tab_over(&short);
    model.show_imported(true);
    listed(model, 40).await;
}

#[wasm_bindgen_test]
async fn a_read_that_ends_after_the_user_moved_on_is_dropped() {
    let store = fresh_store("listing-race").await;
    stored(&store, IMPORTED, 3_000).await;
    stored(&store, "me@example.org", 3).await;
    let model = tab_over(&store);
    // Imported is opened, and Inbox again at once: the long read ends last.
    model.show_imported(true);
    sleep(0).await;
    model.show_imported(false);
    listed(model, 3).await;
    sleep(1_500).await;
    assert!(
        model
            .messages
            .with_untracked(|m| m.iter().all(|s| s.account == "me@example.org")),
        "the inbox stays shown"
    );
    listed(model, 3).await;
}
