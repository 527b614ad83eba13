//! The credential math: APOP digests, SASL initial responses and answers to challenges
//! (RFC 1939 APOP, RFC 4616 PLAIN, LOGIN, RFC 2195 CRAM-MD5, XOAUTH2, RFC 7628 OAUTHBEARER).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use md5::{Digest, Md5};

use super::auth::AuthMechanism;
use super::error::ProtocolError;
use super::secret::Secret;

/// RFC 5034 section 4: an AUTH command with its initial response must fit in 255 octets;
/// longer responses (typically OAuth tokens) go in a continuation instead.
const MAX_AUTH_COMMAND: usize = 255;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `APOP` digest: lower-case hex MD5 of the greeting timestamp followed by the password.
pub(crate) fn apop_digest(timestamp: &str, password: &str) -> String {
    let mut md5 = Md5::new();
    md5.update(timestamp.as_bytes());
    md5.update(password.as_bytes());
    hex(&md5.finalize())
}

/// The CRAM-MD5 response (before base64): `user SP hex(HMAC-MD5(password, challenge))`.
pub(crate) fn cram_md5_response(user: &str, password: &str, challenge: &[u8]) -> Vec<u8> {
    let mut mac =
        Hmac::<Md5>::new_from_slice(password.as_bytes()).expect("HMAC takes any key length");
    mac.update(challenge);
    format!("{user} {}", hex(&mac.finalize().into_bytes())).into_bytes()
}

/// RFC 5801 saslname escaping for the OAUTHBEARER GS2 header: `,` and `=` are escaped.
fn gs2_escape(user: &str) -> String {
    user.replace('=', "=3D").replace(',', "=2C")
}

/// One SASL exchange in progress.
#[derive(Debug)]
pub(crate) struct SaslExchange {
    mechanism: AuthMechanism,
    /// Challenges answered so far.
    step: u8,
    /// The initial response that did not fit into the AUTH command and is due at the first
    /// (empty) challenge.
    deferred_initial: Option<Secret<Vec<u8>>>,
    /// The server reported an error in a challenge (XOAUTH2/OAUTHBEARER); the `-ERR` follows.
    pub(crate) failed_challenge: bool,
}

impl SaslExchange {
    /// Starts the exchange: returns it and the `AUTH` command line (with CRLF).
    pub(crate) fn start(
        mechanism: AuthMechanism,
        user: &str,
        secret: &str,
    ) -> (SaslExchange, Vec<u8>) {
        let name = mechanism.sasl_name().expect("SASL mechanism");
        let initial: Option<Vec<u8>> = match mechanism {
            AuthMechanism::Plain => Some(format!("\0{user}\0{secret}").into_bytes()),
            AuthMechanism::XOAuth2 => {
                Some(format!("user={user}\x01auth=Bearer {secret}\x01\x01").into_bytes())
            }
            AuthMechanism::OAuthBearer => Some(
                format!("n,a={},\x01auth=Bearer {secret}\x01\x01", gs2_escape(user)).into_bytes(),
            ),
            // LOGIN and CRAM-MD5 are server-first.
            _ => None,
        };
        let mut line = format!("AUTH {name}").into_bytes();
        let mut deferred_initial = None;
        if let Some(ir) = initial {
            let encoded = if ir.is_empty() {
                "=".to_string()
            } else {
                B64.encode(&ir)
            };
            if line.len() + 1 + encoded.len() + 2 <= MAX_AUTH_COMMAND {
                line.push(b' ');
                line.extend_from_slice(encoded.as_bytes());
            } else {
                deferred_initial = Some(Secret::new(ir));
            }
        }
        line.extend_from_slice(b"\r\n");
        (
            SaslExchange {
                mechanism,
                step: 0,
                deferred_initial,
                failed_challenge: false,
            },
            line,
        )
    }

