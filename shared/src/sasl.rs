//! The SASL mechanisms both clients speak, without the protocol around them: initial responses
//! and answers to challenges (RFC 4616 PLAIN, LOGIN, RFC 2195 CRAM-MD5, RFC 5802/7677
//! SCRAM-SHA-1 and SCRAM-SHA-256 in `scram.rs`, XOAUTH2, RFC 7628 OAUTHBEARER). POP3 (RFC 5034) and SMTP (RFC 4954) differ only in how a challenge is framed
//! (`+ ` or `334 `) and in the longest `AUTH` command line, which the caller passes in.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use md5::Md5;

use crate::secret::Secret;

mod saslprep;
pub mod scram;

use scram::{ScramClient, ScramHash};
pub(crate) use scram::{ScramError, ScramSetupError};

/// A SASL mechanism the clients can run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SaslMechanism {
    /// `PLAIN` (RFC 4616): the password crosses the wire base64-encoded.
    Plain,
    /// `LOGIN` (draft-murchison-sasl-login): user name and password, base64-encoded.
    Login,
    /// `CRAM-MD5` (RFC 2195): an HMAC-MD5 of a server challenge.
    CramMd5,
    /// `SCRAM-SHA-1` (RFC 5802): a salted challenge-response; the server proves it knows the
    /// password too.
    ScramSha1,
    /// `SCRAM-SHA-256` (RFC 7677): SCRAM with SHA-256, the strongest password mechanism here.
    ScramSha256,
    /// `XOAUTH2` (Google/Microsoft): the password field holds an OAuth 2 access token.
    XOAuth2,
    /// `OAUTHBEARER` (RFC 7628): the password field holds an OAuth 2 access token.
    OAuthBearer,
}

impl SaslMechanism {
    /// The name in `AUTH` commands and capability lists.
    pub fn name(self) -> &'static str {
        match self {
            SaslMechanism::Plain => "PLAIN",
            SaslMechanism::Login => "LOGIN",
            SaslMechanism::CramMd5 => "CRAM-MD5",
            SaslMechanism::ScramSha1 => "SCRAM-SHA-1",
            SaslMechanism::ScramSha256 => "SCRAM-SHA-256",
            SaslMechanism::XOAuth2 => "XOAUTH2",
            SaslMechanism::OAuthBearer => "OAUTHBEARER",
        }
    }

    /// Whether the secret itself (password or bearer token) crosses the wire, so that anyone
    /// reading an unencrypted connection could reuse it.
    pub fn reveals_secret(self) -> bool {
        !matches!(
            self,
            SaslMechanism::CramMd5 | SaslMechanism::ScramSha1 | SaslMechanism::ScramSha256
        )
    }

    /// Whether the mechanism needs a client nonce from the caller (SCRAM).
    pub fn needs_nonce(self) -> bool {
        matches!(self, SaslMechanism::ScramSha1 | SaslMechanism::ScramSha256)
    }

    fn scram_hash(self) -> Option<ScramHash> {
        match self {
            SaslMechanism::ScramSha1 => Some(ScramHash::Sha1),
            SaslMechanism::ScramSha256 => Some(ScramHash::Sha256),
            _ => None,
        }
    }
}

/// Why a challenge got no answer; the caller cancels the exchange with `*`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum BadChallenge {
    /// Not base64, or the mechanism has no answer for it.
    Malformed,
    /// SCRAM's checks failed (the server's nonce, iteration count or signature).
    Scram(ScramError),
}

/// Lower-case hex, as CRAM-MD5 and APOP write digests.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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
    mechanism: SaslMechanism,
    /// Challenges answered so far.
    step: u8,
    /// The initial response that did not fit into the AUTH command and is due at the first
    /// (empty) challenge.
    deferred_initial: Option<Secret<Vec<u8>>>,
    /// The server reported an error in a challenge (XOAUTH2/OAUTHBEARER); the refusal follows.
    pub(crate) failed_challenge: bool,
    /// The SCRAM state, for the SCRAM mechanisms.
    scram: Option<ScramClient>,
}

