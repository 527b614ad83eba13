//! Transaction commands: pipelining, replies, limits and failures.

use super::*;

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
