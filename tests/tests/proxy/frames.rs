//! The browser's frames, attacked on the wire: the proxy reads its socket itself, so it owns
//! every guarantee a WebSocket library (actix-ws) would give. Lengths are judged on the header,
//! before the payload is read (a frame announcing 2^40 bytes once made it buffer whatever
//! followed); control frames are short and whole, and a ping is answered even between the
//! fragments of a message; frames are masked and use no reserved bits or opcodes; text is a
//! control message in UTF-8, never fragmented; a close is echoed, then the connection ends, and
//! the proxy's own close is followed by the end of the connection.
//!
//! Each attack sends a header and a little data, never the announced length: the refusal must
//! come promptly, from the header alone.

use std::io::Read as _;
use std::net::TcpListener;
use std::time::Duration;

use postbag_protocol::tunnel::ErrorKind;
use postbag_tests::proxy_harness::{ProxyHandle, RawFrame, RawTunnel, metric, spawn_proxy_with};

/// The message size cap of these tests.
const MAX: usize = 4096;
/// How soon a refusal must come: far less than the connect (10 s) and idle (300 s) timeouts a
/// proxy waiting for the announced payload would run into.
const PROMPT: Duration = Duration::from_secs(5);
/// FIN + opcode: the first byte of whole text, binary, close and ping frames.
const TEXT: u8 = 0x81;
const BINARY: u8 = 0x82;
const CLOSE: u8 = 0x88;
const PING: u8 = 0x89;
const PONG: u8 = 0x8A;

/// A proxy capped at [`MAX`]-byte messages and a target it may reach (connections wait in the
/// listener's backlog, enough for `connected`).
fn proxy() -> (ProxyHandle, TcpListener) {
    let target = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = target.local_addr().unwrap().port();
    let proxy = spawn_proxy_with(&[port], |c| c.max_message_bytes = MAX);
    (proxy, target)
}

/// A tunnel through `proxy`, connected to `target`.
fn connected(proxy: &ProxyHandle, target: &TcpListener) -> RawTunnel {
    let mut tunnel = RawTunnel::connect(proxy.addr(), &[]);
    tunnel.send_open(target.local_addr().unwrap().port());
    tunnel.expect_connected(PROMPT);
    tunnel
}

/// Expects the documented "message too large" (1009) naming the real limit, promptly.
fn expect_too_large(tunnel: &mut RawTunnel) {
    let (err, code) = tunnel.expect_error(PROMPT);
    assert_eq!(err.kind, ErrorKind::MessageTooLarge, "{err:?}");
    assert!(
        err.message.contains(&format!("limited to {MAX} bytes")),
        "{err:?}"
    );
    assert_eq!(code, Some(1009));
}

/// Expects a protocol refusal (bad_request, 1002) whose message mentions `what`, promptly.
fn expect_refused(tunnel: &mut RawTunnel, what: &str) {
    let (err, code) = tunnel.expect_error(PROMPT);
    assert_eq!(err.kind, ErrorKind::BadRequest, "{err:?}");
    assert!(err.message.contains(what), "{what:?} missing from {err:?}");
    assert_eq!(code, Some(1002));
}

#[test]
fn a_header_announcing_a_terabyte_is_refused_before_its_payload() {
    let (proxy, target) = proxy();
    for announced in [1u64 << 40, MAX as u64 + 1, u64::MAX >> 1] {
        let mut tunnel = connected(&proxy, &target);
        tunnel.send_frame(BINARY, announced, &[b'x'; 8 * 1024]);
        expect_too_large(&mut tunnel);
    }
    assert_eq!(metric(&proxy, "postbag_bytes_to_upstream_total"), 0);
}

#[test]
fn an_oversized_open_is_refused_on_its_header() {
    let (proxy, _target) = proxy();
    let mut tunnel = RawTunnel::connect(proxy.addr(), &[]);
    tunnel.send_frame(TEXT, 1 << 40, &[b'{'; 8 * 1024]);
    expect_too_large(&mut tunnel);
}

/// Sent whole, the oversized first message was answered "limited to 0 bytes".
#[test]
fn an_oversized_open_sent_whole_names_the_real_limit() {
    let (proxy, _target) = proxy();
    let mut tunnel = RawTunnel::connect(proxy.addr(), &[]);
    let big = vec![b' '; MAX + 1];
    tunnel.send_frame(TEXT, big.len() as u64, &big);
    expect_too_large(&mut tunnel);
}

#[test]
fn the_fragments_of_a_message_count_together_on_each_header() {
    let (proxy, target) = proxy();
    // Each fragment under the cap, the message over it: refused on the last header.
    let mut tunnel = connected(&proxy, &target);
    tunnel.send_frame(0x02, 3000, &[b'a'; 3000]);
    tunnel.send_frame(0x80, 3000, &[b'b'; 100]);
    expect_too_large(&mut tunnel);
    // A continuation announcing a terabyte.
    let mut tunnel = connected(&proxy, &target);
    tunnel.send_frame(0x02, 10, &[b'a'; 10]);
    tunnel.send_frame(0x00, 1 << 40, &[b'b'; 8 * 1024]);
    expect_too_large(&mut tunnel);
}

#[test]
fn control_frames_over_125_bytes_are_refused_on_the_header() {
    let (proxy, target) = proxy();
    for (first, announced) in [(PING, 126), (PING, 1 << 40), (CLOSE, 200), (0x8A, 126)] {
        let mut tunnel = connected(&proxy, &target);
        tunnel.send_frame(first, announced, &[b'p'; 10]);
        expect_refused(&mut tunnel, "125 bytes");
    }
    // Before `open` too.
    let mut tunnel = RawTunnel::connect(proxy.addr(), &[]);
    tunnel.send_frame(PING, 1 << 40, &[b'p'; 10]);
    expect_refused(&mut tunnel, "125 bytes");
}

