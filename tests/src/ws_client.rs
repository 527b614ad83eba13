//! A native client of the proxy's WebSocket tunnel (tokio-tungstenite), and a driver that runs
//! the POP3 state machine from `postbag_protocol::pop3` through it: what the web app does in the
//! browser, minus the browser.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use postbag_protocol::pop3::{Client, ClientConfig, Command, CommandId, Event};
use postbag_protocol::tunnel::{
    ClientMessage, Connected, OpenRequest, PROTOCOL_VERSION, ServerMessage, TlsInfo, TlsMode,
    TunnelError,
};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long a test waits for any single frame before it fails.
pub const FRAME_TIMEOUT: Duration = Duration::from_secs(20);

/// What arrives from the proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    Control(ServerMessage),
    Bytes(Vec<u8>),
    /// A close frame (code, reason), or `None` when the connection ended without one.
    Closed(Option<(u16, String)>),
}

/// A refused handshake: the HTTP status and body the proxy answered with.
#[derive(Debug)]
pub struct Refused {
    pub status: u16,
    pub body: String,
}

pub struct TunnelClient {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// An open request for `addr` with the given TLS mode and no pin.
pub fn open_request(host: &str, port: u16, tls: TlsMode) -> OpenRequest {
    OpenRequest {
        version: PROTOCOL_VERSION,
        host: host.into(),
        port,
        tls,
        pin_sha256: None,
    }
}

impl TunnelClient {
    /// Opens `/tunnel` with no extra headers.
    pub async fn connect(proxy: SocketAddr) -> TunnelClient {
        TunnelClient::connect_with(proxy, "/tunnel", &[])
            .await
            .expect("tunnel handshake")
    }

    /// Opens `path` (with its query) and extra request headers; a refusal returns its status.
    pub async fn connect_with(
        proxy: SocketAddr,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Result<TunnelClient, Refused> {
        let mut req = format!("ws://{proxy}{path}").into_client_request().unwrap();
        for (name, value) in headers {
            let name: tungstenite::http::HeaderName = name.parse().unwrap();
            req.headers_mut()
                .insert(name, HeaderValue::from_str(value).unwrap());
        }
        match tokio_tungstenite::connect_async(req).await {
            Ok((ws, _)) => Ok(TunnelClient { ws }),
            Err(tungstenite::Error::Http(resp)) => Err(Refused {
                status: resp.status().as_u16(),
                body: resp
                    .body()
                    .as_ref()
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .unwrap_or_default(),
            }),
            Err(e) => panic!("tunnel handshake failed: {e}"),
        }
    }

    pub async fn send_control(&mut self, msg: &ClientMessage) {
        let text = serde_json::to_string(msg).unwrap();
        self.ws
            .send(Message::text(text))
            .await
            .expect("send control message");
    }

    pub async fn send_bytes(&mut self, bytes: &[u8]) {
        self.ws
            .send(Message::binary(bytes.to_vec()))
            .await
            .expect("send bytes");
    }

    /// Sends a raw WebSocket message (for malformed or oversized input).
    pub async fn send_raw(&mut self, msg: Message) -> Result<(), tungstenite::Error> {
        self.ws.send(msg).await
    }

    /// Sends `open` and returns the proxy's answer (connected or error).
    pub async fn open(&mut self, req: OpenRequest) -> ServerMessage {
        self.send_control(&ClientMessage::Open(req)).await;
        match self.recv().await {
            Incoming::Control(msg) => msg,
            other => panic!("expected a control message, got {other:?}"),
        }
    }

    /// Sends `open` and expects `connected`; panics with any other answer.
    pub async fn open_connected(&mut self, req: OpenRequest) -> Connected {
        match self.open(req).await {
            ServerMessage::Connected(connected) => connected,
            other => panic!("expected connected, got {other:?}"),
        }
    }

    /// Sends `open` and expects the proxy to refuse it: an error message, then a close.
    pub async fn open_refused(&mut self, req: OpenRequest) -> (TunnelError, Option<(u16, String)>) {
        self.send_control(&ClientMessage::Open(req)).await;
        self.expect_error().await
    }

    /// The next frame, skipping pings; panics after [`FRAME_TIMEOUT`].
    pub async fn recv(&mut self) -> Incoming {
        loop {
            let next = tokio::time::timeout(FRAME_TIMEOUT, self.ws.next())
                .await
                .expect("timed out waiting for a frame from the proxy");
            let msg = match next {
                None => return Incoming::Closed(None),
                Some(Err(tungstenite::Error::ConnectionClosed))
                | Some(Err(tungstenite::Error::AlreadyClosed)) => return Incoming::Closed(None),
                Some(Err(tungstenite::Error::Protocol(_))) => return Incoming::Closed(None),
                Some(Err(tungstenite::Error::Io(_))) => return Incoming::Closed(None),
                Some(Err(e)) => panic!("websocket error: {e}"),
                Some(Ok(m)) => m,
            };
            match msg {
                Message::Text(t) => {
                    let parsed = serde_json::from_str(t.as_str())
                        .unwrap_or_else(|e| panic!("bad control message {t:?}: {e}"));
                    return Incoming::Control(parsed);
                }
                Message::Binary(b) => return Incoming::Bytes(b.to_vec()),
                Message::Close(frame) => {
                    return Incoming::Closed(
                        frame.map(|f| (u16::from(f.code), f.reason.to_string())),
                    );
                }
                Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
            }
        }
    }

    /// Reads bytes until the buffer ends with `terminator`; returns everything read.
    pub async fn read_until(&mut self, terminator: &[u8]) -> Vec<u8> {
        let mut got = Vec::new();
        while !got.ends_with(terminator) {
            match self.recv().await {
                Incoming::Bytes(b) => got.extend(b),
                other => panic!("expected bytes, got {other:?} after {:?}", lossy(&got)),
            }
        }
        got
    }

    /// Reads one reply line (up to and including CRLF).
    pub async fn read_line(&mut self) -> Vec<u8> {
        self.read_until(b"\r\n").await
    }

    /// Sends a raw command line and reads the one-line reply.
    pub async fn command(&mut self, line: &[u8]) -> Vec<u8> {
        self.send_bytes(line).await;
        self.read_line().await
    }

    /// Expects an error message then a close; returns both.
    pub async fn expect_error(&mut self) -> (TunnelError, Option<(u16, String)>) {
        let err = match self.recv().await {
            Incoming::Control(ServerMessage::Error(e)) => e,
            other => panic!("expected an error message, got {other:?}"),
        };
        let close = match self.recv().await {
            Incoming::Closed(c) => c,
            other => panic!("expected a close after the error, got {other:?}"),
        };
        (err, close)
    }

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(&b[b.len().saturating_sub(200)..]).into_owned()
}

/// The POP3 client from `postbag_protocol`, driven over a tunnel.
pub struct Pop3Tunnel {
    pub tunnel: TunnelClient,
    pub client: Client,
    /// The `tls` answer to a STARTTLS upgrade, if one happened.
    pub upgraded: Option<TlsInfo>,
}

impl Pop3Tunnel {
    pub fn new(tunnel: TunnelClient, config: ClientConfig) -> Pop3Tunnel {
        Pop3Tunnel {
            tunnel,
            client: Client::new(config),
            upgraded: None,
        }
    }

