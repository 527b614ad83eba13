//! The credentials of this session: mail passwords and the proxy's access code. They live in
//! memory only (thread-locals: wasm32 is single-threaded and they are not `Send`), and at rest
//! only sealed under the user's passphrase, when the user opted in (`account/remembered.rs`).

use std::cell::RefCell;
use std::collections::HashMap;

use postbag_protocol::pop3::Secret;

use crate::account::crypto::CryptoError;
use crate::account::remembered::{self, Remembered};
use crate::store::Account;
use crate::tunnel::AccessCode;

thread_local! {
    /// Passwords typed (or unsealed) this session, by account id.
    static PASSWORDS: RefCell<HashMap<String, Secret<String>>> = RefCell::new(HashMap::new());
    /// The access code of the proxy: the app talks to one proxy, the one that served it.
    static ACCESS_CODE: RefCell<Option<AccessCode>> = const { RefCell::new(None) };
}

pub fn session_password(account: &str) -> Option<Secret<String>> {
    PASSWORDS.with(|p| p.borrow().get(account).cloned())
}

pub fn set_session_password(account: &str, password: Secret<String>) {
    PASSWORDS.with(|p| p.borrow_mut().insert(account.to_string(), password));
}

pub fn session_access_code() -> Option<AccessCode> {
    ACCESS_CODE.with(|c| c.borrow().clone())
}

pub fn set_session_access_code(code: AccessCode) {
    ACCESS_CODE.with(|c| *c.borrow_mut() = Some(code));
}

/// The password prompt's answer: the passphrase of the account's sealed record (which brings
/// back the password and any access code sealed with it, or an OAuth account's tokens), else
/// the password itself.
pub async fn unlock(account: &Account, typed: String) -> Result<(), CryptoError> {
    // An OAuth account has no password: the passphrase unseals its tokens.
    if account.oauth.is_some() {
        return super::oauth::unlock_tokens(account, &typed).await;
    }
    match &account.sealed_password {
        Some(sealed) => {
            let r = remembered::unseal(sealed, &typed).await?;
            set_session_password(&account.id, r.password);
            if let Some(code) = r.access_code {
                set_session_access_code(code);
            }
        }
        None => set_session_password(&account.id, Secret::new(typed)),
    }
    Ok(())
}

/// What "Save account" does with the credentials: keeps them for the session and, with a
/// `passphrase` (the user asked to remember the password), seals them into `account`. Without
/// a new password the one already sealed is kept, unsealed by that passphrase, so an access
/// code can join it; without a new code the session's or the sealed one stays.
pub async fn keep(
    account: &mut Account,
    password: Option<Secret<String>>,
    code: Option<AccessCode>,
    passphrase: Option<&str>,
) -> Result<(), CryptoError> {
    if let Some(phrase) = passphrase {
        let old = match (&password, &account.sealed_password) {
            (None, Some(sealed)) => Some(remembered::unseal(sealed, phrase).await?),
            _ => None,
        };
        let password = password
            .clone()
            .or(old.as_ref().map(|r| r.password.clone()));
        if let Some(password) = password {
            let access_code = code
                .clone()
                .or_else(session_access_code)
                .or(old.and_then(|r| r.access_code));
            let r = Remembered {
                password,
                access_code,
            };
            account.sealed_password = Some(remembered::seal(&r, phrase).await?);
        }
    }
    if let Some(password) = password {
        set_session_password(&account.id, password);
    }
    if let Some(code) = code {
        set_session_access_code(code);
    }
    Ok(())
}

/// Puts `code` into the account's sealed record (the passphrase unseals it first). The caller
/// stores the account.
pub async fn reseal_with_code(
    account: &mut Account,
    code: &AccessCode,
    passphrase: &str,
) -> Result<(), CryptoError> {
    let Some(sealed) = &account.sealed_password else {
        return Ok(());
    };
    let mut r = remembered::unseal(sealed, passphrase).await?;
    r.access_code = Some(code.clone());
    account.sealed_password = Some(remembered::seal(&r, passphrase).await?);
    Ok(())
}