#[test]
fn fragmented_control_frames_are_refused() {
    let (proxy, target) = proxy();
    for op in [0x08, 0x09, 0x0A] {
        let mut tunnel = connected(&proxy, &target);
        tunnel.send_frame(op, 4, b"ping");
        expect_refused(&mut tunnel, "fragmented");
    }
}

#[test]
fn unmasked_frames_reserved_bits_and_opcodes_are_refused() {
    let (proxy, target) = proxy();
    let mut tunnel = connected(&proxy, &target);
    tunnel.send_unmasked(BINARY, b"USER a\r\n");
    expect_refused(&mut tunnel, "masked");
    for rsv in [0x40, 0x20, 0x10] {
        let mut tunnel = connected(&proxy, &target);
        tunnel.send_frame(BINARY | rsv, 8, b"USER a\r\n");
        expect_refused(&mut tunnel, "reserved bits");
    }
    for op in [0x3, 0xB] {
        let mut tunnel = connected(&proxy, &target);
        tunnel.send_frame(0x80 | op, 1, b"x");
        expect_refused(&mut tunnel, "reserved opcode");
    }
    assert_eq!(metric(&proxy, "postbag_bytes_to_upstream_total"), 0);
}

/// The close handshake: the browser's close is echoed with its code, then the proxy ends the
/// connection, and the mail server's too.
#[test]
fn a_close_is_echoed_then_both_connections_end() {
    let (proxy, target) = proxy();
    let mut tunnel = connected(&proxy, &target);
    let (mut upstream, _) = target.accept().unwrap();
    let mut close = 4000u16.to_be_bytes().to_vec();
    close.extend(b"bye");
    tunnel.send_frame(CLOSE, close.len() as u64, &close);
    assert_eq!(tunnel.next_frame(PROMPT), Some(RawFrame::Close(Some(4000))));
    tunnel.expect_end(PROMPT);
    upstream.set_read_timeout(Some(PROMPT)).unwrap();
    let mut rest = Vec::new();
    upstream
        .read_to_end(&mut rest)
        .expect("the mail server's connection ends too");
    assert!(rest.is_empty());
}

/// RFC 6455 5.4-5.5: a control frame may come between the fragments of a message; a ping is
/// answered with a pong carrying its payload, an unsolicited pong is ignored, and the message
/// around them reaches the mail server whole and in order.
#[test]
fn pings_are_answered_between_fragments_and_pongs_ignored() {
    let (proxy, target) = proxy();
    let mut tunnel = connected(&proxy, &target);
    let (mut upstream, _) = target.accept().unwrap();
    tunnel.send_frame(0x02, 5, b"USER ");
    tunnel.send_frame(PING, 5, b"hello");
    tunnel.send_frame(PONG, 3, b"odd");
    tunnel.send_frame(0x80, 3, b"a\r\n");
    assert_eq!(
        tunnel.next_frame(PROMPT),
        Some(RawFrame::Pong(b"hello".to_vec()))
    );
    upstream.set_read_timeout(Some(PROMPT)).unwrap();
    let mut got = [0u8; 8];
    upstream.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"USER a\r\n");
    assert_eq!(metric(&proxy, "postbag_bytes_to_upstream_total"), 8);
}

/// Text frames carry the tunnel's JSON control messages: bytes that are not UTF-8 (which
/// actix-ws would have refused as text) and fragmented text are refused, and nothing of them
/// reaches the mail server.
#[test]
fn text_is_whole_utf8_json_or_refused() {
    let (proxy, target) = proxy();
    // Well-formed JSON but for one byte, so that only the UTF-8 check can refuse it.
    let not_utf8 = b"{\"type\":\"starttls\",\"x\":\"\xff\"}";
    let mut tunnel = connected(&proxy, &target);
    tunnel.send_frame(TEXT, not_utf8.len() as u64, not_utf8);
    expect_refused(&mut tunnel, "invalid unicode");
    let mut tunnel = connected(&proxy, &target);
    let starttls = br#"{"type":"starttls"}"#;
    tunnel.send_frame(0x01, starttls.len() as u64, starttls);
    expect_refused(&mut tunnel, "fragmented text");
    // Before `open` too.
    let mut tunnel = RawTunnel::connect(proxy.addr(), &[]);
    tunnel.send_frame(TEXT, 4, b"{\xff\xfe}");
    expect_refused(&mut tunnel, "invalid open message");
    assert_eq!(metric(&proxy, "postbag_bytes_to_upstream_total"), 0);
}

/// A close frame whose payload is one byte (no room for a status code) or a code no endpoint
/// may send (1005) is a protocol error, answered as one, not echoed.
#[test]
fn a_malformed_close_is_refused() {
    let (proxy, target) = proxy();
    for payload in [&[0x03][..], &1005u16.to_be_bytes()] {
        let mut tunnel = connected(&proxy, &target);
        tunnel.send_frame(CLOSE, payload.len() as u64, payload);
        expect_refused(&mut tunnel, "protocol error");
    }
}

/// The close handshake started by the proxy: when the mail server closes, the browser gets a
/// close (1000 `upstream closed`) and then the end of the TCP connection.
#[test]
fn the_proxys_own_close_is_followed_by_the_end_of_the_connection() {
    let (proxy, target) = proxy();
    let mut tunnel = connected(&proxy, &target);
    let (upstream, _) = target.accept().unwrap();
    drop(upstream);
    assert_eq!(tunnel.next_frame(PROMPT), Some(RawFrame::Close(Some(1000))));
    tunnel.expect_end(PROMPT);
}