    /// The next POP3 event: flushes outgoing bytes, handles the STARTTLS hand-off, and reads
    /// frames as needed.
    pub async fn next_event(&mut self) -> Event {
        loop {
            if let Some(out) = self.client.take_outgoing() {
                self.tunnel.send_bytes(&out).await;
            }
            match self.client.next_event().expect("POP3 protocol error") {
                Some(Event::StartTls) => {
                    self.tunnel.send_control(&ClientMessage::Starttls).await;
                    match self.tunnel.recv().await {
                        Incoming::Control(ServerMessage::Tls(info)) => self.upgraded = Some(info),
                        other => panic!("expected the tls answer, got {other:?}"),
                    }
                    self.client.tls_started().expect("tls_started");
                    continue;
                }
                Some(event) => return event,
                None => {}
            }
            // Processing input may have produced commands (the next login step, say).
            if let Some(out) = self.client.take_outgoing() {
                self.tunnel.send_bytes(&out).await;
                continue;
            }
            match self.tunnel.recv().await {
                Incoming::Bytes(b) => self.client.receive(&b),
                other => panic!("expected POP3 bytes, got {other:?}"),
            }
        }
    }

    /// Runs until the session is ready for commands.
    pub async fn login(&mut self) {
        loop {
            match self.next_event().await {
                Event::Ready { .. } => return,
                Event::CommandFailed { error, .. } => panic!("login failed: {error:?}"),
                _ => {}
            }
        }
    }

    /// Enqueues `commands` and collects events until each has its final reply.
    pub async fn execute(&mut self, commands: &[Command]) -> Vec<Event> {
        let mut pending: Vec<CommandId> = commands
            .iter()
            .map(|c| self.client.enqueue(c.clone()).expect("enqueue"))
            .collect();
        let mut events = Vec::new();
        while !pending.is_empty() {
            let event = self.next_event().await;
            let done = match &event {
                Event::Stat { id, .. }
                | Event::List { id, .. }
                | Event::Uidl { id, .. }
                | Event::MessageEnd { id }
                | Event::Deleted { id, .. }
                | Event::Reset { id }
                | Event::Noop { id }
                | Event::CommandFailed { id, .. } => Some(*id),
                Event::Closed { .. } => pending.last().copied(),
                _ => None,
            };
            if let Some(id) = done {
                pending.retain(|p| *p != id);
            }
            events.push(event);
        }
        events
    }

    /// RETR `msg` and return the message bytes (dot-stuffing undone).
    pub async fn retr(&mut self, msg: u32) -> Vec<u8> {
        let mut body = Vec::new();
        for event in self.execute(&[Command::Retr(msg)]).await {
            match event {
                Event::MessageChunk { bytes, .. } => body.extend(bytes),
                Event::CommandFailed { error, .. } => panic!("RETR failed: {error:?}"),
                _ => {}
            }
        }
        body
    }
}
