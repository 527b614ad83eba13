//! SASL SCRAM-SHA-1 (RFC 5802) and SCRAM-SHA-256 (RFC 7677), client side, without channel
//! binding (`n,,`): the password never crosses the wire, and the server must prove that it
//! knows it too, so a server that merely accepts any login is refused.
//!
//! The client nonce comes from the caller: this crate has no randomness by design (the app
//! takes it from the browser's crypto, the blocking examples from the OS). The exchange is
//! three messages: client-first (the AUTH initial response), server-first (a challenge, answered
//! with client-final and its proof) and server-final (a challenge carrying the server's
//! signature, answered with an empty line before the server's success).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::secret::Secret;

pub use super::saslprep::{SaslprepError, saslprep};

/// The highest iteration count accepted from a server. Every login runs PBKDF2 this many times
/// in the browser, so a hostile server could otherwise make the client spin for minutes with
/// one `i=` value (4,000,000,000 would take about ten minutes). OWASP's 2023 guidance for
/// PBKDF2-HMAC-SHA256 is 600,000; this leaves room above that, and 1,000,000 took 0.19 s in a
/// native release build here (0.4 ms for the usual 4096), a few times that in wasm.
pub const MAX_ITERATIONS: u32 = 1_000_000;

/// The lowest iteration count accepted from a server: RFC 7677 section 4 says at least 4096.
/// Fewer make the proof in one captured exchange cheap to crack offline, and a server that asks
/// for them may be an impostor collecting proofs (Dovecot's default is 4096).
pub const MIN_ITERATIONS: u32 = 4096;

/// The shortest client nonce accepted (printable characters). The RFC's examples use 20 and
/// 24; 16 base64 characters carry 96 bits.
pub const MIN_NONCE_LEN: usize = 16;

/// The longest server nonce, salt (base64) or signature the client reads: real ones are well
/// under 100 characters, and the challenge line is bounded by the protocol client anyway.
const MAX_FIELD: usize = 1024;

/// Which hash the mechanism uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ScramHash {
    Sha1,
    Sha256,
}

impl ScramHash {
    fn hmac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        match self {
            ScramHash::Sha1 => {
                let mut mac = Hmac::<Sha1>::new_from_slice(key).expect("HMAC takes any key");
                mac.update(data);
                mac.finalize().into_bytes().to_vec()
            }
            ScramHash::Sha256 => {
                let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key");
                mac.update(data);
                mac.finalize().into_bytes().to_vec()
            }
        }
    }

    fn hash(self, data: &[u8]) -> Vec<u8> {
        match self {
            ScramHash::Sha1 => Sha1::digest(data).to_vec(),
            ScramHash::Sha256 => Sha256::digest(data).to_vec(),
        }
    }

    /// RFC 5802's Hi(): PBKDF2 with HMAC of this hash, output as long as the hash.
    fn salted_password(self, password: &[u8], salt: &[u8], iterations: u32) -> Vec<u8> {
        match self {
            ScramHash::Sha1 => {
                let mut out = [0u8; 20];
                pbkdf2::pbkdf2_hmac::<Sha1>(password, salt, iterations, &mut out);
                out.to_vec()
            }
            ScramHash::Sha256 => {
                let mut out = [0u8; 32];
                pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations, &mut out);
                out.to_vec()
            }
        }
    }
}

/// The caller's inputs cannot start an exchange. Nothing was sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScramSetupError {
    /// SCRAM needs a fresh client nonce (`scram_nonce` in the client's configuration).
    #[error("SCRAM needs a client nonce and none was configured")]
    MissingNonce,
    /// The nonce is shorter than [`MIN_NONCE_LEN`] or has a character outside printable ASCII
    /// or a comma (RFC 5802 section 7, `printable`).
    #[error("the SCRAM client nonce is too short or not printable ASCII without commas")]
    InvalidNonce,
    /// The user name or password has characters SaslPrep (RFC 4013) prohibits, such as control
    /// characters or unassigned code points.
    #[error("the user name or password has characters SASLprep does not allow")]
    Saslprep,
}

