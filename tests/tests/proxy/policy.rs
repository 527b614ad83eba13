//! Deny by default: every policy rule is answered with its documented error, and no upstream
//! connection is made. A listener that counts its accepts stands where the tunnel would lead.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use postbag_protocol::tunnel::{ErrorKind, OpenRequest, ServerMessage, TlsMode, TunnelError};
use postbag_proxy::{Config, Secret};
use postbag_tests::proxy_harness::{
    LOCALHOST, ProxyHandle, base_config, metric, open_plain, open_refused, raw_handshake,
    spawn_proxy, spawn_proxy_with, spawn_test_proxy, start_proxy, test_config,
};
use postbag_tests::ws_client::{TunnelClient, open_request};

/// A TCP listener on 127.0.0.1 that counts connections (and holds them open).
struct CountingListener {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
}

impl CountingListener {
    fn start() -> CountingListener {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for stream in listener.incoming().flatten() {
                counter.fetch_add(1, Ordering::SeqCst);
                held.push(stream);
            }
        });
        CountingListener { addr, accepted }
    }

    /// Accepts so far, after a pause that lets a (wrongly) started connect land.
    async fn count(&self) -> usize {
        tokio::time::sleep(Duration::from_millis(200)).await;
        self.accepted.load(Ordering::SeqCst)
    }
}

/// The embedded default's rules (no private targets), but `ports` and any origin.
fn strict(ports: &[u16]) -> Config {
    let mut config = test_config(ports);
    config.allow_private_cidrs.clear();
    config
}

/// Opens a tunnel and expects a refusal of `kind` with close code `code`.
async fn refused(proxy: &ProxyHandle, req: OpenRequest, kind: ErrorKind, code: u16) -> TunnelError {
    let (err, close) = open_refused(proxy, req).await;
    assert_eq!(err.kind, kind, "{err:?}");
    assert_eq!(close.map(|c| c.0), Some(code), "{err:?}");
    err
}

/// Opens a plain tunnel to `host`:`port` and expects it refused as a forbidden target (1008).
async fn forbidden(proxy: &ProxyHandle, host: &str, port: u16) -> TunnelError {
    let req = open_request(host, port, TlsMode::None);
    refused(proxy, req, ErrorKind::ForbiddenTarget, 1008).await
}

#[tokio::test]
async fn an_allowed_target_is_reached_which_shows_the_counter_counts() {
    let target = CountingListener::start();
    let proxy = spawn_test_proxy(&[target.addr.port()]);
    let _tunnel = open_plain(&proxy, target.addr.port()).await;
    assert_eq!(target.count().await, 1);
}

#[tokio::test]
async fn a_port_not_listed_is_forbidden() {
    let target = CountingListener::start();
    let proxy = spawn_test_proxy(&[110, 995]);
    let err = forbidden(&proxy, LOCALHOST, target.addr.port()).await;
    assert!(err.message.contains("port"), "{err:?}");
    assert_eq!(target.count().await, 0);
}

/// The embedded default reaches POP3 (110, 995) and mail submission (587 with STARTTLS, 465
/// with implicit TLS: issue 14), and no other port: not 25 (server-to-server SMTP, where an open
/// proxy would relay spam), not 143 (IMAP).
#[tokio::test]
async fn the_default_ports_are_pop3_and_submission_only() {
    // The embedded default's ports; loopback allowed, so that the port rule decides alone.
    let proxy = spawn_proxy(Config {
        allow_ports: Config::default().allow_ports,
        ..base_config(None)
    });
    for port in [110, 995, 587, 465] {
        let req = open_request(LOCALHOST, port, TlsMode::None);
        // Connected, or refused by whatever (not) listens there: past the policy either way.
        match TunnelClient::connect(proxy.addr()).await.open(req).await {
            ServerMessage::Connected(_) => {}
            ServerMessage::Error(err) => assert!(
                err.kind != ErrorKind::ForbiddenTarget && !err.message.contains("not allowed"),
                "port {port}: {err:?}"
            ),
            other => panic!("port {port}: {other:?}"),
        }
    }
    for port in [25, 143] {
        let err = forbidden(&proxy, LOCALHOST, port).await;
        assert!(
            err.message.contains(&format!("port {port} is not allowed")),
            "{err:?}"
        );
    }
}

