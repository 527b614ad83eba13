//! AUTH: every mechanism, its refusals, and the policy that keeps passwords off plain wires.

use super::*;

const GREETING: &str = "220 mail.example.org ESMTP\r\n";

fn with_auth(mechanisms: &str, rest: &str) -> String {
    format!("{GREETING}250-mail.example.org\r\n250 AUTH {mechanisms}\r\n{rest}")
}

fn policy(auth: AuthPolicy, password: &str) -> ClientConfig {
    let mut c = config();
    c.auth = auth;
    c.credentials = Some(Credentials {
        user: "alice".into(),
        password: Secret::new(password.to_string()),
    });
    c
}

#[test]
fn login_answers_two_challenges() {
    let server = with_auth(
        "LOGIN",
        "334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n235 2.7.0 ok\r\n221 bye\r\n",
    );
    let outcome = check(
        Script::new(config(), &[server.as_bytes()]),
        "EHLO client.example\r\nAUTH LOGIN\r\nYWxpY2U=\r\nd29uZGVybGFuZA==\r\nQUIT\r\n",
        None,
    );
    assert!(outcome.events.contains(&Event::Authenticated {
        mechanism: AuthMechanism::Login
    }));
}

#[test]
fn wrong_password_is_auth_failed() {
    let server = with_auth(
        "PLAIN",
        "535 5.7.8 Error: authentication failed: bad credentials\r\n",
    );
    check(
        Script::new(config(), &[server.as_bytes()]),
        "EHLO client.example\r\nAUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=\r\n",
        Some(SmtpError::Server(server_error(
            ServerErrorKind::AuthFailed,
            535,
            Some((5, 7, 8)),
            "Error: authentication failed: bad credentials",
            None,
        ))),
    );
}

#[test]
fn xoauth2_error_challenge_is_answered_with_an_empty_line() {
    // Google's documented failure: a 334 carrying base64 JSON, an empty answer, then 535.
    let server = with_auth(
        "XOAUTH2 PLAIN",
        "334 eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIG1hYyIsInNjb3BlIjoiaHR0cHM6Ly9tYWlsLmdvb2dsZS5jb20vIn0K\r\n\
         535-5.7.8 Username and Password not accepted.\r\n535 5.7.8 Learn more\r\n",
    );
    let outcome = check(
        Script::new(
            policy(AuthPolicy::XOAuth2, "ya29.token"),
            &[server.as_bytes()],
        ),
        "EHLO client.example\r\nAUTH XOAUTH2 dXNlcj1hbGljZQFhdXRoPUJlYXJlciB5YTI5LnRva2VuAQE=\r\n\r\n",
        Some(SmtpError::Server(server_error(
            ServerErrorKind::AuthFailed,
            535,
            Some((5, 7, 8)),
            "Username and Password not accepted.\nLearn more",
            None,
        ))),
    );
    assert!(!outcome.sent.contains("ya29.token"));
}

#[test]
fn oauthbearer_error_challenge_is_answered_with_0x01() {
    let server = with_auth(
        "OAUTHBEARER",
        "334 eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIn0=\r\n535 5.7.8 no\r\n",
    );
    let outcome = check(
        Script::new(policy(AuthPolicy::OAuthBearer, "tok"), &[server.as_bytes()]),
        "EHLO client.example\r\nAUTH OAUTHBEARER bixhPWFsaWNlLAFhdXRoPUJlYXJlciB0b2sBAQ==\r\nAQ==\r\n",
        Some(SmtpError::Server(server_error(
            ServerErrorKind::AuthFailed,
            535,
            Some((5, 7, 8)),
            "no",
            None,
        ))),
    );
    assert!(
        !outcome
            .events
            .iter()
            .any(|e| matches!(e, Event::Ready { .. }))
    );
}

#[test]
fn a_token_too_long_for_the_command_line_waits_for_the_first_challenge() {
    let token = "t".repeat(600);
    let server = with_auth("XOAUTH2", "334 \r\n235 2.7.0 Accepted\r\n221 bye\r\n");
    let outcome = check(
        Script::new(policy(AuthPolicy::XOAuth2, &token), &[server.as_bytes()]),
        &format!(
            "EHLO client.example\r\nAUTH XOAUTH2\r\n{}\r\nQUIT\r\n",
            base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                format!("user=alice\x01auth=Bearer {token}\x01\x01")
            )
        ),
        None,
    );
    assert!(outcome.events.contains(&Event::Authenticated {
        mechanism: AuthMechanism::XOAuth2
    }));
}

#[test]
fn no_password_in_the_clear_unless_allowed() {
    let mut cfg = config();
    cfg.allow_plaintext_password = false;
    let server = with_auth("PLAIN LOGIN", "");
    let outcome = check(
        Script::new(cfg, &[server.as_bytes()]),
        "EHLO client.example\r\n",
        Some(SmtpError::PlaintextRefused),
    );
    assert!(!outcome.sent.contains("AUTH"));
}

#[test]
fn implicit_tls_allows_plain_without_the_plaintext_switch() {
    let mut cfg = config();
    cfg.allow_plaintext_password = false;
    cfg.tls = TlsState::Implicit;
    let server = with_auth("PLAIN", "235 2.7.0 ok\r\n221 bye\r\n");
    check(
        Script::new(cfg, &[server.as_bytes()]),
        "EHLO client.example\r\nAUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=\r\nQUIT\r\n",
        None,
    );
}

#[test]
fn no_acceptable_mechanism() {
    let server = format!("{GREETING}250-mail.example.org\r\n250 AUTH GSSAPI\r\n");
    check(
        Script::new(config(), &[server.as_bytes()]),
        "EHLO client.example\r\n",
        Some(SmtpError::NoAcceptableAuth {
            offered: vec!["GSSAPI".into()],
        }),
    );
    // A server without AUTH at all, when a login is configured.
    let server = format!("{GREETING}250 mail.example.org\r\n");
    check(
        Script::new(config(), &[server.as_bytes()]),
        "EHLO client.example\r\n",
        Some(SmtpError::NoAcceptableAuth { offered: vec![] }),
    );
}

#[test]
fn an_unreadable_challenge_cancels_the_exchange() {
    let server = with_auth("LOGIN", "334 not base64!\r\n501 cancelled\r\n");
    check(
        Script::new(config(), &[server.as_bytes()]),
        "EHLO client.example\r\nAUTH LOGIN\r\n*\r\n",
        Some(ProtocolError::BadSaslChallenge.into()),
    );
}

#[test]
fn credentials_with_line_breaks_are_refused_before_sending() {
    let mut cfg = config();
    cfg.credentials = Some(Credentials {
        user: "alice\r\nRSET".into(),
        password: Secret::new("pw".into()),
    });
    check(
        Script::new(cfg, &[with_auth("PLAIN", "").as_bytes()]),
        "EHLO client.example\r\n",
        Some(UsageError::InvalidCredentials.into()),
    );
}
