//! The steps most proxy tests begin with: start the real proxy on a free port, open a tunnel
//! through it, read a metric back. Each panics on the unexpected, so a test reads as a script.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use postbag_protocol::tunnel::{Connected, OpenRequest, TlsMode, TunnelError};
use postbag_proxy::{Config, Shutdown};

use crate::Dovecot;
use crate::ws_client::{TunnelClient, open_request};

/// Where every test target listens.
pub const LOCALHOST: &str = "127.0.0.1";

/// The real proxy on a thread and actix system of its own, started by `postbag_proxy::run` as
/// `main` starts it. Dropping it stops the proxy at once.
pub struct ProxyHandle {
    addr: SocketAddr,
    /// For `/metrics`, which wants the access token when one is set.
    token: Option<String>,
    stop: Option<tokio::sync::oneshot::Sender<Shutdown>>,
    thread: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

/// How long a proxy may take to answer its first `/healthz` on a loaded machine.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// Starts the proxy with `config` on `listener`; returns once it answers `/healthz`, or with
/// the error `run` ended with (a configuration refused on the listener's address, say).
pub fn start_proxy(config: Config, listener: TcpListener) -> std::io::Result<ProxyHandle> {
    let mut addr = listener.local_addr()?;
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let token = config.token.as_ref().map(|t| t.expose_secret().clone());
    let (stop, stopped) = tokio::sync::oneshot::channel();
    let thread = std::thread::Builder::new()
        .name("postbag-proxy".into())
        .spawn(move || {
            // A dropped handle (a panicking test) stops the proxy at once.
            let shutdown = async { stopped.await.unwrap_or(Shutdown::Now) };
            actix_rt::System::new().block_on(postbag_proxy::run(config, listener, shutdown))
        })?;
    let mut proxy = ProxyHandle {
        addr,
        token,
        stop: Some(stop),
        thread: Some(thread),
    };
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if proxy.thread.as_ref().is_some_and(|t| t.is_finished()) {
            let ended = proxy.thread.take().unwrap().join();
            return Err(match ended {
                Ok(Err(e)) => e,
                Ok(Ok(())) => std::io::Error::other("the proxy stopped before it started"),
                Err(_) => std::io::Error::other("the proxy thread panicked"),
            });
        }
        if proxy
            .get("/healthz")
            .is_some_and(|r| r.starts_with("HTTP/1.1 200"))
        {
            return Ok(proxy);
        }
        if Instant::now() > deadline {
            return Err(std::io::Error::other("the proxy did not answer /healthz"));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

impl ProxyHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops the proxy and waits for its thread. Graceful: stop accepting, let open tunnels run
    /// for the configured grace period, then close them with `shutting_down` (1001). Not
    /// graceful: close open tunnels at once.
    pub fn stop(mut self, graceful: bool) {
        self.stop_inner(if graceful {
            Shutdown::Graceful
        } else {
            Shutdown::Now
        });
    }

    fn stop_inner(&mut self, how: Shutdown) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(how);
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }

    /// The `/metrics` text, as Prometheus reads it (with the token when one is set).
    pub fn metrics_text(&self) -> String {
        let answer = self
            .get("/metrics")
            .unwrap_or_else(|| panic!("no answer to GET /metrics from {}", self.addr));
        let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        body.to_string()
    }

    /// One `GET path` over its own connection, read to its end; `None` when the proxy does not
    /// answer (not yet listening, or gone).
    fn get(&self, path: &str) -> Option<String> {
        let timeout = Duration::from_secs(20);
        let mut stream = TcpStream::connect_timeout(&self.addr, timeout).ok()?;
        stream.set_read_timeout(Some(timeout)).ok()?;
        let bearer = match &self.token {
            Some(token) => format!("Authorization: Bearer {token}\r\n"),
            None => String::new(),
        };
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\n{bearer}Connection: close\r\n\r\n",
            self.addr
        );
        stream.write_all(request.as_bytes()).ok()?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).ok()?;
        Some(String::from_utf8_lossy(&answer).into_owned())
    }
}

