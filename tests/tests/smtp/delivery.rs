//! alice submits with the library's client, bob's POP3 mailbox holds the message: headers and
//! body byte for byte.

use super::support::*;

/// The whole path: AUTH as alice (checked by Dovecot) with `auth`, one message to bob with a
/// line that needs dot-stuffing, then bob reads it over POP3 with the library's client.
fn alice_to_bob(tls: Tls, auth: AuthPolicy, expected: AuthMechanism) {
    let servers = Servers::start();
    let mut session = servers
        .login(tls, &servers.alice, &servers.alice.password, auth)
        .unwrap_or_else(|e| panic!("{tls:?} {auth:?}: {e}\n{}", servers.postfix.log()));
    assert_eq!(session.mechanism, Some(expected));
    assert!(session.client().is_encrypted());
    assert_eq!(session.capabilities.max_size(), Some(postfix::SIZE_LIMIT));
    assert!(session.capabilities.pipelining);

    let bob = address(&servers.bob);
    let message = message(&address(&servers.alice), &bob, &format!("{tls:?}-{auth:?}"));
    let Outcome::Accepted { reply, recipients } =
        servers.send(&mut session, std::slice::from_ref(&bob), &message)
    else {
        panic!("not accepted\n{}", servers.postfix.log())
    };
    assert!(reply.text().contains("queued as"), "{reply:?}");
    assert_eq!(recipients.len(), 1);
    assert!(recipients[0].accepted() && recipients[0].address == bob);
    session.quit().unwrap();

    let mailbox = servers.mailbox(&servers.bob, 1);
    assert_delivered_intact(&mailbox[0], &message, &address(&servers.alice));
    assert_eq!(servers.dovecot.message_count(&servers.alice), 0);
}

#[test]
fn starttls_submission_reaches_bobs_mailbox() {
    alice_to_bob(Tls::StartTls, AuthPolicy::Auto, AuthMechanism::CramMd5);
}

#[test]
fn implicit_tls_submission_reaches_bobs_mailbox() {
    alice_to_bob(Tls::Implicit, AuthPolicy::Auto, AuthMechanism::CramMd5);
}

/// Every mechanism Postfix offers through Dovecot logs in and sends.
#[test]
fn every_offered_mechanism_logs_in() {
    alice_to_bob(Tls::StartTls, AuthPolicy::Plain, AuthMechanism::Plain);
    alice_to_bob(Tls::Implicit, AuthPolicy::Login, AuthMechanism::Login);
    // Postfix passes SCRAM's three messages through to Dovecot; the client checks the
    // server's signature before it sends.
    alice_to_bob(
        Tls::StartTls,
        AuthPolicy::ScramSha256,
        AuthMechanism::ScramSha256,
    );
}

/// Several messages in one session, pipelined: each arrives once, in order.
#[test]
fn several_messages_in_one_session() {
    let servers = Servers::start();
    let mut session = servers.alice(Tls::Implicit);
    let bob = address(&servers.bob);
    let sent: Vec<Vec<u8>> = (0..3)
        .map(|i| message(&address(&servers.alice), &bob, &format!("batch-{i}")))
        .collect();
    for message in &sent {
        let outcome = servers.send(&mut session, std::slice::from_ref(&bob), message);
        assert!(matches!(outcome, Outcome::Accepted { .. }), "{outcome:?}");
    }
    session.quit().unwrap();
    let mut mailbox = servers.mailbox(&servers.bob, 3);
    // LMTP deliveries may finish in any order; each message is there once.
    for message in &sent {
        let at = mailbox
            .iter()
            .position(|m| m.ends_with(message))
            .expect("each message delivered");
        assert_delivered_intact(&mailbox.remove(at), message, &address(&servers.alice));
    }
}
