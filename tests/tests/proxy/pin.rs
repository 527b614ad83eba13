//! Pinning a self-signed certificate made the common way (issue 11, item 14). `openssl req
//! -x509` marks the certificate `CA:TRUE`: through the proxy's extra CA file that certificate
//! is refused as a server's own (`CaUsedAsEndEntity`, which is right for a CA file), so the
//! user's way in is the pin the refusal offers, and the pin must accept it whatever its flags.

use postbag_protocol::pop3::{ClientConfig, Secret, TlsState};
use postbag_protocol::tunnel::{ErrorKind, TlsMode, Verification};
use postbag_tests::proxy_harness::{LOCALHOST, open_connected, open_refused, spawn_proxy_with};
use postbag_tests::scripted_pop3::mailbox::{Mailbox, SelfSigned};
use postbag_tests::ws_client::{Pop3Tunnel, open_request};
use sha2::{Digest, Sha256};

#[tokio::test]
async fn a_self_signed_ca_certificate_is_refused_as_a_ca_and_accepted_by_its_pin() {
    let cert = SelfSigned::generate();
    let message = b"Subject: pinned\r\n\r\nThrough a pinned self-signed certificate.\r\n";
    let server = Mailbox::new()
        .tls(cert.server_config.clone())
        .message("a", message)
        .start();
    let port = server.addr().port();
    let dir = tempfile::tempdir().unwrap();
    let pem = dir.path().join("self-signed.pem");
    std::fs::write(&pem, &cert.cert_pem).unwrap();
    // The operator even added the certificate as an extra CA: that does not make it a server's.
    let proxy = spawn_proxy_with(&[port], |c| c.extra_ca_file = Some(pem));

    let (err, _) = open_refused(&proxy, open_request(LOCALHOST, port, TlsMode::Implicit)).await;
    assert_eq!(err.kind, ErrorKind::TlsVerificationFailed, "{err:?}");
    assert!(err.message.contains("CaUsedAsEndEntity"), "{err:?}");
    let presented = err.certificate.expect("the refusal shows what to pin");
    let sha256 = hex::encode(Sha256::digest(&cert.cert_der));
    assert_eq!(
        presented.sha256, sha256,
        "the pin is the SHA-256 of the whole DER certificate"
    );

    let mut pinned = open_request(LOCALHOST, port, TlsMode::Implicit);
    pinned.pin_sha256 = Some(presented.sha256);
    let (tunnel, connected) = open_connected(&proxy, pinned).await;
    assert_eq!(connected.tls.unwrap().verification, Verification::Pinned);
    let mut config = ClientConfig::new("u", Secret::new("pw".to_string()));
    config.tls = TlsState::Implicit;
    config.want_starttls = false;
    let mut pop3 = Pop3Tunnel::new(tunnel, config);
    pop3.login().await;
    assert_eq!(pop3.retr(1).await, message);
}
