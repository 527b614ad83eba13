//! Sealing with WebCrypto: PBKDF2-SHA-256 (600 000 iterations, random 16-byte salt) derives an
//! AES-256-GCM key from the user's passphrase; a random 12-byte IV per seal. The passphrase
//! itself is never stored. What is sealed, and in which format, is `remembered.rs`'s business.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use js_sys::{Array, Object, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AesGcmParams, CryptoKey, SubtleCrypto};

use crate::store::SealedSecret;

pub const ITERATIONS: u32 = 600_000;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CryptoError {
    #[error("WebCrypto is not available (the page must be served over HTTPS or localhost)")]
    Unavailable,
    #[error("wrong passphrase, or the stored password is damaged")]
    WrongPassphrase,
    #[error("WebCrypto failed: {0}")]
    Failed(String),
}

pub(crate) fn failed(e: JsValue) -> CryptoError {
    CryptoError::Failed(format!("{e:?}"))
}

pub(crate) fn subtle() -> Result<(web_sys::Crypto, SubtleCrypto), CryptoError> {
    let crypto = crate::global::crypto().ok_or(CryptoError::Unavailable)?;
    let subtle = crypto.subtle();
    if subtle.is_undefined() {
        return Err(CryptoError::Unavailable);
    }
    Ok((crypto, subtle))
}

pub(crate) fn random(crypto: &web_sys::Crypto, n: usize) -> Result<Vec<u8>, CryptoError> {
    let mut buf = vec![0u8; n];
    crypto
        .get_random_values_with_u8_array(&mut buf)
        .map_err(failed)?;
    Ok(buf)
}

async fn derive(
    subtle: &SubtleCrypto,
    passphrase: &str,
    salt: &[u8],
    iterations: u32,
) -> Result<CryptoKey, CryptoError> {
    let usages = Array::of1(&"deriveKey".into());
    let base = subtle
        .import_key_with_str(
            "raw",
            &Uint8Array::from(passphrase.as_bytes()),
            "PBKDF2",
            false,
            &usages,
        )
        .map_err(failed)?;
    let base: CryptoKey = JsFuture::from(base).await.map_err(failed)?.unchecked_into();
    let params = Object::new();
    let set = |k: &str, v: &JsValue| js_sys::Reflect::set(&params, &k.into(), v).map(|_| ());
    set("name", &"PBKDF2".into()).map_err(failed)?;
    set("hash", &"SHA-256".into()).map_err(failed)?;
    set("salt", &Uint8Array::from(salt)).map_err(failed)?;
    set("iterations", &JsValue::from(iterations)).map_err(failed)?;
    let aes = Object::new();
    js_sys::Reflect::set(&aes, &"name".into(), &"AES-GCM".into()).map_err(failed)?;
    js_sys::Reflect::set(&aes, &"length".into(), &JsValue::from(256)).map_err(failed)?;
    let usages = Array::of2(&"encrypt".into(), &"decrypt".into());
    let key = subtle
        .derive_key_with_object_and_object(&params, &base, &aes, false, &usages)
        .map_err(failed)?;
    Ok(JsFuture::from(key).await.map_err(failed)?.unchecked_into())
}

/// AES-GCM parameters for one seal: the IV, and `context` as additional data (authenticated,
/// not stored: the reader must name it). An empty context is the same as none.
pub(crate) fn gcm(iv: &[u8], context: &[u8]) -> AesGcmParams {
    let params = AesGcmParams::new("AES-GCM", &Uint8Array::from(iv));
    if !context.is_empty() {
        params.set_additional_data_u8_array(&Uint8Array::from(context));
    }
    params
}

/// Encrypts `plain` under `passphrase`, bound to `context`.
pub async fn seal(
    plain: &[u8],
    passphrase: &str,
    context: &[u8],
) -> Result<SealedSecret, CryptoError> {
    let (crypto, subtle) = subtle()?;
    let salt = random(&crypto, 16)?;
    let iv = random(&crypto, 12)?;
    let key = derive(&subtle, passphrase, &salt, ITERATIONS).await?;
    let promise = subtle
        .encrypt_with_object_and_buffer_source(&gcm(&iv, context), &key, &Uint8Array::from(plain))
        .map_err(failed)?;
    let ct = JsFuture::from(promise).await.map_err(failed)?;
    Ok(SealedSecret {
        salt: B64.encode(&salt),
        iv: B64.encode(&iv),
        ciphertext: B64.encode(Uint8Array::new(&ct).to_vec()),
        iterations: ITERATIONS,
    })
}

