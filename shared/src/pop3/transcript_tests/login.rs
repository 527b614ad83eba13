//! Greeting, CAPA, STLS and every login method.

use super::*;

#[test]
fn rfc1939_example_session_with_apop() {
    // RFC 1939 section 10, with a CAPA the old server does not know.
    let greeting = "POP3 server ready <1896.697170952@dbc.mtview.ca.us>";
    let message1 = "Subject: one\r\n\r\n..dot\r\nbody\r\n";
    let server = format!(
        "+OK {greeting}\r\n-ERR unknown command\r\n+OK mrose's maildrop has 2 messages (320 octets)\r\n\
         +OK 2 320\r\n+OK 2 messages (320 octets)\r\n1 120\r\n2 200\r\n.\r\n\
         +OK 120 octets\r\n{message1}.\r\n+OK message 1 deleted\r\n\
         +OK dewey POP3 server signing off (maildrop empty)\r\n"
    );
    let mut cfg = config();
    cfg.allow_plaintext_password = false;
    check(
        Script {
            config: cfg,
            server: &[server.as_bytes()],
            on_ready: &[
                Command::Stat,
                Command::List(None),
                Command::Retr(1),
                Command::Dele(1),
                Command::Quit,
            ],
        },
        "CAPA\r\nAPOP mrose c4c9334bac560ecc979e58001b3e22fb\r\nSTAT\r\nLIST\r\nRETR 1\r\nDELE 1\r\nQUIT\r\n",
        Some(&[
            Event::Greeting {
                apop_timestamp: Some("<1896.697170952@dbc.mtview.ca.us>".into()),
                text: greeting.into(),
            },
            Event::Authenticated {
                mechanism: AuthMechanism::Apop,
            },
            Event::Ready {
                login_delay: None,
                expire: None,
            },
            Event::Stat {
                id: id(1),
                count: 2,
                size: 320,
            },
            Event::List {
                id: id(2),
                entries: vec![(1, 120), (2, 200)],
            },
            Event::MessageStart {
                id: id(3),
                msg: 1,
                size: Some(120),
            },
            Event::MessageChunk {
                id: id(3),
                bytes: b"Subject: one\r\n\r\n.dot\r\nbody\r\n".to_vec(),
            },
            Event::MessageEnd { id: id(3) },
            Event::Deleted { id: id(4), msg: 1 },
            Event::Closed { committed: true },
        ]),
        None,
    );
}

#[test]
fn starttls_reissues_capa_and_uses_plain_afterwards() {
    let before =
        "+OK ready\r\n+OK\r\nSTLS\r\nUSER\r\n.\r\n+OK Begin TLS negotiation now.\r\n".to_string();
    let after = format!("{DOVECOT_CAPA}+OK Logged in.\r\n{DOVECOT_CAPA}+OK bye\r\n");
    let mut cfg = config();
    cfg.want_starttls = true;
    cfg.allow_plaintext_password = false;
    let out = check(
        Script {
            config: cfg,
            server: &[before.as_bytes(), after.as_bytes()],
            on_ready: &[Command::Quit],
        },
        "CAPA\r\nSTLS\r\nCAPA\r\nAUTH PLAIN AG1yb3NlAHRhbnN0YWFm\r\nCAPA\r\nQUIT\r\n",
        None,
        None,
    );
    assert!(out.events.contains(&Event::StartTls));
    assert!(out.events.contains(&Event::Authenticated {
        mechanism: AuthMechanism::Plain
    }));
}

#[test]
fn data_after_stls_ok_is_refused() {
    let mut cfg = config();
    cfg.want_starttls = true;
    check(
        Script {
            config: cfg,
            server: &[b"+OK ready\r\n+OK\r\nSTLS\r\n.\r\n+OK go\r\n+OK injected\r\n"],
            on_ready: &[],
        },
        "CAPA\r\nSTLS\r\n",
        None,
        Some(Pop3Error::Protocol(ProtocolError::DataAfterStartTls)),
    );
}

#[test]
fn starttls_required_but_not_offered() {
    let mut cfg = config();
    cfg.want_starttls = true;
    check(
        Script {
            config: cfg,
            server: &[b"+OK ready\r\n+OK\r\nUSER\r\n.\r\n"],
            on_ready: &[],
        },
        "CAPA\r\n",
        None,
        Some(Pop3Error::StartTlsUnavailable),
    );
}

#[test]
fn plaintext_refused_sends_no_secret() {
    let mut cfg = config();
    cfg.allow_plaintext_password = false;
    let out = check(
        Script {
            config: cfg,
            server: &[b"+OK ready\r\n+OK\r\nUSER\r\nSASL PLAIN\r\n.\r\n"],
            on_ready: &[],
        },
        "CAPA\r\n",
        None,
        Some(Pop3Error::PlaintextRefused),
    );
    assert!(!out.sent.contains("tanstaaf"));
}

