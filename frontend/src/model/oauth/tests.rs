//! One refresh per account at a time, in Chromium with its Web Locks and IndexedDB. The
//! provider is `fetch` answered in the page (`test_support.rs`): it refuses a spent refresh
//! token with `invalid_grant`, as Keycloak and node-oidc-provider do (they also revoke the
//! grant then, which is what must not happen).

use std::cell::RefCell;
use std::rc::Rc;

use gloo_timers::future::TimeoutFuture;
use wasm_bindgen_test::wasm_bindgen_test as test;

use super::test_support::{StubProvider, client, oauth_account, tokens};
use super::{access_token, keep_oauth, tokens_of};
use crate::account::oauth::Grant;
use crate::store::Store;

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

const ISSUER: &str = "http://127.0.0.1:9";

#[test]
async fn two_refreshes_started_together_make_one_token_request() {
    let name = format!("postbag-test-oauth-{}", js_sys::Math::random());
    crate::model::set_store(Store::open_named(&name).await.unwrap());
    let provider = StubProvider::start(ISSUER);
    // Expired: the next login refreshes first.
    let grant = Grant {
        client: client(ISSUER),
        tokens: tokens("rt1", js_sys::Date::now() - 1.0),
    };
    let mut account = oauth_account("race@example.org");
    keep_oauth(&mut account, Some(&grant), Some("a passphrase"))
        .await
        .unwrap();
    crate::model::store().put_account(&account).await.unwrap();

    // The scheduler's check and the outbox's pass, both due at once.
    let first = Rc::new(RefCell::new(None));
    let slot = first.clone();
    let theirs = account.clone();
    wasm_bindgen_futures::spawn_local(async move {
        *slot.borrow_mut() = Some(access_token(&theirs).await);
    });
    let second = access_token(&account).await;
    for _ in 0..200 {
        if first.borrow().is_some() {
            break;
        }
        TimeoutFuture::new(25).await;
    }
    let first = first.borrow_mut().take().expect("the first caller ended");

    assert_eq!(
        provider.token_posts(),
        1,
        "one refresh_token grant for both"
    );
    let (a, b) = (first.unwrap().0, second.unwrap().0);
    assert_eq!(a.expose_secret(), "at2");
    assert_eq!(b.expose_secret(), "at2");
    let kept = tokens_of(&account.id).expect("tokens kept");
    assert_eq!(kept.refresh.unwrap().expose_secret(), "rt2");
}
