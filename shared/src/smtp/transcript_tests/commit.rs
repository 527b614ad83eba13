//! The commit point: what a lost connection leaves in doubt, a reply while the driver holds
//! the final dot, and a server that closes mid-transaction.

use super::mail::{LOGIN, one_message, session};
use super::*;

#[test]
fn connection_lost_after_the_commit_leaves_the_message_in_doubt() {
    let server = session(POSTFIX_EHLO, "250 Ok\r\n250 Ok\r\n250 Ok\r\n354 go\r\n");
    let messages = [
        one_message()[0].clone(),
        (
            Envelope::new("alice@example.org", ["bob@example.org"]),
            &b"two\n"[..],
        ),
    ];
    let mut script = Script::new(config(), &[]);
    let segments = [server.as_bytes()];
    script.server = &segments;
    script.messages = &messages;
    script.quit = false;
    let outcome = check(
        script,
        &format!(
            "{LOGIN}MAIL FROM:<alice@example.org> SIZE=25\r\nRCPT TO:<bob@example.org>\r\n\
             RCPT TO:<carol@example.org>\r\nDATA\r\nSubject: hi\r\n\r\nhello\r\n..\r\n.\r\n"
        ),
        Some(SmtpError::ConnectionLost {
            during: "mail transaction",
            in_doubt: Some(MessageId(1)),
            unsent: vec![MessageId(2)],
        }),
    );
    assert!(matches!(
        outcomes(&outcome.events)[..],
        [Event::ReadyToCommit { .. }]
    ));
}

#[test]
fn connection_lost_before_the_commit_sent_nothing() {
    let server = session(POSTFIX_EHLO, "250 Ok\r\n250 Ok\r\n250 Ok\r\n354 go\r\n");
    let messages = one_message();
    let mut script = Script::new(config(), &[]);
    let segments = [server.as_bytes()];
    script.server = &segments;
    script.messages = &messages;
    script.quit = false;
    script.commit = false;
    check(
        script,
        &format!(
            "{LOGIN}MAIL FROM:<alice@example.org> SIZE=25\r\nRCPT TO:<bob@example.org>\r\n\
             RCPT TO:<carol@example.org>\r\nDATA\r\nSubject: hi\r\n\r\nhello\r\n..\r\n"
        ),
        Some(SmtpError::ConnectionLost {
            during: "mail transaction",
            in_doubt: None,
            unsent: vec![MessageId(1)],
        }),
    );
}

#[test]
fn a_reply_while_the_driver_holds_the_commit_is_unsolicited() {
    let server = session(
        POSTFIX_EHLO,
        "250 Ok\r\n250 Ok\r\n250 Ok\r\n354 go\r\n250 2.0.0 Ok: queued\r\n",
    );
    let messages = one_message();
    let mut script = Script::new(config(), &[]);
    let segments = [server.as_bytes()];
    script.server = &segments;
    script.messages = &messages;
    script.quit = false;
    script.commit = false;
    let outcome = check(
        script,
        &format!(
            "{LOGIN}MAIL FROM:<alice@example.org> SIZE=25\r\nRCPT TO:<bob@example.org>\r\n\
             RCPT TO:<carol@example.org>\r\nDATA\r\nSubject: hi\r\n\r\nhello\r\n..\r\n"
        ),
        Some(ProtocolError::Unsolicited.into()),
    );
    assert!(
        !outcome
            .events
            .iter()
            .any(|e| matches!(e, Event::Accepted { .. }))
    );
}

#[test]
fn service_closing_mid_transaction() {
    let server = session(POSTFIX_EHLO, "250 Ok\r\n421 4.4.2 timeout, closing\r\n");
    let messages = one_message();
    let outcome = check(
        Script::new(config(), &[server.as_bytes()]).sending(&messages),
        &format!(
            "{LOGIN}MAIL FROM:<alice@example.org> SIZE=25\r\nRCPT TO:<bob@example.org>\r\n\
             RCPT TO:<carol@example.org>\r\nDATA\r\n"
        ),
        Some(SmtpError::Server(server_error(
            ServerErrorKind::ServiceUnavailable,
            421,
            Some((4, 4, 2)),
            "timeout, closing",
            None,
        ))),
    );
    assert!(outcomes(&outcome.events).is_empty());
}

#[test]
fn service_closing_as_the_reply_to_the_dot_rejects_the_message() {
    let server = session(
        POSTFIX_EHLO,
        "250 Ok\r\n250 Ok\r\n250 Ok\r\n354 go\r\n421 4.3.0 bye\r\n",
    );
    let messages = one_message();
    let mut script = Script::new(config(), &[]);
    let segments = [server.as_bytes()];
    script.server = &segments;
    script.messages = &messages;
    let outcome = run(&script, usize::MAX);
    let found = outcomes(&outcome.events);
    let Event::Rejected { reply, .. } = found[1] else {
        panic!("{found:?}")
    };
    assert!(reply.is_temporary());
    assert_eq!(
        outcome.error.unwrap().server_kind(),
        Some(ServerErrorKind::ServiceUnavailable)
    );
}
