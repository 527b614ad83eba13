//! Limits and backpressure: tunnel caps (and whose address they count), idle timeout (which
//! empty frames and pings do not reset), message size, a slow browser reading a 10 MB message,
//! and graceful shutdown. (Lengths announced in frame headers: frames.rs.)
//!
//! Timing: these run on loaded 2-core machines, so a test waits for a state by polling with a
//! generous deadline, never by a fixed sleep; lower bounds (closed no earlier than the timeout)
//! stay exact.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use postbag_protocol::tunnel::{ErrorKind, ServerMessage, TlsMode};
use postbag_proxy::testing::MAX_HELD;
use postbag_tests::proxy_harness::{
    LOCALHOST, ProxyHandle, RawFrame, RawTunnel, dovecot_ports, metric, open_plain,
    pop3_after_greeting, spawn_proxy_with, spawn_test_proxy, wait_until_no_tunnel_is_open,
};
use postbag_tests::ws_client::{Incoming, TunnelClient, open_request};
use postbag_tests::{Dovecot, messages};
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn the_per_ip_cap_refuses_the_next_tunnel_until_one_closes() {
    // Port 9 (discard) is closed: being refused by the target means the cap let us through.
    let proxy = spawn_proxy_with(&[9], |c| c.max_tunnels_per_ip = 2);
    let first = TunnelClient::connect(proxy.addr()).await;
    let _second = TunnelClient::connect(proxy.addr()).await;

    let mut third = TunnelClient::connect(proxy.addr()).await;
    let (err, close) = third.expect_error().await;
    assert_eq!(err.kind, ErrorKind::LimitReached);
    assert_eq!(close.map(|c| c.0), Some(1013));

    first.close().await;
    // The slot frees when the proxy has seen the close; retry until then.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut again = TunnelClient::connect(proxy.addr()).await;
        let dovecot_less = open_request(LOCALHOST, 9, TlsMode::None);
        match again.open(dovecot_less).await {
            ServerMessage::Error(e) if e.kind == ErrorKind::LimitReached => {
                assert!(Instant::now() < deadline, "the slot was never released");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            ServerMessage::Error(e) => {
                assert_eq!(e.kind, ErrorKind::Refused, "{e:?}");
                break;
            }
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn the_total_cap_applies_across_addresses() {
    let proxy = spawn_proxy_with(&[], |c| c.max_tunnels = 1);
    let _first = TunnelClient::connect(proxy.addr()).await;
    let mut second = TunnelClient::connect(proxy.addr()).await;
    assert_eq!(second.expect_error().await.0.kind, ErrorKind::LimitReached);
}

#[tokio::test]
async fn an_idle_tunnel_is_closed() {
    let dovecot = Dovecot::start();
    let proxy = spawn_proxy_with(&dovecot_ports(&dovecot), |c| c.idle_timeout_secs = 1);
    let mut tunnel = pop3_after_greeting(&proxy, dovecot.pop3_addr().port()).await;
    let started = Instant::now();
    let (err, close) = tunnel.expect_error().await;
    assert_eq!(err.kind, ErrorKind::IdleTimeout);
    assert_eq!(close.map(|c| c.0), Some(1000));
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(800) && waited < Duration::from_secs(15),
        "{waited:?}"
    );
}

/// Idle means no payload either way: a browser that sends an empty frame (or a ping) every
/// 200 ms, and nothing else, is cut off after the idle timeout all the same.
#[test]
fn empty_frames_and_pings_do_not_keep_a_tunnel_open() {
    const IDLE: Duration = Duration::from_secs(1);
    let target = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = target.local_addr().unwrap().port();
    let proxy = spawn_proxy_with(&[port], |c| c.idle_timeout_secs = IDLE.as_secs());
    let mut tunnel = RawTunnel::connect(proxy.addr(), &[]);
    tunnel.send_open(port);
    tunnel.expect_connected(Duration::from_secs(20));
    let started = Instant::now();
    let mut keepalive = tunnel.try_clone();
    let chatter = std::thread::spawn(move || {
        // Until the proxy has closed (writes fail) or long past any idle timeout.
        for i in 0..150 {
            if i % 2 == 0 {
                keepalive.send_frame(0x82, 0, &[]);
            } else {
                keepalive.send_frame(0x89, 1, b"p");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    let (err, code) = tunnel.expect_error(Duration::from_secs(15));
    assert_eq!(err.kind, ErrorKind::IdleTimeout, "{err:?}");
    assert_eq!(code, Some(1000));
    assert!(started.elapsed() >= IDLE - Duration::from_millis(200));
    drop(chatter);
}

#[tokio::test]
async fn an_oversized_message_is_refused() {
    let dovecot = Dovecot::start();
    let proxy = spawn_proxy_with(&dovecot_ports(&dovecot), |c| c.max_message_bytes = 1024);
    let mut tunnel = pop3_after_greeting(&proxy, dovecot.pop3_addr().port()).await;
    // A message within the cap passes.
    assert!(!tunnel.command(b"NOOP\r\n").await.is_empty());
    tunnel
        .send_raw(Message::binary(vec![b'A'; 4096]))
        .await
        .unwrap();
    let err = loop {
        match tunnel.recv().await {
            Incoming::Control(ServerMessage::Error(e)) => break e,
            Incoming::Bytes(_) => continue,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(err.kind, ErrorKind::MessageTooLarge);
    assert!(matches!(
        tunnel.recv().await,
        Incoming::Closed(Some((1009, _)))
    ));
    assert_eq!(
        metric(&proxy, "postbag_bytes_to_upstream_total"),
        6,
        "the big message never went upstream"
    );
}

/// A browser that reads slowly makes the proxy read slowly: the bytes the proxy holds stay
/// within its fixed per-tunnel bound while 10 MB pass, and stop growing while the reader stalls.
#[tokio::test]
async fn a_slow_reader_keeps_the_proxy_buffer_bounded() {
    const SIZE: usize = 10 * 1024 * 1024;
    let dovecot = Dovecot::start();
    let user = dovecot.new_user();
    let expected = dovecot.deliver(&user, &messages::large(SIZE));
    let proxy = spawn_test_proxy(&dovecot_ports(&dovecot));
    let mut tunnel = open_plain(&proxy, dovecot.pop3_addr().port()).await;
    tunnel.read_line().await;
    tunnel
        .send_bytes(format!("USER {}\r\nPASS {}\r\n", user.name, user.password).as_bytes())
        .await;
    tunnel.read_line().await;
    let pass = tunnel.read_line().await;
    assert!(
        pass.starts_with(b"+OK"),
        "{}",
        String::from_utf8_lossy(&pass)
    );
    let before_retr = metric(&proxy, "postbag_bytes_to_client_total");
    tunnel.send_bytes(b"RETR 1\r\n").await;

    // Stall: read nothing. The proxy must stop reading from Dovecot once the socket buffers on
    // the way to us are full, not pull the whole message into memory: the relayed count stops
    // moving part-way through the message.
    let relayed_while_stalled = settled_above(
        &proxy,
        "postbag_bytes_to_client_total",
        before_retr,
        Duration::from_secs(30),
    )
    .await;

    // Then read slowly, in small sips.
    let mut got = Vec::with_capacity(SIZE + 1024);
    let mut frames = 0usize;
    while !got.ends_with(b"\r\n.\r\n") {
        match tunnel.recv().await {
            Incoming::Bytes(b) => got.extend(b),
            other => panic!("{other:?}"),
        }
        frames += 1;
        if frames.is_multiple_of(16) {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    let header_end = got.windows(2).position(|w| w == b"\r\n").unwrap() + 2;
    let body = &got[header_end..got.len() - 3];
    // Dot-stuffed on the wire: strip the stuffing to compare.
    let unstuffed: Vec<u8> = body
        .split_inclusive(|b| *b == b'\n')
        .flat_map(|line| {
            if line.starts_with(b"..") {
                &line[1..]
            } else {
                line
            }
        })
        .copied()
        .collect();
    assert!(unstuffed == expected, "the 10 MB message arrived altered");

    // The proxy writes straight to the socket: it holds at most the one frame being written.
    let bound = MAX_HELD as u64;
    let high_water = metric(&proxy, "postbag_buffered_bytes_high_water");
    println!(
        "slow reader: relayed {relayed_while_stalled} bytes of a {SIZE}-byte message while the \
         reader stalled; buffered high water {high_water} bytes (bound {bound})"
    );
    assert!(
        high_water > 0 && high_water <= bound,
        "high water {high_water} > bound {bound}"
    );
    assert!(
        (relayed_while_stalled as usize) < SIZE,
        "the proxy read the whole message ahead"
    );
}

/// How long a metric must stay unchanged to count as settled.
const QUIET: Duration = Duration::from_millis(500);

/// Polls metric `name` until it is above `floor` and has not moved for [`QUIET`]; returns that
/// value. Panics if it never settles within `within`.
async fn settled_above(proxy: &ProxyHandle, name: &str, floor: u64, within: Duration) -> u64 {
    let deadline = Instant::now() + within;
    let mut last = metric(proxy, name);
    let mut since = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let now = metric(proxy, name);
        if now != last {
            (last, since) = (now, Instant::now());
        } else if now > floor && since.elapsed() >= QUIET {
            return now;
        }
        assert!(
            Instant::now() < deadline,
            "{name} never settled (last {last}): the proxy kept reading while nobody read"
        );
    }
}

#[tokio::test]
async fn graceful_shutdown_drains_then_closes() {
    // Long enough for a loaded machine to look at the draining proxy before the grace ends.
    const GRACE: Duration = Duration::from_secs(4);
    let dovecot = Dovecot::start();
    let proxy = spawn_proxy_with(&dovecot_ports(&dovecot), |c| {
        c.shutdown_grace_secs = GRACE.as_secs()
    });
    let addr = proxy.addr();
    let mut tunnel = pop3_after_greeting(&proxy, dovecot.pop3_addr().port()).await;

    let started = Instant::now();
    let stopping = tokio::task::spawn_blocking(move || proxy.stop(true));

    // Draining: no new connection is accepted, once the stop has landed...
    while tokio::net::TcpStream::connect(addr).await.is_ok() {
        assert!(
            started.elapsed() < GRACE / 2,
            "the proxy still accepts during shutdown"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // ...and the open tunnel still works.
    assert!(!tunnel.command(b"NOOP\r\n").await.is_empty());

    // At the end of the grace period the tunnel is closed with shutting_down / 1001.
    let (err, close) = tunnel.expect_error().await;
    assert_eq!(err.kind, ErrorKind::ShuttingDown);
    assert_eq!(close.map(|c| c.0), Some(1001));
    let waited = started.elapsed();
    assert!(
        waited >= GRACE - Duration::from_millis(200),
        "closed before the grace period: {waited:?}"
    );
    tokio::time::timeout(Duration::from_secs(20), stopping)
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn stopping_at_once_closes_tunnels_with_1001() {
    // A grace period far longer than the test's bound, so that waiting for it cannot pass.
    const GRACE_SECS: u64 = 60;
    let dovecot = Dovecot::start();
    let proxy = spawn_proxy_with(&dovecot_ports(&dovecot), |c| {
        c.shutdown_grace_secs = GRACE_SECS
    });
    let addr = proxy.addr();
    let mut tunnel = pop3_after_greeting(&proxy, dovecot.pop3_addr().port()).await;
    let started = Instant::now();
    let stopping = tokio::task::spawn_blocking(move || proxy.stop(false));
    let (err, close) = tunnel.expect_error().await;
    assert_eq!(err.kind, ErrorKind::ShuttingDown);
    assert_eq!(close.map(|c| c.0), Some(1001));
    tokio::time::timeout(Duration::from_secs(20), stopping)
        .await
        .unwrap()
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(GRACE_SECS / 3),
        "waited for the grace period: {:?}",
        started.elapsed()
    );
    // The port is free again, as the e2e fixture's proxy restart needs.
    assert!(std::net::TcpListener::bind(addr).is_ok());
}

/// A browser that stops reading cannot hold a tunnel (and its slot) forever: the send that
/// waits for it gives up after the idle timeout.
#[tokio::test]
async fn a_browser_that_stops_reading_is_cut_off() {
    use std::io::Write as _;
    let source = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = source.local_addr().unwrap().port();
    std::thread::spawn(move || {
        if let Ok((mut s, _)) = source.accept() {
            let chunk = vec![b'x'; 64 * 1024];
            while s.write_all(&chunk).is_ok() {}
        }
    });
    let proxy = spawn_proxy_with(&[port], |c| c.idle_timeout_secs = 1);
    let tunnel = open_plain(&proxy, port).await;
    // Read nothing: the stalled tunnel must close after the idle timeout (and generous slack).
    wait_until_no_tunnel_is_open(&proxy, Duration::from_secs(30)).await;
    assert!(
        proxy
            .metrics_text()
            .contains("postbag_errors_total{kind=\"idle_timeout\"} 1\n")
    );
    drop(tunnel);
}

/// One tunnel "from" `forwarded_for` to 127.0.0.1:`port`: the open tunnel, or the error kind
/// the proxy answered.
async fn tunnel_from(
    proxy: &ProxyHandle,
    port: u16,
    forwarded_for: &str,
) -> Result<TunnelClient, ErrorKind> {
    let headers = [("x-forwarded-for", forwarded_for)];
    let mut tunnel = TunnelClient::connect_with(proxy.addr(), "/tunnel", &headers)
        .await
        .unwrap();
    match tunnel
        .open(open_request(LOCALHOST, port, TlsMode::None))
        .await
    {
        ServerMessage::Connected(_) => Ok(tunnel),
        ServerMessage::Error(e) => Err(e.kind),
        other => panic!("{other:?}"),
    }
}

/// Behind a reverse proxy every tunnel comes from the reverse proxy's address. Trusted, the
/// last `X-Forwarded-For` entry (the one the reverse proxy appended) is what the per-IP cap
/// counts; earlier entries are whatever the client sent and count for nothing.
#[tokio::test]
async fn trusted_forwarded_for_keys_the_per_ip_cap_on_its_last_entry() {
    // Connections wait in the backlog: enough for the proxy to report `connected`.
    let target = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = target.local_addr().unwrap().port();
    let proxy = spawn_proxy_with(&[port], |c| {
        c.max_tunnels_per_ip = 1;
        c.trust_forwarded_for = true;
        // Behind a reverse proxy other machines reach it: it needs the page's public origin,
        // and without a token or a host list it starts only as a consented public relay.
        c.allowed_origins = vec!["https://mail.example.org".into()];
        c.public_relay = true;
    });
    let _first = tunnel_from(&proxy, port, "203.0.113.9, 198.51.100.7")
        .await
        .expect("the first tunnel from 198.51.100.7");
    assert_eq!(
        tunnel_from(&proxy, port, "10.9.9.9, 198.51.100.7")
            .await
            .err(),
        Some(ErrorKind::LimitReached),
        "a second tunnel from 198.51.100.7, whatever the client put before it"
    );
    let _other = tunnel_from(&proxy, port, "198.51.100.7, 198.51.100.8")
        .await
        .expect("198.51.100.8 has its own cap");
}

/// One tunnel through `proxy` whose handshake carries one `X-Forwarded-For` line per entry of
/// `lines`, to 127.0.0.1:`port`: the open tunnel, or the error kind the proxy answered.
fn tunnel_with_lines(
    proxy: &ProxyHandle,
    port: u16,
    lines: &[&str],
) -> Result<RawTunnel, ErrorKind> {
    let headers: Vec<(&str, &str)> = lines.iter().map(|l| ("X-Forwarded-For", *l)).collect();
    let mut tunnel = RawTunnel::connect(proxy.addr(), &headers);
    tunnel.send_open(port);
    match tunnel.next_frame(Duration::from_secs(20)) {
        Some(RawFrame::Text(t)) if t.contains("\"connected\"") => Ok(tunnel),
        Some(RawFrame::Text(t)) => {
            let msg: ServerMessage = serde_json::from_str(&t).unwrap();
            match msg {
                ServerMessage::Error(e) => Err(e.kind),
                other => panic!("{other:?}"),
            }
        }
        other => panic!("{other:?}"),
    }
}

/// A proxy behind a trusted reverse proxy, one tunnel per client address.
fn behind_a_reverse_proxy(port: u16) -> ProxyHandle {
    spawn_proxy_with(&[port], |c| {
        c.max_tunnels_per_ip = 1;
        c.trust_forwarded_for = true;
        c.allowed_origins = vec!["https://mail.example.org".into()];
        c.public_relay = true;
    })
}

/// HAProxy adds its own `X-Forwarded-For` line after the client's instead of extending it: the
/// address it added (the last of the last line) picks the bucket, not a forged first line.
#[test]
fn the_reverse_proxys_own_line_picks_the_bucket() {
    let target = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = target.local_addr().unwrap().port();
    let proxy = behind_a_reverse_proxy(port);
    let _first = tunnel_with_lines(&proxy, port, &["203.0.113.9", "198.51.100.7"])
        .expect("the first tunnel from 198.51.100.7");
    assert_eq!(
        tunnel_with_lines(&proxy, port, &["10.9.9.9", "198.51.100.7"]).err(),
        Some(ErrorKind::LimitReached),
        "a forged first line must not give 198.51.100.7 a second tunnel"
    );
    assert_eq!(
        tunnel_with_lines(
            &proxy,
            port,
            &["10.9.9.9, 10.0.0.1", "1.2.3.4, 198.51.100.7"]
        )
        .err(),
        Some(ErrorKind::LimitReached)
    );
    let _other = tunnel_with_lines(&proxy, port, &["198.51.100.7", "198.51.100.8"])
        .expect("198.51.100.8 has its own cap");
}

/// An IPv6 client picks any address of its /64 at will: the cap counts the /64.
#[test]
fn ipv6_clients_count_by_their_64() {
    let target = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = target.local_addr().unwrap().port();
    let proxy = behind_a_reverse_proxy(port);
    let _first = tunnel_with_lines(&proxy, port, &["2001:db8:1:2::1"]).expect("the first tunnel");
    assert_eq!(
        tunnel_with_lines(&proxy, port, &["2001:db8:1:2:ffff::9"]).err(),
        Some(ErrorKind::LimitReached)
    );
    let _other =
        tunnel_with_lines(&proxy, port, &["2001:db8:1:3::1"]).expect("another /64 has its own cap");
}

/// The end of a download reaches a browser that is behind on reading, although the browser
/// keeps talking (pings here) while the proxy finishes: a proxy that closed its socket with
/// those bytes unread would make the kernel reset the connection and discard the tail it had
/// not yet delivered.
#[tokio::test]
async fn the_end_of_a_download_reaches_a_slow_browser_whole() {
    use std::io::Write as _;
    const TOTAL: usize = 8 * 1024 * 1024;
    let source = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = source.local_addr().unwrap().port();
    std::thread::spawn(move || {
        if let Ok((mut s, _)) = source.accept() {
            let _ = s.write_all(&vec![b'x'; TOTAL]);
        }
    });
    let proxy = spawn_proxy_with(&[port], |_| {});
    let mut tunnel = open_plain(&proxy, port).await;
    let mut got = 0usize;
    let mut lag = 0usize;
    let close = loop {
        tunnel
            .send_raw(Message::Ping(vec![1].into()))
            .await
            .expect("the proxy takes pings until the end");
        match tunnel.recv().await {
            Incoming::Bytes(b) => got += b.len(),
            Incoming::Closed(close) => break close,
            other => panic!("{other:?}"),
        }
        // Behind on reading: 2 ms per MiB, whatever the frame size, so the proxy's buffers
        // are full at its end and the rest still takes well under the linger to read.
        if got / (1024 * 1024) > lag {
            lag = got / (1024 * 1024);
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    };
    assert_eq!(got, TOTAL, "bytes delivered before the end");
    let (code, reason) = close.expect("a close frame, not a reset");
    assert_eq!((code, reason.as_str()), (1000, "upstream closed"));
}