/// Decrypts a sealed secret with one key derivation, trying each of `contexts` in turn; returns
/// the index of the one that authenticated and the plaintext. A wrong passphrase (or a context
/// that is not the sealing one) fails GCM authentication.
pub async fn unseal(
    sealed: &SealedSecret,
    passphrase: &str,
    contexts: &[&[u8]],
) -> Result<(usize, Vec<u8>), CryptoError> {
    let (_, subtle) = subtle()?;
    let decode = |s: &str| B64.decode(s).map_err(|_| CryptoError::WrongPassphrase);
    let (salt, iv, ct) = (
        decode(&sealed.salt)?,
        decode(&sealed.iv)?,
        decode(&sealed.ciphertext)?,
    );
    let key = derive(&subtle, passphrase, &salt, sealed.iterations).await?;
    for (i, context) in contexts.iter().enumerate() {
        let promise = subtle
            .decrypt_with_object_and_buffer_source(
                &gcm(&iv, context),
                &key,
                &Uint8Array::from(&ct[..]),
            )
            .map_err(failed)?;
        if let Ok(plain) = JsFuture::from(promise).await {
            return Ok((i, Uint8Array::new(&plain).to_vec()));
        }
    }
    Err(CryptoError::WrongPassphrase)
}

/// A key derived from the passphrase once and kept in memory (non-extractable) for the
/// session, with the salt it was derived under. OAuth tokens change at every refresh (a
/// rotated refresh token makes the sealed one useless), and the passphrase itself is never
/// kept: sealing again with this key, under a fresh IV, needs no second prompt.
#[derive(Clone)]
pub struct SealingKey {
    key: CryptoKey,
    salt: Vec<u8>,
    iterations: u32,
}

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealingKey(..)")
    }
}

/// A new key for `passphrase`, under a fresh salt.
pub async fn sealing_key(passphrase: &str) -> Result<SealingKey, CryptoError> {
    let (crypto, subtle) = subtle()?;
    let salt = random(&crypto, 16)?;
    let key = derive(&subtle, passphrase, &salt, ITERATIONS).await?;
    Ok(SealingKey {
        key,
        salt,
        iterations: ITERATIONS,
    })
}

/// The key `sealed` was sealed under, if `passphrase` is the one (checked by unsealing it
/// with `context`); returns the key and the plaintext.
pub async fn unseal_keeping_key(
    sealed: &SealedSecret,
    passphrase: &str,
    context: &[u8],
) -> Result<(SealingKey, Vec<u8>), CryptoError> {
    let (_, subtle) = subtle()?;
    let salt = B64
        .decode(&sealed.salt)
        .map_err(|_| CryptoError::WrongPassphrase)?;
    let key = SealingKey {
        key: derive(&subtle, passphrase, &salt, sealed.iterations).await?,
        salt,
        iterations: sealed.iterations,
    };
    let plain = unseal_with(&key, sealed, context).await?;
    Ok((key, plain))
}

/// Encrypts `plain` under a kept key, bound to `context`, with a fresh IV.
pub async fn seal_with(
    key: &SealingKey,
    plain: &[u8],
    context: &[u8],
) -> Result<SealedSecret, CryptoError> {
    let (crypto, subtle) = subtle()?;
    let iv = random(&crypto, 12)?;
    let promise = subtle
        .encrypt_with_object_and_buffer_source(
            &gcm(&iv, context),
            &key.key,
            &Uint8Array::from(plain),
        )
        .map_err(failed)?;
    let ct = JsFuture::from(promise).await.map_err(failed)?;
    Ok(SealedSecret {
        salt: B64.encode(&key.salt),
        iv: B64.encode(&iv),
        ciphertext: B64.encode(Uint8Array::new(&ct).to_vec()),
        iterations: key.iterations,
    })
}

/// Decrypts what [`seal_with`] sealed under `key` (the salt must be the key's).
pub async fn unseal_with(
    key: &SealingKey,
    sealed: &SealedSecret,
    context: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let (_, subtle) = subtle()?;
    let decode = |s: &str| B64.decode(s).map_err(|_| CryptoError::WrongPassphrase);
    if decode(&sealed.salt)? != key.salt || sealed.iterations != key.iterations {
        return Err(CryptoError::WrongPassphrase);
    }
    let (iv, ct) = (decode(&sealed.iv)?, decode(&sealed.ciphertext)?);
    let promise = subtle
        .decrypt_with_object_and_buffer_source(
            &gcm(&iv, context),
            &key.key,
            &Uint8Array::from(&ct[..]),
        )
        .map_err(failed)?;
    let plain = JsFuture::from(promise)
        .await
        .map_err(|_| CryptoError::WrongPassphrase)?;
    Ok(Uint8Array::new(&plain).to_vec())
}
