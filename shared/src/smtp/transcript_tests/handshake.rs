//! Greeting, EHLO and its fallback, STARTTLS and its injection, and the bounds on replies.

use super::*;

#[test]
fn greeting_refused() {
    check(
        Script::new(config(), &[b"554 5.7.1 No SMTP service here\r\n"]),
        "",
        Some(SmtpError::Server(server_error(
            ServerErrorKind::GreetingRefused,
            554,
            Some((5, 7, 1)),
            "No SMTP service here",
            None,
        ))),
    );
}

#[test]
fn greeting_421_is_service_unavailable() {
    let outcome = check(
        Script::new(config(), &[b"421 4.3.2 busy, try later\r\n"]),
        "",
        Some(SmtpError::Server(server_error(
            ServerErrorKind::ServiceUnavailable,
            421,
            Some((4, 3, 2)),
            "busy, try later",
            None,
        ))),
    );
    assert!(outcome.error.unwrap().to_string().contains("421"));
}

#[test]
fn ehlo_refused_falls_back_to_helo_only_without_auth_and_starttls() {
    let server: &[u8] = b"220 old.example\r\n502 unknown command\r\n250 old.example hi\r\n250 ok\r\n250 ok\r\n354 go\r\n250 ok\r\n221 bye\r\n";
    let messages = [(Envelope::new("a@x", ["b@y"]), &b"hi\r\n"[..])];
    let outcome = check(
        Script::new(anonymous("client.example"), &[server]).sending(&messages),
        "EHLO client.example\r\nHELO client.example\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n",
        None,
    );
    assert!(outcome.events.contains(&Event::Ready {
        capabilities: Capabilities {
            domain: "old.example".into(),
            ..Capabilities::default()
        }
    }));
    // With a login to give, or STARTTLS wanted, HELO would lose them: the refusal stands.
    let ehlo_refused = Some(SmtpError::Server(server_error(
        ServerErrorKind::EhloRejected,
        500,
        None,
        "what?",
        None,
    )));
    check(
        Script::new(config(), &[b"220 old.example\r\n500 what?\r\n"]),
        "EHLO client.example\r\n",
        ehlo_refused.clone(),
    );
    let mut starttls = anonymous("client.example");
    starttls.want_starttls = true;
    check(
        Script::new(starttls, &[b"220 old.example\r\n500 what?\r\n"]),
        "EHLO client.example\r\n",
        ehlo_refused,
    );
}

#[test]
fn starttls_wanted_but_not_offered() {
    let mut cfg = config();
    cfg.want_starttls = true;
    check(
        Script::new(cfg, &[b"220 x\r\n250-x\r\n250 AUTH PLAIN\r\n"]),
        "EHLO client.example\r\n",
        Some(SmtpError::StartTlsUnavailable),
    );
}

#[test]
fn starttls_refused() {
    let mut cfg = config();
    cfg.want_starttls = true;
    check(
        Script::new(cfg, &[b"220 x\r\n250-x\r\n250 STARTTLS\r\n454 4.7.0 TLS not available due to temporary reason\r\n"]),
        "EHLO client.example\r\nSTARTTLS\r\n",
        Some(SmtpError::Server(server_error(
            ServerErrorKind::Temporary,
            454,
            Some((4, 7, 0)),
            "TLS not available due to temporary reason",
            None,
        ))),
    );
}

#[test]
fn bytes_after_starttls_220_are_refused_as_injection() {
    // CVE-2011-0411: an attacker appends a reply (or a whole EHLO answer) to the 220 in the
    // clear; read after the handshake it would pass for the server's. Whether it arrives with
    // the 220 or just after it, before the handshake, it ends the session.
    let mut cfg = config();
    cfg.want_starttls = true;
    check(
        Script::new(
            cfg.clone(),
            &[b"220 x\r\n250-x\r\n250 STARTTLS\r\n220 go ahead\r\n250-x\r\n250 AUTH PLAIN\r\n"],
        ),
        "EHLO client.example\r\nSTARTTLS\r\n",
        Some(ProtocolError::DataAfterStartTls.into()),
    );
    // The same bytes given after the handshake are fine: that is the next segment.
    check(
        Script::new(
            cfg,
            &[
                b"220 x\r\n250-x\r\n250 STARTTLS\r\n220 go ahead\r\n",
                b"250-x\r\n250 AUTH PLAIN\r\n235 ok\r\n221 bye\r\n",
            ],
        ),
        "EHLO client.example\r\nSTARTTLS\r\nEHLO client.example\r\nAUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=\r\nQUIT\r\n",
        None,
    );
}

