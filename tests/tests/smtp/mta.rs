//! The fixture's MTA itself, in a hand-written conversation: the refusals a client that checks
//! SIZE first and always starts TLS never provokes, but other clients do.

use super::raw::Smtp;
use super::support::*;

/// Over SIZE: 552 5.3.4 at MAIL when the size is declared, and at the end of DATA when it is
/// not; the session goes on and nothing is delivered.
#[test]
fn oversized_message_is_refused_with_552() {
    let servers = Servers::start();
    let mut smtp = Smtp::starttls(&servers);
    let auth = smtp.auth_plain(&servers.alice.name, &servers.alice.password);
    assert_eq!(auth.code, 235, "{auth:?}");
    let alice = address(&servers.alice);
    let bob = address(&servers.bob);

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

    smtp.expect(&format!("MAIL FROM:<{alice}>"), 250);
    smtp.expect(&format!("RCPT TO:<{bob}>"), 250);
    let small = message(&alice, &bob, "small-after-big");
    assert_eq!(smtp.data(&small).code, 250);
    smtp.expect("QUIT", 221);
    let mailbox = servers.mailbox(&servers.bob, 1);
    assert_delivered_intact(&mailbox[0], &small, &alice);
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
    let mail = smtp.command(&format!("MAIL FROM:<{}>", address(&servers.alice)));
    assert_eq!(mail.code, 530, "{mail:?}");
}

/// Submission needs a login: without one, recipients are refused.
#[test]
fn no_relaying_without_login() {
    let servers = Servers::start();
    let mut smtp = Smtp::starttls(&servers);
    smtp.expect(&format!("MAIL FROM:<{}>", address(&servers.alice)), 250);
    let rcpt = smtp.command(&format!("RCPT TO:<{}>", address(&servers.bob)));
    assert_eq!(rcpt.code / 100, 5, "{rcpt:?}");
}
