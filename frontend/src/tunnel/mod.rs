//! The browser side of the tunnel (docs/tunnel-protocol.md): a WebSocket to the proxy.
//!
//! Control messages are JSON text frames ([`postbag_protocol::tunnel`] types), POP3 bytes are
//! binary frames. Event handlers push into an [`events::SocketEvents`]; the socket's async methods read
//! from it. Dropping a [`TunnelSocket`] closes the WebSocket and detaches the handlers.
//!
//! The socket offers the `postbag.v1` subprotocol and, for a proxy that wants one, the access
//! code ([`access_code`]). When it closes before opening, [`refusal`] asks the URL why.
//!
//! [`Transport`] is what the sync engine needs of any byte pipe, and [`TransportError`] how one
//! fails; both live here because their vocabulary is the tunnel's (`transport.rs`).
//! [`within`] bounds an await (`timeout.rs`): opening a tunnel, and the engine's waits.

mod access_code;
mod events;
mod refusal;
mod timeout;
mod transport;

use gloo_events::EventListener;
use js_sys::{ArrayBuffer, Uint8Array};
use postbag_protocol::tunnel::{
    ClientMessage, Connected, OpenRequest, PROTOCOL_VERSION, ServerMessage, TUNNEL_PATH, TlsInfo,
    TlsMode,
};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};

pub use access_code::{AccessCode, AccessCodeError};
use events::{Incoming, SocketEvents};
pub use timeout::within;
pub use transport::{Refusal, Transport, TransportError};

/// Where to open a tunnel to.
#[derive(Clone, Debug)]
pub struct Target {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub pin_sha256: Option<String>,
}

/// An open tunnel to one POP3 server.
pub struct TunnelSocket {
    ws: WebSocket,
    events: SocketEvents,
    _listeners: [EventListener; 3],
}

/// The tunnel URL on the page's own origin (`ws:` or `wss:` to match the page); in the
/// service worker, on its script's origin, which is the same.
pub fn default_url() -> String {
    let (protocol, host) = crate::global::location().unwrap_or_default();
    let scheme = if protocol == "https:" { "wss" } else { "ws" };
    format!("{scheme}://{host}{TUNNEL_PATH}")
}

impl TunnelSocket {
    /// Opens the WebSocket (presenting `code` if there is one), asks the proxy to connect to
    /// `target`, and returns once the proxy answered `connected` (with TLS details for implicit
    /// TLS) or a typed error.
    pub async fn open(
        url: &str,
        target: &Target,
        code: Option<&AccessCode>,
    ) -> Result<(TunnelSocket, Connected), TransportError> {
        within(OPEN_TIMEOUT_MS, Self::open_unbounded(url, target, code))
            .await
            .unwrap_or(Err(TransportError::OpenTimedOut {
                secs: OPEN_TIMEOUT_MS / 1000,
            }))
    }

    async fn open_unbounded(
        url: &str,
        target: &Target,
        code: Option<&AccessCode>,
    ) -> Result<(TunnelSocket, Connected), TransportError> {
        let offered: js_sys::Array = access_code::subprotocols(code)
            .into_iter()
            .map(JsValue::from)
            .collect();
        let ws = WebSocket::new_with_str_sequence(url, &offered)
            .map_err(|_| TransportError::ProxyUnreachable)?;
        ws.set_binary_type(BinaryType::Arraybuffer);
        let events = SocketEvents::default();
        // The listeners live as long as the socket: dropping them removes them (gloo-events).
        let listeners = [
            EventListener::new(&ws, "open", {
                let events = events.clone();
                move |_| events.push(Incoming::Opened)
            }),
            EventListener::new(&ws, "message", {
                let events = events.clone();
                move |ev| {
                    let data = ev.unchecked_ref::<MessageEvent>().data();
                    if let Some(buf) = data.dyn_ref::<ArrayBuffer>() {
                        events.push(Incoming::Bytes(Uint8Array::new(buf).to_vec()));
                    } else if let Some(text) = data.as_string() {
                        events.push(match serde_json::from_str::<ServerMessage>(&text) {
                            Ok(m) => Incoming::Control(m),
                            Err(e) => Incoming::Garbage(e.to_string()),
                        });
                    }
                }
            }),
            EventListener::new(&ws, "close", {
                let events = events.clone();
                move |ev| {
                    let ev = ev.unchecked_ref::<CloseEvent>();
                    events.push(Incoming::Closed {
                        code: ev.code(),
                        reason: ev.reason(),
                    });
                }
            }),
        ];
        let mut sock = TunnelSocket {
            ws,
            events,
            _listeners: listeners,
        };
        match sock.events.next().await {
            Incoming::Opened => {}
            // A WebSocket that closes before opening: the proxy is not there, or refused the
            // handshake; the browser does not say which, a plain request to the URL does.
            Incoming::Closed { .. } => {
                let answer = refusal::ask(url).await;
                return Err(refusal::classify(answer.as_ref(), code.is_some()));
            }
            other => return Err(TransportError::Protocol(format!("unexpected {other:?}"))),
        }
        let open = ClientMessage::Open(OpenRequest {
            version: PROTOCOL_VERSION,
            host: target.host.clone(),
            port: target.port,
            tls: target.tls,
            pin_sha256: target.pin_sha256.clone(),
        });
        sock.send_control(&open)?;
        match sock.next_control().await? {
            ServerMessage::Connected(c) => Ok((sock, c)),
            other => Err(TransportError::Protocol(format!(
                "expected connected, got {other:?}"
            ))),
        }
    }

