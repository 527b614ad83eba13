//! Mail transactions: pipelined and lockstep, partial and total refusals, what is refused
//! before sending, and the API's misuse.

use super::*;

pub(super) fn session(ehlo: &str, rest: &str) -> String {
    format!("220 mail.example.org ESMTP\r\n{ehlo}235 2.7.0 ok\r\n{rest}")
}

pub(super) const LOGIN: &str = "EHLO client.example\r\nAUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=\r\n";

pub(super) fn one_message() -> [(Envelope, &'static [u8]); 1] {
    [(
        Envelope::new(
            "alice@example.org",
            ["bob@example.org", "carol@example.org"],
        ),
        b"Subject: hi\n\nhello\n.\n",
    )]
}

#[test]
fn pipelining_sends_the_envelope_and_data_as_one_group() {
    let mut client = Client::new(config());
    client.receive(session(POSTFIX_EHLO, "").as_bytes());
    while client.next_event().unwrap().is_some() {}
    client.take_outgoing();
    let [(envelope, body)] = one_message();
    client.send(envelope, body.to_vec()).unwrap();
    assert_eq!(
        client.take_outgoing().unwrap(),
        b"MAIL FROM:<alice@example.org> SIZE=25\r\nRCPT TO:<bob@example.org>\r\nRCPT TO:<carol@example.org>\r\nDATA\r\n"
    );
    // The body waits for the 354, and its final dot for the commit.
    client.receive(b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n");
    assert_eq!(client.next_event(), Ok(None));
    assert_eq!(client.take_outgoing(), None);
    client.receive(b"354 End data with <CR><LF>.<CR><LF>\r\n");
    let Ok(Some(Event::ReadyToCommit {
        message,
        recipients,
    })) = client.next_event()
    else {
        panic!()
    };
    assert_eq!(recipients.len(), 2);
    assert_eq!(
        client.take_outgoing().unwrap(),
        b"Subject: hi\r\n\r\nhello\r\n..\r\n"
    );
    assert_eq!(client.next_event(), Ok(None));
    assert_eq!(client.take_outgoing(), None);
    assert_eq!(client.in_doubt(), None);
    client.commit(message).unwrap();
    assert_eq!(client.in_doubt(), Some(message));
    assert_eq!(client.take_outgoing().unwrap(), b".\r\n");
    // Committing twice, or another message, is a usage error.
    assert_eq!(
        client.commit(message),
        Err(UsageError::NotAwaitingCommit(message).into())
    );
}

#[test]
fn lockstep_waits_for_each_reply() {
    let server = session(
        LOCKSTEP_EHLO,
        "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n550 5.1.1 <carol@example.org>: Recipient address rejected\r\n\
         354 go\r\n250 2.0.0 Ok: queued as 4F\r\n221 2.0.0 Bye\r\n",
    );
    let messages = one_message();
    let outcome = check(
        Script::new(config(), &[server.as_bytes()]).sending(&messages),
        "EHLO client.example\r\nAUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=\r\n\
         MAIL FROM:<alice@example.org> SIZE=25\r\nRCPT TO:<bob@example.org>\r\n\
         RCPT TO:<carol@example.org>\r\nDATA\r\nSubject: hi\r\n\r\nhello\r\n..\r\n.\r\nQUIT\r\n",
        None,
    );
    let carol = server_error(
        ServerErrorKind::RecipientRejected,
        550,
        Some((5, 1, 1)),
        "<carol@example.org>: Recipient address rejected",
        Some("carol@example.org"),
    );
    let recipients = vec![
        accepted("bob@example.org", reply(250, Some((2, 1, 5)), "Ok")),
        refused("carol@example.org", carol),
    ];
    assert_eq!(
        outcomes(&outcome.events)[1],
        &Event::Accepted {
            message: MessageId(1),
            reply: reply(250, Some((2, 0, 0)), "Ok: queued as 4F"),
            recipients,
        }
    );
}

#[test]
fn every_recipient_refused_without_pipelining_sends_no_data() {
    let server = session(
        LOCKSTEP_EHLO,
        "250 Ok\r\n550 5.1.1 no\r\n450 4.2.1 busy\r\n221 Bye\r\n",
    );
    let messages = one_message();
    let outcome = check(
        Script::new(config(), &[server.as_bytes()]).sending(&messages),
        &format!(
            "{LOGIN}MAIL FROM:<alice@example.org> SIZE=25\r\nRCPT TO:<bob@example.org>\r\n\
             RCPT TO:<carol@example.org>\r\nQUIT\r\n"
        ),
        None,
    );
    let Event::Rejected {
        reply, recipients, ..
    } = outcomes(&outcome.events)[0]
    else {
        panic!()
    };
    assert_eq!(reply.address.as_deref(), Some("bob@example.org"));
    let RecipientStatus::Refused(carol) = &recipients[1].status else {
        panic!()
    };
    assert_eq!(carol.kind, ServerErrorKind::Temporary);
    assert!(carol.is_temporary() && !reply.is_temporary());
}

#[test]
fn pipelined_data_accepted_after_every_recipient_was_refused_gets_a_lone_dot() {
    // RFC 2920 section 3.1: the client cannot assume DATA is refused; if it says 354 the
    // client ends it with "." at once, and the message is rejected whatever comes back.
    let server = session(
        POSTFIX_EHLO,
        "250 Ok\r\n550 5.1.1 no bob\r\n550 5.1.1 no carol\r\n354 go\r\n554 5.5.1 no valid recipients\r\n221 Bye\r\n",
    );
    let messages = one_message();
    let outcome = check(
        Script::new(config(), &[server.as_bytes()]).sending(&messages),
        &format!(
            "{LOGIN}MAIL FROM:<alice@example.org> SIZE=25\r\nRCPT TO:<bob@example.org>\r\n\
             RCPT TO:<carol@example.org>\r\nDATA\r\n.\r\nQUIT\r\n"
        ),
        None,
    );
    let found = outcomes(&outcome.events);
    assert_eq!(found.len(), 1, "{found:?}");
    let Event::Rejected { reply, .. } = found[0] else {
        panic!()
    };
    assert_eq!(reply.address.as_deref(), Some("bob@example.org"));
}

#[test]
fn sender_refused_then_the_next_message_goes() {
    // With PIPELINING the RCPTs and DATA after a refused MAIL are still answered (503).
    let server = session(
        POSTFIX_EHLO,
        "553 5.7.1 <alice@example.org>: Sender address rejected: not owned by user alice\r\n\
         503 5.5.1 need MAIL\r\n503 5.5.1 need MAIL\r\n503 5.5.1 need MAIL\r\n\
         250 Ok\r\n250 Ok\r\n354 go\r\n250 2.0.0 Ok: queued as 5G\r\n221 Bye\r\n",
    );
    let messages = [
        one_message()[0].clone(),
        (
            Envelope::new("alice@example.org", ["bob@example.org"]),
            &b"two\n"[..],
        ),
    ];
    let outcome = check(
        Script::new(config(), &[server.as_bytes()]).sending(&messages),
        &format!(
            "{LOGIN}MAIL FROM:<alice@example.org> SIZE=25\r\nRCPT TO:<bob@example.org>\r\n\
             RCPT TO:<carol@example.org>\r\nDATA\r\n\
             MAIL FROM:<alice@example.org> SIZE=5\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n\
             two\r\n.\r\nQUIT\r\n"
        ),
        None,
    );
    let found = outcomes(&outcome.events);
    let Event::Rejected { reply, .. } = found[0] else {
        panic!("{found:?}")
    };
    assert_eq!(reply.kind, ServerErrorKind::SenderRejected);
    assert!(matches!(
        found[2],
        Event::Accepted {
            message: MessageId(2),
            ..
        }
    ));
    assert_eq!(outcome.sends, vec![Ok(MessageId(1)), Ok(MessageId(2))]);
}

#[test]
fn data_refused_resets_before_the_next_message() {
    let server = session(
        POSTFIX_EHLO,
        "250 Ok\r\n250 Ok\r\n250 Ok\r\n554 5.3.0 DATA not now\r\n\
         250 2.0.0 reset\r\n250 Ok\r\n250 Ok\r\n354 go\r\n250 Ok: queued\r\n221 Bye\r\n",
    );
    let messages = [
        one_message()[0].clone(),
        (
            Envelope::new("alice@example.org", ["bob@example.org"]),
            &b"two\n"[..],
        ),
    ];
    let outcome = check(
        Script::new(config(), &[server.as_bytes()]).sending(&messages),
        &format!(
            "{LOGIN}MAIL FROM:<alice@example.org> SIZE=25\r\nRCPT TO:<bob@example.org>\r\n\
             RCPT TO:<carol@example.org>\r\nDATA\r\n\
             RSET\r\nMAIL FROM:<alice@example.org> SIZE=5\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n\
             two\r\n.\r\nQUIT\r\n"
        ),
        None,
    );
    let found = outcomes(&outcome.events);
    let Event::Rejected {
        reply, recipients, ..
    } = found[0]
    else {
        panic!("{found:?}")
    };
    // Recipients were accepted: the refusal that decided is DATA's own.
    assert_eq!(reply.kind, ServerErrorKind::MessageRejected);
    assert_eq!(reply.reply.code, 554);
    assert!(recipients.iter().all(Recipient::accepted));
}

#[test]
fn the_final_dot_refused_or_deferred() {
    for (answer, kind, temporary) in [
        (
            "554 5.7.1 Message rejected as spam",
            ServerErrorKind::MessageRejected,
            false,
        ),
        (
            "552 5.3.4 Message size exceeds fixed limit",
            ServerErrorKind::MessageTooLarge,
            false,
        ),
        (
            "451 4.3.0 Queue file write error",
            ServerErrorKind::Temporary,
            true,
        ),
    ] {
        let server = session(
            POSTFIX_EHLO,
            &format!("250 Ok\r\n250 Ok\r\n250 Ok\r\n354 go\r\n{answer}\r\n221 Bye\r\n"),
        );
        let messages = one_message();
        let outcome = check(
            Script::new(config(), &[server.as_bytes()]).sending(&messages),
            &format!(
                "{LOGIN}MAIL FROM:<alice@example.org> SIZE=25\r\nRCPT TO:<bob@example.org>\r\n\
                 RCPT TO:<carol@example.org>\r\nDATA\r\nSubject: hi\r\n\r\nhello\r\n..\r\n.\r\nQUIT\r\n"
            ),
            None,
        );
        let found = outcomes(&outcome.events);
        let Event::Rejected { reply, .. } = found[1] else {
            panic!("{found:?}")
        };
        assert_eq!(
            (reply.kind, reply.is_temporary()),
            (kind, temporary),
            "{answer}"
        );
    }
}

#[test]
fn unsendable_messages_are_refused_before_anything_is_sent() {
    let ehlo = "250-mail.example.org\r\n250-SIZE 100\r\n250 AUTH PLAIN\r\n";
    let messages = [
        (
            Envelope::new("alice@example.org", ["bob@example.org"]),
            &[b'x'; 200][..],
        ),
        (
            Envelope::new("alice@example.org", ["b\u{f6}b@example.org"]),
            &b"hi\n"[..],
        ),
        (
            Envelope::new("alice@example.org", ["bob@example.org"]),
            "h\u{e9}\n".as_bytes(),
        ),
        (
            Envelope::new("alice@example.org", Vec::<String>::new()),
            &b"hi\n"[..],
        ),
        (
            Envelope::new("alice@example.org", ["bob@example.org>\r\nRSET"]),
            &b"hi\n"[..],
        ),
    ];
    let outcome = check(
        Script::new(config(), &[session(ehlo, "221 Bye\r\n").as_bytes()]).sending(&messages),
        &format!("{LOGIN}QUIT\r\n"),
        None,
    );
    assert_eq!(
        outcome.sends,
        vec![
            Err(UnsendableError::TooLarge {
                size: 202,
                limit: 100
            }
            .into()),
            Err(UnsendableError::NeedsSmtpUtf8 {
                address: "b\u{f6}b@example.org".into()
            }
            .into()),
            Err(UnsendableError::NeedsEightBitMime.into()),
            Err(UnsendableError::NoRecipients.into()),
            Err(UnsendableError::InvalidAddress {
                address: "bob@example.org>\r\nRSET".into()
            }
            .into()),
        ]
    );
}

#[test]
fn eight_bit_and_utf8_parameters() {
    let messages = [(
        Envelope::new("j\u{f6}rg@example.org", ["bob@example.org"]),
        "Subject: gr\u{fc}\u{df}e\n\n\u{e9}\n".as_bytes(),
    )];
    let server = session(
        POSTFIX_EHLO,
        "250 Ok\r\n250 Ok\r\n354 go\r\n250 Ok\r\n221 Bye\r\n",
    );
    let outcome = run(
        &Script::new(config(), &[server.as_bytes()]).sending(&messages),
        usize::MAX,
    );
    assert!(
        outcome
            .sent
            .contains("MAIL FROM:<j\u{f6}rg@example.org> SIZE=24 BODY=8BITMIME SMTPUTF8\r\n"),
        "{}",
        outcome.sent
    );
    assert_eq!(outcome.error, None);
}

#[test]
fn usage_errors() {
    let mut client = Client::new(config());
    let env = || Envelope::new("a@x", ["b@y"]);
    assert_eq!(client.send(env(), vec![]), Err(UsageError::NotReady.into()));
    assert_eq!(client.quit(), Err(UsageError::NotReady.into()));
    client.receive(session(POSTFIX_EHLO, "").as_bytes());
    while client.next_event().unwrap().is_some() {}
    let id = client.send(env(), b"hi\n".to_vec()).unwrap();
    client.receive(b"250 Ok\r\n250 Ok\r\n354 go\r\n");
    assert!(matches!(
        client.next_event(),
        Ok(Some(Event::ReadyToCommit { .. }))
    ));
    assert_eq!(client.quit(), Err(UsageError::CommitPending.into()));
    client.commit(id).unwrap();
    client.quit().unwrap();
    assert_eq!(client.quit(), Err(UsageError::Closed.into()));
    assert_eq!(client.send(env(), vec![]), Err(UsageError::Closed.into()));
    client.receive(b"250 Ok\r\n221 Bye\r\n");
    assert!(matches!(
        client.next_event(),
        Ok(Some(Event::Accepted { .. }))
    ));
    assert_eq!(client.next_event(), Ok(Some(Event::Closed)));
    assert!(client.is_closed());
    assert_eq!(client.send(env(), vec![]), Err(UsageError::Closed.into()));
}
