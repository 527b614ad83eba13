//! One tunnel per WebSocket, run by its connection's task after the upgrade (upgrade.rs): wait
//! for `open`, connect, then one `select!` loop relays bytes both ways until either side closes,
//! the tunnel idles out, or the proxy shuts down.
//!
//! Backpressure: the loop awaits each send to the browser before it reads the mail server
//! again, and awaits each write to the mail server before it decodes the next browser frame.
//! Nothing in here grows with the size of a message.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_http::ws::{CloseCode, CloseReason, Frame, Item, Message};
use postbag_protocol::tunnel::{
    CLOSE_UPSTREAM_CLOSED, ClientMessage, ErrorKind, ServerMessage, TlsMode, TunnelError,
};
use tokio::io::AsyncWriteExt;
use tokio::sync::watch;

use crate::control;
use crate::frame::FrameError;
use crate::limits::Slot;
use crate::log_safe::Untrusted;
use crate::pump::Pump;
use crate::server::{Phase, State};
use crate::upstream;
use crate::ws::{Closed, Inbox, InboxError, Outbox};

/// Everything one tunnel needs.
pub struct Tunnel {
    pub state: Arc<State>,
    pub inbox: Inbox,
    pub outbox: Outbox,
    pub shutdown: watch::Receiver<Phase>,
    pub client: std::net::IpAddr,
    /// Held for the tunnel's lifetime; `None` when the tunnel is refused at once.
    pub slot: Option<Slot>,
}

/// Why the relay loop ended.
enum End {
    /// A typed failure, reported to the app before closing.
    Error(TunnelError),
    /// The mail server closed its side.
    UpstreamClosed,
    /// The browser closed (or vanished); echo its close if it sent one.
    ClientClosed(Option<CloseReason>),
}

impl Tunnel {
    /// Refuses at once with a typed error (limits, shutdown).
    pub async fn refuse(mut self, err: TunnelError) {
        self.state.metrics.error(err.kind);
        let _ = within(FAREWELL_TIMEOUT, send_error(&mut self.outbox, err)).await;
        self.hang_up().await;
    }

    pub async fn run(mut self) {
        let metrics = self.state.metrics.clone();
        let open = OpenGauge::new(metrics.clone());
        let started = Instant::now();
        let mut moved = Moved::default();
        let end = self.relay(&mut moved).await;
        match end {
            End::Error(err) => {
                tracing::info!(client = %self.client, kind = err.kind.as_str(), "tunnel error");
                metrics.error(err.kind);
                let _ = within(FAREWELL_TIMEOUT, send_error(&mut self.outbox, err)).await;
            }
            End::UpstreamClosed => {
                let (code, reason) = CLOSE_UPSTREAM_CLOSED;
                let _ = within(FAREWELL_TIMEOUT, self.outbox.send(close(code, reason))).await;
            }
            End::ClientClosed(reason) => {
                let _ = within(FAREWELL_TIMEOUT, self.outbox.send(Message::Close(reason))).await;
            }
        }
        // Sizes and times only: never what was said.
        tracing::info!(
            client = %self.client,
            secs = started.elapsed().as_secs_f64(),
            bytes_to_upstream = moved.to_upstream,
            bytes_to_client = moved.to_client,
            "tunnel closed"
        );
        drop(self.slot.take());
        drop(open);
        self.hang_up().await;
    }

    /// Ends the connection as TCP means it to end once the last frame is sent: FIN, then what
    /// the browser still sends is read and dropped until it closes its side (or [`LINGER`]
    /// passes). Closing with unread bytes would make the kernel reset the connection, and a
    /// reset discards what the browser has not yet received: the error, the close frame.
    async fn hang_up(&mut self) {
        let _ = tokio::time::timeout(LINGER, async {
            self.outbox.shutdown().await;
            self.inbox.discard_until_closed(LINGER_BYTES).await;
        })
        .await;
    }
}

/// How long a finished tunnel waits for the browser to close its side.
pub const LINGER: Duration = Duration::from_secs(1);

/// What a finished tunnel reads and drops from the browser at most.
const LINGER_BYTES: usize = 256 * 1024;

/// Bytes one tunnel relayed, for its close log.
#[derive(Default)]
struct Moved {
    to_upstream: u64,
    to_client: u64,
}

/// Counts a tunnel as open from its start until its last frame is sent (the linger after it is
/// not a tunnel), or until its task is dropped, however it ends.
struct OpenGauge(Arc<crate::metrics::Metrics>);

impl OpenGauge {
    fn new(metrics: Arc<crate::metrics::Metrics>) -> OpenGauge {
        use std::sync::atomic::Ordering::Relaxed;
        metrics.tunnels_open.fetch_add(1, Relaxed);
        metrics.tunnels_total.fetch_add(1, Relaxed);
        OpenGauge(metrics)
    }
}