#[tokio::test]
async fn loopback_and_private_addresses_are_forbidden_without_an_explicit_range() {
    let target = CountingListener::start();
    let port = target.addr.port();
    let proxy = spawn_proxy(strict(&[port]));
    for host in ["127.0.0.1", "::ffff:127.0.0.1", "127.1.2.3"] {
        let err = forbidden(&proxy, host, port).await;
        assert!(err.message.contains("loopback"), "{host}: {err:?}");
    }
    for (host, class) in [
        ("10.0.0.1", "private"),
        ("192.168.1.1", "private"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("169.254.169.254", "cloud metadata"),
        ("fd00:ec2::254", "cloud metadata"),
        ("fe80::1", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("192.0.2.10", "documentation"),
    ] {
        let err = forbidden(&proxy, host, port).await;
        assert!(err.message.contains(class), "{host}: {err:?}");
    }
    assert_eq!(target.count().await, 0);
    assert!(
        proxy
            .metrics_text()
            .contains("postbag_errors_total{kind=\"forbidden_target\"} 12\n")
    );
    assert!(proxy.metrics_text().contains("postbag_connects_total 0\n"));
}

/// A refusal for a name says neither the address it resolved to nor that address's class: a
/// client could otherwise map the proxy's internal DNS, name by name.
#[tokio::test]
async fn a_name_resolving_to_loopback_is_forbidden_without_naming_the_address() {
    let target = CountingListener::start();
    let proxy = spawn_proxy(strict(&[target.addr.port()]));
    let err = forbidden(&proxy, "localhost", target.addr.port()).await;
    assert!(err.message.contains("not allowed"), "{err:?}");
    for revealing in ["127.0.0.1", "::1", "loopback"] {
        assert!(!err.message.contains(revealing), "{revealing}: {err:?}");
    }
    assert_eq!(target.count().await, 0);
}

#[tokio::test]
async fn host_patterns_are_deny_by_default() {
    let target = CountingListener::start();
    let proxy = spawn_proxy_with(&[target.addr.port()], |c| {
        c.allow_any_public_host = false;
        c.allow_hosts = vec!["*.example.com".into()];
    });
    let err = forbidden(&proxy, "localhost", target.addr.port()).await;
    assert!(err.message.contains("host"), "{err:?}");
    assert_eq!(target.count().await, 0);
}

#[tokio::test]
async fn bad_requests_and_reserved_modes_connect_nowhere() {
    let target = CountingListener::start();
    let port = target.addr.port();
    let proxy = spawn_test_proxy(&[port]);
    let mut req = open_request(LOCALHOST, port, TlsMode::None);
    req.version = 99;
    refused(&proxy, req, ErrorKind::UnsupportedVersion, 1002).await;
    refused(
        &proxy,
        open_request(LOCALHOST, port, TlsMode::Client),
        ErrorKind::Unsupported,
        1002,
    )
    .await;
    let mut req = open_request(LOCALHOST, port, TlsMode::Implicit);
    req.pin_sha256 = Some("not hex".into());
    refused(&proxy, req, ErrorKind::BadRequest, 1002).await;

    // Bytes before `open`.
    let mut tunnel = TunnelClient::connect(proxy.addr()).await;
    tunnel.send_bytes(b"USER x\r\n").await;
    let (err, _) = tunnel.expect_error().await;
    assert_eq!(err.kind, ErrorKind::BadRequest);
    assert_eq!(target.count().await, 0);
}

#[tokio::test]
async fn origins_not_allowed_are_refused_before_the_upgrade() {
    let target = CountingListener::start();
    let proxy = spawn_proxy_with(&[target.addr.port()], |c| {
        // A public page's origin means a reverse proxy in front: a consented public relay here.
        c.allowed_origins = vec!["https://mail.example.com".into()];
        c.public_relay = true;
    });

    let refusal = TunnelClient::connect_with(
        proxy.addr(),
        "/tunnel",
        &[("origin", "https://evil.example")],
    )
    .await
    .err()
    .expect("a foreign origin must be refused");
    assert_eq!(refusal.status, 403);
    let err: TunnelError = serde_json::from_str(&refusal.body).unwrap();
    assert_eq!(err.kind, ErrorKind::ForbiddenOrigin);

    let mut tunnel = TunnelClient::connect_with(
        proxy.addr(),
        "/tunnel",
        &[("origin", "https://mail.example.com")],
    )
    .await
    .unwrap();
    tunnel
        .open_connected(open_request(LOCALHOST, target.addr.port(), TlsMode::None))
        .await;
    assert_eq!(
        target.count().await,
        1,
        "only the allowed origin reached the target"
    );
}

/// With `allowed_origins` empty, a loopback proxy admits the pages it serves itself, under each
/// of its loopback names, and no other page.
#[tokio::test]
async fn by_default_only_the_proxys_own_origins_are_allowed() {
    let target = CountingListener::start();
    let proxy = spawn_proxy_with(&[target.addr.port()], |c| c.allowed_origins.clear());
    let port = proxy.addr().port();
    for host in ["127.0.0.1", "localhost", "[::1]"] {
        let (origin, host) = (format!("http://{host}:{port}"), format!("{host}:{port}"));
        let headers = [("origin", origin.as_str()), ("host", host.as_str())];
        let mut tunnel = TunnelClient::connect_with(proxy.addr(), "/tunnel", &headers)
            .await
            .unwrap_or_else(|r| panic!("{origin} refused: {r:?}"));
        tunnel
            .open_connected(open_request(LOCALHOST, target.addr.port(), TlsMode::None))
            .await;
    }
    assert_eq!(target.count().await, 3);
    let refusal =
        TunnelClient::connect_with(proxy.addr(), "/tunnel", &[("origin", "http://127.0.0.1:1")])
            .await
            .err()
            .unwrap();
    assert_eq!(refusal.status, 403);
}

/// DNS rebinding: a page on evil.example whose name now resolves to 127.0.0.1 sends an Origin
/// and a Host that agree with each other. It is still not the proxy's own page.
#[tokio::test]
async fn a_rebound_name_is_not_the_proxys_own_origin() {
    let target = CountingListener::start();
    let proxy = spawn_proxy_with(&[target.addr.port()], |c| c.allowed_origins.clear());
    let port = proxy.addr().port();
    let (origin, host) = (
        format!("http://evil.example:{port}"),
        format!("evil.example:{port}"),
    );
    let headers = [("origin", origin.as_str()), ("host", host.as_str())];
    let refusal = TunnelClient::connect_with(proxy.addr(), "/tunnel", &headers)
        .await
        .err()
        .expect("a rebound origin must be refused");
    assert_eq!(refusal.status, 403);
    let err: TunnelError = serde_json::from_str(&refusal.body).unwrap();
    assert_eq!(err.kind, ErrorKind::ForbiddenOrigin);
    assert_eq!(target.count().await, 0);
    assert_eq!(metric(&proxy, "postbag_connects_total"), 0);
    assert!(
        proxy
            .metrics_text()
            .contains("postbag_errors_total{kind=\"forbidden_origin\"} 1\n")
    );
}

/// The listener's own address decides, not `listen` in the configuration (127.0.0.1:8080 in
/// the test configuration): bound to every interface, the permissive configuration is refused.
#[test]
fn a_proxy_reachable_from_other_machines_refuses_to_start_unconfigured() {
    let mut open_relay = test_config(&[995]);
    open_relay.allowed_origins = vec!["https://mail.example.org".into()];
    let err = start_proxy(open_relay, TcpListener::bind("0.0.0.0:0").unwrap())
        .err()
        .expect("an open relay on 0.0.0.0 must not start");
    let text = err.to_string();
    assert!(
        text.contains("--public-relay") && text.contains("--token"),
        "{text}"
    );
    assert!(!text.contains("allowed_origins is empty"), "{text}");

    let mut no_origins = test_config(&[995]);
    no_origins.allowed_origins.clear();
    no_origins.public_relay = true;
    let err = start_proxy(no_origins, TcpListener::bind("0.0.0.0:0").unwrap())
        .err()
        .expect("a proxy on 0.0.0.0 without allowed origins must not start");
    assert!(
        err.to_string()
            .contains("set allowed_origins to the URL users open"),
        "{err}"
    );

    // On loopback behind a reverse proxy (its public URL as the allowed origin), clients that
    // send no Origin reach it from anywhere: the same relay restriction applies.
    let mut fronted = test_config(&[995]);
    fronted.allowed_origins = vec!["https://mail.example.org".into()];
    let err = start_proxy(fronted, TcpListener::bind("127.0.0.1:0").unwrap())
        .err()
        .expect("an open relay behind a reverse proxy must not start");
    assert!(err.to_string().contains("--public-relay"), "{err}");

    // Any origin (`*`, which --help offers) names no page of this machine: the same.
    let mut any_origin = test_config(&[995]);
    any_origin.allowed_origins = vec!["*".into()];
    let err = start_proxy(any_origin, TcpListener::bind("127.0.0.1:0").unwrap())
        .err()
        .expect("a loopback proxy for any origin, with no restriction, must not start");
    assert!(err.to_string().contains("--public-relay"), "{err}");
}

/// A request through a reverse proxy says so (X-Forwarded-For, Forwarded, X-Real-IP, Via,
/// X-Forwarded-Host/-Proto): a
/// proxy that was not told to trust one refuses it, with a typed 403 that says what to set,
/// both on the upgrade and on the app's plain probe. Told, it admits it.
#[tokio::test]
async fn a_forwarded_request_is_refused_unless_forwarding_is_trusted() {
    let target = CountingListener::start();
    let port = target.addr.port();
    let proxy = spawn_test_proxy(&[port]);
    for (name, value) in [
        ("X-Forwarded-For", "198.51.100.7"),
        ("Forwarded", "for=198.51.100.7;proto=https"),
        ("X-Real-IP", "198.51.100.7"),
        ("Via", "1.1 haproxy"),
        ("X-Forwarded-Host", "mail.example.org"),
        ("X-Forwarded-Proto", "https"),
    ] {
        let refusal = TunnelClient::connect_with(proxy.addr(), "/tunnel", &[(name, value)])
            .await
            .err()
            .unwrap_or_else(|| panic!("a request with {name} must be refused"));
        assert_eq!(refusal.status, 403, "{name}");
        let err: TunnelError = serde_json::from_str(&refusal.body).unwrap();
        assert_eq!(err.kind, ErrorKind::UntrustedForwarding, "{name}");
        assert!(err.message.contains("trust_forwarded_for"), "{err:?}");
        let probe = raw_get(proxy.addr(), "/tunnel", &[(name, value)]);
        assert!(probe.starts_with("HTTP/1.1 403"), "{name}: {probe}");
        assert!(probe.contains("trust_forwarded_for"), "{name}: {probe}");
        assert!(
            probe.contains("\"kind\":\"untrusted_forwarding\""),
            "{name}: {probe}"
        );
    }
    assert_eq!(target.count().await, 0);

    let trusting = spawn_proxy_with(&[port], |c| {
        c.trust_forwarded_for = true;
        c.allowed_origins = vec!["https://mail.example.org".into()];
        c.public_relay = true;
    });
    let answer = raw_handshake(trusting.addr(), "/tunnel", &[("Via", "1.1 haproxy")]);
    assert_eq!(answer.status, 101);
}

/// A plain GET with `headers`, read to the end.
fn raw_get(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    String::from_utf8_lossy(&raw).into_owned()
}

#[tokio::test]
async fn a_missing_or_wrong_token_is_refused_before_the_upgrade() {
    let target = CountingListener::start();
    let proxy = spawn_proxy_with(&[target.addr.port()], |c| {
        c.token = Some(Secret::new("correct-horse".into()))
    });

    for (path, headers) in [
        ("/tunnel", vec![]),
        ("/tunnel?token=wrong-horse", vec![]),
        (
            "/tunnel",
            vec![("sec-websocket-protocol", "postbag.v1, postbag.token.wrong")],
        ),
    ] {
        let refusal = TunnelClient::connect_with(proxy.addr(), path, &headers)
            .await
            .err()
            .unwrap();
        assert_eq!(refusal.status, 401, "{path} {headers:?}");
        let err: TunnelError = serde_json::from_str(&refusal.body)
            .unwrap_or_else(|e| panic!("{path} {headers:?}: {e}: {:?}", refusal.body));
        assert_eq!(err.kind, ErrorKind::Unauthorized);
    }

    let with_query =
        TunnelClient::connect_with(proxy.addr(), "/tunnel?token=correct-horse", &[]).await;
    let mut with_query = with_query.expect("the query-parameter token");
    with_query
        .open_connected(open_request(LOCALHOST, target.addr.port(), TlsMode::None))
        .await;

    // What a browser does: the token in the subprotocol list, next to postbag.v1.
    let protocols = [(
        "sec-websocket-protocol",
        "postbag.v1, postbag.token.correct-horse",
    )];
    let mut with_protocol = TunnelClient::connect_with(proxy.addr(), "/tunnel", &protocols)
        .await
        .expect("the subprotocol token");
    with_protocol
        .open_connected(open_request(LOCALHOST, target.addr.port(), TlsMode::None))
        .await;
    assert_eq!(target.count().await, 2);
    assert!(
        proxy
            .metrics_text()
            .contains("postbag_errors_total{kind=\"unauthorized\"} 3\n")
    );
}

/// The token is a secret: it never comes back in a response header, where logs and
/// intermediaries would keep it. Offered without `postbag.v1`, the handshake is refused.
#[tokio::test]
async fn the_token_is_never_sent_back_as_the_subprotocol() {
    let proxy = spawn_proxy_with(&[], |c| c.token = Some(Secret::new("correct-horse".into())));
    let addr = proxy.addr();
    let protocol = "sec-websocket-protocol";

    let alone = raw_handshake(
        addr,
        "/tunnel",
        &[(protocol, "postbag.token.correct-horse")],
    );
    assert_eq!(alone.status, 400, "{alone:?}");
    let err: TunnelError = serde_json::from_str(&alone.body).unwrap();
    assert_eq!(err.kind, ErrorKind::BadRequest);
    assert!(err.message.contains("postbag.v1"), "{err:?}");
    // Counted now: the upgraded tunnels below end without an `open`, which may count too.
    assert!(
        proxy
            .metrics_text()
            .contains("postbag_errors_total{kind=\"bad_request\"} 1\n")
    );

    let beside = raw_handshake(
        addr,
        "/tunnel",
        &[(protocol, "postbag.token.correct-horse, postbag.v1")],
    );
    assert_eq!(beside.status, 101, "{beside:?}");
    assert_eq!(beside.header(protocol), Some("postbag.v1"));

    // No subprotocol offered (the query-parameter token): none answered.
    let none = raw_handshake(addr, "/tunnel?token=correct-horse", &[]);
    assert_eq!(none.status, 101, "{none:?}");
    assert_eq!(none.header(protocol), None);

    for answer in [&alone, &beside, &none] {
        assert!(
            !format!("{answer:?}").contains("correct-horse"),
            "{answer:?}"
        );
    }
}
