//! The POP3 client from `postbag_protocol` talks to a real Dovecot through the real proxy, over a
//! native WebSocket, in each TLS mode: plain, STARTTLS, implicit TLS, and implicit TLS trusted by
//! a pinned fingerprint instead of a CA.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use postbag_protocol::pop3::{ClientConfig, Command, Event, Secret, TlsState};
use postbag_protocol::tunnel::{ClientMessage, ErrorKind, OpenRequest, TlsMode, Verification};
use postbag_tests::proxy_harness::{
    LOCALHOST, ProxyHandle, dovecot_ports, metric, open_connected, open_local, open_refused,
    pop3_after_greeting, spawn_proxy_with, spawn_test_proxy, wait_until_no_tunnel_is_open,
};
use postbag_tests::ws_client::{Incoming, Pop3Tunnel, TunnelClient, open_request};
use postbag_tests::{Dovecot, TestUser, messages};

/// A proxy that trusts the run's test CA, as a self-hosting operator would configure it.
fn proxy_trusting(dovecot: &Dovecot) -> ProxyHandle {
    spawn_proxy_with(&dovecot_ports(dovecot), |c| {
        c.extra_ca_file = Some(dovecot.ca_pem_path())
    })
}

fn pop3_config(user: &TestUser, tls: TlsState, want_starttls: bool) -> ClientConfig {
    let mut config = ClientConfig::new(user.name.clone(), Secret::new(user.password.clone()));
    config.tls = tls;
    config.want_starttls = want_starttls;
    config.allow_plaintext_password = tls == TlsState::None && !want_starttls;
    config
}

/// Logs in, lists, fetches every message and checks it byte for byte, then QUITs.
async fn fetch_all(mut pop3: Pop3Tunnel, expected: &[Vec<u8>]) {
    pop3.login().await;
    let events = pop3.execute(&[Command::Stat]).await;
    assert!(
        matches!(events.last(), Some(Event::Stat { count, .. }) if *count as usize == expected.len()),
        "{events:?}"
    );
    for (i, want) in expected.iter().enumerate() {
        let got = pop3.retr(i as u32 + 1).await;
        assert_eq!(got.len(), want.len(), "message {} length", i + 1);
        assert!(got == *want, "message {} differs", i + 1);
    }
    let events = pop3.execute(&[Command::Quit]).await;
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Closed { committed: true })),
        "{events:?}"
    );
}

fn mailbox(dovecot: &Dovecot) -> (TestUser, Vec<Vec<u8>>) {
    let user = dovecot.new_user();
    let expected = vec![
        dovecot.deliver(&user, &messages::plain(1)),
        dovecot.deliver(&user, &messages::with_dot_lines()),
        dovecot.deliver(&user, &messages::eight_bit()),
        dovecot.deliver(&user, &messages::large(300_000)),
    ];
    (user, expected)
}

#[tokio::test]
async fn plain_pop3_through_the_proxy() {
    let dovecot = Dovecot::start();
    let (user, expected) = mailbox(&dovecot);
    let proxy = spawn_test_proxy(&dovecot_ports(&dovecot));
    let addr = dovecot.pop3_addr();

    let (tunnel, connected) = open_local(&proxy, addr.port(), TlsMode::None).await;
    assert_eq!(connected.peer, addr.to_string());
    assert!(connected.tls.is_none());
    fetch_all(
        Pop3Tunnel::new(tunnel, pop3_config(&user, TlsState::None, false)),
        &expected,
    )
    .await;

    let metrics = proxy.metrics_text();
    assert!(metrics.contains("postbag_connects_total 1\n"), "{metrics}");
    assert!(
        !metrics.contains("postbag_bytes_to_client_total 0\n"),
        "{metrics}"
    );
    assert!(
        !metrics.contains(&user.password),
        "the password leaks into metrics"
    );
    // The 300 KB message left the proxy without a copy through it: spliced on Linux.
    let spliced = metric(&proxy, "postbag_bytes_to_client_spliced_total");
    if cfg!(target_os = "linux") {
        assert!(spliced > 150_000, "spliced {spliced} bytes");
    }
}