impl SaslExchange {
    /// Starts the exchange: returns it and the `AUTH` command line (with CRLF). An initial
    /// response that would make the line longer than `max_command` octets (CRLF included) is
    /// held back for the first challenge instead (RFC 5034 section 4: 255; RFC 4954 section 4:
    /// the SMTP command line limit, 512). SCRAM needs `nonce`, fresh for each exchange.
    pub(crate) fn start(
        mechanism: SaslMechanism,
        user: &str,
        secret: &str,
        max_command: usize,
        nonce: Option<&str>,
    ) -> Result<(SaslExchange, Vec<u8>), ScramSetupError> {
        let mut scram = None;
        let initial: Option<Vec<u8>> = match mechanism {
            SaslMechanism::Plain => Some(format!("\0{user}\0{secret}").into_bytes()),
            SaslMechanism::XOAuth2 => {
                Some(format!("user={user}\x01auth=Bearer {secret}\x01\x01").into_bytes())
            }
            SaslMechanism::OAuthBearer => Some(
                format!("n,a={},\x01auth=Bearer {secret}\x01\x01", gs2_escape(user)).into_bytes(),
            ),
            SaslMechanism::ScramSha1 | SaslMechanism::ScramSha256 => {
                let hash = mechanism.scram_hash().expect("a SCRAM mechanism");
                let (client, first) = ScramClient::start(hash, user, secret, nonce)?;
                scram = Some(client);
                Some(first)
            }
            // LOGIN and CRAM-MD5 are server-first.
            SaslMechanism::Login | SaslMechanism::CramMd5 => None,
        };
        let mut line = format!("AUTH {}", mechanism.name()).into_bytes();
        let mut deferred_initial = None;
        if let Some(ir) = initial {
            let encoded = if ir.is_empty() {
                "=".to_string()
            } else {
                B64.encode(&ir)
            };
            if line.len() + 1 + encoded.len() + 2 <= max_command {
                line.push(b' ');
                line.extend_from_slice(encoded.as_bytes());
            } else {
                deferred_initial = Some(Secret::new(ir));
            }
        }
        line.extend_from_slice(b"\r\n");
        Ok((
            SaslExchange {
                mechanism,
                step: 0,
                deferred_initial,
                failed_challenge: false,
                scram,
            },
            line,
        ))
    }

    /// Called when the server reports success: SCRAM also needs the server's proof that it
    /// knows the password, which must have come before.
    pub(crate) fn finish(&self) -> Result<(), ScramError> {
        match &self.scram {
            Some(scram) => scram.finish(),
            None => Ok(()),
        }
    }

