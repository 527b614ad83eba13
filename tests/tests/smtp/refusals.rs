//! What the MTA refuses, as the library's client reports it: typed, with the address.

use super::support::*;

/// A refused recipient among accepted ones: the message is taken for the others, and the
/// refusal names the address with 550 5.1.1.
#[test]
fn refused_recipient_among_accepted_ones() {
    let servers = Servers::start();
    let carol = servers.dovecot.new_user();
    let mut session = servers.alice(Tls::StartTls);
    let to = [
        address(&servers.bob),
        postfix::REFUSED_RECIPIENT.to_string(),
        address(&carol),
    ];
    let message = message(&address(&servers.alice), &to[0], "two-of-three");
    let Outcome::Accepted { recipients, .. } = servers.send(&mut session, &to, &message) else {
        panic!("not accepted")
    };
    let statuses: Vec<(&str, bool)> = recipients
        .iter()
        .map(|r| (r.address.as_str(), r.accepted()))
        .collect();
    assert_eq!(
        statuses,
        [
            (to[0].as_str(), true),
            (postfix::REFUSED_RECIPIENT, false),
            (to[2].as_str(), true)
        ]
    );
    let RecipientStatus::Refused(refusal) = &recipients[1].status else {
        unreachable!()
    };
    assert_eq!(refusal.kind, ServerErrorKind::RecipientRejected);
    assert_eq!(refusal.reply.code, 550);
    assert_eq!(refusal.address.as_deref(), Some(postfix::REFUSED_RECIPIENT));
    let enhanced = refusal
        .reply
        .enhanced
        .map(|e| (e.class, e.subject, e.detail));
    assert_eq!(enhanced, Some((5, 1, 1)), "{refusal}");
    assert!(
        refusal
            .reply
            .text()
            .contains(&format!("<{}>", postfix::REFUSED_RECIPIENT)),
        "{refusal}"
    );
    session.quit().unwrap();

    let from = address(&servers.alice);
    assert_delivered_intact(&servers.mailbox(&servers.bob, 1)[0], &message, &from);
    assert_delivered_intact(&servers.mailbox(&carol, 1)[0], &message, &from);
}

/// Every recipient refused: the message is rejected, nothing is delivered, and the session
/// can send the next one.
#[test]
fn every_recipient_refused_rejects_the_message() {
    let servers = Servers::start();
    let mut session = servers.alice(Tls::Implicit);
    let refused = [postfix::REFUSED_RECIPIENT.to_string()];
    let message = message(&address(&servers.alice), &refused[0], "nobody");
    let Outcome::Rejected { reply, .. } = servers.send(&mut session, &refused, &message) else {
        panic!("taken with no recipient")
    };
    assert_eq!(reply.kind, ServerErrorKind::RecipientRejected);
    assert_eq!(reply.address.as_deref(), Some(postfix::REFUSED_RECIPIENT));

    let bob = [address(&servers.bob)];
    let after = servers.send(&mut session, &bob, &message);
    assert!(matches!(after, Outcome::Accepted { .. }), "{after:?}");
    session.quit().unwrap();
    assert_eq!(servers.mailbox(&servers.bob, 1).len(), 1);
}

/// Over the announced SIZE: the client refuses before sending anything, naming the limit,
/// and the session goes on. (The server's own 552 is in `mta.rs`.)
#[test]
fn oversized_message_is_refused_before_sending() {
    let servers = Servers::start();
    let mut session = servers.alice(Tls::StartTls);
    let bob = address(&servers.bob);
    let mut big = message(&address(&servers.alice), &bob, "too-big");
    big.resize(postfix::SIZE_LIMIT as usize + 1, b'x');
    let envelope = Envelope::new(address(&servers.alice), [bob.clone()]);
    let err = session
        .send(envelope, big, |_| panic!("nothing may be committed"))
        .unwrap_err();
    let DriverError::Smtp(SmtpError::Unsendable(UnsendableError::TooLarge { limit, .. })) = err
    else {
        panic!("{err}")
    };
    assert_eq!(limit, postfix::SIZE_LIMIT);

    let small = message(&address(&servers.alice), &bob, "small-after-big");
    let outcome = servers.send(&mut session, &[bob], &small);
    assert!(matches!(outcome, Outcome::Accepted { .. }), "{outcome:?}");
    session.quit().unwrap();
    let mailbox = servers.mailbox(&servers.bob, 1);
    assert_delivered_intact(&mailbox[0], &small, &address(&servers.alice));
}

/// A wrong password is AuthFailed (535 5.7.8), whatever the mechanism.
#[test]
fn wrong_password_is_auth_failed() {
    let servers = Servers::start();
    for (tls, auth) in [
        (Tls::StartTls, AuthPolicy::Auto),
        (Tls::Implicit, AuthPolicy::Plain),
    ] {
        let err = servers
            .login(tls, &servers.alice, "not-the-password", auth)
            .unwrap_err();
        let DriverError::Smtp(SmtpError::Server(refusal)) = &err else {
            panic!("{tls:?} {auth:?}: {err}")
        };
        assert_eq!(refusal.kind, ServerErrorKind::AuthFailed, "{refusal}");
        assert_eq!(refusal.reply.code, 535, "{refusal}");
    }
}