#[tokio::test]
async fn starttls_upgrades_in_place() {
    let dovecot = Dovecot::start();
    let (user, expected) = mailbox(&dovecot);
    let proxy = proxy_trusting(&dovecot);

    let (tunnel, connected) =
        open_local(&proxy, dovecot.pop3_addr().port(), TlsMode::Starttls).await;
    assert!(connected.tls.is_none(), "{connected:?}");
    let mut pop3 = Pop3Tunnel::new(tunnel, pop3_config(&user, TlsState::None, true));
    fetch_all_keeping(&mut pop3, &expected).await;
    let info = pop3.upgraded.expect("the client asked for STARTTLS");
    assert_eq!(info.verification, Verification::Trusted);
    assert!(info.protocol.starts_with("TLSv1_"), "{info:?}");
    // Dovecot (OpenSSL) follows the client's order: the proxy offers AES-128-GCM first, the
    // cheaper cipher to decrypt downloads with (proxy/src/tls.rs).
    assert!(info.cipher.contains("AES_128_GCM"), "{info:?}");
    assert_eq!(info.certificate.sha256, dovecot.server_cert_sha256());
    assert!(pop3.client.is_encrypted());
}

/// Like `fetch_all`, but leaves the driver to the caller for later assertions.
async fn fetch_all_keeping(pop3: &mut Pop3Tunnel, expected: &[Vec<u8>]) {
    pop3.login().await;
    for (i, want) in expected.iter().enumerate() {
        assert!(
            pop3.retr(i as u32 + 1).await == *want,
            "message {} differs",
            i + 1
        );
    }
    pop3.execute(&[Command::Quit]).await;
}

#[tokio::test]
async fn implicit_tls_with_the_configured_ca() {
    let dovecot = Dovecot::start();
    let (user, expected) = mailbox(&dovecot);
    let proxy = proxy_trusting(&dovecot);

    let (tunnel, connected) =
        open_local(&proxy, dovecot.pop3s_addr().port(), TlsMode::Implicit).await;
    let tls = connected.tls.expect("implicit TLS reports its session");
    assert_eq!(tls.verification, Verification::Trusted);
    assert_eq!(tls.certificate.sha256, dovecot.server_cert_sha256());
    assert!(
        tls.certificate.subject.contains("CN="),
        "{:?}",
        tls.certificate
    );
    fetch_all(
        Pop3Tunnel::new(tunnel, pop3_config(&user, TlsState::Implicit, false)),
        &expected,
    )
    .await;
    // Decrypted bytes are copied through the proxy's buffer, never spliced.
    assert_eq!(metric(&proxy, "postbag_bytes_to_client_spliced_total"), 0);
}

#[tokio::test]
async fn an_untrusted_certificate_fails_then_its_pin_succeeds() {
    let dovecot = Dovecot::start();
    let (user, expected) = mailbox(&dovecot);
    // No extra CA: the test CA is unknown to the web PKI roots.
    let proxy = spawn_test_proxy(&dovecot_ports(&dovecot));
    let port = dovecot.pop3s_addr().port();

    let (err, close) = open_refused(&proxy, open_request(LOCALHOST, port, TlsMode::Implicit)).await;
    assert_eq!(err.kind, ErrorKind::TlsVerificationFailed, "{err:?}");
    assert_eq!(close.map(|c| c.0), Some(1011));
    let presented = err
        .certificate
        .expect("the failure shows the presented certificate");
    assert_eq!(presented.sha256, dovecot.server_cert_sha256());

    // The user looked at it and pinned it.
    let pinned = pinned_request(port, presented.sha256.to_uppercase());
    let (tunnel, connected) = open_connected(&proxy, pinned).await;
    assert_eq!(connected.tls.unwrap().verification, Verification::Pinned);
    fetch_all(
        Pop3Tunnel::new(tunnel, pop3_config(&user, TlsState::Implicit, false)),
        &expected,
    )
    .await;

    // A wrong pin is refused even though nothing else changed.
    let (err, _) = open_refused(&proxy, pinned_request(port, "ab".repeat(32))).await;
    assert_eq!(err.kind, ErrorKind::TlsVerificationFailed);
    assert!(err.message.contains("pinned"), "{err:?}");
    assert!(
        proxy
            .metrics_text()
            .contains("postbag_errors_total{kind=\"tls_verification_failed\"} 2\n")
    );
}

