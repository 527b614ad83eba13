//! One sign-in: the provider's page in a popup, the answer through the same-origin callback
//! page, the code exchanged for tokens with PKCE: by the app at the provider (a public
//! client), or through the proxy, which adds the secret of a confidential client
//! ([`TokenEndpoint`]).
//!
//! The callback page (`frontend/oauth-callback.html` + `.js`, at [`redirect_uri`]) posts the
//! query's `state`, `code` or `error` on the `BroadcastChannel` [`CHANNEL`]: a channel only
//! same-origin documents share, and one that still works when the provider's pages cut the
//! popup's link to its opener (`Cross-Origin-Opener-Policy`). A message whose `state` is not
//! this sign-in's is ignored (another tab's sign-in); the code is used once, here.
//!
//! The popup's `closed` cannot end a sign-in: a provider that sends
//! `Cross-Origin-Opener-Policy: same-origin` cuts the popup off from this page, which then
//! reads it as closed while the user is still signing in there. Only the answer,
//! [`cancel_sign_in`] (the user's "Cancel sign-in") or [`GIVE_UP_MS`] end it.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use gloo_timers::future::TimeoutFuture;
use serde::Deserialize;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use super::tokens::{self, Tokens};
use super::{Client, OAuthError, discovery, error_code, http, pkce};
use crate::tunnel::AccessCode;

/// The channel the callback page posts on.
const CHANNEL: &str = "postbag-oauth";
/// The callback page, beside index.html.
const CALLBACK: &str = "/oauth-callback.html";
/// The proxy's token route for confidential clients (proxy/src/oauth_token.rs).
const PROXY_TOKEN_PATH: &str = "/oauth/token";
/// How often the answer and a cancel are looked for.
const POLL_MS: u32 = 250;
/// A sign-in left open this long is abandoned (the provider's own pages time out sooner).
const GIVE_UP_MS: f64 = 10.0 * 60_000.0;

thread_local! {
    /// Set by "Cancel sign-in"; cleared when a sign-in starts.
    static CANCELLED: Cell<bool> = const { Cell::new(false) };
}

/// The user's "Cancel sign-in": the sign-in running in this tab ends as
/// [`OAuthError::Cancelled`] (its window, if still reachable, is closed).
pub fn cancel_sign_in() {
    CANCELLED.with(|c| c.set(true));
}

/// What a sign-in gives: the client it went through and the tokens.
#[derive(Clone, Debug, PartialEq)]
pub struct Grant {
    pub client: Client,
    pub tokens: Tokens,
}

/// The address the provider returns to; the self-hoster registers it with the client.
pub fn redirect_uri() -> String {
    let origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default();
    format!("{origin}{CALLBACK}")
}

#[derive(Deserialize)]
struct Returned {
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

/// Where a client's token requests (the code exchange, each refresh) are posted.
#[derive(Clone, Debug, PartialEq)]
pub struct TokenEndpoint {
    pub url: String,
    /// The proxy's access code, sent (as `Authorization: Bearer`) only to the proxy's own
    /// route, never to a provider.
    pub access_code: Option<AccessCode>,
}

impl TokenEndpoint {
    /// The provider's `token` endpoint for a public client; the proxy's route, with this
    /// session's access code, for a confidential one.
    fn of(client: &Client, provider_token: &str, access_code: Option<AccessCode>) -> TokenEndpoint {
        if client.confidential {
            TokenEndpoint {
                url: PROXY_TOKEN_PATH.into(),
                access_code,
            }
        } else {
            TokenEndpoint {
                url: provider_token.into(),
                access_code: None,
            }
        }
    }

    /// Whether the answer came from the proxy's own gate (not the provider): a missing or
    /// wrong access code.
    pub fn refused_by_proxy(&self, status: u16, body: &str) -> bool {
        self.url == PROXY_TOKEN_PATH
            && status == 401
            && serde_json::from_str::<serde_json::Value>(body)
                .is_ok_and(|v| v["error"] == "unauthorized")
    }

