//! The OAuth accounts' side of the session: their tokens in memory (like passwords in
//! `credentials.rs`), the key that seals them again after a refresh (derived from the
//! passphrase once, never the passphrase itself), the access token handed to a sync (refreshed
//! first when it expires soon), one refresh and one more try when the server refuses a token
//! that looked good ([`with_one_retry`]), and "Sign in again" when the grant is gone.

use std::cell::RefCell;
use std::collections::HashMap;

use leptos::prelude::*;
use postbag_protocol::pop3::Secret;

use super::{Model, store};
use crate::account::crypto::{self, CryptoError, SealingKey};
use crate::account::oauth::{self, Client, Grant, OAuthError, Tokens, sealed};
use crate::store::Account;

thread_local! {
    /// Tokens signed in, unsealed or refreshed this session, by account id.
    static TOKENS: RefCell<HashMap<String, Tokens>> = RefCell::new(HashMap::new());
    /// The key each remembered account's tokens are sealed under, by account id.
    static KEYS: RefCell<HashMap<String, SealingKey>> = RefCell::new(HashMap::new());
    /// The proxy's client list, once read.
    static CLIENTS: RefCell<Option<Vec<Client>>> = const { RefCell::new(None) };
}

fn tokens_of(id: &str) -> Option<Tokens> {
    TOKENS.with(|t| t.borrow().get(id).cloned())
}

/// Whether this session holds tokens for the account `id`.
pub(super) fn has_tokens(id: &str) -> bool {
    tokens_of(id).is_some()
}

fn key_of(id: &str) -> Option<SealingKey> {
    KEYS.with(|k| k.borrow().get(id).cloned())
}

/// The clients this deployment offers ("Sign in with …" buttons); read from the proxy once.
pub async fn listed_clients() -> Vec<Client> {
    if let Some(listed) = CLIENTS.with(|c| c.borrow().clone()) {
        return listed;
    }
    // Kept once read; not when the proxy could not be asked (offline), to ask again later.
    let Ok(listed) = oauth::clients().await else {
        return Vec::new();
    };
    CLIENTS.with(|c| *c.borrow_mut() = Some(listed.clone()));
    listed
}

/// How an account can log in right now, before its lock is taken.
pub(super) enum Login {
    /// A password account, with this session's password.
    Password(Secret<String>),
    /// An OAuth account with tokens in memory: the access token is fetched inside the lock.
    OAuth,
    /// The password, or the passphrase that unseals the password or tokens, is needed.
    NeedsSecret,
    /// An OAuth account without tokens, none sealed: only signing in again helps.
    NeedsSignIn,
}

pub(super) fn login_for(account: &Account) -> Login {
    match &account.oauth {
        None => match super::session_password(&account.id) {
            Some(p) => Login::Password(p),
            None => Login::NeedsSecret,
        },
        Some(_) if tokens_of(&account.id).is_some() => Login::OAuth,
        Some(login) if login.sealed_tokens.is_some() => Login::NeedsSecret,
        Some(_) => Login::NeedsSignIn,
    }
}

/// The password prompt's answer for an OAuth account: the passphrase unseals its tokens.
pub async fn unlock_tokens(account: &Account, passphrase: &str) -> Result<(), CryptoError> {
    let Some(sealed_tokens) = account
        .oauth
        .as_ref()
        .and_then(|o| o.sealed_tokens.as_ref())
    else {
        return Ok(());
    };
    let (key, tokens) = sealed::unseal(sealed_tokens, &account.id, passphrase).await?;
    KEYS.with(|k| k.borrow_mut().insert(account.id.clone(), key));
    TOKENS.with(|t| t.borrow_mut().insert(account.id.clone(), tokens));
    Ok(())
}

/// Setup's "Save account". With a new sign-in the account becomes an OAuth account; its
/// tokens are kept for the session and, with a `passphrase`, sealed into it. Without one an
/// OAuth account keeps its tokens as stored now, not as they were when the form opened (a
/// refresh since then sealed new ones, and the old refresh token may be spent).
pub async fn keep_oauth(
    account: &mut Account,
    grant: Option<&Grant>,
    passphrase: Option<&str>,
) -> Result<(), String> {
    let Some(grant) = grant else {
        if account.oauth.is_some()
            && let Ok(Some(stored)) = store().account(&account.id).await
            && stored.oauth.is_some()
        {
            account.oauth = stored.oauth;
        }
        return Ok(());
    };
    keep_grant(account, grant, passphrase)
        .await
        .map_err(|e| e.to_string())
}

async fn keep_grant(
    account: &mut Account,
    grant: &Grant,
    passphrase: Option<&str>,
) -> Result<(), CryptoError> {
    let mut login = grant.client.login();
    if let Some(phrase) = passphrase {
        let key = crypto::sealing_key(phrase).await?;
        login.sealed_tokens = Some(sealed::seal(&key, &account.id, &grant.tokens).await?);
        KEYS.with(|k| k.borrow_mut().insert(account.id.clone(), key));
    } else {
        KEYS.with(|k| k.borrow_mut().remove(&account.id));
    }
    account.oauth = Some(login);
    TOKENS.with(|t| {
        t.borrow_mut()
            .insert(account.id.clone(), grant.tokens.clone())
    });
    Ok(())
}

