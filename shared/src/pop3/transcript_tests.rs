//! Scripted sessions: a server transcript is fed to the client whole, byte by byte and in
//! odd-sized chunks; the events, the bytes the client sent and the final error must be the
//! same every time.

use super::*;

/// A scripted session. `server` is split into segments: after each segment but the last the
/// driver performs the TLS upgrade if the client asked for it (as a real driver would, bytes
/// sent after the handshake arrive in the next segment).
struct Script<'a> {
    config: ClientConfig,
    server: &'a [&'a [u8]],
    /// Enqueued when `Ready` arrives.
    on_ready: &'a [Command],
}

#[derive(Debug, PartialEq)]
struct Outcome {
    events: Vec<Event>,
    sent: String,
    error: Option<Pop3Error>,
}

fn config() -> ClientConfig {
    let mut c = ClientConfig::new("mrose", Secret::new("tanstaaf".to_string()));
    c.want_starttls = false;
    c.allow_plaintext_password = true;
    c
}

fn run(script: &Script, step: usize) -> Outcome {
    let mut client = Client::new(script.config.clone());
    let mut events: Vec<Event> = Vec::new();
    let mut sent = Vec::new();
    let mut error = None;
    'segments: for (i, segment) in script.server.iter().enumerate() {
        if i > 0 && events.last() == Some(&Event::StartTls) {
            client.tls_started().unwrap();
        }
        for chunk in segment.chunks(step.max(1)) {
            client.receive(chunk);
            loop {
                match client.next_event() {
                    Ok(Some(ev)) => {
                        if matches!(ev, Event::Ready { .. }) {
                            for c in script.on_ready {
                                client.enqueue(c.clone()).unwrap();
                            }
                        }
                        // Merge adjacent chunks so the comparison does not depend on chunking.
                        if let (
                            Event::MessageChunk { id, bytes },
                            Some(Event::MessageChunk {
                                id: last,
                                bytes: acc,
                            }),
                        ) = (&ev, events.last_mut())
                            && id == last
                        {
                            acc.extend_from_slice(bytes);
                            continue;
                        }
                        events.push(ev);
                    }
                    Ok(None) => break,
                    Err(e) => {
                        error = Some(e);
                        sent.extend(client.take_outgoing().unwrap_or_default());
                        break 'segments;
                    }
                }
            }
            sent.extend(client.take_outgoing().unwrap_or_default());
        }
    }
    if error.is_none() && !client.is_closed() {
        error = Some(client.connection_lost());
    }
    Outcome {
        events,
        sent: String::from_utf8_lossy(&sent).into_owned(),
        error,
    }
}

/// Runs the script with several chunkings and checks they agree with `expected_sent`,
/// `expected_events` (if given) and `expected_error`.
fn check(
    script: Script,
    expected_sent: &str,
    expected_events: Option<&[Event]>,
    expected_error: Option<Pop3Error>,
) -> Outcome {
    let whole = run(&script, usize::MAX);
    for step in [1, 2, 7] {
        assert_eq!(
            run(&script, step),
            whole,
            "chunking {step} differs from whole input"
        );
    }
    assert_eq!(whole.sent, expected_sent);
    if let Some(events) = expected_events {
        assert_eq!(whole.events, events);
    }
    assert_eq!(whole.error, expected_error);
    whole
}

fn id(n: u64) -> CommandId {
    CommandId(n)
}

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

const DOVECOT_CAPA: &str = "+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\nUSER\r\nSASL PLAIN LOGIN\r\n.\r\n";

#[test]
fn pipelining_sends_commands_together_within_the_window() {
    let server = format!(
        "+OK Dovecot ready.\r\n{DOVECOT_CAPA}+OK Logged in.\r\n{DOVECOT_CAPA}\
         +OK 2 10\r\n+OK 1 5\r\n+OK 1 uid-one\r\n+OK\r\n"
    );
    let mut cfg = config();
    cfg.pipeline_window = 2;
    let out = check(
        Script {
            config: cfg,
            server: &[server.as_bytes()],
            on_ready: &[
                Command::Stat,
                Command::List(Some(1)),
                Command::Uidl(Some(1)),
                Command::Quit,
            ],
        },
        "CAPA\r\nAUTH PLAIN AG1yb3NlAHRhbnN0YWFm\r\nCAPA\r\nSTAT\r\nLIST 1\r\nUIDL 1\r\nQUIT\r\n",
        None,
        None,
    );
    assert_eq!(
        out.events[out.events.len() - 4..],
        [
            Event::Stat {
                id: id(1),
                count: 2,
                size: 10
            },
            Event::List {
                id: id(2),
                entries: vec![(1, 5)]
            },
            Event::Uidl {
                id: id(3),
                entries: vec![(1, "uid-one".into())]
            },
            Event::Closed { committed: true },
        ]
    );
}