    fn send_control(&self, msg: &ClientMessage) -> Result<(), TransportError> {
        let text =
            serde_json::to_string(msg).map_err(|e| TransportError::Protocol(e.to_string()))?;
        self.ws
            .send_with_str(&text)
            .map_err(|_| self.closed_error())
    }

    fn closed_error(&self) -> TransportError {
        TransportError::Closed {
            code: 1006,
            reason: "send failed".into(),
        }
    }

    /// The next control message; a typed proxy error becomes `Err(Tunnel)`.
    async fn next_control(&mut self) -> Result<ServerMessage, TransportError> {
        match self.events.next().await {
            Incoming::Control(ServerMessage::Error(e)) => Err(self.error_then_close(e).await),
            Incoming::Control(m) => Ok(m),
            Incoming::Closed { code, reason } => Err(TransportError::Closed { code, reason }),
            other => Err(TransportError::Protocol(format!("unexpected {other:?}"))),
        }
    }

    async fn error_then_close(
        &mut self,
        e: postbag_protocol::tunnel::TunnelError,
    ) -> TransportError {
        self.close();
        TransportError::Tunnel(e)
    }
}

/// How long opening a tunnel may take in all: the WebSocket handshake, the proxy's own connect
/// to the mail server (TCP, then TLS, 10 s each by default) and its answer. Without a bound a
/// network that drops packets holds "Connecting…" for as long as the browser retries TCP.
pub const OPEN_TIMEOUT_MS: u32 = 60_000;

/// The largest WebSocket message the app sends: well under the proxy's default limit (1 MiB),
/// so a proxy configured lower than the default still takes it.
pub const SEND_CHUNK: usize = 64 << 10;
/// Bytes the browser may hold unsent before the next piece waits.
const SEND_BUFFER_MAX: u32 = 1 << 20;

impl Transport for TunnelSocket {
    async fn send(&mut self, bytes: &[u8]) -> Result<(), TransportError> {
        // The proxy refuses a WebSocket message above its `max_message_bytes` (1 MiB by
        // default), and a whole message handed to the socket at once would sit in the
        // browser's send buffer: a message submitted over SMTP goes in pieces, each after the
        // buffer drained below a bound.
        for piece in bytes.chunks(SEND_CHUNK) {
            while self.ws.buffered_amount() > SEND_BUFFER_MAX {
                if self.ws.ready_state() != WebSocket::OPEN {
                    return Err(self.closed_error());
                }
                gloo_timers::future::TimeoutFuture::new(5).await;
            }
            if self.ws.ready_state() != WebSocket::OPEN {
                return Err(self.closed_error());
            }
            self.ws
                .send_with_u8_array(piece)
                .map_err(|_| self.closed_error())?;
        }
        Ok(())
    }

    async fn recv(&mut self) -> Result<Option<Vec<u8>>, TransportError> {
        match self.events.next().await {
            Incoming::Bytes(b) => Ok(Some(b)),
            Incoming::Control(ServerMessage::Error(e)) => Err(self.error_then_close(e).await),
            // Upstream closed normally (server hung up after QUIT, say): end of stream.
            Incoming::Closed { code: 1000, .. } => Ok(None),
            Incoming::Closed { code, reason } => Err(TransportError::Closed { code, reason }),
            Incoming::Garbage(e) => Err(TransportError::Protocol(e)),
            other => Err(TransportError::Protocol(format!("unexpected {other:?}"))),
        }
    }

    async fn start_tls(&mut self) -> Result<Option<TlsInfo>, TransportError> {
        self.send_control(&ClientMessage::Starttls)?;
        match self.next_control().await? {
            ServerMessage::Tls(info) => Ok(Some(info)),
            other => Err(TransportError::Protocol(format!(
                "expected tls, got {other:?}"
            ))),
        }
    }

    fn close(&mut self) {
        let _ = self.ws.close();
    }
}

impl Drop for TunnelSocket {
    /// Closes the WebSocket; the listeners are removed as they drop.
    fn drop(&mut self) {
        let _ = self.ws.close();
    }
}
