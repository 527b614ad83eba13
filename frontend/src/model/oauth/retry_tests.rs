//! A token the server refuses although it looked unexpired: one refresh, one more try, then
//! "Sign in again", never a loop. The provider is `fetch` answered in the page
//! (`test_support.rs`: rotated refresh tokens, a spent one refused); the server is the
//! `attempt` closure, which counts its logins.

use std::cell::RefCell;

use postbag_protocol::pop3::Secret;
use wasm_bindgen_test::wasm_bindgen_test as test;

use super::test_support::{StubProvider, client, oauth_account, tokens};
use super::{Retried, keep_oauth, tokens_of, with_one_retry};
use crate::account::oauth::Grant;
use crate::store::{Account, Store};

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

const ISSUER: &str = "http://127.0.0.1:7";

/// An account signed in this session with `refresh` as its refresh token and an access token
/// `at1` good for another hour.
async fn signed_in(id: &str, refresh: &str) -> Account {
    let name = format!("postbag-test-retry-{}", js_sys::Math::random());
    crate::model::set_store(Store::open_named(&name).await.unwrap());
    let mut account = oauth_account(id);
    let grant = Grant {
        client: client(ISSUER),
        tokens: tokens(refresh, js_sys::Date::now() + 3_600_000.0),
    };
    keep_oauth(&mut account, Some(&grant), None).await.unwrap();
    crate::model::store().put_account(&account).await.unwrap();
    account
}

/// Runs [`with_one_retry`] against a server that accepts only the tokens `accepts` allows;
/// returns the outcome, the tokens the server saw, and the provider's token requests.
async fn login(
    account: &Account,
    accepts: impl Fn(&str) -> bool,
) -> (Retried<bool>, Vec<String>, u32) {
    let provider = StubProvider::start(ISSUER);
    let seen = RefCell::new(Vec::new());
    let attempt = async |token: Secret<String>| {
        seen.borrow_mut().push(token.expose_secret().clone());
        accepts(token.expose_secret())
    };
    let refused = |accepted: &bool| !*accepted;
    let (retried, _) = with_one_retry(account, Secret::new("at1".into()), refused, attempt).await;
    let posts = provider.token_posts();
    drop(provider);
    (retried, seen.into_inner(), posts)
}

#[test]
async fn a_refused_token_that_looked_good_is_refreshed_once_and_tried_again() {
    let account = signed_in("revoked@example.org", "rt1").await;
    let (retried, seen, posts) = login(&account, |t| t != "at1").await;
    assert_eq!(
        retried,
        Retried {
            result: true,
            sign_in_again: false
        }
    );
    assert_eq!(seen, ["at1", "at2"]);
    assert_eq!(posts, 1, "one refresh_token grant");
    let kept = tokens_of(&account.id).unwrap();
    assert_eq!(kept.access.expose_secret(), "at2");
}

#[test]
async fn a_second_refusal_asks_to_sign_in_again_and_ends_there() {
    let account = signed_in("refuses-all@example.org", "rt1").await;
    let (retried, seen, posts) = login(&account, |_| false).await;
    assert_eq!(
        retried,
        Retried {
            result: false,
            sign_in_again: true
        }
    );
    assert_eq!(seen, ["at1", "at2"], "two logins, not a loop");
    assert_eq!(posts, 1);
}

#[test]
async fn a_refused_refresh_asks_to_sign_in_again_without_a_second_login() {
    // The provider revoked the grant: the refresh token is refused.
    let account = signed_in("grant-gone@example.org", "rt-revoked").await;
    let (retried, seen, posts) = login(&account, |_| false).await;
    assert_eq!(
        retried,
        Retried {
            result: false,
            sign_in_again: true
        }
    );
    assert_eq!(seen, ["at1"]);
    assert_eq!(posts, 1);
    assert!(
        tokens_of(&account.id).is_none(),
        "the refused tokens are forgotten"
    );
}

#[test]
async fn an_accepted_token_is_not_refreshed() {
    let account = signed_in("fine@example.org", "rt1").await;
    let (retried, seen, posts) = login(&account, |_| true).await;
    assert!(retried.result && !retried.sign_in_again);
    assert_eq!(seen, ["at1"]);
    assert_eq!(posts, 0);
}
