//! SCRAM-SHA-256 logins (RFC 7677's example exchange, user "user", password "pencil") and the
//! servers that must be refused: a wrong signature, success without a signature, an iteration
//! count that would make the client spin.

use super::*;
use crate::scram::ScramError;

const CAPA: &str = "+OK\r\nSASL PLAIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256\r\n.\r\n";
/// base64 of RFC 7677's server-first-message.
const SERVER_FIRST: &str = "cj1yT3ByTkdmd0ViZVJXZ2JORWtxTyVodllEcFdVYTJSYVRDQWZ1eEZJbGopaE5sRiRrMCxzPVcyMlphSjBTTlk3c29Fc1VFamI2Z1E9PSxpPTQwOTY=";
/// base64 of its server-final-message (`v=6rri...`).
const SERVER_FINAL: &str = "dj02cnJpVFJCaTIzV3BSUi93dHVwK21NaFVaVW4vZEI1bkxUSlJzamw5NUc0PQ==";
/// The same with one signature character changed (`v=7rri...`).
const FORGED_FINAL: &str = "dj03cnJpVFJCaTIzV3BSUi93dHVwK21NaFVaVW4vZEI1bkxUSlJzamw5NUc0PQ==";
/// What the client sends: AUTH with client-first, then client-final with the proof.
const CLIENT_FIRST: &str = "AUTH SCRAM-SHA-256 biwsbj11c2VyLHI9ck9wck5HZndFYmVSV2diTkVrcU8=\r\n";
const CLIENT_FINAL: &str = "Yz1iaXdzLHI9ck9wck5HZndFYmVSV2diTkVrcU8laHZZRHBXVWEyUmFUQ0FmdXhGSWxqKWhObEYkazAscD1kSHpiWmFwV0lrNGpVaE4rVXRlOXl0YWc5empmTUhnc3FtbWl6N0FuZFZRPQ==\r\n";

fn scram_config() -> ClientConfig {
    let mut cfg = config();
    cfg.user = "user".into();
    cfg.password = Secret::new("pencil".into());
    cfg.allow_plaintext_password = false;
    cfg.scram_nonce = Some("rOprNGfwEbeRWgbNEkqO".into());
    cfg
}

fn run_scram(server: &str, expected_sent: &str, error: Option<Pop3Error>) -> Outcome {
    check(
        Script {
            config: scram_config(),
            server: &[server.as_bytes()],
            on_ready: &[],
        },
        expected_sent,
        None,
        error,
    )
}

#[test]
fn auto_logs_in_with_scram_sha_256_and_checks_the_server() {
    let server =
        format!("+OK hi\r\n{CAPA}+ {SERVER_FIRST}\r\n+ {SERVER_FINAL}\r\n+OK logged in\r\n{CAPA}");
    let out = run_scram(
        &server,
        &format!("CAPA\r\n{CLIENT_FIRST}{CLIENT_FINAL}\r\nCAPA\r\n"),
        Some(Pop3Error::ConnectionLost {
            during: "transaction",
            in_flight: vec![],
        }),
    );
    assert!(out.events.contains(&Event::Authenticated {
        mechanism: AuthMechanism::ScramSha256
    }));
    assert!(!out.sent.contains("pencil"));
}

#[test]
fn a_server_that_does_not_know_the_password_is_refused() {
    let server = format!("+OK hi\r\n{CAPA}+ {SERVER_FIRST}\r\n+ {FORGED_FINAL}\r\n+OK in\r\n");
    let out = run_scram(
        &server,
        &format!("CAPA\r\n{CLIENT_FIRST}{CLIENT_FINAL}*\r\n"),
        Some(Pop3Error::Protocol(ProtocolError::Scram(
            ScramError::ServerSignatureMismatch,
        ))),
    );
    assert!(
        !out.events
            .iter()
            .any(|e| matches!(e, Event::Authenticated { .. }))
    );
}

#[test]
fn success_without_the_servers_signature_is_refused() {
    // The server skips server-final and says +OK: it never proved it knows the password.
    let server = format!("+OK hi\r\n{CAPA}+ {SERVER_FIRST}\r\n+OK in\r\n{CAPA}");
    let out = run_scram(
        &server,
        &format!("CAPA\r\n{CLIENT_FIRST}{CLIENT_FINAL}"),
        Some(Pop3Error::Protocol(ProtocolError::Scram(
            ScramError::MissingServerSignature,
        ))),
    );
    assert!(
        !out.events
            .iter()
            .any(|e| matches!(e, Event::Authenticated { .. }))
    );
}

#[test]
fn an_absurd_iteration_count_is_refused_before_hashing() {
    // i=4000000000: about an hour of PBKDF2 in a browser.
    let huge = "cj1yT3ByTkdmd0ViZVJXZ2JORWtxTyVodllEcFdVYTJSYVRDQWZ1eEZJbGopaE5sRiRrMCxzPVcyMlphSjBTTlk3c29Fc1VFamI2Z1E9PSxpPTQwMDAwMDAwMDA=";
    let server = format!("+OK hi\r\n{CAPA}+ {huge}\r\n-ERR cancelled\r\n");
    run_scram(
        &server,
        &format!("CAPA\r\n{CLIENT_FIRST}*\r\n"),
        Some(Pop3Error::Protocol(ProtocolError::Scram(
            ScramError::IterationCount {
                count: 4_000_000_000,
            },
        ))),
    );
}

#[test]
fn explicit_scram_without_a_nonce_sends_nothing() {
    let mut cfg = scram_config();
    cfg.scram_nonce = None;
    cfg.auth = AuthPolicy::ScramSha256;
    let server = format!("+OK hi\r\n{CAPA}");
    check(
        Script {
            config: cfg,
            server: &[server.as_bytes()],
            on_ready: &[],
        },
        "CAPA\r\n",
        None,
        Some(Pop3Error::Usage(UsageError::Scram(
            crate::scram::ScramSetupError::MissingNonce,
        ))),
    );
}

/// SaslPrep refuses a control character in the password: `Auto` logs in with CRAM-MD5 then,
/// as it did before SCRAM existed, instead of failing.
#[test]
fn auto_skips_scram_for_a_password_saslprep_refuses() {
    let mut cfg = scram_config();
    cfg.password = Secret::new("pen\u{7}cil".into());
    let server = format!("+OK hi\r\n{CAPA}-ERR no\r\n");
    check(
        Script {
            config: cfg,
            server: &[server.as_bytes()],
            on_ready: &[],
        },
        "CAPA\r\nAUTH CRAM-MD5\r\n",
        None,
        server_error(ServerErrorKind::AuthFailed, None, "no"),
    );
}