#[test]
fn tls_started_refuses_bytes_buffered_before_it() {
    let mut cfg = config();
    cfg.want_starttls = true;
    let mut client = Client::new(cfg);
    client.receive(b"220 x\r\n250-x\r\n250 STARTTLS\r\n220 go\r\n");
    while let Some(ev) = client.next_event().unwrap() {
        assert_ne!(ev, Event::Closed);
    }
    // A driver that read more in the clear and fed it before calling tls_started.
    client.receive(b"250 injected\r\n");
    let err = SmtpError::from(ProtocolError::DataAfterStartTls);
    assert_eq!(client.tls_started(), Err(err.clone()));
    assert_eq!(client.next_event(), Err(err));
    // And tls_started when nobody asked for TLS is a usage error.
    let mut client = Client::new(config());
    assert_eq!(
        client.tls_started(),
        Err(UsageError::UnexpectedTlsStarted.into())
    );
}

#[test]
fn over_long_line_and_reply_bounds() {
    let mut cfg = config();
    cfg.max_line = 64;
    cfg.max_reply_lines = 3;
    let long = format!("220 {}\r\n", "x".repeat(61));
    check(
        Script::new(cfg.clone(), &[long.as_bytes()]),
        "",
        Some(ProtocolError::LineTooLong { limit: 64 }.into()),
    );
    // Without a line end at all: refused once the limit is passed, not at the end of input.
    let endless = "2".repeat(1000);
    check(
        Script::new(cfg.clone(), &[endless.as_bytes()]),
        "",
        Some(ProtocolError::LineTooLong { limit: 64 }.into()),
    );
    check(
        Script::new(cfg, &[b"220 x\r\n250-x\r\n250-a\r\n250-b\r\n250 c\r\n"]),
        "EHLO client.example\r\n",
        Some(ProtocolError::ReplyTooLong { limit: 3 }.into()),
    );
}

#[test]
fn malformed_and_unexpected_replies() {
    check(
        Script::new(config(), &[b"+OK POP3 ready\r\n"]),
        "",
        Some(ProtocolError::MalformedReply.into()),
    );
    check(
        Script::new(config(), &[b"250 not a greeting\r\n"]),
        "",
        Some(
            ProtocolError::UnexpectedReply {
                code: 250,
                during: "greeting",
            }
            .into(),
        ),
    );
    check(
        Script::new(config(), &[b"220 x\r\n354 what\r\n"]),
        "EHLO client.example\r\n",
        Some(
            ProtocolError::UnexpectedReply {
                code: 354,
                during: "EHLO",
            }
            .into(),
        ),
    );
}

#[test]
fn bare_lf_replies_are_read() {
    let server: &[u8] = b"220 x\n250-x\n250 AUTH PLAIN\n235 ok\n221 bye\n";
    check(
        Script::new(config(), &[server]),
        "EHLO client.example\r\nAUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=\r\nQUIT\r\n",
        None,
    );
}

#[test]
fn an_unusable_ehlo_name_is_refused() {
    let mut cfg = config();
    cfg.client_domain = "a b".into();
    check(
        Script::new(cfg, &[b"220 x\r\n"]),
        "",
        Some(UsageError::InvalidClientDomain.into()),
    );
}

#[test]
fn debug_never_shows_the_password_or_the_message() {
    let mut client = Client::new(config());
    client.receive(b"220 x\r\n250-x\r\n250 AUTH PLAIN\r\n235 ok\r\n");
    while client.next_event().unwrap().is_some() {}
    client
        .send(Envelope::new("a@x", ["b@y"]), b"secret mail body".to_vec())
        .unwrap();
    let printed = format!("{client:?} {:?}", config());
    assert!(!printed.contains("wonderland"), "{printed}");
    assert!(!printed.contains("secret mail"), "{printed}");
    assert!(!printed.contains("b@y"), "{printed}");
}