impl Drop for ProxyHandle {
    fn drop(&mut self) {
        self.stop_inner(Shutdown::Now);
    }
}

/// For loopback tests: 127.0.0.0/8 and ::1 allowed, one worker, short grace, the app from
/// `dist` (none: the proxy serves its "not built" notice). No port: a test lists the ports of
/// the servers it reaches in `allow_ports`. The proxy's own origins (and clients that send
/// none, as the native tests' do): any origin (`*`) would count as exposed and need a relay
/// restriction.
pub fn base_config(dist: Option<PathBuf>) -> Config {
    Config {
        dist: dist.unwrap_or_else(|| PathBuf::from("/nonexistent/postbag-dist")),
        allow_ports: Vec::new(),
        allow_private_cidrs: vec!["127.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()],
        workers: 1,
        shutdown_grace_secs: 2,
        ..Config::default()
    }
}

/// The proxy with `config`, listening on a free port of 127.0.0.1.
pub fn spawn_proxy(config: Config) -> ProxyHandle {
    start_proxy(config, TcpListener::bind("127.0.0.1:0").unwrap()).unwrap()
}

/// The test configuration (loopback targets, any origin, no app to serve) that may reach
/// `ports` and no other port.
pub fn test_config(ports: &[u16]) -> Config {
    let mut config = base_config(None);
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

/// A tunnel spoken frame by frame over a plain socket, for what a WebSocket library will not
/// send: oversized or lying headers, unmasked frames, reserved bits, repeated request headers.
pub struct RawTunnel {
    stream: TcpStream,
}

/// What one frame from the proxy was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawFrame {
    Text(String),
    Binary(Vec<u8>),
    /// A close frame's code (if any).
    Close(Option<u16>),
    Pong(Vec<u8>),
    Other(u8),
}

/// The mask key of every frame a [`RawTunnel`] sends.
const RAW_MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

impl RawTunnel {
    /// Completes a WebSocket handshake with `headers` (names may repeat, each becomes its own
    /// line); panics unless the proxy answers 101.
    pub fn connect(proxy: SocketAddr, headers: &[(&str, &str)]) -> RawTunnel {
        let mut stream = TcpStream::connect(proxy).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let mut request = format!(
            "GET /tunnel HTTP/1.1\r\nHost: {proxy}\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        );
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        stream.write_all(request.as_bytes()).unwrap();
        // The head byte by byte: the frames behind it stay in the socket.
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            let mut byte = [0u8];
            stream.read_exact(&mut byte).expect("the handshake answer");
            head.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&head);
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        RawTunnel { stream }
    }

    /// Sends a masked frame whose first byte is `first` (FIN, RSV, opcode), whose header
    /// announces `announced` payload bytes, followed by `payload` (which may be shorter).
    pub fn send_frame(&mut self, first: u8, announced: u64, payload: &[u8]) {
        let mut frame = raw_header(first, 0x80, announced);
        frame.extend(RAW_MASK);
        frame.extend(
            payload
                .iter()
                .zip(RAW_MASK.iter().cycle())
                .map(|(b, m)| b ^ m),
        );
        self.send_bytes(&frame);
    }

    /// A second handle on the same connection, to send from another thread.
    pub fn try_clone(&self) -> RawTunnel {
        RawTunnel {
            stream: self.stream.try_clone().unwrap(),
        }
    }

    /// Sends a frame without a mask, as only a server may.
    pub fn send_unmasked(&mut self, first: u8, payload: &[u8]) {
        let mut frame = raw_header(first, 0, payload.len() as u64);
        frame.extend(payload);
        self.send_bytes(&frame);
    }

    /// Writes `bytes` as they are. The proxy may have closed already: a failed write is left
    /// for the reads that follow to notice.
    pub fn send_bytes(&mut self, bytes: &[u8]) {
        let _ = self.stream.write_all(bytes);
    }

    /// Sends `open` for 127.0.0.1:`port` without TLS, as one text frame.
    pub fn send_open(&mut self, port: u16) {
        let req = open_request(LOCALHOST, port, TlsMode::None);
        let text =
            serde_json::to_string(&postbag_protocol::tunnel::ClientMessage::Open(req)).unwrap();
        self.send_frame(0x81, text.len() as u64, text.as_bytes());
    }

    /// The next frame from the proxy, or `None` when the connection ended (or was reset);
    /// panics if none comes within `within`.
    pub fn next_frame(&mut self, within: Duration) -> Option<RawFrame> {
        self.stream.set_read_timeout(Some(within)).unwrap();
        let mut head = [0u8; 2];
        match self.stream.read_exact(&mut head) {
            Ok(()) => {}
            Err(e) if is_timeout(&e) => panic!("no frame from the proxy within {within:?}"),
            Err(_) => return None,
        }
        let len = match head[1] & 0x7f {
            126 => {
                let mut b = [0u8; 2];
                self.stream.read_exact(&mut b).ok()?;
                u64::from(u16::from_be_bytes(b))
            }
            127 => {
                let mut b = [0u8; 8];
                self.stream.read_exact(&mut b).ok()?;
                u64::from_be_bytes(b)
            }
            n => u64::from(n),
        };
        let mut payload = vec![0u8; len as usize];
        self.stream.read_exact(&mut payload).ok()?;
        Some(match head[0] & 0x0f {
            0x1 => RawFrame::Text(String::from_utf8(payload).unwrap()),
            0x2 => RawFrame::Binary(payload),
            0x8 => RawFrame::Close(
                (payload.len() >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]])),
            ),
            0xA => RawFrame::Pong(payload),
            op => RawFrame::Other(op),
        })
    }

    /// Expects the proxy's `connected` within `within`.
    pub fn expect_connected(&mut self, within: Duration) {
        match self.next_frame(within) {
            Some(RawFrame::Text(t)) if t.contains("\"connected\"") => {}
            other => panic!("expected connected, got {other:?}"),
        }
    }

    /// Expects an error message (binary frames before it are skipped) and then a close, both
    /// within `within`; returns the error and the close code.
    pub fn expect_error(&mut self, within: Duration) -> (TunnelError, Option<u16>) {
        let deadline = Instant::now() + within;
        let left = || {
            deadline
                .saturating_duration_since(Instant::now())
                .max(Duration::from_millis(1))
        };
        let err = loop {
            match self.next_frame(left()) {
                Some(RawFrame::Text(t)) => {
                    match serde_json::from_str::<postbag_protocol::tunnel::ServerMessage>(&t) {
                        Ok(postbag_protocol::tunnel::ServerMessage::Error(e)) => break e,
                        other => panic!("expected an error, got {other:?}"),
                    }
                }
                // Relayed bytes, pongs.
                Some(RawFrame::Binary(_) | RawFrame::Pong(_) | RawFrame::Other(_)) => continue,
                other => panic!("expected an error message, got {other:?}"),
            }
        };
        match self.next_frame(left()) {
            Some(RawFrame::Close(code)) => (err, code),
            other => panic!("expected a close after {err:?}, got {other:?}"),
        }
    }

    /// Expects the proxy to end the connection (FIN or reset) within `within`, reading and
    /// dropping whatever comes first.
    pub fn expect_end(&mut self, within: Duration) {
        let deadline = Instant::now() + within;
        let mut sink = [0u8; 4096];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "the proxy did not end the connection within {within:?}"
            );
            self.stream.set_read_timeout(Some(left)).unwrap();
            match self.stream.read(&mut sink) {
                Ok(0) => return,
                Ok(_) => continue,
                Err(e) if is_timeout(&e) => continue,
                Err(_) => return,
            }
        }
    }
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

/// A frame header's first bytes (no mask key): `first`, the mask bit, `len` in the shortest form.
fn raw_header(first: u8, mask_bit: u8, len: u64) -> Vec<u8> {
    let mut out = vec![first];
    match len {
        0..=125 => out.push(mask_bit | len as u8),
        126..=0xffff => {
            out.push(mask_bit | 126);
            out.extend((len as u16).to_be_bytes());
        }
        _ => {
            out.push(mask_bit | 127);
            out.extend(len.to_be_bytes());
        }
    }
    out
}