/// Implicit TLS to 127.0.0.1:`port`, trusting only the certificate whose SHA-256 is `pin`.
fn pinned_request(port: u16, pin: String) -> OpenRequest {
    let mut req = open_request(LOCALHOST, port, TlsMode::Implicit);
    req.pin_sha256 = Some(pin);
    req
}

#[tokio::test]
async fn starttls_without_trust_is_refused_with_the_certificate() {
    let dovecot = Dovecot::start();
    let user = dovecot.new_user();
    let proxy = spawn_test_proxy(&dovecot_ports(&dovecot));
    let (mut tunnel, _) = open_local(&proxy, dovecot.pop3_addr().port(), TlsMode::Starttls).await;
    // Raw POP3 this time: greeting, STLS, +OK, then the upgrade request.
    let greeting = tunnel.read_line().await;
    assert!(greeting.starts_with(b"+OK"));
    assert!(tunnel.command(b"STLS\r\n").await.starts_with(b"+OK"));
    tunnel.send_control(&ClientMessage::Starttls).await;
    let (err, _) = tunnel.expect_error().await;
    assert_eq!(err.kind, ErrorKind::TlsVerificationFailed);
    assert_eq!(
        err.certificate.unwrap().sha256,
        dovecot.server_cert_sha256()
    );
    assert_eq!(dovecot.message_count(&user), 0);
}

#[tokio::test]
async fn the_upstream_closing_closes_the_tunnel_normally() {
    let dovecot = Dovecot::start();
    let proxy = spawn_test_proxy(&dovecot_ports(&dovecot));
    let mut tunnel = pop3_after_greeting(&proxy, dovecot.pop3_addr().port()).await;
    assert!(tunnel.command(b"QUIT\r\n").await.starts_with(b"+OK"));
    match tunnel.recv().await {
        Incoming::Closed(Some((code, reason))) => {
            assert_eq!((code, reason.as_str()), (1000, "upstream closed"));
        }
        other => panic!("expected a normal close, got {other:?}"),
    }
    // The tunnel's slot is released: the open-tunnels gauge returns to zero.
    wait_until_no_tunnel_is_open(&proxy, Duration::from_secs(1)).await;
}

/// Opens a tunnel and returns the error the proxy answered with.
async fn open_error(proxy: &ProxyHandle, req: OpenRequest) -> (ErrorKind, Option<u16>, Duration) {
    let mut tunnel = TunnelClient::connect(proxy.addr()).await;
    let started = Instant::now();
    let (err, close) = tunnel.open_refused(req).await;
    (err.kind, close.map(|c| c.0), started.elapsed())
}

#[tokio::test]
async fn connect_failures_are_typed() {
    let dovecot = Dovecot::start();
    // Nothing listens on a port we just released.
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // A server that accepts and then says nothing.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    let ports = [closed, 110, silent_port, dovecot.pop3_addr().port()];
    let proxy = spawn_proxy_with(&ports, |c| c.connect_timeout_secs = 1);

    let (kind, code, _) = open_error(&proxy, open_request(LOCALHOST, closed, TlsMode::None)).await;
    assert_eq!((kind, code), (ErrorKind::Refused, Some(1011)));

    let (kind, _, _) = open_error(
        &proxy,
        open_request("postbag-test.invalid", 110, TlsMode::None),
    )
    .await;
    assert_eq!(kind, ErrorKind::DnsFailure);

    // The silent server: the TLS handshake hits the connect timeout.
    let (kind, code, waited) = open_error(
        &proxy,
        open_request(LOCALHOST, silent_port, TlsMode::Implicit),
    )
    .await;
    assert_eq!((kind, code), (ErrorKind::Timeout, Some(1011)));
    assert!(waited >= Duration::from_millis(900), "{waited:?}");
    drop(silent);

    // Implicit TLS to the plain port: Dovecot's greeting is not a TLS record.
    let (kind, code, _) = open_error(
        &proxy,
        open_request(LOCALHOST, dovecot.pop3_addr().port(), TlsMode::Implicit),
    )
    .await;
    assert_eq!((kind, code), (ErrorKind::TlsHandshakeFailed, Some(1011)));

    let metrics = proxy.metrics_text();
    for kind in ["refused", "dns_failure", "timeout", "tls_handshake_failed"] {
        assert!(
            metrics.contains(&format!("postbag_errors_total{{kind=\"{kind}\"}} 1\n")),
            "{kind}: {metrics}"
        );
    }
}

