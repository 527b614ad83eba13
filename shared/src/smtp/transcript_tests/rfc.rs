//! The examples of the RFCs, as close to the letter as the client's choices allow.

use super::*;

#[test]
fn rfc5321_d1_typical_transaction_with_a_refused_recipient() {
    // Appendix D.1; SIZE is announced, so MAIL FROM says how large the message is.
    let body = "Blah blah blah...\r\n...etc. etc. etc.\r\n";
    let server = "220 foo.com Simple Mail Transfer Service Ready\r\n\
        250-foo.com greets bar.com\r\n250-8BITMIME\r\n250-SIZE\r\n250-DSN\r\n250 HELP\r\n\
        250 OK\r\n250 OK\r\n550 No such user here\r\n250 OK\r\n\
        354 Start mail input; end with <CRLF>.<CRLF>\r\n250 OK\r\n\
        221 foo.com Service closing transmission channel\r\n";
    let messages = [(
        Envelope::new(
            "Smith@bar.com",
            ["Jones@foo.com", "Green@foo.com", "Brown@foo.com"],
        ),
        body.as_bytes(),
    )];
    let outcome = check(
        Script::new(anonymous("bar.com"), &[server.as_bytes()]).sending(&messages),
        &format!(
            "EHLO bar.com\r\nMAIL FROM:<Smith@bar.com> SIZE={}\r\nRCPT TO:<Jones@foo.com>\r\n\
             RCPT TO:<Green@foo.com>\r\nRCPT TO:<Brown@foo.com>\r\nDATA\r\n\
             Blah blah blah...\r\n....etc. etc. etc.\r\n.\r\nQUIT\r\n",
            body.len()
        ),
        None,
    );
    let caps = Capabilities {
        domain: "foo.com".into(),
        extended: true,
        size: Some(0),
        eight_bit_mime: true,
        ..Capabilities::default()
    };
    let recipients = vec![
        accepted("Jones@foo.com", reply(250, None, "OK")),
        refused(
            "Green@foo.com",
            server_error(
                ServerErrorKind::RecipientRejected,
                550,
                None,
                "No such user here",
                Some("Green@foo.com"),
            ),
        ),
        accepted("Brown@foo.com", reply(250, None, "OK")),
    ];
    assert_eq!(
        outcome.events,
        vec![
            Event::Greeting {
                text: "foo.com Simple Mail Transfer Service Ready".into()
            },
            Event::Capabilities(caps.clone()),
            Event::Ready { capabilities: caps },
            Event::ReadyToCommit {
                message: MessageId(1),
                recipients: recipients.clone(),
            },
            Event::Accepted {
                message: MessageId(1),
                reply: reply(250, None, "OK"),
                recipients,
            },
            Event::Closed,
        ]
    );
    assert_eq!(outcome.sends, vec![Ok(MessageId(1))]);
}

#[test]
fn rfc5321_d2_a_failed_transaction_is_reset_before_the_next() {
    // Appendix D.2 aborts after a refused recipient with RSET; here every recipient of the
    // first message is refused, so no DATA, and the next message starts with RSET.
    let server = "220 foo.com Simple Mail Transfer Service Ready\r\n\
        250-foo.com greets bar.com\r\n250-8BITMIME\r\n250-DSN\r\n250 HELP\r\n\
        250 OK\r\n550 No such user here\r\n\
        250 OK\r\n250 OK\r\n250 OK\r\n354 go\r\n250 OK\r\n\
        221 foo.com Service closing transmission channel\r\n";
    let messages = [
        (
            Envelope::new("Smith@bar.com", ["Green@foo.com"]),
            &b"one\r\n"[..],
        ),
        (
            Envelope::new("Smith@bar.com", ["Jones@foo.com"]),
            &b"two\r\n"[..],
        ),
    ];
    let outcome = check(
        Script::new(anonymous("bar.com"), &[server.as_bytes()]).sending(&messages),
        "EHLO bar.com\r\nMAIL FROM:<Smith@bar.com>\r\nRCPT TO:<Green@foo.com>\r\n\
         RSET\r\nMAIL FROM:<Smith@bar.com>\r\nRCPT TO:<Jones@foo.com>\r\nDATA\r\ntwo\r\n.\r\n\
         QUIT\r\n",
        None,
    );
    let green = server_error(
        ServerErrorKind::RecipientRejected,
        550,
        None,
        "No such user here",
        Some("Green@foo.com"),
    );
    assert_eq!(
        outcomes(&outcome.events),
        vec![
            &Event::Rejected {
                message: MessageId(1),
                reply: green.clone(),
                recipients: vec![refused("Green@foo.com", green)],
            },
            &Event::ReadyToCommit {
                message: MessageId(2),
                recipients: vec![accepted("Jones@foo.com", reply(250, None, "OK"))],
            },
            &Event::Accepted {
                message: MessageId(2),
                reply: reply(250, None, "OK"),
                recipients: vec![accepted("Jones@foo.com", reply(250, None, "OK"))],
            },
        ]
    );
}

