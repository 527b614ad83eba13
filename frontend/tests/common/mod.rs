#![allow(dead_code)] // each test binary uses a different part of the helpers
pub mod fake_pop3;
pub mod idb_watch;
pub mod raw_idb;

use postbag_web::model::{Model, set_store};
use postbag_web::store::{Account, Security, ServerPolicy, Store};

/// The app's model over `store` (what a tab has after its start, whose gate reads that store).
pub fn tab_over(store: &Store) -> Model {
    // Mounting (nothing) starts Leptos's executor, which the model's resources spawn on.
    static MOUNTED: std::sync::Once = std::sync::Once::new();
    MOUNTED.call_once(|| leptos::mount::mount_to_body(|| ()));
    set_store(store.clone());
    Model::new()
}

pub async fn sleep(ms: u32) {
    gloo_timers::future::TimeoutFuture::new(ms).await;
}

/// Runs the indexer's slices until the search queue is empty (1,000 slices at most).
pub async fn index_everything(store: &Store) {
    for _ in 0..1000 {
        if store.index_pending().await.unwrap() == 0 {
            return;
        }
        postbag_web::search::indexer::index_slice(store)
            .await
            .unwrap();
    }
    panic!("the search queue never emptied");
}

/// A database no other test uses.
pub async fn fresh_store(tag: &str) -> Store {
    let name = format!("postbag-test-{tag}-{}", js_sys::Math::random());
    Store::open_named(&name).await.expect("open IndexedDB")
}

pub fn account(policy: ServerPolicy) -> Account {
    Account {
        id: "me@example.org".into(),
        email: "me@example.org".into(),
        host: "127.0.0.1".into(),
        port: 110,
        security: Security::None,
        username: "me".into(),
        policy,
        pinned_sha256: None,
        sealed_password: None,
        sending: None,
        check_minutes: None,
        oauth: None,
        headers_first_above: None,
    }
}