/// The server broke SCRAM or could not prove it knows the password. The exchange was
/// cancelled.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScramError {
    /// server-first-message is not `r=...,s=...,i=...` with valid fields.
    #[error("malformed SCRAM server-first-message")]
    MalformedServerFirst,
    /// The server's nonce does not extend ours: a replay, or not our exchange.
    #[error("the SCRAM server nonce does not extend the client nonce")]
    NonceMismatch,
    /// The iteration count is below [`MIN_ITERATIONS`] or above [`MAX_ITERATIONS`].
    #[error(
        "the server asked for {count} SCRAM iterations (accepted: {MIN_ITERATIONS} to {MAX_ITERATIONS})"
    )]
    IterationCount { count: u64 },
    /// The server sent a mandatory extension (`m=`) this client does not know.
    #[error("the server requires a SCRAM extension this client does not support")]
    MandatoryExtension,
    /// server-final-message is neither `v=...` nor `e=...`.
    #[error("malformed SCRAM server-final-message")]
    MalformedServerFinal,
    /// The server's signature is wrong: it does not know the password (or is not the server
    /// the password was set on), so the session is not trusted.
    #[error("the server could not prove that it knows the password (bad SCRAM signature)")]
    ServerSignatureMismatch,
    /// The server said the login failed (`e=`), with its reason if it was a short token.
    #[error("the server refused the SCRAM login ({reason})")]
    ServerRefused { reason: String },
    /// The server reported success without sending its signature.
    #[error("the server reported success without proving that it knows the password")]
    MissingServerSignature,
    /// A challenge arrived after the server's signature.
    #[error("unexpected SCRAM challenge after the server's signature")]
    UnexpectedChallenge,
}

/// Whether SCRAM can run with these credentials: SaslPrep (RFC 4013) refuses some characters
/// (controls, unassigned code points). `Auto` then picks the next method rather than fail a
/// login that CRAM-MD5 or PLAIN would have done.
pub(crate) fn credentials_usable(user: &str, password: &str) -> bool {
    saslprep(user).is_ok() && saslprep(password).is_ok()
}

/// RFC 5802 `saslname`: `,` and `=` escaped.
fn saslname(user: &str) -> String {
    user.replace('=', "=3D").replace(',', "=2C")
}

fn nonce_ok(nonce: &str) -> bool {
    nonce
        .bytes()
        .all(|b| (0x21..=0x7e).contains(&b) && b != b',')
}

/// A client nonce from the caller's random bytes (18 or more give 24+ characters): base64 is
/// printable and has no comma.
pub fn nonce_from_random(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

/// Where the exchange is.
#[derive(Debug)]
enum Step {
    /// client-first sent; waiting for server-first.
    SentFirst,
    /// client-final sent; waiting for server-final. Holds the signature to expect.
    SentFinal { expected: Secret<Vec<u8>> },
    /// The server proved itself; its success reply may follow.
    Verified,
}

/// One SCRAM exchange in progress, client side.
#[derive(Debug)]
pub(crate) struct ScramClient {
    hash: ScramHash,
    /// The SaslPrep'd password.
    password: Secret<String>,
    nonce: String,
    /// `n=user,r=nonce`, part of the AuthMessage both sides sign.
    client_first_bare: String,
    step: Step,
}

impl ScramClient {
    /// Starts the exchange; returns it and client-first-message (before base64).
    pub(crate) fn start(
        hash: ScramHash,
        user: &str,
        password: &str,
        nonce: Option<&str>,
    ) -> Result<(ScramClient, Vec<u8>), ScramSetupError> {
        let nonce = nonce.ok_or(ScramSetupError::MissingNonce)?;
        if nonce.len() < MIN_NONCE_LEN || !nonce_ok(nonce) {
            return Err(ScramSetupError::InvalidNonce);
        }
        let user = saslprep(user).map_err(|_| ScramSetupError::Saslprep)?;
        let password = saslprep(password).map_err(|_| ScramSetupError::Saslprep)?;
        let client_first_bare = format!("n={},r={nonce}", saslname(&user));
        let first = format!("n,,{client_first_bare}").into_bytes();
        Ok((
            ScramClient {
                hash,
                password: Secret::new(password.into_owned()),
                nonce: nonce.to_string(),
                client_first_bare,
                step: Step::SentFirst,
            },
            first,
        ))
    }

    /// Answers a challenge (decoded from base64).
    pub(crate) fn respond(&mut self, challenge: &[u8]) -> Result<Vec<u8>, ScramError> {
        match &self.step {
            Step::SentFirst => self.client_final(challenge),
            Step::SentFinal { expected } => {
                let expected = expected.expose_secret().clone();
                verify_server_final(challenge, &expected)?;
                self.step = Step::Verified;
                // RFC 5034 section 4 / RFC 4954 section 4: the server-final arrives as a
                // challenge, which the client answers with an empty response.
                Ok(Vec::new())
            }
            Step::Verified => Err(ScramError::UnexpectedChallenge),
        }
    }

    /// Whether the server proved that it knows the password; checked when it reports success.
    pub(crate) fn finish(&self) -> Result<(), ScramError> {
        match self.step {
            Step::Verified => Ok(()),
            _ => Err(ScramError::MissingServerSignature),
        }
    }

    fn client_final(&mut self, server_first: &[u8]) -> Result<Vec<u8>, ScramError> {
        let text =
            std::str::from_utf8(server_first).map_err(|_| ScramError::MalformedServerFirst)?;
        let fields = ServerFirst::parse(text)?;
        if !fields.nonce.starts_with(&self.nonce) || fields.nonce.len() == self.nonce.len() {
            return Err(ScramError::NonceMismatch);
        }
        let salted = self.hash.salted_password(
            self.password.expose_secret().as_bytes(),
            &fields.salt,
            fields.iterations,
        );
        let client_key = self.hash.hmac(&salted, b"Client Key");
        let stored_key = self.hash.hash(&client_key);
        // c=biws is base64("n,,"): no channel binding, no authorization identity.
        let without_proof = format!("c=biws,r={}", fields.nonce);
        let auth_message = format!("{},{text},{without_proof}", self.client_first_bare);
        let signature = self.hash.hmac(&stored_key, auth_message.as_bytes());
        let proof: Vec<u8> = client_key
            .iter()
            .zip(&signature)
            .map(|(k, s)| k ^ s)
            .collect();
        let server_key = self.hash.hmac(&salted, b"Server Key");
        let expected = self.hash.hmac(&server_key, auth_message.as_bytes());
        self.step = Step::SentFinal {
            expected: Secret::new(expected),
        };
        Ok(format!("{without_proof},p={}", B64.encode(proof)).into_bytes())
    }
}

/// The fields of server-first-message this client uses.
struct ServerFirst<'a> {
    nonce: &'a str,
    salt: Vec<u8>,
    iterations: u32,
}