/// Tokens refreshed (or signed in again) for `account`: kept in memory and, when the account
/// remembers them, sealed again under the session's key into the account as stored now (not
/// the caller's copy, which another tab may have changed), which is returned once stored.
/// Without the key (never unsealed this session) the sealed copy, now stale, is dropped.
async fn keep_refreshed(account: &Account, tokens: Tokens) -> Result<Option<Account>, String> {
    TOKENS.with(|t| t.borrow_mut().insert(account.id.clone(), tokens.clone()));
    let stored = store()
        .account(&account.id)
        .await
        .map_err(|e| e.to_string())?;
    let Some(mut updated) = stored else {
        return Ok(None);
    };
    let Some(login) = updated.oauth.as_mut().filter(|l| l.sealed_tokens.is_some()) else {
        return Ok(None);
    };
    login.sealed_tokens = match key_of(&account.id) {
        Some(key) => Some(
            sealed::seal(&key, &account.id, &tokens)
                .await
                .map_err(|e| e.to_string())?,
        ),
        None => None,
    };
    store()
        .put_account(&updated)
        .await
        .map_err(|e| e.to_string())?;
    Ok(Some(updated))
}

/// The access token to log in to `account` with: the one in memory, or one another tab
/// stored since (sealed under the same key), refreshed first when it expires within the
/// margin (`Tokens::needs_refresh`). Also returns the account as stored after a refresh that
/// sealed new tokens, for the caller's lists.
///
/// One refresh per account at a time, in this tab and across tabs (the Web Lock
/// [`refresh_lock`]): providers that rotate refresh tokens and detect reuse (Keycloak,
/// node-oidc-provider) answer a second use of the same refresh token with `invalid_grant` and
/// revoke the whole grant. A caller that waited reads the tokens again and uses the ones the
/// holder got.
pub async fn access_token(
    account: &Account,
) -> Result<(Secret<String>, Option<Account>), OAuthError> {
    let id = &account.id;
    let tokens = tokens_of(id).ok_or(OAuthError::InvalidGrant)?;
    if !tokens.needs_refresh(js_sys::Date::now()) {
        return Ok((tokens.access, None));
    }
    crate::outbox::lock::queued(&refresh_lock(id), refresh_held(account, None)).await
}

/// A new access token for `account` after its server refused `refused`, which looked
/// unexpired (revoked at the provider, or a server that judges it otherwise): refreshed now
/// whatever its expiry, unless another caller replaced it meanwhile (then that one).
pub async fn access_token_after_refusal(
    account: &Account,
    refused: &Secret<String>,
) -> Result<(Secret<String>, Option<Account>), OAuthError> {
    let lock = refresh_lock(&account.id);
    crate::outbox::lock::queued(&lock, refresh_held(account, Some(refused))).await
}