#[test]
fn auth_failures_are_classified() {
    let cases = [
        (
            "-ERR [AUTH] Authentication failed.",
            ServerErrorKind::AuthFailed,
            Some(ResponseCode::Auth),
            "Authentication failed.",
        ),
        (
            "-ERR Authentication failed.",
            ServerErrorKind::AuthFailed,
            None,
            "Authentication failed.",
        ),
        (
            "-ERR [IN-USE] Do you have another POP session running?",
            ServerErrorKind::InUse,
            Some(ResponseCode::InUse),
            "Do you have another POP session running?",
        ),
        (
            "-ERR [LOGIN-DELAY] wait 15 minutes",
            ServerErrorKind::LoginDelay,
            Some(ResponseCode::LoginDelay),
            "wait 15 minutes",
        ),
        (
            "-ERR [SYS/TEMP] try again later",
            ServerErrorKind::TemporaryFailure,
            Some(ResponseCode::SysTemp),
            "try again later",
        ),
        (
            "-ERR [SYS/PERM] account disabled",
            ServerErrorKind::PermanentFailure,
            Some(ResponseCode::SysPerm),
            "account disabled",
        ),
    ];
    for (reply, kind, code, text) in cases {
        let server = format!("+OK ready\r\n+OK\r\nUSER\r\n.\r\n+OK\r\n{reply}\r\n");
        check(
            Script {
                config: config(),
                server: &[server.as_bytes()],
                on_ready: &[],
            },
            "CAPA\r\nUSER mrose\r\nPASS tanstaaf\r\n",
            None,
            server_error(kind, code, text),
        );
    }
}

#[test]
fn greeting_rejected() {
    check(
        Script {
            config: config(),
            server: &[b"-ERR [SYS/TEMP] overloaded\r\n"],
            on_ready: &[],
        },
        "",
        Some(&[]),
        server_error(
            ServerErrorKind::TemporaryFailure,
            Some(ResponseCode::SysTemp),
            "overloaded",
        ),
    );
    check(
        Script {
            config: config(),
            server: &[b"-ERR go away\r\n"],
            on_ready: &[],
        },
        "",
        Some(&[]),
        server_error(ServerErrorKind::GreetingRejected, None, "go away"),
    );
}

#[test]
fn cram_md5_and_bad_base64_challenge() {
    // RFC 2195 example: tim / tanstaaftanstaaf.
    let mut cfg = config();
    cfg.user = "tim".into();
    cfg.password = Secret::new("tanstaaftanstaaf".into());
    cfg.allow_plaintext_password = false;
    let capa = "+OK\r\nSASL CRAM-MD5\r\n.\r\n";
    let good = format!(
        "+OK hi\r\n{capa}+ PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n+OK\r\n{capa}"
    );
    let out = check(
        Script {
            config: cfg.clone(),
            server: &[good.as_bytes()],
            on_ready: &[],
        },
        "CAPA\r\nAUTH CRAM-MD5\r\ndGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw\r\nCAPA\r\n",
        None,
        Some(Pop3Error::ConnectionLost {
            during: "transaction",
            in_flight: vec![],
        }),
    );
    assert!(out.events.contains(&Event::Authenticated {
        mechanism: AuthMechanism::CramMd5
    }));
    let bad = format!("+OK hi\r\n{capa}+ !!!not-base64\r\n-ERR cancelled\r\n");
    check(
        Script {
            config: cfg,
            server: &[bad.as_bytes()],
            on_ready: &[],
        },
        "CAPA\r\nAUTH CRAM-MD5\r\n*\r\n",
        None,
        Some(Pop3Error::Protocol(ProtocolError::BadSaslChallenge)),
    );
}

#[test]
fn rfc5034_plain_with_empty_challenge_and_login() {
    // RFC 5034 section 6, second example: AUTH PLAIN, "+ ", then the response.
    let mut cfg = config();
    cfg.auth = AuthPolicy::Login;
    let server =
        "+OK hi\r\n+OK\r\nSASL LOGIN\r\n.\r\n+ VXNlcm5hbWU6\r\n+ UGFzc3dvcmQ6\r\n+OK\r\n-ERR\r\n";
    check(
        Script {
            config: cfg,
            server: &[server.as_bytes()],
            on_ready: &[],
        },
        "CAPA\r\nAUTH LOGIN\r\nbXJvc2U=\r\ndGFuc3RhYWY=\r\nCAPA\r\n",
        Some(&[
            Event::Greeting {
                apop_timestamp: None,
                text: "hi".into(),
            },
            Event::Capabilities(Capabilities {
                sasl: vec!["LOGIN".into()],
                ..Default::default()
            }),
            Event::Authenticated {
                mechanism: AuthMechanism::Login,
            },
            Event::Ready {
                login_delay: None,
                expire: None,
            },
        ]),
        Some(Pop3Error::ConnectionLost {
            during: "transaction",
            in_flight: vec![],
        }),
    );
}

