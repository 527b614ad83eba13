//! One refresh per account at a time, in Chromium with its Web Locks and IndexedDB. The
//! provider is `fetch` answered in the page: discovery, and a token endpoint that rotates the
//! refresh token and refuses a spent one with `invalid_grant`, as Keycloak and
//! node-oidc-provider do (they also revoke the grant then, which is what must not happen).

use std::cell::RefCell;
use std::rc::Rc;

use gloo_timers::future::TimeoutFuture;
use postbag_protocol::pop3::Secret;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::wasm_bindgen_test as test;

use super::{access_token, keep_oauth, tokens_of};
use crate::account::oauth::{Client, Grant, Tokens};
use crate::store::{Account, OAuthProvider, Security, ServerPolicy, Store};

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

const ISSUER: &str = "http://127.0.0.1:9";

#[wasm_bindgen(inline_js = r#"
export function stub_provider(issuer) {
  const state = { posts: 0, refresh: "rt1", n: 1, real: globalThis.fetch };
  const json = (status, body) => new Response(JSON.stringify(body),
    { status, headers: { "content-type": "application/json" } });
  globalThis.fetch = async (url, init) => {
    url = String(url);
    if (url === issuer + "/.well-known/openid-configuration") {
      return json(200, { issuer, authorization_endpoint: issuer + "/auth",
        token_endpoint: issuer + "/token", code_challenge_methods_supported: ["S256"] });
    }
    if (url === issuer + "/token") {
      state.posts += 1;
      const sent = new URLSearchParams(String(init.body)).get("refresh_token");
      // Answers take a while, as over a network: time for a second caller to start.
      await new Promise((r) => setTimeout(r, 50));
      if (sent !== state.refresh) return json(400, { error: "invalid_grant" });
      state.n += 1;
      state.refresh = "rt" + state.n;
      return json(200, { access_token: "at" + state.n, token_type: "Bearer",
        expires_in: 3600, refresh_token: state.refresh });
    }
    return json(404, {});
  };
  return state;
}
export function token_posts(state) { return state.posts; }
export function unstub(state) { globalThis.fetch = state.real; }
"#)]
extern "C" {
    fn stub_provider(issuer: &str) -> JsValue;
    fn token_posts(state: &JsValue) -> u32;
    fn unstub(state: &JsValue);
}

/// An account on a plain loopback server, not yet signed in (also for `retry_tests.rs`).
pub(super) fn oauth_account(id: &str) -> Account {
    Account {
        id: id.into(),
        email: id.into(),
        host: "127.0.0.1".into(),
        port: 110,
        security: Security::None,
        username: id.into(),
        policy: ServerPolicy::DeleteAfterDownload,
        pinned_sha256: None,
        sealed_password: None,
        sending: None,
        check_minutes: None,
        oauth: None,
        headers_first_above: None,
    }
}

#[test]
async fn two_refreshes_started_together_make_one_token_request() {
    let name = format!("postbag-test-oauth-{}", js_sys::Math::random());
    crate::model::set_store(Store::open_named(&name).await.unwrap());
    let provider = stub_provider(ISSUER);
    let client = Client {
        provider: OAuthProvider::Oidc,
        client_id: "postbag".into(),
        issuer: Some(ISSUER.into()),
        name: None,
        scopes: Vec::new(),
        confidential: false,
    };
    // Expired: the next login refreshes first.
    let tokens = Tokens {
        access: Secret::new("at1".into()),
        refresh: Some(Secret::new("rt1".into())),
        expires_at: js_sys::Date::now() - 1.0,
        lifetime: 3_600_000.0,
    };
    let mut account = oauth_account("race@example.org");
    keep_oauth(
        &mut account,
        Some(&Grant { client, tokens }),
        Some("a passphrase"),
    )
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
    unstub(&provider);

    assert_eq!(
        token_posts(&provider),
        1,
        "one refresh_token grant for both"
    );
    let (a, b) = (first.unwrap().0, second.unwrap().0);
    assert_eq!(a.expose_secret(), "at2");
    assert_eq!(b.expose_secret(), "at2");
    let kept = tokens_of(&account.id).expect("tokens kept");
    assert_eq!(kept.refresh.unwrap().expose_secret(), "rt2");
}