impl<'a> ServerFirst<'a> {
    /// `[m=ext,]r=nonce,s=salt,i=count[,ext...]` (RFC 5802 section 7).
    fn parse(text: &'a str) -> Result<ServerFirst<'a>, ScramError> {
        if text.starts_with("m=") {
            return Err(ScramError::MandatoryExtension);
        }
        let mut parts = text.split(',');
        let mut field = |name: &str| -> Result<&'a str, ScramError> {
            parts
                .next()
                .and_then(|p| p.strip_prefix(name))
                .filter(|v| !v.is_empty() && v.len() <= MAX_FIELD)
                .ok_or(ScramError::MalformedServerFirst)
        };
        let nonce = field("r=")?;
        let salt = field("s=")?;
        let count = field("i=")?;
        if !nonce_ok(nonce) {
            return Err(ScramError::MalformedServerFirst);
        }
        let salt = B64
            .decode(salt)
            .map_err(|_| ScramError::MalformedServerFirst)?;
        if !count.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ScramError::MalformedServerFirst);
        }
        // A count too long for u64 is certainly too high; report it as the cap plus one.
        let count: u64 = count.parse().unwrap_or(u64::MAX);
        if count < u64::from(MIN_ITERATIONS) || count > u64::from(MAX_ITERATIONS) {
            return Err(ScramError::IterationCount { count });
        }
        Ok(ServerFirst {
            nonce,
            salt,
            iterations: count as u32,
        })
    }
}

/// Checks `v=signature` in constant time, or turns `e=reason` into an error.
fn verify_server_final(message: &[u8], expected: &[u8]) -> Result<(), ScramError> {
    let text = std::str::from_utf8(message).map_err(|_| ScramError::MalformedServerFinal)?;
    let first = text.split(',').next().unwrap_or("");
    if let Some(reason) = first.strip_prefix("e=") {
        // RFC 5802's reasons are short tokens ("invalid-proof", "unknown-user"); anything
        // else is not repeated, since it is raw peer input.
        let known = reason.len() <= 64
            && reason
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-');
        return Err(ScramError::ServerRefused {
            reason: if known { reason } else { "unreadable reason" }.to_string(),
        });
    }
    let signature = first
        .strip_prefix("v=")
        .filter(|v| v.len() <= MAX_FIELD)
        .and_then(|v| B64.decode(v).ok())
        .ok_or(ScramError::MalformedServerFinal)?;
    if constant_time_eq(&signature, expected) {
        Ok(())
    } else {
        Err(ScramError::ServerSignatureMismatch)
    }
}