    /// Answers a challenge (its base64 text). Returns the response line with CRLF. On a
    /// challenge that cannot be answered the caller cancels with `*`.
    pub(crate) fn respond(
        &mut self,
        challenge_b64: &str,
        user: &str,
        secret: &str,
    ) -> Result<Vec<u8>, BadChallenge> {
        let challenge = B64
            .decode(challenge_b64.trim())
            .map_err(|_| BadChallenge::Malformed)?;
        self.step += 1;
        let response: Vec<u8> = if let Some(ir) = self.deferred_initial.take() {
            ir.expose_secret().clone()
        } else if let Some(scram) = &mut self.scram {
            scram.respond(&challenge).map_err(BadChallenge::Scram)?
        } else {
            match (self.mechanism, self.step) {
                (SaslMechanism::Login, 1) => user.as_bytes().to_vec(),
                (SaslMechanism::Login, 2) => secret.as_bytes().to_vec(),
                (SaslMechanism::CramMd5, 1) => cram_md5_response(user, secret, &challenge),
                // After the initial response, a challenge from an OAuth mechanism carries a
                // JSON error; the client must answer (empty for XOAUTH2, 0x01 for
                // OAUTHBEARER per RFC 7628 section 3.2.3) and the server then refuses.
                (SaslMechanism::XOAuth2, _) => {
                    self.failed_challenge = true;
                    Vec::new()
                }
                (SaslMechanism::OAuthBearer, _) => {
                    self.failed_challenge = true;
                    vec![0x01]
                }
                _ => return Err(BadChallenge::Malformed),
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

    /// RFC 5034's limit; the SMTP client passes 512.
    const POP3: usize = 255;

    #[test]
    fn rfc2195_cram_md5_example() {
        let challenge = B64
            .decode("PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+")
            .unwrap();
        assert_eq!(challenge, b"<1896.697170952@postoffice.reston.mci.net>");
        let (mut ex, line) = SaslExchange::start(
            SaslMechanism::CramMd5,
            "tim",
            "tanstaaftanstaaf",
            POP3,
            None,
        )
        .unwrap();
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
        assert_eq!(ex.respond("", "tim", "x"), Err(BadChallenge::Malformed));
    }

    #[test]
    fn rfc5034_plain_initial_response() {
        // RFC 5034 section 6: AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q= is "test\0test\0test" (with an
        // authorization identity); we send an empty authzid.
        let (_, line) =
            SaslExchange::start(SaslMechanism::Plain, "test", "test", POP3, None).unwrap();
        assert_eq!(line, b"AUTH PLAIN AHRlc3QAdGVzdA==\r\n");
    }

    #[test]
    fn login_is_server_first() {
        let (mut ex, line) =
            SaslExchange::start(SaslMechanism::Login, "tim", "pw", POP3, None).unwrap();
        assert_eq!(line, b"AUTH LOGIN\r\n");
        assert_eq!(
            ex.respond("VXNlcm5hbWU6", "tim", "pw").unwrap(),
            b"dGlt\r\n"
        );
        assert_eq!(
            ex.respond("UGFzc3dvcmQ6", "tim", "pw").unwrap(),
            b"cHc=\r\n"
        );
        assert_eq!(ex.respond("", "tim", "pw"), Err(BadChallenge::Malformed));
    }

    #[test]
    fn long_initial_response_is_deferred() {
        let token = "t".repeat(400);
        let (mut ex, line) =
            SaslExchange::start(SaslMechanism::XOAuth2, "a@b", &token, POP3, None).unwrap();
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
    fn the_limit_is_the_callers() {
        // 300 bytes of token fit into an SMTP command line (512) but not into a POP3 one.
        let token = "t".repeat(300);
        let (_, line) =
            SaslExchange::start(SaslMechanism::XOAuth2, "a@b", &token, POP3, None).unwrap();
        assert_eq!(line, b"AUTH XOAUTH2\r\n");
        let (_, line) =
            SaslExchange::start(SaslMechanism::XOAuth2, "a@b", &token, 512, None).unwrap();
        assert!(line.len() > 300 && line.len() <= 512, "{}", line.len());
    }

    #[test]
    fn oauthbearer_gs2_header() {
        let (mut ex, line) =
            SaslExchange::start(SaslMechanism::OAuthBearer, "u,=x", "tok", POP3, None).unwrap();
        let b64 = std::str::from_utf8(&line[b"AUTH OAUTHBEARER ".len()..line.len() - 2]).unwrap();
        assert_eq!(
            B64.decode(b64).unwrap(),
            b"n,a=u=2C=3Dx,\x01auth=Bearer tok\x01\x01"
        );
        assert_eq!(ex.respond("e30=", "u", "tok").unwrap(), b"AQ==\r\n");
    }

    #[test]
    fn bad_base64_challenge() {
        let (mut ex, _) =
            SaslExchange::start(SaslMechanism::CramMd5, "tim", "pw", POP3, None).unwrap();
        assert_eq!(
            ex.respond("not base64!!", "tim", "pw"),
            Err(BadChallenge::Malformed)
        );
    }
}