    /// POSTs a token request's `fields` here.
    pub async fn post(&self, fields: &[(&str, &str)]) -> Result<http::Answer, OAuthError> {
        let bearer = self.access_code.as_ref().map(AccessCode::expose_secret);
        let answer = http::post_form(&self.url, fields, bearer).await?;
        if self.refused_by_proxy(answer.status, &answer.body) {
            return Err(OAuthError::AccessCode);
        }
        Ok(answer)
    }
}

/// Signs in through `client`; `login_hint` pre-fills the provider's page with the address;
/// `access_code` is the proxy's, for a confidential client's code exchange.
/// Must be called from a click (browsers open popups only then).
pub async fn sign_in(
    client: &Client,
    login_hint: &str,
    access_code: Option<AccessCode>,
) -> Result<Grant, OAuthError> {
    let (verifier, state, nonce) = (
        pkce::random_value()?,
        pkce::random_value()?,
        pkce::random_value()?,
    );
    // The popup opens first, synchronously in the click, on a blank page; discovery runs
    // while it shows, then it is sent to the provider.
    let window = web_sys::window().ok_or(OAuthError::PopupBlocked)?;
    CANCELLED.with(|c| c.set(false));
    let popup = window
        .open_with_url_and_target_and_features(
            "about:blank",
            "postbag-oauth",
            "popup,width=520,height=680",
        )
        .ok()
        .flatten()
        .ok_or(OAuthError::PopupBlocked)?;
    let result = run(
        client,
        login_hint,
        access_code,
        &popup,
        [&verifier, &state, &nonce],
    )
    .await;
    let _ = popup.close();
    result
}

async fn run(
    client: &Client,
    login_hint: &str,
    access_code: Option<AccessCode>,
    popup: &web_sys::Window,
    [verifier, state, nonce]: [&str; 3],
) -> Result<Grant, OAuthError> {
    let endpoints = discovery::endpoints(client).await?;
    let token_endpoint = TokenEndpoint::of(client, &endpoints.token, access_code);
    let redirect = redirect_uri();
    let url = web_sys::Url::new(&endpoints.authorization)
        .map_err(|_| OAuthError::Discovery("the authorization endpoint is not a URL".into()))?;
    let query = url.search_params();
    let challenge = pkce::challenge(verifier);
    for (k, v) in [
        ("response_type", "code"),
        ("client_id", client.client_id.as_str()),
        ("redirect_uri", redirect.as_str()),
        ("scope", client.scope().as_str()),
        ("state", state),
        ("nonce", nonce),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
        // A refresh token is given with consent (OpenID Connect's offline_access, Google's
        // access_type=offline).
        ("prompt", "consent"),
        ("access_type", "offline"),
    ] {
        query.append(k, v);
    }
    if !login_hint.is_empty() {
        query.append("login_hint", login_hint);
    }
    let returned = Rc::new(RefCell::new(None::<Returned>));
    let channel = web_sys::BroadcastChannel::new(CHANNEL)
        .map_err(|_| OAuthError::Network("no BroadcastChannel".into()))?;
    let wanted = state.to_string();
    let keep = returned.clone();
    let on_message =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
            let text = js_sys::JSON::stringify(&ev.data())
                .ok()
                .and_then(|s| s.as_string())
                .unwrap_or_default();
            if let Ok(r) = serde_json::from_str::<Returned>(&text)
                && r.state.as_deref() == Some(wanted.as_str())
            {
                *keep.borrow_mut() = Some(r);
            }
        });
    channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    popup
        .location()
        .set_href(&url.href())
        .map_err(|_| OAuthError::PopupBlocked)?;
    let started = js_sys::Date::now();
    let answer = loop {
        TimeoutFuture::new(POLL_MS).await;
        if let Some(r) = returned.borrow_mut().take() {
            break Ok(r);
        }
        if CANCELLED.with(Cell::get) {
            break Err(OAuthError::Cancelled);
        }
        if js_sys::Date::now() - started > GIVE_UP_MS {
            break Err(OAuthError::TimedOut);
        }
    };
    channel.set_onmessage(None);
    channel.close();
    drop(on_message);
    let answer = answer?;
    if answer.state.as_deref() != Some(state) {
        return Err(OAuthError::StateMismatch);
    }
    let code = match (answer.code, answer.error) {
        (Some(code), None) if !code.is_empty() => code,
        (_, error) => return Err(OAuthError::Refused(error_code(&error.unwrap_or_default()))),
    };
    let exchanged = token_endpoint
        .post(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &redirect),
            ("client_id", &client.client_id),
            ("code_verifier", verifier),
        ])
        .await?;
    let (tokens, id_token) =
        tokens::read_answer(exchanged.status, &exchanged.body, js_sys::Date::now(), None)?;
    // With `openid` asked, the ID token is what proves the answer belongs to this sign-in.
    match id_token {
        Some(id) => {
            tokens::check_id_token(&id, nonce, &client.client_id, endpoints.issuer.as_deref())?
        }
        None if client.scope().split(' ').any(|s| s == "openid") => {
            return Err(OAuthError::BadIdToken("missing"));
        }
        None => {}
    }
    Ok(Grant {
        client: client.clone(),
        tokens,
    })
}

/// Where `client`'s refreshes go (discovery again for a public client: nothing about a
/// provider is stored beyond its issuer; none for a confidential one, whose endpoint the
/// proxy knows).
pub async fn token_endpoint(
    client: &Client,
    access_code: Option<AccessCode>,
) -> Result<TokenEndpoint, OAuthError> {
    if client.confidential {
        return Ok(TokenEndpoint::of(client, "", access_code));
    }
    let endpoints = discovery::endpoints(client).await?;
    Ok(TokenEndpoint::of(client, &endpoints.token, None))
}
