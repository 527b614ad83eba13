//! "Check in the background when Postbag is closed": the one secret that the service worker
//! can open without the user. The service worker never has the passphrase, and the session's
//! passwords live in a page's memory, so an account opted in keeps its password (and the
//! proxy's access code) sealed under the device key: a random AES-256-GCM key generated here,
//! non-extractable (WebCrypto never hands out its bytes, not even to this app) and kept in
//! the device database (`store/device.rs`).
//!
//! What this protects against, honestly: a copy of the profile's files or a backup does not
//! reveal the password (the key's bytes are not readable through any web API, and a backup
//! never carries this database). What it does not: any script running on this site, in this
//! browser profile, can ask WebCrypto to decrypt with the key, whereas the passphrase-sealed
//! copy needs the passphrase. The UI and README say so beside the opt-in.
//!
//! Each seal is bound to its account (AES-GCM additional data `CONTEXT` + the account id), so
//! one account's sealed record can never be read as another's.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use js_sys::{Array, Object, Reflect, Uint8Array};
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::CryptoKey;

use super::crypto::{CryptoError, failed, gcm, random, subtle};
use super::remembered::{self, Remembered};
use crate::store::StoreError;
use crate::store::device::{DeviceDb, Part};

/// The additional data's prefix; the account id follows it.
const CONTEXT: &[u8] = b"postbag.background.v1 ";
/// The device key's name in [`Part::Keys`].
const DEVICE_KEY: &str = "device";

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BackgroundSecretError {
    #[error("could not keep the background secret: {0}")]
    Store(String),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error("the device key is gone (site data was cleared): turn background checks on again")]
    NoDeviceKey,
}

impl From<StoreError> for BackgroundSecretError {
    fn from(e: StoreError) -> Self {
        BackgroundSecretError::Store(e.to_string())
    }
}

/// A secret as stored: IV and ciphertext (base64), nothing in the clear.
#[derive(Serialize, Deserialize)]
struct Sealed {
    iv: String,
    ciphertext: String,
}

fn context(account: &str) -> Vec<u8> {
    [CONTEXT, account.as_bytes()].concat()
}

/// The device key, created on first use. Two tabs creating it at once keep the first.
async fn device_key(db: &DeviceDb, create: bool) -> Result<CryptoKey, BackgroundSecretError> {
    if let Some(key) = db.get(Part::Keys, DEVICE_KEY).await? {
        return Ok(key.unchecked_into());
    }
    if !create {
        return Err(BackgroundSecretError::NoDeviceKey);
    }
    let (_, subtle) = subtle()?;
    let params = Object::new();
    Reflect::set(&params, &"name".into(), &"AES-GCM".into()).map_err(failed)?;
    Reflect::set(&params, &"length".into(), &256.into()).map_err(failed)?;
    let usages = Array::of2(&"encrypt".into(), &"decrypt".into());
    // `extractable: false`: exportKey refuses it, here and in any other script of the site.
    let promise = subtle
        .generate_key_with_object(&params, false, &usages)
        .map_err(failed)?;
    let key: CryptoKey = JsFuture::from(promise)
        .await
        .map_err(failed)?
        .unchecked_into();
    if db.add(Part::Keys, DEVICE_KEY, &key).await? {
        return Ok(key);
    }
    Box::pin(device_key(db, false)).await
}

/// Seals `secret` for background checks of `account`, replacing what was there.
pub async fn keep(
    db: &DeviceDb,
    account: &str,
    secret: &Remembered,
) -> Result<(), BackgroundSecretError> {
    let key = device_key(db, true).await?;
    let (crypto, subtle) = subtle()?;
    let iv = random(&crypto, 12)?;
    let plain = remembered::encode(secret);
    let promise = subtle
        .encrypt_with_object_and_buffer_source(
            &gcm(&iv, &context(account)),
            &key,
            &Uint8Array::from(&plain[..]),
        )
        .map_err(failed)?;
    let ct = JsFuture::from(promise).await.map_err(failed)?;
    let sealed = Sealed {
        iv: B64.encode(&iv),
        ciphertext: B64.encode(Uint8Array::new(&ct).to_vec()),
    };
    let text = serde_json::to_string(&sealed).expect("two strings serialise");
    db.put(Part::Secrets, account, &text.into()).await?;
    Ok(())
}

/// The secret kept for `account`, if it opted in.
pub async fn open(
    db: &DeviceDb,
    account: &str,
) -> Result<Option<Remembered>, BackgroundSecretError> {
    let Some(text) = db.get(Part::Secrets, account).await? else {
        return Ok(None);
    };
    let damaged = || BackgroundSecretError::Crypto(CryptoError::WrongPassphrase);
    let sealed: Sealed = text
        .as_string()
        .and_then(|t| serde_json::from_str(&t).ok())
        .ok_or_else(damaged)?;
    let iv = B64.decode(&sealed.iv).map_err(|_| damaged())?;
    let ct = B64.decode(&sealed.ciphertext).map_err(|_| damaged())?;
    let key = device_key(db, false).await?;
    let (_, subtle) = subtle()?;
    let promise = subtle
        .decrypt_with_object_and_buffer_source(
            &gcm(&iv, &context(account)),
            &key,
            &Uint8Array::from(&ct[..]),
        )
        .map_err(failed)?;
    let plain = JsFuture::from(promise).await.map_err(|_| damaged())?;
    Ok(Some(remembered::decode(
        false,
        Uint8Array::new(&plain).to_vec(),
    )?))
}

/// Forgets `account`'s background secret (the opt-in turned off, or the account removed).
pub async fn forget(db: &DeviceDb, account: &str) -> Result<(), BackgroundSecretError> {
    db.delete(Part::Secrets, account).await?;
    Ok(())
}

/// The accounts with a background secret.
pub async fn opted_in(db: &DeviceDb) -> Result<Vec<String>, BackgroundSecretError> {
    Ok(db.keys(Part::Secrets).await?)
}