const INNOSOFT: &str =
    "220 innosoft.com SMTP service ready\r\n250-innosoft.com\r\n250 PIPELINING\r\n";

#[test]
fn rfc2920_pipelined_transaction() {
    // Section 3.2 example 1 (the client waits for the reply to "." before QUIT).
    let server = format!(
        "{INNOSOFT}250 sender <mrose@dbc.mtview.ca.us> OK\r\n\
         250 recipient <ned@innosoft.com> OK\r\n250 recipient <dan@innosoft.com> OK\r\n\
         250 recipient <kvc@innosoft.com> OK\r\n\
         354 enter mail, end with line containing only \".\"\r\n250 message sent\r\n221 goodbye\r\n"
    );
    let messages = [(
        Envelope::new(
            "mrose@dbc.mtview.ca.us",
            ["ned@innosoft.com", "dan@innosoft.com", "kvc@innosoft.com"],
        ),
        &b"Subject: pipelining\r\n\r\n...\r\n"[..],
    )];
    let outcome = check(
        Script::new(anonymous("dbc.mtview.ca.us"), &[server.as_bytes()]).sending(&messages),
        "EHLO dbc.mtview.ca.us\r\nMAIL FROM:<mrose@dbc.mtview.ca.us>\r\n\
         RCPT TO:<ned@innosoft.com>\r\nRCPT TO:<dan@innosoft.com>\r\nRCPT TO:<kvc@innosoft.com>\r\n\
         DATA\r\nSubject: pipelining\r\n\r\n....\r\n.\r\nQUIT\r\n",
        None,
    );
    let Some(Event::Accepted {
        reply, recipients, ..
    }) = outcomes(&outcome.events).last().copied()
    else {
        panic!("not accepted: {:?}", outcome.events)
    };
    assert_eq!(reply.text(), "message sent");
    assert!(recipients.iter().all(Recipient::accepted));
}

#[test]
fn rfc2920_pipelined_transaction_with_a_refused_recipient() {
    // Section 3.2 example 2.
    let server = format!(
        "{INNOSOFT}250 sender <mrose@dbc.mtview.ca.us> OK\r\n\
         250 recipient <ned@innosoft.com> OK\r\n550 remote mail to <dan@innsoft.com> not allowed\r\n\
         250 recipient <kvc@innosoft.com> OK\r\n354 enter mail\r\n250 message sent\r\n221 goodbye\r\n"
    );
    let messages = [(
        Envelope::new(
            "mrose@dbc.mtview.ca.us",
            ["ned@innosoft.com", "dan@innsoft.com", "kvc@innosoft.com"],
        ),
        &b"hi\r\n"[..],
    )];
    let outcome = check(
        Script::new(anonymous("dbc.mtview.ca.us"), &[server.as_bytes()]).sending(&messages),
        "EHLO dbc.mtview.ca.us\r\nMAIL FROM:<mrose@dbc.mtview.ca.us>\r\n\
         RCPT TO:<ned@innosoft.com>\r\nRCPT TO:<dan@innsoft.com>\r\nRCPT TO:<kvc@innosoft.com>\r\n\
         DATA\r\nhi\r\n.\r\nQUIT\r\n",
        None,
    );
    let Some(Event::Accepted { recipients, .. }) = outcomes(&outcome.events).last().copied() else {
        panic!("not accepted: {:?}", outcome.events)
    };
    let refused: Vec<_> = recipients.iter().filter(|r| !r.accepted()).collect();
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].address, "dan@innsoft.com");
    let RecipientStatus::Refused(e) = &refused[0].status else {
        unreachable!()
    };
    assert_eq!(e.kind, ServerErrorKind::RecipientRejected);
    assert_eq!(e.address.as_deref(), Some("dan@innsoft.com"));
}

#[test]
fn rfc2920_every_recipient_refused_and_data_refused() {
    // Section 3.2 example 3: the client must read DATA's reply, not assume it.
    let server = format!(
        "{INNOSOFT}250 sender <mrose@dbc.mtview.ca.us> OK\r\n\
         550 remote mail to <ned@innosoft.com> not allowed\r\n554 no valid recipients given\r\n\
         221 goodbye\r\n"
    );
    let messages = [(
        Envelope::new("mrose@dbc.mtview.ca.us", ["ned@innosoft.com"]),
        &b"hi\r\n"[..],
    )];
    let outcome = check(
        Script::new(anonymous("dbc.mtview.ca.us"), &[server.as_bytes()]).sending(&messages),
        "EHLO dbc.mtview.ca.us\r\nMAIL FROM:<mrose@dbc.mtview.ca.us>\r\n\
         RCPT TO:<ned@innosoft.com>\r\nDATA\r\nQUIT\r\n",
        None,
    );
    let ned = server_error(
        ServerErrorKind::RecipientRejected,
        550,
        None,
        "remote mail to <ned@innosoft.com> not allowed",
        Some("ned@innosoft.com"),
    );
    assert_eq!(
        outcomes(&outcome.events),
        vec![&Event::Rejected {
            message: MessageId(1),
            reply: ned.clone(),
            recipients: vec![refused("ned@innosoft.com", ned)],
        }]
    );
}

