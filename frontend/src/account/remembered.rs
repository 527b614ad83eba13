//! What "remember the password on this device" keeps: the password and, for a proxy that wants
//! one, its access code, sealed together under the user's passphrase (one key derivation
//! unlocks both). Both stay in memory only, unless the user opted in to this.
//!
//! The sealed plaintext is JSON `{"password":…,"access_code":…}`, bound by the AES-GCM
//! additional data [`CONTEXT`]. Records sealed before hold the bare password and no additional
//! data; GCM authentication tells the two apart, so a password that happens to look like the
//! JSON can never be read as it.

use postbag_protocol::pop3::Secret;
use serde::{Deserialize, Serialize};

use super::crypto::{self, CryptoError};
use crate::store::SealedSecret;
use crate::tunnel::AccessCode;

/// The additional data of the current format.
pub const CONTEXT: &[u8] = b"postbag.remembered.v2";
/// Records from before the access code: the bare password, no additional data.
const BARE_PASSWORD: &[u8] = b"";

#[derive(Clone, Debug, PartialEq)]
pub struct Remembered {
    pub password: Secret<String>,
    pub access_code: Option<AccessCode>,
}

#[derive(Serialize, Deserialize)]
struct Envelope {
    password: String,
    #[serde(default)]
    access_code: Option<String>,
}

/// The plaintext of the current format.
pub(crate) fn encode(r: &Remembered) -> Vec<u8> {
    let envelope = Envelope {
        password: r.password.expose_secret().clone(),
        access_code: r
            .access_code
            .as_ref()
            .map(|c| c.expose_secret().to_string()),
    };
    serde_json::to_vec(&envelope).expect("two strings serialise")
}

/// Reads a plaintext: a bare password (the old format) or the envelope.
pub(crate) fn decode(bare: bool, plain: Vec<u8>) -> Result<Remembered, CryptoError> {
    let damaged = || CryptoError::WrongPassphrase;
    if bare {
        let password = String::from_utf8(plain).map_err(|_| damaged())?;
        return Ok(Remembered {
            password: Secret::new(password),
            access_code: None,
        });
    }
    let envelope: Envelope = serde_json::from_slice(&plain).map_err(|_| damaged())?;
    Ok(Remembered {
        password: Secret::new(envelope.password),
        // Written by `encode` from a parsed code, so it parses again.
        access_code: envelope
            .access_code
            .and_then(|c| AccessCode::parse(&c).ok()),
    })
}

pub async fn seal(r: &Remembered, passphrase: &str) -> Result<SealedSecret, CryptoError> {
    crypto::seal(&encode(r), passphrase, CONTEXT).await
}

/// Unseals either format; a wrong passphrase is [`CryptoError::WrongPassphrase`].
pub async fn unseal(sealed: &SealedSecret, passphrase: &str) -> Result<Remembered, CryptoError> {
    let (index, plain) = crypto::unseal(sealed, passphrase, &[CONTEXT, BARE_PASSWORD]).await?;
    decode(index == 1, plain)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn remembered(password: &str, code: Option<&str>) -> Remembered {
        Remembered {
            password: Secret::new(password.into()),
            access_code: code.map(|c| AccessCode::parse(c).unwrap()),
        }
    }

    #[test]
    fn the_envelope_round_trips_with_and_without_a_code() {
        for r in [
            remembered("pw", None),
            remembered("p\"w{}", Some("s3cret-Tok")),
        ] {
            assert_eq!(decode(false, encode(&r)).unwrap(), r);
        }
    }

    #[test]
    fn a_bare_password_is_read_as_it_is_even_if_it_looks_like_json() {
        let looks_like_json = r#"{"password":"x","access_code":"y"}"#;
        assert_eq!(
            decode(true, looks_like_json.as_bytes().to_vec()).unwrap(),
            remembered(looks_like_json, None)
        );
    }

    #[cfg(target_arch = "wasm32")]
    #[test]
    async fn sealed_with_webcrypto_and_unsealed_by_the_passphrase_only() {
        let r = remembered("hunter2", Some("s3cret-Tok"));
        let sealed = seal(&r, "correct horse").await.unwrap();
        let stored = serde_json::to_string(&sealed).unwrap();
        assert!(!stored.contains("hunter2") && !stored.contains("s3cret-Tok"));
        assert_eq!(unseal(&sealed, "correct horse").await.unwrap(), r);
        assert_eq!(
            unseal(&sealed, "wrong horse").await,
            Err(CryptoError::WrongPassphrase)
        );
    }

    #[cfg(target_arch = "wasm32")]
    #[test]
    async fn a_password_sealed_before_the_access_code_still_unseals() {
        let old = crypto::seal(b"hunter2", "correct horse", BARE_PASSWORD)
            .await
            .unwrap();
        assert_eq!(
            unseal(&old, "correct horse").await.unwrap(),
            remembered("hunter2", None)
        );
    }
}
