//! What the MTA refuses, with the codes a client must turn into clear errors.

use super::support::*;

/// Logged in as alice over STARTTLS.
fn logged_in(servers: &Servers) -> Smtp {
    let (mut smtp, _) = Smtp::connect(servers, Tls::StartTls);
    let auth = smtp.auth_plain(&servers.alice.name, &servers.alice.password);
    assert_eq!(auth.code, 235, "{auth:?}");
    smtp
}

/// A refused recipient among accepted ones: 550 5.1.1 naming the address, and the message
/// still goes to the others.
#[test]
fn refused_recipient_among_accepted_ones() {
    let servers = Servers::start();
    let carol = servers.dovecot.new_user();
    let mut smtp = logged_in(&servers);
    let alice = Postfix::address(&servers.alice);
    let bob = Postfix::address(&servers.bob);
    let carol_address = Postfix::address(&carol);
    smtp.expect(&format!("MAIL FROM:<{alice}>"), 250);
    smtp.expect(&format!("RCPT TO:<{bob}>"), 250);
    let refused = smtp.command(&format!("RCPT TO:<{}>", postfix::REFUSED_RECIPIENT));
    assert_eq!(refused.code, 550, "{refused:?}");
    assert!(refused.text().starts_with("5.1.1 "), "{refused:?}");
    assert!(
        refused
            .text()
            .contains(&format!("<{}>", postfix::REFUSED_RECIPIENT)),
        "{refused:?}"
    );
    smtp.expect(&format!("RCPT TO:<{carol_address}>"), 250);
    let message = message(&alice, &bob, "two-of-three");
    assert_eq!(smtp.data(&message).code, 250);
    smtp.expect("QUIT", 221);

    assert_delivered_intact(&servers.mailbox(&servers.bob, 1)[0], &message, &alice);
    assert_delivered_intact(&servers.mailbox(&carol, 1)[0], &message, &alice);
}

/// Over the announced SIZE: refused at MAIL when the client declares the size, and at the end
/// of DATA when it does not; the session goes on and nothing is delivered.
#[test]
fn oversized_message_is_refused_with_552() {
    let servers = Servers::start();
    let mut smtp = logged_in(&servers);
    let alice = Postfix::address(&servers.alice);
    let bob = Postfix::address(&servers.bob);

    let declared = smtp.command(&format!(
        "MAIL FROM:<{alice}> SIZE={}",
        postfix::SIZE_LIMIT + 1
    ));
    assert_eq!(declared.code, 552, "{declared:?}");
    assert!(declared.text().starts_with("5.3.4 "), "{declared:?}");
    // Postfix keeps the refused SIZE until the transaction is reset, as clients do after a
    // refused MAIL.
    smtp.expect("RSET", 250);

    smtp.expect(&format!("MAIL FROM:<{alice}>"), 250);
    smtp.expect(&format!("RCPT TO:<{bob}>"), 250);
    let mut big = message(&alice, &bob, "too-big");
    let line = [b'x'; 998];
    while big.len() as u64 <= postfix::SIZE_LIMIT {
        big.extend_from_slice(&line);
        big.extend_from_slice(b"\r\n");
    }
    let undeclared = smtp.data(&big);
    assert_eq!(undeclared.code, 552, "{undeclared:?}");
    assert!(undeclared.text().starts_with("5.3.4 "), "{undeclared:?}");

    // The session is still usable: a small message goes through afterwards.
    smtp.expect(&format!("MAIL FROM:<{alice}>"), 250);
    smtp.expect(&format!("RCPT TO:<{bob}>"), 250);
    let small = message(&alice, &bob, "small-after-big");
    assert_eq!(smtp.data(&small).code, 250);
    smtp.expect("QUIT", 221);
    let mailbox = servers.mailbox(&servers.bob, 1);
    assert_delivered_intact(&mailbox[0], &small, &alice);
}

/// A wrong password is 535 5.7.8, and mail is then refused: submission needs a login.
#[test]
fn wrong_password_is_535_and_mail_is_refused() {
    let servers = Servers::start();
    let (mut smtp, _) = Smtp::connect(&servers, Tls::Implicit);
    let auth = smtp.auth_plain(&servers.alice.name, "not-the-password");
    assert_eq!(auth.code, 535, "{auth:?}");
    assert!(auth.text().starts_with("5.7.8 "), "{auth:?}");
    let alice = Postfix::address(&servers.alice);
    let bob = Postfix::address(&servers.bob);
    smtp.expect(&format!("MAIL FROM:<{alice}>"), 250);
    let rcpt = smtp.command(&format!("RCPT TO:<{bob}>"));
    assert_eq!(rcpt.code / 100, 5, "relaying without a login: {rcpt:?}");
}

/// On the STARTTLS port nothing is offered or accepted before TLS: no AUTH in EHLO, MAIL
/// answered 530 5.7.0.
#[test]
fn starttls_port_requires_tls_first() {
    let servers = Servers::start();
    let (mut smtp, ehlo) = Smtp::plain(servers.postfix.submission_addr());
    assert!(ehlo.has_line("STARTTLS"), "{ehlo:?}");
    assert!(
        !ehlo.lines.iter().any(|l| l.starts_with("AUTH")),
        "no AUTH before TLS: {ehlo:?}"
    );
    let alice = Postfix::address(&servers.alice);
    let mail = smtp.command(&format!("MAIL FROM:<{alice}>"));
    assert_eq!(mail.code, 530, "{mail:?}");
}