#[tokio::test]
async fn starttls_is_refused_outside_starttls_mode() {
    let dovecot = Dovecot::start();
    let proxy = spawn_test_proxy(&dovecot_ports(&dovecot));
    let mut tunnel = pop3_after_greeting(&proxy, dovecot.pop3_addr().port()).await;
    tunnel.send_control(&ClientMessage::Starttls).await;
    let (err, close) = tunnel.expect_error().await;
    assert_eq!(err.kind, ErrorKind::BadRequest);
    assert_eq!(close.map(|c| c.0), Some(1002));
}

/// A mail server that sends TCP urgent data in the middle of a large reply: splice stops at the
/// urgent mark, and the proxy must copy past it rather than wait for bytes that are already
/// there (the server then waits for the next command, so nothing else would wake it).
#[tokio::test]
async fn urgent_data_in_a_plain_download_does_not_stall_it() {
    use std::io::Write as _;
    const HALF: usize = 300_000;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.write_all(&vec![b'a'; HALF]).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        socket2::SockRef::from(&s).send_out_of_band(b"!").unwrap();
        s.write_all(&vec![b'b'; HALF]).unwrap();
        // Then wait, as a POP3 server waits for the next command.
        std::thread::sleep(Duration::from_secs(30));
    });
    let proxy = spawn_proxy_with(&[port], |c| c.idle_timeout_secs = 20);
    let mut tunnel = open_local(&proxy, port, TlsMode::None).await.0;
    let mut got = Vec::new();
    // The urgent byte is out of band: the stream carries the two halves only.
    while got.iter().filter(|&&b| b == b'b').count() < HALF {
        match tokio::time::timeout(Duration::from_secs(10), tunnel.recv()).await {
            Ok(Incoming::Bytes(b)) => got.extend(b),
            Ok(other) => panic!("{other:?}"),
            Err(_) => panic!(
                "stalled after {} bytes ({} of the second half)",
                got.len(),
                got.iter().filter(|&&b| b == b'b').count()
            ),
        }
    }
    assert_eq!(got.iter().filter(|&&b| b == b'a').count(), HALF);
}

/// A download from a TLS upstream goes to the browser in frames as large as a splice's (all the
/// records rustls has at hand, up to 256 KiB, pump.rs), not in the 64 KiB of a copied plain
/// read; every byte in order, and no frame over the bound a tunnel holds.
#[tokio::test]
async fn a_tls_download_goes_in_large_frames() {
    const TOTAL: usize = 8 * 1024 * 1024;
    let (source, pin) = postbag_tests::fake_upstreams::spawn_tls_source(TOTAL);
    let proxy = spawn_proxy_with(&[source.port()], |_| {});
    let (mut tunnel, connected) = open_connected(&proxy, pinned_request(source.port(), pin)).await;
    assert!(connected.tls.is_some(), "{connected:?}");
    let (mut got, mut largest) = (0, 0);
    loop {
        match tunnel.recv().await {
            Incoming::Bytes(bytes) => {
                assert!(bytes.iter().all(|b| *b == b'x'));
                got += bytes.len();
                largest = largest.max(bytes.len());
            }
            Incoming::Closed(_) => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(got, TOTAL);
    assert!(largest > 64 * 1024, "largest frame {largest} bytes");
    assert!(largest <= postbag_proxy::testing::MAX_HELD);
}
