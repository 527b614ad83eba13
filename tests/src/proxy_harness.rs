//! The steps most proxy tests begin with: start the real proxy on a free port, open a tunnel
//! through it, read a metric back. Each panics on the unexpected, so a test reads as a script.

use std::net::TcpListener;
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