#[test]
fn rfc4954_plain_after_starttls() {
    // Section 8's first example, with a multi-line greeting. The RFC's initial response has
    // an authorization identity ("test"); the client sends an empty one.
    let mut cfg = ClientConfig::new("test", Secret::new("1234".to_string()));
    cfg.client_domain = "client.example.com".into();
    let before_tls: &[u8] = b"220-smtp.example.com ESMTP Server\r\n220 ready\r\n\
        250-smtp.example.com Hello client.example.com\r\n250-AUTH GSSAPI DIGEST-MD5\r\n\
        250-ENHANCEDSTATUSCODES\r\n250 STARTTLS\r\n220 Ready to start TLS\r\n";
    let after_tls: &[u8] = b"250-smtp.example.com Hello client.example.com\r\n\
        250 AUTH GSSAPI DIGEST-MD5 PLAIN\r\n235 2.7.0 Authentication successful\r\n221 bye\r\n";
    let outcome = check(
        Script::new(cfg, &[before_tls, after_tls]),
        "EHLO client.example.com\r\nSTARTTLS\r\nEHLO client.example.com\r\n\
         AUTH PLAIN AHRlc3QAMTIzNA==\r\nQUIT\r\n",
        None,
    );
    let after = Capabilities {
        domain: "smtp.example.com".into(),
        extended: true,
        auth: vec!["GSSAPI".into(), "DIGEST-MD5".into(), "PLAIN".into()],
        ..Capabilities::default()
    };
    assert_eq!(
        outcome.events,
        vec![
            Event::Greeting {
                text: "smtp.example.com ESMTP Server ready".into()
            },
            Event::Capabilities(Capabilities {
                domain: "smtp.example.com".into(),
                extended: true,
                enhanced_status_codes: true,
                starttls: true,
                auth: vec!["GSSAPI".into(), "DIGEST-MD5".into()],
                ..Capabilities::default()
            }),
            Event::StartTls,
            Event::Capabilities(after.clone()),
            Event::Authenticated {
                mechanism: AuthMechanism::Plain
            },
            Event::Ready {
                capabilities: after
            },
            Event::Closed,
        ]
    );
}

#[test]
fn rfc4954_cram_md5_with_the_rfc2195_example() {
    // RFC 4954 section 8's second example does not give fred's password, so its challenge is
    // replaced by RFC 2195's, whose answer for tim/tanstaaftanstaaf is known. CRAM-MD5 keeps
    // the password off the wire: it is used on a plain connection without
    // `allow_plaintext_password`.
    let mut cfg = ClientConfig::new("tim", Secret::new("tanstaaftanstaaf".to_string()));
    cfg.want_starttls = false;
    cfg.client_domain = "jgm.example.com".into();
    let server: &[u8] = b"220 smtp.example.com ESMTP server ready\r\n\
        250-smtp.example.com\r\n250 AUTH DIGEST-MD5 CRAM-MD5\r\n\
        334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n\
        235 2.7.0 Authentication successful\r\n221 bye\r\n";
    check(
        Script::new(cfg, &[server]),
        "EHLO jgm.example.com\r\nAUTH CRAM-MD5\r\n\
         dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw\r\nQUIT\r\n",
        None,
    );
}

#[test]
fn rfc3207_starttls_forgets_what_ehlo_said_in_the_clear() {
    // Section 5's example, then the EHLO over TLS no longer offers STARTTLS.
    let mut cfg = anonymous("mail.example.com");
    cfg.want_starttls = true;
    let before_tls: &[u8] = b"220 mail.imc.org SMTP service ready\r\n\
        250-mail.imc.org offers a warm hug of welcome\r\n250-8BITMIME\r\n250-STARTTLS\r\n\
        250 DSN\r\n220 Go ahead\r\n";
    let after_tls: &[u8] =
        b"250-mail.imc.org offers a warm hug of welcome\r\n250 8BITMIME\r\n221 bye\r\n";
    let outcome = check(
        Script::new(cfg, &[before_tls, after_tls]),
        "EHLO mail.example.com\r\nSTARTTLS\r\nEHLO mail.example.com\r\nQUIT\r\n",
        None,
    );
    let Some(Event::Ready { capabilities }) = outcome
        .events
        .iter()
        .find(|e| matches!(e, Event::Ready { .. }))
    else {
        panic!("{:?}", outcome.events)
    };
    assert!(!capabilities.starttls && capabilities.eight_bit_mime);
}