impl Drop for OpenGauge {
    fn drop(&mut self) {
        self.0
            .tunnels_open
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

impl Tunnel {
    async fn relay(&mut self, moved: &mut Moved) -> End {
        let config = &self.state.config;
        let connect_timeout = Duration::from_secs(config.connect_timeout_secs);
        let idle_timeout = Duration::from_secs(config.idle_timeout_secs);
        let max_message = config.max_message_bytes;

        // The first message must be `open`, and must come within the connect timeout.
        let first = match tokio::time::timeout(connect_timeout, self.inbox.next()).await {
            Err(_) => return End::Error(bad_request("no open message")),
            Ok(None) => return End::ClientClosed(None),
            Ok(Some(Err(e))) => return inbox_error(e, max_message),
            Ok(Some(Ok(frame))) => frame,
        };
        let open = match first {
            Frame::Text(text) => match control::parse(&text, "open message") {
                Ok(ClientMessage::Open(open)) => open,
                Ok(_) => return End::Error(bad_request("the first message must be open")),
                Err(e) => return End::Error(e),
            },
            Frame::Close(reason) => return End::ClientClosed(reason),
            _ => {
                return End::Error(bad_request(
                    "the first message must be an open text message",
                ));
            }
        };
        let start = Instant::now();
        let opened = upstream::open(
            &open,
            &self.state.policy,
            &self.state.trust,
            connect_timeout,
            config.tcp_nodelay,
        );
        // Logged once judged, and even then the host is the browser's text: escaped, truncated
        // (a raw newline would forge a log line, an escape sequence reach the terminal).
        let host = Untrusted(&open.host);
        let (mut upstream, connected, target) = match opened.await {
            Ok(ok) => ok,
            Err(e) => {
                tracing::info!(
                    client = %self.client,
                    %host,
                    port = open.port,
                    kind = e.kind.as_str(),
                    "tunnel open refused"
                );
                return End::Error(e);
            }
        };
        tracing::info!(
            client = %self.client,
            %host,
            port = open.port,
            tls = ?open.tls,
            peer = %connected.peer,
            "tunnel connected"
        );
        let metrics = self.state.metrics.clone();
        metrics.connect_latency(upstream::elapsed_secs(start));
        metrics
            .connects_ok
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let connected = ServerMessage::Connected(connected);
        if within(idle_timeout, send_json(&mut self.outbox, &connected))
            .await
            .is_err()
        {
            return End::ClientClosed(None);
        }

        let mut pump = Pump::new();
        let mut may_starttls = open.tls == TlsMode::Starttls;
        let idle = tokio::time::sleep(idle_timeout);
        tokio::pin!(idle);
        use std::sync::atomic::Ordering::Relaxed;
        loop {
            tokio::select! {
                changed = self.shutdown.changed() => {
                    if changed.is_err() || *self.shutdown.borrow() == Phase::Closing {
                        return End::Error(TunnelError::new(
                            ErrorKind::ShuttingDown,
                            "the proxy is shutting down",
                        ));
                    }
                }
                read = pump.read(&mut upstream) => {
                    let n = match read {
                        Ok(0) => return End::UpstreamClosed,
                        Ok(n) => n,
                        Err(e) => return End::Error(io_error(e)),
                    };
                    let spliced = pump.spliced();
                    // A browser that stops reading holds this send; it may not hold it forever.
                    match tokio::time::timeout(idle_timeout, pump.send(&mut self.outbox)).await {
                        Ok(Ok(())) => {}
                        Ok(Err(Closed)) => return End::ClientClosed(None),
                        Err(_) => return End::Error(stalled("the browser")),
                    }
                    metrics.bytes_to_client.fetch_add(n as u64, Relaxed);
                    if spliced {
                        metrics.bytes_to_client_spliced.fetch_add(n as u64, Relaxed);
                    }
                    moved.to_client += n as u64;
                    idle.as_mut().reset(tokio::time::Instant::now() + idle_timeout);
                }
                frame = self.inbox.next() => {
                    let data = match frame {
                        None => return End::ClientClosed(None),
                        Some(Err(e)) => return inbox_error(e, max_message),
                        Some(Ok(Frame::Binary(data))) => data,
                        // The inbox counts the fragments of a message against the size cap.
                        Some(Ok(Frame::Continuation(item))) => match item {
                            Item::FirstBinary(d) | Item::Continue(d) | Item::Last(d) => d,
                            Item::FirstText(_) => {
                                return End::Error(bad_request("fragmented text messages are not supported"));
                            }
                        },
                        Some(Ok(Frame::Text(text))) => {
                            match control::parse(&text, "control message") {
                                Ok(ClientMessage::Starttls) if may_starttls => {
                                    may_starttls = false;
                                    let result = upstream::starttls(
                                        upstream,
                                        &target,
                                        &self.state.trust,
                                        connect_timeout,
                                    ).await;
                                    let info = match result {
                                        Ok((tls, info)) => { upstream = tls; info }
                                        Err(e) => return End::Error(e),
                                    };
                                    let tls = ServerMessage::Tls(info);
                                    let sent = send_json(&mut self.outbox, &tls);
                                    if within(idle_timeout, sent).await.is_err() {
                                        return End::ClientClosed(None);
                                    }
                                    idle.as_mut().reset(tokio::time::Instant::now() + idle_timeout);
                                    continue;
                                }
                                Ok(_) => return End::Error(bad_request("unexpected control message")),
                                Err(e) => return End::Error(e),
                            }
                        }
                        Some(Ok(Frame::Ping(p))) => {
                            let pong = self.outbox.send(Message::Pong(p));
                            if within(idle_timeout, pong).await.is_err() {
                                return End::ClientClosed(None);
                            }
                            continue;
                        }
                        Some(Ok(Frame::Pong(_))) => continue,
                        Some(Ok(Frame::Close(reason))) => {
                            let _ = tokio::time::timeout(FAREWELL_TIMEOUT, upstream.shutdown()).await;
                            return End::ClientClosed(reason);
                        }
                    };
                    // Idle means no payload either way: an empty frame (or a ping) per second
                    // must not hold a tunnel and its slot forever.
                    if data.is_empty() {
                        continue;
                    }
                    match tokio::time::timeout(idle_timeout, upstream.write_all(&data)).await {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => return End::Error(io_error(e)),
                        Err(_) => return End::Error(stalled("the mail server")),
                    }
                    metrics.bytes_to_upstream.fetch_add(data.len() as u64, Relaxed);
                    moved.to_upstream += data.len() as u64;
                    idle.as_mut().reset(tokio::time::Instant::now() + idle_timeout);
                }
                () = &mut idle => {
                    return End::Error(TunnelError::new(ErrorKind::IdleTimeout, "idle timeout"));
                }
            }
        }
    }
}

/// How long the last messages of a tunnel may wait for a browser that does not read.
pub const FAREWELL_TIMEOUT: Duration = Duration::from_secs(2);

/// A send to the browser, given up (and the browser counted as gone) after `limit`: a browser
/// that stops reading must not hold a tunnel past the timeouts, nor keep its last messages from
/// ending it.
async fn within(
    limit: Duration,
    send: impl Future<Output = Result<(), Closed>>,
) -> Result<(), Closed> {
    tokio::time::timeout(limit, send)
        .await
        .unwrap_or(Err(Closed))
}

/// One side took no data for the whole idle timeout while the other had some for it.
fn stalled(who: &str) -> TunnelError {
    TunnelError::new(ErrorKind::IdleTimeout, format!("{who} stopped reading"))
}

fn close(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseReason {
        code: CloseCode::from(code),
        description: Some(reason.into()),
    }))
}