#[test]
fn login_delay_and_expire_come_from_capa_after_login() {
    let server = "+OK hi\r\n+OK\r\nUSER\r\nLOGIN-DELAY 900 USER\r\nEXPIRE 30 USER\r\n.\r\n+OK\r\n+OK\r\n\
                  +OK\r\nUSER\r\nLOGIN-DELAY 3600\r\nEXPIRE NEVER\r\n.\r\n";
    let out = run(
        &Script {
            config: config(),
            server: &[server.as_bytes()],
            on_ready: &[],
        },
        1,
    );
    assert_eq!(
        out.events.last(),
        Some(&Event::Ready {
            login_delay: Some(3600),
            expire: Some(Expire::Never)
        })
    );
}

#[test]
fn usage_errors() {
    let mut client = Client::new(config());
    assert_eq!(
        client.enqueue(Command::Stat),
        Err(Pop3Error::Usage(UsageError::NotReady))
    );
    assert_eq!(
        client.tls_started(),
        Err(Pop3Error::Usage(UsageError::UnexpectedTlsStarted))
    );
    client.receive(b"+OK hi\r\n-ERR\r\n+OK\r\n+OK\r\n");
    while client.next_event().unwrap().is_some() {}
    assert_eq!(
        client.enqueue(Command::Retr(0)),
        Err(Pop3Error::Usage(UsageError::InvalidMessageNumber))
    );
    client.enqueue(Command::Quit).unwrap();
    assert_eq!(
        client.enqueue(Command::Noop),
        Err(Pop3Error::Usage(UsageError::Closed))
    );
    client.receive(b"+OK bye\r\n");
    assert_eq!(
        client.next_event().unwrap(),
        Some(Event::Closed { committed: true })
    );
    assert!(client.is_closed());
    assert_eq!(
        client.enqueue(Command::Noop),
        Err(Pop3Error::Usage(UsageError::Closed))
    );

    let mut cfg = config();
    cfg.user = "evil\r\nDELE 1".into();
    let mut client = Client::new(cfg);
    client.receive(b"+OK hi\r\n-ERR\r\n");
    assert_eq!(client.next_event().unwrap().map(|_| ()), Some(()));
    assert_eq!(
        client.next_event(),
        Err(Pop3Error::Usage(UsageError::InvalidCredentials))
    );
    assert_eq!(client.take_outgoing().unwrap(), b"CAPA\r\n");
}

#[test]
fn debug_output_never_shows_the_password_or_mail() {
    let mut client = Client::new(config());
    client.receive(b"+OK hi\r\n+OK\r\nUSER\r\n.\r\n+OK\r\n");
    while client.next_event().unwrap().is_some() {}
    // "PASS tanstaaf" is now pending output; the next reply is a RETR body in the buffer.
    client.receive(b"+OK\r\n-ERR\r\n+OK\r\nsecret mail body");
    let printed = format!("{client:?} {:?}", config());
    assert!(!printed.contains("tanstaaf"), "{printed}");
    assert!(!printed.contains("secret mail"), "{printed}");

    // A deferred SASL initial response (too long for the AUTH line) holds the token.
    let mut cfg = config();
    cfg.auth = AuthPolicy::XOAuth2;
    cfg.password = Secret::new("tok".repeat(200));
    let mut client = Client::new(cfg);
    client.receive(b"+OK hi\r\n+OK\r\nSASL XOAUTH2\r\n.\r\n");
    while client.next_event().unwrap().is_some() {}
    assert_eq!(client.take_outgoing().unwrap(), b"CAPA\r\nAUTH XOAUTH2\r\n");
    assert!(!format!("{client:?}").contains("toktok"));
}

/// Dovecot's answer to a token its oauth2 passdb refused: a JSON error as a challenge, which the
/// client answers with an empty line, then `-ERR [AUTH]`.
#[test]
fn a_refused_xoauth2_token_is_auth_failed() {
    let mut cfg = config();
    cfg.user = "user0".into();
    cfg.password = Secret::new("badtoken".into());
    cfg.auth = AuthPolicy::XOAuth2;
    let server = "+OK hi\r\n+OK\r\nSASL XOAUTH2 OAUTHBEARER\r\n.\r\n\
                  + eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIiwic2NvcGUiOiJtYWlsIn0=\r\n\
                  -ERR [AUTH] Authentication failed.\r\n";
    check(
        Script {
            config: cfg,
            server: &[server.as_bytes()],
            on_ready: &[],
        },
        "CAPA\r\nAUTH XOAUTH2 dXNlcj11c2VyMAFhdXRoPUJlYXJlciBiYWR0b2tlbgEB\r\n\r\n",
        None,
        server_error(
            ServerErrorKind::AuthFailed,
            Some(ResponseCode::Auth),
            "Authentication failed.",
        ),
    );
}