/// Why "Sign in again" did not finish: the sign-in itself (a blocked popup among them, which
/// the view offers to retry), or keeping its tokens.
#[derive(Debug, thiserror::Error)]
pub enum SignInAgainError {
    #[error(transparent)]
    SignIn(#[from] OAuthError),
    #[error("Signed in, but the new sign-in could not be kept: {0}")]
    Keep(String),
}

impl SignInAgainError {
    /// The browser blocked the sign-in window: a click may open it now.
    pub fn popup_blocked(&self) -> bool {
        matches!(self, SignInAgainError::SignIn(OAuthError::PopupBlocked))
    }
}

/// How a login with a token ended after [`with_one_retry`].
#[derive(Debug, PartialEq)]
pub struct Retried<T> {
    /// The last attempt's result.
    pub result: T,
    /// Only a new sign-in can help: the server refused a freshly refreshed token too, or the
    /// provider refused the refresh (the grant is gone).
    pub sign_in_again: bool,
}

/// Logs in to `account`'s server with `token` through `attempt`; when `refused` says the
/// server turned the token down, refreshes once (whatever the token's expiry) and attempts
/// once more. Never more than that: a second refusal is the answer, and the user is asked to
/// sign in again, so a server that refuses every token meets two logins, not a loop. A refresh
/// that fails for another reason (the provider unreachable) leaves the first refusal as it is.
pub async fn with_one_retry<T>(
    account: &Account,
    token: Secret<String>,
    refused: impl Fn(&T) -> bool,
    mut attempt: impl AsyncFnMut(Secret<String>) -> T,
) -> (Retried<T>, Option<Account>) {
    let first = attempt(token.clone()).await;
    if !refused(&first) {
        return (
            Retried {
                result: first,
                sign_in_again: false,
            },
            None,
        );
    }
    match access_token_after_refusal(account, &token).await {
        Ok((fresh, updated)) => {
            let result = attempt(fresh).await;
            let sign_in_again = refused(&result);
            (
                Retried {
                    result,
                    sign_in_again,
                },
                updated,
            )
        }
        Err(e) => (
            Retried {
                result: first,
                sign_in_again: e.needs_sign_in(),
            },
            None,
        ),
    }
}

/// The Web Lock held while an account's tokens are read and refreshed.
pub fn refresh_lock(id: &str) -> String {
    format!("postbag-oauth {id}")
}

/// Inside the refresh lock: the tokens as they are now, refreshed when they expire soon, or,
/// with `refused`, when the access token is still the one the server refused.
async fn refresh_held(
    account: &Account,
    refused: Option<&Secret<String>>,
) -> Result<(Secret<String>, Option<Account>), OAuthError> {
    let id = &account.id;
    // Read inside the lock: a caller before this one may have refreshed them.
    let mut tokens = tokens_of(id).ok_or(OAuthError::InvalidGrant)?;
    // Another tab may have refreshed (and rotated the refresh token) meanwhile: its tokens,
    // sealed under the same key into the account as stored now, are the ones that still work.
    let stored = store().account(id).await.ok().flatten();
    if let (Some(key), Some(sealed_tokens)) = (
        key_of(id),
        stored
            .as_ref()
            .and_then(|a| a.oauth.as_ref())
            .and_then(|o| o.sealed_tokens.as_ref()),
    ) && let Ok(theirs) = sealed::unseal_with(&key, sealed_tokens, id).await
        && theirs.expires_at > tokens.expires_at
    {
        TOKENS.with(|t| t.borrow_mut().insert(id.clone(), theirs.clone()));
        tokens = theirs;
    }
    let stale = match refused {
        None => tokens.needs_refresh(js_sys::Date::now()),
        Some(refused) => tokens.access == *refused,
    };
    if !stale {
        return Ok((tokens.access, None));
    }
    let login = account.oauth.as_ref().ok_or(OAuthError::InvalidGrant)?;
    let client = Client::of_login(login, &listed_clients().await);
    let endpoint = oauth::token_endpoint(&client, super::session_access_code()).await?;
    match oauth::refresh(&endpoint, &client.client_id, &tokens).await {
        Ok(fresh) => {
            let access = fresh.access.clone();
            // Sealing or storing failed: the fresh tokens still serve this session.
            let updated = keep_refreshed(account, fresh).await.ok().flatten();
            Ok((access, updated))
        }
        Err(e) => {
            // Forgotten only if still the ones refused: "Sign in again" may have put new
            // tokens in meanwhile, which must stay.
            if e.needs_sign_in() {
                TOKENS.with(|t| {
                    let mut all = t.borrow_mut();
                    if all.get(id).is_some_and(|now| now.refresh == tokens.refresh) {
                        all.remove(id);
                    }
                });
            }
            Err(e)
        }
    }
}

impl Model {
    /// [`access_token`], with this tab's lists given the account as stored after a refresh.
    pub(super) async fn access_token(
        self,
        account: &Account,
    ) -> Result<Secret<String>, OAuthError> {
        let (token, updated) = access_token(account).await?;
        self.refreshed(updated);
        Ok(token)
    }

    /// This tab's lists given the account as stored after a refresh that sealed new tokens.
    pub(super) fn refreshed(self, updated: Option<Account>) {
        if let Some(updated) = updated {
            self.accounts
                .update(|all| super::accounts::upsert(all, &updated));
            if self
                .account
                .with_untracked(|a| a.as_ref().is_some_and(|a| a.id == updated.id))
            {
                self.account.set(Some(updated));
            }
        }
    }

    /// "Sign in again": the sign-in flow for `account`'s client; its new tokens replace the
    /// old ones (sealed again if they were remembered), checks resume and a check runs.
    pub async fn sign_in_again(self, account: Account) -> Result<(), SignInAgainError> {
        let Some(login) = account.oauth.clone() else {
            return Ok(());
        };
        let client = Client::of_login(&login, &listed_clients().await);
        let grant = oauth::sign_in(&client, &account.email, super::session_access_code()).await?;
        // The record as stored now: another tab may have changed it.
        let stored = store()
            .account(&account.id)
            .await
            .map_err(|e| SignInAgainError::Keep(e.to_string()))?
            .unwrap_or(account);
        if let Some(updated) = keep_refreshed(&stored, grant.tokens)
            .await
            .map_err(SignInAgainError::Keep)?
        {
            self.accounts
                .update(|all| super::accounts::upsert(all, &updated));
        }
        self.checks.want_sign_in.update(|w| {
            w.remove(&stored.id);
        });
        self.resume_checks(&stored.id);
        self.sync_now(&stored.id);
        Ok(())
    }
}

#[cfg(all(test, target_arch = "wasm32"))]
mod retry_tests;
#[cfg(all(test, target_arch = "wasm32"))]
mod test_support;
#[cfg(all(test, target_arch = "wasm32"))]
mod tests;