/// Compares without stopping at the first difference, so timing says nothing about how much of
/// a forged signature was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One full exchange against a server script: client-first, then each server message with
    /// the client's answer (or error) expected.
    fn check(
        hash: ScramHash,
        nonce: &str,
        first: &str,
        steps: &[(&str, Result<&str, ScramError>)],
        finished: Result<(), ScramError>,
    ) {
        let (mut client, client_first) =
            ScramClient::start(hash, "user", "pencil", Some(nonce)).unwrap();
        assert_eq!(String::from_utf8(client_first).unwrap(), first);
        for (server, expected) in steps {
            let got = client
                .respond(server.as_bytes())
                .map(|r| String::from_utf8(r).unwrap());
            assert_eq!(got.as_deref(), expected.as_ref().map(|s| *s), "{server}");
        }
        assert_eq!(client.finish(), finished);
    }

    const SHA1_FIRST: &str =
        "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096";
    const SHA256_FIRST: &str = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
                                s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";

    #[test]
    fn rfc5802_sha1_example() {
        check(
            ScramHash::Sha1,
            "fyko+d2lbbFgONRv9qkxdawL",
            "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
            &[
                (
                    SHA1_FIRST,
                    Ok("c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,\
                        p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="),
                ),
                ("v=rmF9pqV8S7suAoZWja4dJRkFsKQ=", Ok("")),
            ],
            Ok(()),
        );
    }

    #[test]
    fn rfc7677_sha256_example() {
        check(
            ScramHash::Sha256,
            "rOprNGfwEbeRWgbNEkqO",
            "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
            &[
                (
                    SHA256_FIRST,
                    Ok(
                        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
                        p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
                    ),
                ),
                ("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", Ok("")),
                // Nothing may follow the server's signature.
                ("v=x", Err(ScramError::UnexpectedChallenge)),
            ],
            Ok(()),
        );
    }

    /// A server that does not know the password answers with a signature of its own making.
    #[test]
    fn wrong_server_signature_is_refused() {
        check(
            ScramHash::Sha256,
            "rOprNGfwEbeRWgbNEkqO",
            "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
            &[
                (SHA256_FIRST, Ok(SHA256_FINAL)),
                (
                    "v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
                    Err(ScramError::ServerSignatureMismatch),
                ),
            ],
            Err(ScramError::MissingServerSignature),
        );
    }

    const SHA256_FINAL: &str = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
                                p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";

    #[test]
    fn success_without_signature_is_refused() {
        check(
            ScramHash::Sha256,
            "rOprNGfwEbeRWgbNEkqO",
            "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
            &[(SHA256_FIRST, Ok(SHA256_FINAL))],
            Err(ScramError::MissingServerSignature),
        );
    }

    #[test]
    fn hostile_server_first_messages() {
        let nonce = "rOprNGfwEbeRWgbNEkqO";
        let cases: &[(&str, ScramError)] = &[
            // Would make the client run PBKDF2 for a very long time.
            (
                "r=rOprNGfwEbeRWgbNEkqOxyz,s=QSXCR+Q6sek8bf92,i=1000001",
                ScramError::IterationCount { count: 1_000_001 },
            ),
            (
                "r=rOprNGfwEbeRWgbNEkqOxyz,s=QSXCR+Q6sek8bf92,i=99999999999999999999999",
                ScramError::IterationCount { count: u64::MAX },
            ),
            (
                "r=rOprNGfwEbeRWgbNEkqOxyz,s=QSXCR+Q6sek8bf92,i=0",
                ScramError::IterationCount { count: 0 },
            ),
            // Cheap to crack offline from one captured exchange (RFC 7677 asks for 4096).
            (
                "r=rOprNGfwEbeRWgbNEkqOxyz,s=QSXCR+Q6sek8bf92,i=1",
                ScramError::IterationCount { count: 1 },
            ),
            (
                "r=rOprNGfwEbeRWgbNEkqOxyz,s=QSXCR+Q6sek8bf92,i=4095",
                ScramError::IterationCount { count: 4095 },
            ),
            // Not our nonce, or ours without the server's part.
            (
                "r=XOprNGfwEbeRWgbNEkqOxyz,s=QSXCR+Q6sek8bf92,i=4096",
                ScramError::NonceMismatch,
            ),
            (
                "r=rOprNGfwEbeRWgbNEkqO,s=QSXCR+Q6sek8bf92,i=4096",
                ScramError::NonceMismatch,
            ),
            (
                "r=rOprNGfwEbeRWgbNEkq,s=QSXCR+Q6sek8bf92,i=4096",
                ScramError::NonceMismatch,
            ),
            (
                "m=ext,r=rOprNGfwEbeRWgbNEkqOxyz,s=QSXCR+Q6sek8bf92,i=4096",
                ScramError::MandatoryExtension,
            ),
            (
                "s=QSXCR+Q6sek8bf92,r=rOprNGfwEbeRWgbNEkqOxyz,i=4096",
                ScramError::MalformedServerFirst,
            ),
            (
                "r=rOprNGfwEbeRWgbNEkqOxyz,s=not base64!,i=4096",
                ScramError::MalformedServerFirst,
            ),
            (
                "r=rOprNGfwEbeRWgbNEkqOxyz,s=QSXCR+Q6sek8bf92,i=-1",
                ScramError::MalformedServerFirst,
            ),
            (
                "r=rOprNGfwEbeRWgbNEkqOxyz,s=QSXCR+Q6sek8bf92",
                ScramError::MalformedServerFirst,
            ),
            ("", ScramError::MalformedServerFirst),
        ];
        for (server_first, error) in cases {
            let (mut client, _) =
                ScramClient::start(ScramHash::Sha256, "user", "pencil", Some(nonce)).unwrap();
            assert_eq!(
                client.respond(server_first.as_bytes()),
                Err(error.clone()),
                "{server_first}"
            );
        }
    }

    #[test]
    fn server_final_errors() {
        for (server_final, error) in [
            (
                "e=invalid-proof",
                ScramError::ServerRefused {
                    reason: "invalid-proof".into(),
                },
            ),
            (
                "e=<script>\u{7}",
                ScramError::ServerRefused {
                    reason: "unreadable reason".into(),
                },
            ),
            ("x=1", ScramError::MalformedServerFinal),
            ("v=!!", ScramError::MalformedServerFinal),
        ] {
            let (mut client, _) = ScramClient::start(
                ScramHash::Sha256,
                "user",
                "pencil",
                Some("rOprNGfwEbeRWgbNEkqO"),
            )
            .unwrap();
            client.respond(SHA256_FIRST.as_bytes()).unwrap();
            assert_eq!(
                client.respond(server_final.as_bytes()),
                Err(error),
                "{server_final}"
            );
        }
    }

    #[test]
    fn setup_errors() {
        let start = |user: &str, password: &str, nonce: Option<&str>| {
            ScramClient::start(ScramHash::Sha256, user, password, nonce).map(|_| ())
        };
        assert_eq!(start("u", "p", None), Err(ScramSetupError::MissingNonce));
        assert_eq!(
            start("u", "p", Some("short")),
            Err(ScramSetupError::InvalidNonce)
        );
        assert_eq!(
            start("u", "p", Some("0123456789abcdef,x")),
            Err(ScramSetupError::InvalidNonce)
        );
        assert_eq!(
            start("u", "p\u{7}", Some("0123456789abcdef")),
            Err(ScramSetupError::Saslprep)
        );
        // SaslPrep maps a non-ASCII space to a space; "I\u{AD}X" (soft hyphen) to "IX".
        assert!(start("u", "I\u{AD}X p\u{A0}w", Some("0123456789abcdef")).is_ok());
    }

    #[test]
    fn user_names_are_escaped() {
        let (_, first) =
            ScramClient::start(ScramHash::Sha1, "a,b=c", "p", Some("0123456789abcdef")).unwrap();
        assert_eq!(first, b"n,,n=a=2Cb=3Dc,r=0123456789abcdef");
    }

    #[test]
    fn nonce_from_random_is_usable() {
        let nonce = nonce_from_random(&[0xfb; 18]);
        assert_eq!(nonce.len(), 24);
        assert!(ScramClient::start(ScramHash::Sha1, "u", "p", Some(&nonce)).is_ok());
    }
}