/// The window is visible in what is written before any reply arrives.
#[test]
fn window_and_lockstep_bound_commands_in_flight() {
    for (pipelining, window, expected) in [
        (true, 2, "STAT\r\nNOOP\r\n"),
        (true, 8, "STAT\r\nNOOP\r\nRSET\r\n"),
        (false, 8, "STAT\r\n"),
    ] {
        let capa = if pipelining {
            "+OK\r\nUSER\r\nPIPELINING\r\n.\r\n"
        } else {
            "+OK\r\nUSER\r\n.\r\n"
        };
        let mut cfg = config();
        cfg.pipeline_window = window;
        let mut client = Client::new(cfg);
        client.receive(format!("+OK hi\r\n{capa}+OK\r\n+OK\r\n{capa}").as_bytes());
        while client.next_event().unwrap().is_some() {}
        client.take_outgoing();
        for c in [Command::Stat, Command::Noop, Command::Rset] {
            client.enqueue(c).unwrap();
        }
        assert_eq!(
            String::from_utf8(client.take_outgoing().unwrap()).unwrap(),
            expected
        );
        client.receive(b"+OK 0 0\r\n");
        assert_eq!(
            client.next_event().unwrap(),
            Some(Event::Stat {
                id: id(1),
                count: 0,
                size: 0
            })
        );
        let next = String::from_utf8(client.take_outgoing().unwrap_or_default()).unwrap();
        assert_eq!(
            next,
            if window == 8 && pipelining {
                ""
            } else if pipelining {
                "RSET\r\n"
            } else {
                "NOOP\r\n"
            }
        );
    }
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

fn server_error(
    kind: ServerErrorKind,
    code: Option<ResponseCode>,
    text: &str,
) -> Option<Pop3Error> {
    Some(Pop3Error::Server(ServerError {
        kind,
        code,
        text: text.into(),
    }))
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
fn server_closes_mid_reply() {
    let server =
        "+OK hi\r\n+OK\r\nUSER\r\n.\r\n+OK\r\n+OK\r\n-ERR\r\n+OK 100 octets\r\nFrom: a\r\n";
    let out = check(
        Script {
            config: config(),
            server: &[server.as_bytes()],
            on_ready: &[Command::Retr(1), Command::Quit],
        },
        "CAPA\r\nUSER mrose\r\nPASS tanstaaf\r\nCAPA\r\nRETR 1\r\n",
        None,
        Some(Pop3Error::ConnectionLost {
            during: "transaction",
            in_flight: vec![(id(1), Command::Retr(1)), (id(2), Command::Quit)],
        }),
    );
    assert_eq!(
        out.events.last(),
        Some(&Event::MessageChunk {
            id: id(1),
            bytes: b"From: a\r\n".to_vec()
        })
    );
}

#[test]
fn bare_lf_session() {
    let server =
        "+OK hi\n+OK\nUSER\nUIDL\n.\n+OK\n+OK\n-ERR\n+OK\n1 abc\n.\n+OK\nline\n..x\n.\n+OK\n";
    check(
        Script {
            config: config(),
            server: &[server.as_bytes()],
            on_ready: &[
                Command::Uidl(None),
                Command::Top { msg: 1, lines: 0 },
                Command::Quit,
            ],
        },
        "CAPA\r\nUSER mrose\r\nPASS tanstaaf\r\nCAPA\r\nUIDL\r\nTOP 1 0\r\nQUIT\r\n",
        Some(&[
            Event::Greeting {
                apop_timestamp: None,
                text: "hi".into(),
            },
            Event::Capabilities(Capabilities {
                user: true,
                uidl: true,
                ..Default::default()
            }),
            Event::Authenticated {
                mechanism: AuthMechanism::User,
            },
            Event::Ready {
                login_delay: None,
                expire: None,
            },
            Event::Uidl {
                id: id(1),
                entries: vec![(1, "abc".into())],
            },
            Event::MessageStart {
                id: id(2),
                msg: 1,
                size: None,
            },
            Event::MessageChunk {
                id: id(2),
                bytes: b"line\n.x\n".to_vec(),
            },
            Event::MessageEnd { id: id(2) },
            Event::Closed { committed: true },
        ]),
        None,
    );
}

#[test]
fn endless_line_is_a_typed_error() {
    let mut server = b"+OK hi\r\n+OK\r\nUSER\r\n.\r\n+OK\r\n+OK\r\n-ERR\r\n+OK ".to_vec();
    server.extend(std::iter::repeat_n(b'x', 100_000));
    let mut cfg = config();
    cfg.max_line = 1000;
    check(
        Script {
            config: cfg,
            server: &[&server],
            on_ready: &[Command::Stat],
        },
        "CAPA\r\nUSER mrose\r\nPASS tanstaaf\r\nCAPA\r\nSTAT\r\n",
        None,
        Some(Pop3Error::Protocol(ProtocolError::LineTooLong {
            limit: 1000,
        })),
    );
}

#[test]
fn long_uidl_failed_commands_and_uncommitted_quit() {
    let long_uid = "u".repeat(200);
    let server = format!(
        "+OK hi\r\n+OK\r\nUSER\r\n.\r\n+OK\r\n+OK\r\n-ERR\r\n+OK\r\n1 {long_uid}\r\n2 x\r\n.\r\n\
         -ERR no such message\r\n+OK\r\n-ERR [SYS/TEMP] some deleted messages not removed\r\n"
    );
    check(
        Script {
            config: config(),
            server: &[server.as_bytes()],
            on_ready: &[
                Command::Uidl(None),
                Command::Retr(9),
                Command::Rset,
                Command::Quit,
            ],
        },
        "CAPA\r\nUSER mrose\r\nPASS tanstaaf\r\nCAPA\r\nUIDL\r\nRETR 9\r\nRSET\r\nQUIT\r\n",
        Some(&[
            Event::Greeting {
                apop_timestamp: None,
                text: "hi".into(),
            },
            Event::Capabilities(Capabilities {
                user: true,
                ..Default::default()
            }),
            Event::Authenticated {
                mechanism: AuthMechanism::User,
            },
            Event::Ready {
                login_delay: None,
                expire: None,
            },
            Event::Uidl {
                id: id(1),
                entries: vec![(1, long_uid.clone()), (2, "x".into())],
            },
            Event::CommandFailed {
                id: id(2),
                error: ServerError {
                    kind: ServerErrorKind::CommandRejected,
                    code: None,
                    text: "no such message".into(),
                },
            },
            Event::Reset { id: id(3) },
            Event::Closed { committed: false },
        ]),
        None,
    );
}

#[test]
fn malformed_replies_and_unsolicited_data() {
    let pre = "+OK hi\r\n+OK\r\nUSER\r\n.\r\n+OK\r\n+OK\r\n-ERR\r\n";
    for (reply, cmd, err) in [
        (
            "+OK two\r\n",
            Command::Stat,
            ProtocolError::Malformed { what: "STAT reply" },
        ),
        (
            "+OK\r\n1\r\n.\r\n",
            Command::List(None),
            ProtocolError::Malformed { what: "LIST entry" },
        ),
        (
            "+OK\r\n1\r\n.\r\n",
            Command::Uidl(None),
            ProtocolError::Malformed { what: "UIDL entry" },
        ),
        ("* BYE\r\n", Command::Noop, ProtocolError::MalformedStatus),
        (
            "+OK\r\n+OK surprise\r\n",
            Command::Noop,
            ProtocolError::Unsolicited,
        ),
    ] {
        let server = format!("{pre}{reply}");
        let out = run(
            &Script {
                config: config(),
                server: &[server.as_bytes()],
                on_ready: &[cmd],
            },
            1,
        );
        assert_eq!(out.error, Some(Pop3Error::Protocol(err)));
    }
}

#[test]
fn collected_reply_size_is_capped() {
    let mut server = b"+OK hi\r\n+OK\r\nUSER\r\n.\r\n+OK\r\n+OK\r\n-ERR\r\n+OK\r\n".to_vec();
    for i in 1..=1000 {
        server.extend(format!("{i} 1000\r\n").as_bytes());
    }
    let mut cfg = config();
    cfg.max_reply = 4096;
    let out = run(
        &Script {
            config: cfg,
            server: &[&server],
            on_ready: &[Command::List(None)],
        },
        4096,
    );
    assert_eq!(
        out.error,
        Some(Pop3Error::Protocol(ProtocolError::ReplyTooLarge {
            limit: 4096
        }))
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
fn big_retr_is_streamed_in_bounded_chunks() {
    let mut cfg = config();
    cfg.max_chunk = 1000;
    let mut client = Client::new(cfg);
    client.receive(b"+OK hi\r\n-ERR\r\n+OK\r\n+OK\r\n");
    while client.next_event().unwrap().is_some() {}
    client.enqueue(Command::Retr(1)).unwrap();
    let line = "x".repeat(78) + "\r\n";
    let body = line.repeat(10_000);
    client.receive(format!("+OK {} octets\r\n{body}.\r\n", body.len()).as_bytes());
    let mut got = Vec::new();
    let mut chunks = 0;
    while let Some(ev) = client.next_event().unwrap() {
        if let Event::MessageChunk { bytes, .. } = ev {
            assert!(bytes.len() <= 1000);
            chunks += 1;
            got.extend(bytes);
        }
    }
    assert_eq!(got, body.as_bytes());
    assert_eq!(chunks, body.len().div_ceil(1000));
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
