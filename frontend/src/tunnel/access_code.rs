//! The proxy's access code as the app holds it: checked once to be sendable, then kept in a
//! [`Secret`] (redacted `Debug`) and never logged or stored in the clear.

use postbag_protocol::pop3::Secret;
use postbag_protocol::tunnel::{SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX, token_is_sendable};

/// An access code that can travel as the `postbag.token.<code>` subprotocol.
#[derive(Clone, Debug, PartialEq)]
pub struct AccessCode(Secret<String>);

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AccessCodeError {
    #[error("Enter the access code.")]
    Empty,
    /// A subprotocol must be an HTTP token; `new WebSocket` throws on anything else, and the
    /// proxy refuses to start with such a token, so the code was mistyped.
    #[error(
        "This is not an access code: it can only hold letters, digits and the characters \
         ! # $ % & ' * + - . ^ _ ` | ~ (no spaces)."
    )]
    NotSendable,
}

impl AccessCode {
    /// The code as typed or pasted; surrounding white space is dropped.
    pub fn parse(typed: &str) -> Result<AccessCode, AccessCodeError> {
        let code = typed.trim();
        if code.is_empty() {
            Err(AccessCodeError::Empty)
        } else if !token_is_sendable(code) {
            Err(AccessCodeError::NotSendable)
        } else {
            Ok(AccessCode(Secret::new(code.to_string())))
        }
    }

    pub fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }
}

/// What the app offers in `Sec-WebSocket-Protocol`: always `postbag.v1` (the proxy answers it
/// and never the token), then the access code if there is one.
pub fn subprotocols(code: Option<&AccessCode>) -> Vec<String> {
    let mut offered = vec![SUBPROTOCOL.to_string()];
    if let Some(code) = code {
        offered.push(format!(
            "{TOKEN_SUBPROTOCOL_PREFIX}{}",
            code.expose_secret()
        ));
    }
    offered
}

#[cfg(test)]
mod tests {
    use super::*;
    // `#[test]` natively; in the browser the same tests run as wasm-bindgen tests.
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn check(typed: &str, expected: Result<&str, AccessCodeError>) {
        let parsed = AccessCode::parse(typed);
        assert_eq!(
            parsed
                .as_ref()
                .map(AccessCode::expose_secret)
                .map_err(|e| *e),
            expected,
            "{typed:?}"
        );
    }

    #[test]
    fn codes_are_trimmed_and_must_be_http_tokens() {
        check("  s3cret-Tok\n", Ok("s3cret-Tok"));
        check(
            "a1b2c3d4e5f60718293a4b5c6d7e8f90",
            Ok("a1b2c3d4e5f60718293a4b5c6d7e8f90"),
        );
        check("", Err(AccessCodeError::Empty));
        check("   ", Err(AccessCodeError::Empty));
        check("two words", Err(AccessCodeError::NotSendable));
        check("base64/with==", Err(AccessCodeError::NotSendable));
        check("a,postbag.v1", Err(AccessCodeError::NotSendable));
    }

    #[test]
    fn the_app_always_offers_the_protocol_and_the_code_only_when_it_has_one() {
        assert_eq!(subprotocols(None), ["postbag.v1"]);
        let code = AccessCode::parse("s3cret").unwrap();
        assert_eq!(
            subprotocols(Some(&code)),
            ["postbag.v1", "postbag.token.s3cret"]
        );
    }

    #[test]
    fn debug_never_shows_the_code() {
        let code = AccessCode::parse("s3cret").unwrap();
        assert!(!format!("{code:?}").contains("s3cret"));
    }
}
