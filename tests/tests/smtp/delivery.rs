//! alice submits, bob's POP3 mailbox holds the message: headers and body byte for byte.

use super::support::*;

/// The whole path over one TLS mode: AUTH as alice (checked by Dovecot), MAIL, RCPT bob,
/// DATA with a dot-stuffed line, then bob reads it over POP3 with the library's client.
fn alice_to_bob(tls: Tls) {
    let servers = Servers::start();
    let (mut smtp, ehlo) = Smtp::connect(&servers, tls);
    assert!(
        ehlo.has_line(&format!("SIZE {}", postfix::SIZE_LIMIT)),
        "{ehlo:?}"
    );
    assert!(
        ehlo.lines
            .iter()
            .any(|l| l.starts_with("AUTH ") && l.contains("PLAIN")),
        "AUTH is offered under TLS: {ehlo:?}"
    );
    let alice = Postfix::address(&servers.alice);
    let bob = Postfix::address(&servers.bob);
    let auth = smtp.auth_plain(&servers.alice.name, &servers.alice.password);
    assert_eq!(auth.code, 235, "{auth:?}\n{}", servers.postfix.log());
    let mail = smtp.command(&format!("MAIL FROM:<{alice}>"));
    assert_eq!(mail.code, 250, "{mail:?}");
    let rcpt = smtp.command(&format!("RCPT TO:<{bob}>"));
    assert_eq!(rcpt.code, 250, "{rcpt:?}");
    let message = message(&alice, &bob, &format!("{tls:?}-hello"));
    let queued = smtp.data(&message);
    assert_eq!(queued.code, 250, "{queued:?}");
    assert!(queued.text().contains("queued as"), "{queued:?}");
    smtp.expect("QUIT", 221);

    let mailbox = servers.mailbox(&servers.bob, 1);
    assert_delivered_intact(&mailbox[0], &message, &alice);
    assert_eq!(servers.dovecot.message_count(&servers.alice), 0);
}

#[test]
fn starttls_submission_reaches_bobs_mailbox() {
    alice_to_bob(Tls::StartTls);
}

#[test]
fn implicit_tls_submission_reaches_bobs_mailbox() {
    alice_to_bob(Tls::Implicit);
}
