//! SCRAM-SHA-256 in SMTP AUTH (RFC 7677's example exchange) and a server that cannot prove it
//! knows the password.

use super::*;
use crate::scram::ScramError;

const SERVER_FIRST: &str = "cj1yT3ByTkdmd0ViZVJXZ2JORWtxTyVodllEcFdVYTJSYVRDQWZ1eEZJbGopaE5sRiRrMCxzPVcyMlphSjBTTlk3c29Fc1VFamI2Z1E9PSxpPTQwOTY=";
const SERVER_FINAL: &str = "dj02cnJpVFJCaTIzV3BSUi93dHVwK21NaFVaVW4vZEI1bkxUSlJzamw5NUc0PQ==";
const FORGED_FINAL: &str = "dj03cnJpVFJCaTIzV3BSUi93dHVwK21NaFVaVW4vZEI1bkxUSlJzamw5NUc0PQ==";
const CLIENT: &str = "EHLO client.example\r\nAUTH SCRAM-SHA-256 biwsbj11c2VyLHI9ck9wck5HZndFYmVSV2diTkVrcU8=\r\nYz1iaXdzLHI9ck9wck5HZndFYmVSV2diTkVrcU8laHZZRHBXVWEyUmFUQ0FmdXhGSWxqKWhObEYkazAscD1kSHpiWmFwV0lrNGpVaE4rVXRlOXl0YWc5empmTUhnc3FtbWl6N0FuZFZRPQ==\r\n";

fn scram_config() -> ClientConfig {
    let mut c = config();
    c.credentials = Some(Credentials {
        user: "user".into(),
        password: Secret::new("pencil".into()),
    });
    c.allow_plaintext_password = false;
    c.scram_nonce = Some("rOprNGfwEbeRWgbNEkqO".into());
    c
}

fn server(rest: &str) -> String {
    format!(
        "220 mx ESMTP\r\n250-mx\r\n250 AUTH PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256\r\n{rest}"
    )
}

#[test]
fn auto_submits_with_scram_sha_256() {
    let server = server(&format!(
        "334 {SERVER_FIRST}\r\n334 {SERVER_FINAL}\r\n235 2.7.0 ok\r\n221 bye\r\n"
    ));
    let outcome = check(
        Script::new(scram_config(), &[server.as_bytes()]),
        &format!("{CLIENT}\r\nQUIT\r\n"),
        None,
    );
    assert!(outcome.events.contains(&Event::Authenticated {
        mechanism: AuthMechanism::ScramSha256
    }));
}

#[test]
fn a_forged_server_signature_cancels_the_exchange() {
    let server = server(&format!(
        "334 {SERVER_FIRST}\r\n334 {FORGED_FINAL}\r\n501 cancelled\r\n"
    ));
    check(
        Script::new(scram_config(), &[server.as_bytes()]),
        &format!("{CLIENT}*\r\n"),
        Some(SmtpError::Protocol(ProtocolError::Scram(
            ScramError::ServerSignatureMismatch,
        ))),
    );
}

#[test]
fn success_without_the_servers_signature_is_refused() {
    let server = server(&format!("334 {SERVER_FIRST}\r\n235 2.7.0 ok\r\n"));
    check(
        Script::new(scram_config(), &[server.as_bytes()]),
        CLIENT,
        Some(SmtpError::Protocol(ProtocolError::Scram(
            ScramError::MissingServerSignature,
        ))),
    );
}

/// A password SaslPrep refuses: `Auto` takes CRAM-MD5, as before SCRAM existed.
#[test]
fn auto_skips_scram_for_a_password_saslprep_refuses() {
    let mut config = scram_config();
    config.credentials = Some(Credentials {
        user: "user".into(),
        password: Secret::new("pen\u{7}cil".into()),
    });
    let server = server("535 5.7.8 no\r\n");
    let outcome = check(
        Script::new(config, &[server.as_bytes()]),
        "EHLO client.example\r\nAUTH CRAM-MD5\r\n",
        Some(SmtpError::Server(server_error(
            ServerErrorKind::AuthFailed,
            535,
            Some((5, 7, 8)),
            "no",
            None,
        ))),
    );
    assert!(!outcome.sent.contains("SCRAM"));
}
