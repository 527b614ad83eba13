//! "Check in the background when Postbag is closed", per account: what the accounts screen
//! calls. Opting in seals the session's password (and the proxy's access code) under the
//! device key (`account/background.rs`); opting out forgets it. Periodic Background Sync is
//! registered while at least one account is opted in (`pwa/periodic.rs`), and the service
//! worker's check (`background.rs`) runs only the accounts opted in.

use super::credentials::{session_access_code, session_password};
use crate::account::background::{self as secrets, BackgroundSecretError};
use crate::account::remembered::Remembered;
use crate::pwa::periodic::{self, Periodic};
use crate::store::Account;
use crate::store::device::DeviceDb;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OptInError {
    #[error("Postbag needs this account's password in this session first: press Sync and type it")]
    NeedsPassword,
    #[error("an account that signs in with OAuth is not checked in the background")]
    OAuth,
    #[error(transparent)]
    Secret(#[from] BackgroundSecretError),
}

impl From<crate::store::StoreError> for OptInError {
    fn from(e: crate::store::StoreError) -> Self {
        OptInError::Secret(e.into())
    }
}

/// The accounts opted in on this device.
pub async fn opted_in() -> Result<Vec<String>, OptInError> {
    let device = DeviceDb::open().await?;
    let ids = secrets::opted_in(&device).await;
    device.close();
    Ok(ids?)
}

/// Opts `account` in (`on`) or out, then registers or unregisters the periodic check as the
/// accounts opted in now need; returns what the browser allows.
pub async fn set(account: &Account, on: bool) -> Result<Periodic, OptInError> {
    let device = DeviceDb::open().await?;
    let done = async {
        if on {
            if account.oauth.is_some() {
                return Err(OptInError::OAuth);
            }
            let password = session_password(&account.id).ok_or(OptInError::NeedsPassword)?;
            let secret = Remembered {
                password,
                access_code: session_access_code(),
            };
            secrets::keep(&device, &account.id, &secret).await?;
        } else {
            secrets::forget(&device, &account.id).await?;
        }
        Ok(!secrets::opted_in(&device).await?.is_empty())
    }
    .await;
    device.close();
    Ok(periodic::set(done?).await)
}

/// Seals the session's credentials again for every account opted in that has its password in
/// this session. Called after "Save account" (a changed password) and a newly typed access
/// code: the worker's copy would otherwise be refused at its next login, and the refusal
/// pauses the account's checks until the user ticks the box again.
pub async fn renew() -> Result<(), OptInError> {
    let device = DeviceDb::open().await?;
    let done = renew_in(&device).await;
    device.close();
    done
}

/// [`renew`] in a given device database.
pub async fn renew_in(device: &DeviceDb) -> Result<(), OptInError> {
    for id in secrets::opted_in(device).await? {
        let Some(password) = session_password(&id) else {
            continue;
        };
        let secret = Remembered {
            password,
            access_code: session_access_code(),
        };
        secrets::keep(device, &id, &secret).await?;
    }
    Ok(())
}

/// Registers the periodic check again if any account is opted in (at start: the permission
/// may have been granted since, the app installed).
pub async fn refresh() -> Periodic {
    match opted_in().await {
        Ok(ids) if !ids.is_empty() => periodic::set(true).await,
        _ => Periodic::Off,
    }
}
