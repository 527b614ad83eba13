//! PKCE (RFC 7636) with S256, and the flow's other random values (`state`, `nonce`), all from
//! the browser's CSPRNG. The challenge is computed here (SHA-256, base64url without padding),
//! pure, so the RFC's own example checks it.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use sha2::{Digest, Sha256};

use super::OAuthError;

/// 32 random bytes: a 43-character verifier (RFC 7636 section 4.1 asks 43 to 128), and as
/// many bits for `state` and `nonce`.
const RANDOM_BYTES: usize = 32;

/// The S256 challenge of `verifier`: BASE64URL(SHA256(ASCII(verifier))).
pub fn challenge(verifier: &str) -> String {
    B64URL.encode(Sha256::digest(verifier.as_bytes()))
}

/// A fresh random value, base64url: a verifier, a `state` or a `nonce`.
pub fn random_value() -> Result<String, OAuthError> {
    let crypto = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .ok_or(OAuthError::NoRandomness)?;
    let mut bytes = [0u8; RANDOM_BYTES];
    crypto
        .get_random_values_with_u8_array(&mut bytes)
        .map_err(|_| OAuthError::NoRandomness)?;
    Ok(B64URL.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn the_rfc_7636_example() {
        // RFC 7636 appendix B.
        assert_eq!(
            challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[cfg(target_arch = "wasm32")]
    #[test]
    fn random_values_are_long_enough_and_differ() {
        let (a, b) = (random_value().unwrap(), random_value().unwrap());
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
    }
}