    /// Answers a `+ challenge` line (the base64 text after `+ `). Returns the response line
    /// with CRLF. On a challenge that cannot be answered the caller cancels with `*`.
    pub(crate) fn respond(
        &mut self,
        challenge_b64: &str,
        user: &str,
        secret: &str,
    ) -> Result<Vec<u8>, ProtocolError> {
        let challenge = B64
            .decode(challenge_b64.trim())
            .map_err(|_| ProtocolError::BadSaslChallenge)?;
        self.step += 1;
        let response: Vec<u8> = if let Some(ir) = self.deferred_initial.take() {
            ir.expose_secret().clone()
        } else {
            match (self.mechanism, self.step) {
                (AuthMechanism::Login, 1) => user.as_bytes().to_vec(),
                (AuthMechanism::Login, 2) => secret.as_bytes().to_vec(),
                (AuthMechanism::CramMd5, 1) => cram_md5_response(user, secret, &challenge),
                // After the initial response, a challenge from an OAuth mechanism carries a
                // JSON error; the client must answer (empty for XOAUTH2, 0x01 for
                // OAUTHBEARER per RFC 7628 section 3.2.3) and the server then sends -ERR.
                (AuthMechanism::XOAuth2, _) => {
                    self.failed_challenge = true;
                    Vec::new()
                }
                (AuthMechanism::OAuthBearer, _) => {
                    self.failed_challenge = true;
                    vec![0x01]
                }
                _ => return Err(ProtocolError::BadSaslChallenge),
            }
        };
        let mut line = B64.encode(response).into_bytes();
        line.extend_from_slice(b"\r\n");
        Ok(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1939_apop_example() {
        // RFC 1939 section 7: APOP mrose c4c9334bac560ecc979e58001b3e22fb
        assert_eq!(
            apop_digest("<1896.697170952@dbc.mtview.ca.us>", "tanstaaf"),
            "c4c9334bac560ecc979e58001b3e22fb"
        );
    }

    #[test]
    fn rfc2195_cram_md5_example() {
        let challenge = B64
            .decode("PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+")
            .unwrap();
        assert_eq!(challenge, b"<1896.697170952@postoffice.reston.mci.net>");
        let (mut ex, line) = SaslExchange::start(AuthMechanism::CramMd5, "tim", "tanstaaftanstaaf");
        assert_eq!(line, b"AUTH CRAM-MD5\r\n");
        let resp = ex
            .respond(
                "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+",
                "tim",
                "tanstaaftanstaaf",
            )
            .unwrap();
        assert_eq!(
            resp,
            b"dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw\r\n"
        );
        assert_eq!(
            ex.respond("", "tim", "x"),
            Err(ProtocolError::BadSaslChallenge)
        );
    }

    #[test]
    fn rfc5034_plain_initial_response() {
        // RFC 5034 section 6: AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q= is "test\0test\0test" (with an
        // authorization identity); we send an empty authzid.
        let (_, line) = SaslExchange::start(AuthMechanism::Plain, "test", "test");
        assert_eq!(line, b"AUTH PLAIN AHRlc3QAdGVzdA==\r\n");
    }

    #[test]
    fn login_is_server_first() {
        let (mut ex, line) = SaslExchange::start(AuthMechanism::Login, "tim", "pw");
        assert_eq!(line, b"AUTH LOGIN\r\n");
        assert_eq!(
            ex.respond("VXNlcm5hbWU6", "tim", "pw").unwrap(),
            b"dGlt\r\n"
        );
        assert_eq!(
            ex.respond("UGFzc3dvcmQ6", "tim", "pw").unwrap(),
            b"cHc=\r\n"
        );
        assert_eq!(
            ex.respond("", "tim", "pw"),
            Err(ProtocolError::BadSaslChallenge)
        );
    }

    #[test]
    fn long_initial_response_is_deferred() {
        let token = "t".repeat(400);
        let (mut ex, line) = SaslExchange::start(AuthMechanism::XOAuth2, "a@b", &token);
        assert_eq!(line, b"AUTH XOAUTH2\r\n");
        let resp = ex.respond("", "a@b", &token).unwrap();
        let decoded = B64.decode(&resp[..resp.len() - 2]).unwrap();
        assert_eq!(
            decoded,
            format!("user=a@b\x01auth=Bearer {token}\x01\x01").into_bytes()
        );
        // An error challenge after the response is answered with an empty line.
        assert_eq!(
            ex.respond("eyJzdGF0dXMiOiI0MDEifQ==", "a@b", &token)
                .unwrap(),
            b"\r\n"
        );
        assert!(ex.failed_challenge);
    }

    #[test]
    fn oauthbearer_gs2_header() {
        let (mut ex, line) = SaslExchange::start(AuthMechanism::OAuthBearer, "u,=x", "tok");
        let b64 = std::str::from_utf8(&line[b"AUTH OAUTHBEARER ".len()..line.len() - 2]).unwrap();
        assert_eq!(
            B64.decode(b64).unwrap(),
            b"n,a=u=2C=3Dx,\x01auth=Bearer tok\x01\x01"
        );
        assert_eq!(ex.respond("e30=", "u", "tok").unwrap(), b"AQ==\r\n");
    }

    #[test]
    fn bad_base64_challenge() {
        let (mut ex, _) = SaslExchange::start(AuthMechanism::CramMd5, "tim", "pw");
        assert_eq!(
            ex.respond("not base64!!", "tim", "pw"),
            Err(ProtocolError::BadSaslChallenge)
        );
    }
}