async fn send_json(outbox: &mut Outbox, msg: &ServerMessage) -> Result<(), Closed> {
    let text = serde_json::to_string(msg).expect("tunnel messages serialise");
    outbox.send(Message::Text(text.into())).await
}

/// Reports the error as a message, then closes with its code.
pub async fn send_error(outbox: &mut Outbox, err: TunnelError) -> Result<(), Closed> {
    let code = err.kind.close_code();
    let reason = err.kind.as_str();
    send_json(outbox, &ServerMessage::Error(err)).await?;
    outbox.send(close(code, reason)).await
}

fn bad_request(message: &str) -> TunnelError {
    TunnelError::new(ErrorKind::BadRequest, message)
}

/// What ends a tunnel whose browser sent a frame the inbox refused, or whose socket failed.
fn inbox_error(e: InboxError, max_message: usize) -> End {
    match e {
        InboxError::Frame(FrameError::TooLarge { .. }) => End::Error(TunnelError::new(
            ErrorKind::MessageTooLarge,
            format!("messages are limited to {max_message} bytes"),
        )),
        InboxError::Frame(other) => End::Error(bad_request(&other.to_string())),
        InboxError::Io(_) => End::ClientClosed(None),
    }
}

fn io_error(e: std::io::Error) -> TunnelError {
    TunnelError::new(
        ErrorKind::UpstreamIo,
        format!("upstream connection failed: {}", e.kind()),
    )
}
