//! The steps most proxy tests begin with: start the real proxy on a free port, open a tunnel
//! through it, read a metric back. Each panics on the unexpected, so a test reads as a script.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use postbag_protocol::tunnel::{Connected, OpenRequest, TlsMode, TunnelError};
use postbag_proxy::{Config, ProxyHandle};

use crate::Dovecot;
use crate::ws_client::{TunnelClient, open_request};

/// Where every test target listens.
pub const LOCALHOST: &str = "127.0.0.1";

/// The proxy with `config`, listening on a free port of 127.0.0.1.
pub fn spawn_proxy(config: Config) -> ProxyHandle {
    postbag_proxy::spawn(config, TcpListener::bind("127.0.0.1:0").unwrap()).unwrap()
}

/// The test configuration (loopback targets, any origin, no app to serve) that may reach
/// `ports` and no other port.
pub fn test_config(ports: &[u16]) -> Config {
    let mut config = Config::for_tests(None);
    config.allow_ports = ports.to_vec();
    config
}

/// The proxy with the test configuration, allowed to reach `ports`.
pub fn spawn_test_proxy(ports: &[u16]) -> ProxyHandle {
    spawn_proxy(test_config(ports))
}

/// The proxy with the test configuration allowed to reach `ports`, changed by `adjust` first.
pub fn spawn_proxy_with(ports: &[u16], adjust: impl FnOnce(&mut Config)) -> ProxyHandle {
    let mut config = test_config(ports);
    adjust(&mut config);
    spawn_proxy(config)
}

/// Dovecot's two ports: plain POP3 and POP3S.
pub fn dovecot_ports(dovecot: &Dovecot) -> [u16; 2] {
    [dovecot.pop3_addr().port(), dovecot.pop3s_addr().port()]
}

/// A new tunnel through `proxy`, opened with `req`; panics unless the proxy answers `connected`.
pub async fn open_connected(proxy: &ProxyHandle, req: OpenRequest) -> (TunnelClient, Connected) {
    let mut tunnel = TunnelClient::connect(proxy.addr()).await;
    let connected = tunnel.open_connected(req).await;
    (tunnel, connected)
}

/// A new tunnel through `proxy` to 127.0.0.1:`port` in TLS mode `tls`, connected.
pub async fn open_local(proxy: &ProxyHandle, port: u16, tls: TlsMode) -> (TunnelClient, Connected) {
    open_connected(proxy, open_request(LOCALHOST, port, tls)).await
}

/// A new tunnel through `proxy` to 127.0.0.1:`port` without TLS, connected.
pub async fn open_plain(proxy: &ProxyHandle, port: u16) -> TunnelClient {
    open_local(proxy, port, TlsMode::None).await.0
}

/// A plain tunnel to the POP3 server on 127.0.0.1:`port`, its greeting already read.
pub async fn pop3_after_greeting(proxy: &ProxyHandle, port: u16) -> TunnelClient {
    let mut tunnel = open_plain(proxy, port).await;
    tunnel.read_line().await;
    tunnel
}

/// A new tunnel through `proxy` whose `open` is refused: the error and the close frame.
pub async fn open_refused(
    proxy: &ProxyHandle,
    req: OpenRequest,
) -> (TunnelError, Option<(u16, String)>) {
    TunnelClient::connect(proxy.addr())
        .await
        .open_refused(req)
        .await
}

/// The value of a metric line `name value`.
pub fn metric(proxy: &ProxyHandle, name: &str) -> u64 {
    let text = proxy.metrics_text();
    let line = text
        .lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .unwrap_or_else(|| panic!("no metric {name} in {text}"));
    line[name.len() + 1..].parse().unwrap()
}

/// Waits until the open-tunnels gauge is back to zero; panics after `within`.
pub async fn wait_until_no_tunnel_is_open(proxy: &ProxyHandle, within: Duration) {
    let deadline = Instant::now() + within;
    while metric(proxy, "postbag_tunnels_open") != 0 {
        assert!(
            Instant::now() < deadline,
            "a tunnel is still counted as open: {}",
            proxy.metrics_text()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The head (and body, if any) of the proxy's answer to a WebSocket handshake.
#[derive(Debug)]
pub struct HandshakeAnswer {
    pub status: u16,
    /// Names in lower case, in the order sent.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HandshakeAnswer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A WebSocket handshake for `path` written by hand, with `extra` request headers, so that the
/// test sees every response header (a WebSocket library checks and hides them).
pub fn raw_handshake(proxy: SocketAddr, path: &str, extra: &[(&str, &str)]) -> HandshakeAnswer {
    let mut stream = TcpStream::connect(proxy).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut request = format!(
        "GET {path} HTTP/1.1\r\nHost: {proxy}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    );
    for (name, value) in extra {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();

    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let status = line.split(' ').nth(1).unwrap().parse().unwrap();
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        let Some((name, value)) = line.trim_end().split_once(':') else {
            break;
        };
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    let mut answer = HandshakeAnswer {
        status,
        headers,
        body: String::new(),
    };
    // A refusal has a body; an upgrade keeps the connection open, so read only what is declared.
    let length: usize = answer
        .header("content-length")
        .map_or(0, |l| l.parse().unwrap());
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    answer.body = String::from_utf8(body).unwrap();
    answer
}
