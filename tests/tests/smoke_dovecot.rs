//! Smoke tests that prove the Dovecot fixture is a real POP3 server: its greeting and CAPA over
//! plain TCP and over implicit TLS, with the certificate verified against the run's test CA.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use postbag_tests::Dovecot;
use rustls::pki_types::ServerName;

/// Sends CAPA and reads the multi-line answer up to its terminating ".".
fn greeting_and_capa<S: Read + Write>(stream: S) -> (String, Vec<String>) {
    let mut reader = BufReader::new(stream);
    let mut greeting = String::new();
    reader.read_line(&mut greeting).unwrap();
    reader.get_mut().write_all(b"CAPA\r\n").unwrap();
    let mut capa = Vec::new();
    loop {
        let mut line = String::new();
        assert!(
            reader.read_line(&mut line).unwrap() > 0,
            "connection closed inside CAPA"
        );
        let line = line.trim_end().to_string();
        if line == "." {
            break;
        }
        capa.push(line);
    }
    (greeting, capa)
}

fn tls_config(ca_der: Vec<u8>) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca_der.into()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}

fn connect(addr: std::net::SocketAddr) -> TcpStream {
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    tcp
}

#[test]
fn plain_port_greets_and_offers_stls_and_pipelining() {
    let dovecot = Dovecot::start();
    let (greeting, capa) = greeting_and_capa(connect(dovecot.pop3_addr()));
    assert!(greeting.starts_with("+OK"), "greeting: {greeting}");
    assert_eq!(capa[0], "+OK", "CAPA status: {capa:?}");
    for wanted in ["STLS", "PIPELINING", "UIDL", "TOP", "USER"] {
        assert!(
            capa.iter().any(|c| c == wanted),
            "{wanted} missing from {capa:?}"
        );
    }
    assert!(
        capa.iter()
            .any(|c| c.starts_with("SASL") && c.contains("PLAIN")),
        "{capa:?}"
    );
}

#[test]
fn implicit_tls_port_verifies_against_the_test_ca() {
    let dovecot = Dovecot::start();
    let name = ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(tls_config(dovecot.ca_der()), name).unwrap();
    let tls = rustls::StreamOwned::new(conn, connect(dovecot.pop3s_addr()));
    let (greeting, capa) = greeting_and_capa(tls);
    assert!(greeting.starts_with("+OK"), "greeting: {greeting}");
    // Already encrypted: Dovecot must not offer STLS again.
    assert!(!capa.iter().any(|c| c == "STLS"), "{capa:?}");
    assert!(capa.iter().any(|c| c == "UIDL"), "{capa:?}");
}

#[test]
fn implicit_tls_rejects_a_certificate_from_another_ca() {
    let dovecot = Dovecot::start();
    let stranger = postbag_tests::certs::TestPki::generate();
    let name = ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(tls_config(stranger.ca_der), name).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, connect(dovecot.pop3s_addr()));
    let mut buf = [0u8; 64];
    let err = tls
        .read(&mut buf)
        .expect_err("the handshake must fail with an unknown CA");
    // Same CA name, other key: rustls finds the issuer by name and rejects the signature.
    assert!(
        err.to_string().contains("invalid peer certificate"),
        "unexpected error: {err}"
    );
}

#[test]
fn delivered_messages_are_counted_and_users_are_isolated() {
    let dovecot = Dovecot::start();
    let (alice, bob) = (dovecot.new_user(), dovecot.new_user());
    dovecot.deliver(&alice, &postbag_tests::messages::plain(1));
    dovecot.deliver(&alice, &postbag_tests::messages::plain(2));
    assert_eq!(dovecot.message_count(&alice), 2);
    assert_eq!(dovecot.message_count(&bob), 0);

    // Log in as alice and ask the server itself.
    let mut reader = BufReader::new(connect(dovecot.pop3_addr()));
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let cmds = format!(
        "USER {}\r\nPASS {}\r\nSTAT\r\nQUIT\r\n",
        alice.name, alice.password
    );
    reader.get_mut().write_all(cmds.as_bytes()).unwrap();
    let mut replies = Vec::new();
    for _ in 0..4 {
        line.clear();
        reader.read_line(&mut line).unwrap();
        replies.push(line.trim_end().to_string());
    }
    assert!(
        replies[1].starts_with("+OK"),
        "login failed: {replies:?}\n{}",
        dovecot.log()
    );
    let expected_size: usize = [1, 2]
        .iter()
        .map(|&i| postbag_tests::messages::plain(i).len())
        .sum();
    assert_eq!(replies[2], format!("+OK 2 {expected_size}"));
}
