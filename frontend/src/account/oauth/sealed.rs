//! Tokens at rest: sealed under the user's passphrase (the key derived from it, kept for the
//! session: `account/crypto.rs`, [`SealingKey`]) as JSON, bound by the AES-GCM additional data
//! to this format and to the account, so one account's sealed tokens cannot be passed off as
//! another's.

use postbag_protocol::pop3::Secret;
use serde::{Deserialize, Serialize};

use super::Tokens;
use crate::account::crypto::{self, CryptoError, SealingKey};
use crate::store::SealedSecret;

const CONTEXT: &str = "postbag.oauth.v1 ";

fn context(account: &str) -> Vec<u8> {
    format!("{CONTEXT}{account}").into_bytes()
}

#[derive(Serialize, Deserialize)]
struct Envelope {
    access: String,
    #[serde(default)]
    refresh: Option<String>,
    expires_at: f64,
    lifetime: f64,
}

fn encode(t: &Tokens) -> Vec<u8> {
    serde_json::to_vec(&Envelope {
        access: t.access.expose_secret().clone(),
        refresh: t.refresh.as_ref().map(|r| r.expose_secret().clone()),
        expires_at: t.expires_at,
        lifetime: t.lifetime,
    })
    .expect("strings and numbers serialise")
}

fn decode(plain: &[u8]) -> Result<Tokens, CryptoError> {
    let e: Envelope = serde_json::from_slice(plain).map_err(|_| CryptoError::WrongPassphrase)?;
    Ok(Tokens {
        access: Secret::new(e.access),
        refresh: e.refresh.map(Secret::new),
        expires_at: e.expires_at,
        lifetime: e.lifetime,
    })
}

pub async fn seal(
    key: &SealingKey,
    account: &str,
    t: &Tokens,
) -> Result<SealedSecret, CryptoError> {
    crypto::seal_with(key, &encode(t), &context(account)).await
}

/// Unseals with the passphrase; returns the key too, to seal the refreshed tokens again.
pub async fn unseal(
    sealed: &SealedSecret,
    account: &str,
    passphrase: &str,
) -> Result<(SealingKey, Tokens), CryptoError> {
    let (key, plain) = crypto::unseal_keeping_key(sealed, passphrase, &context(account)).await?;
    Ok((key, decode(&plain)?))
}

/// Unseals with a key kept from earlier (another tab's refresh, sealed under the same key).
pub async fn unseal_with(
    key: &SealingKey,
    sealed: &SealedSecret,
    account: &str,
) -> Result<Tokens, CryptoError> {
    decode(&crypto::unseal_with(key, sealed, &context(account)).await?)
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    async fn tokens_are_sealed_for_one_account_under_the_passphrase() {
        let t = Tokens {
            access: Secret::new("access-s3cret".into()),
            refresh: Some(Secret::new("refresh-s3cret".into())),
            expires_at: 1.0,
            lifetime: 2.0,
        };
        let key = crypto::sealing_key("correct horse").await.unwrap();
        let sealed = seal(&key, "me@example.org", &t).await.unwrap();
        let stored = serde_json::to_string(&sealed).unwrap();
        assert!(!stored.contains("s3cret"));
        let (again, back) = unseal(&sealed, "me@example.org", "correct horse")
            .await
            .unwrap();
        assert_eq!(back, t);
        // The kept key seals and unseals without the passphrase.
        let resealed = seal(&again, "me@example.org", &t).await.unwrap();
        assert_eq!(
            unseal_with(&key, &resealed, "me@example.org")
                .await
                .unwrap(),
            t
        );
        assert!(
            unseal(&sealed, "me@example.org", "wrong horse")
                .await
                .is_err()
        );
        assert!(
            unseal(&sealed, "you@example.org", "correct horse")
                .await
                .is_err()
        );
    }
}
