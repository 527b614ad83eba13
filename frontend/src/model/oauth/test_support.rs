//! The OpenID provider both browser test files of `model/oauth.rs` sign in against (`tests.rs`:
//! one refresh at a time; `retry_tests.rs`: one refresh after a refused token): `fetch`
//! answered in the page, with discovery and a token endpoint that rotates the refresh token
//! and refuses a spent one with `invalid_grant`, as Keycloak and node-oidc-provider do. Plus
//! the account and client they sign in with.

use postbag_protocol::pop3::Secret;
use wasm_bindgen::prelude::*;

use crate::account::oauth::{Client, Tokens};
use crate::store::{Account, OAuthProvider, Security, ServerPolicy};

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

/// The provider at `issuer`, answering the page's `fetch` until dropped. Its refresh tokens
/// are `rt1`, `rt2`, … and access tokens `at2`, `at3`, …, one pair per refresh.
pub(super) struct StubProvider(JsValue);

impl StubProvider {
    pub(super) fn start(issuer: &str) -> StubProvider {
        StubProvider(stub_provider(issuer))
    }

    /// The token requests it has answered.
    pub(super) fn token_posts(&self) -> u32 {
        token_posts(&self.0)
    }
}

impl Drop for StubProvider {
    fn drop(&mut self) {
        unstub(&self.0);
    }
}

/// A public client of the provider at `issuer`.
pub(super) fn client(issuer: &str) -> Client {
    Client {
        provider: OAuthProvider::Oidc,
        client_id: "postbag".into(),
        issuer: Some(issuer.into()),
        name: None,
        scopes: Vec::new(),
        confidential: false,
    }
}

/// Tokens with the access token `at1`, `refresh` as refresh token, expiring at `expires_at`.
pub(super) fn tokens(refresh: &str, expires_at: f64) -> Tokens {
    Tokens {
        access: Secret::new("at1".into()),
        refresh: Some(Secret::new(refresh.into())),
        expires_at,
        lifetime: 3_600_000.0,
    }
}

/// An account on a plain loopback server, not yet signed in.
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
