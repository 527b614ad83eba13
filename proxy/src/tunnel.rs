//! One tunnel per WebSocket, run by its connection's task after the upgrade (upgrade.rs): an
//! open step (wait for `open`, connect, say `connected`), then one `select!` loop whose
//! handlers, for the mail server's bytes and for the browser's frames, each return the loop's
//! next step, until either side closes, the tunnel idles out, or the proxy shuts down.
//!
//! Backpressure: the loop awaits each send to the browser before it reads the mail server
//! again, and awaits each write to the mail server before it decodes the next browser frame.
//! Nothing in here grows with the size of a message.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use actix_http::ws::{CloseCode, CloseReason, Frame, Item, Message};
use bytes::Bytes;
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
use crate::state::{Lifecycle, State};
use crate::upstream::{self, Target, Upstream};
use crate::ws::{Closed, FromBrowser, ReceiveError, ToBrowser};

/// Everything one tunnel needs.
pub struct Tunnel {
    state: Arc<State>,
    from_browser: FromBrowser,
    to_browser: ToBrowser,
    shutdown: watch::Receiver<Lifecycle>,
    client: std::net::IpAddr,
    /// Held for the tunnel's lifetime; `None` when the tunnel is refused at once.
    slot: Option<Slot>,
    moved: Moved,
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

/// What the relay loop does after one event.
enum Next {
    /// No payload moved: the idle timer keeps running.
    Wait,
    /// Payload moved one way or the other: the idle timer starts again.
    Moved,
    /// The browser asked for the mail server's connection to become TLS, and may.
    Starttls,
    End(End),
}

/// The connection to the mail server, once open.
struct Link {
    upstream: Upstream,
    /// What a STARTTLS checks the certificate against.
    target: Target,
    pump: Pump,
    may_starttls: bool,
}

impl Tunnel {
    pub fn new(
        state: Arc<State>,
        from_browser: FromBrowser,
        to_browser: ToBrowser,
        client: std::net::IpAddr,
        slot: Option<Slot>,
    ) -> Tunnel {
        Tunnel {
            shutdown: state.lifecycle.clone(),
            state,
            from_browser,
            to_browser,
            client,
            slot,
            moved: Moved::default(),
        }
    }

    /// Refuses at once with a typed error (limits, shutdown).
    pub async fn refuse(mut self, err: TunnelError) {
        self.state.metrics.error(err.kind);
        let _ = within(FAREWELL_TIMEOUT, send_error(&mut self.to_browser, err)).await;
        self.hang_up().await;
    }

    pub async fn run(mut self) {
        let metrics = self.state.metrics.clone();
        let open = OpenGauge::new(metrics.clone());
        let started = Instant::now();
        match self.relay().await {
            End::Error(err) => {
                tracing::info!(client = %self.client, kind = err.kind.as_str(), "tunnel error");
                metrics.error(err.kind);
                let _ = within(FAREWELL_TIMEOUT, send_error(&mut self.to_browser, err)).await;
            }
            End::UpstreamClosed => {
                let (code, reason) = CLOSE_UPSTREAM_CLOSED;
                let _ = within(FAREWELL_TIMEOUT, self.to_browser.send(close(code, reason))).await;
            }
            End::ClientClosed(reason) => {
                let _ = within(
                    FAREWELL_TIMEOUT,
                    self.to_browser.send(Message::Close(reason)),
                )
                .await;
            }
        }
        // Sizes and times only: never what was said.
        tracing::info!(
            client = %self.client,
            secs = started.elapsed().as_secs_f64(),
            bytes_to_upstream = self.moved.to_upstream,
            bytes_to_client = self.moved.to_client,
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
            self.to_browser.shutdown().await;
            self.from_browser.discard_until_closed(LINGER_BYTES).await;
        })
        .await;
    }

    /// The relay loop: the open step, then one handler per event, each returning the next step.
    async fn relay(&mut self) -> End {
        let mut link = match self.open().await {
            Ok(link) => link,
            Err(end) => return end,
        };
        let idle_timeout = self.idle_timeout();
        let idle = tokio::time::sleep(idle_timeout);
        tokio::pin!(idle);
        loop {
            let next = tokio::select! {
                changed = self.shutdown.changed() => self.on_lifecycle(changed.is_ok()),
                read = link.pump.read(&mut link.upstream) => self.on_upstream(&mut link, read).await,
                frame = self.from_browser.next() => self.on_frame(&mut link, frame).await,
                () = &mut idle => Next::End(End::Error(TunnelError::new(
                    ErrorKind::IdleTimeout,
                    "idle timeout",
                ))),
            };
            match next {
                Next::Wait => continue,
                Next::Moved => {}
                Next::Starttls => match self.starttls(link).await {
                    Ok(upgraded) => link = upgraded,
                    Err(end) => return end,
                },
                Next::End(end) => return end,
            }
            idle.as_mut()
                .reset(tokio::time::Instant::now() + idle_timeout);
        }
    }

    /// The first message must be `open`, and must come within the connect timeout; then the
    /// mail server is reached as it asks, and the browser told `connected`.
    async fn open(&mut self) -> Result<Link, End> {
        let connect_timeout = self.connect_timeout();
        let first = match tokio::time::timeout(connect_timeout, self.from_browser.next()).await {
            Err(_) => return Err(End::Error(bad_request("no open message"))),
            Ok(None) => return Err(End::ClientClosed(None)),
            Ok(Some(Err(e))) => return Err(self.inbox_error(e)),
            Ok(Some(Ok(frame))) => frame,
        };
        let open = match first {
            Frame::Text(text) => match control::parse(&text, "open message") {
                Ok(ClientMessage::Open(open)) => open,
                Ok(_) => return Err(End::Error(bad_request("the first message must be open"))),
                Err(e) => return Err(End::Error(e)),
            },
            Frame::Close(reason) => return Err(End::ClientClosed(reason)),
            _ => {
                return Err(End::Error(bad_request(
                    "the first message must be an open text message",
                )));
            }
        };
        let start = Instant::now();
        let opened = upstream::open(
            &open,
            &self.state.policy,
            &self.state.trust,
            connect_timeout,
            self.state.config.tcp_nodelay,
        );
        // Logged once judged, and even then the host is the browser's text: escaped, truncated
        // (a raw newline would forge a log line, an escape sequence reach the terminal).
        let host = Untrusted(&open.host);
        let (upstream, connected, target) = match opened.await {
            Ok(ok) => ok,
            Err(e) => {
                tracing::info!(
                    client = %self.client,
                    %host,
                    port = open.port,
                    kind = e.kind.as_str(),
                    "tunnel open refused"
                );
                return Err(End::Error(e));
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
        let metrics = &self.state.metrics;
        metrics.connect_latency(upstream::elapsed_secs(start));
        metrics.connects_ok.fetch_add(1, Relaxed);
        let connected = ServerMessage::Connected(connected);
        if within(
            self.idle_timeout(),
            send_json(&mut self.to_browser, &connected),
        )
        .await
        .is_err()
        {
            return Err(End::ClientClosed(None));
        }
        Ok(Link {
            upstream,
            target,
            pump: Pump::new(),
            may_starttls: open.tls == TlsMode::Starttls,
        })
    }

    /// The proxy's lifecycle moved on: at `Closing` (or when its sender is gone) the tunnel ends.
    fn on_lifecycle(&self, sender_alive: bool) -> Next {
        if !sender_alive || *self.shutdown.borrow() == Lifecycle::Closing {
            return Next::End(End::Error(TunnelError::new(
                ErrorKind::ShuttingDown,
                "the proxy is shutting down",
            )));
        }
        Next::Wait
    }

    /// The mail server's bytes (already read by the pump) go to the browser as one frame.
    async fn on_upstream(&mut self, link: &mut Link, read: std::io::Result<usize>) -> Next {
        let n = match read {
            Ok(0) => return Next::End(End::UpstreamClosed),
            Ok(n) => n as u64,
            Err(e) => return Next::End(End::Error(io_error(e))),
        };
        let spliced = link.pump.spliced();
        // A browser that stops reading holds this send; it may not hold it forever.
        let sent = tokio::time::timeout(self.idle_timeout(), link.pump.send(&mut self.to_browser));
        match sent.await {
            Ok(Ok(())) => {}
            Ok(Err(Closed)) => return Next::End(End::ClientClosed(None)),
            Err(_) => return Next::End(End::Error(stalled("the browser"))),
        }
        let metrics = &self.state.metrics;
        metrics.bytes_to_client.fetch_add(n, Relaxed);
        if spliced {
            metrics.bytes_to_client_spliced.fetch_add(n, Relaxed);
        }
        self.moved.to_client += n;
        Next::Moved
    }

    /// One frame from the browser: bytes for the mail server, a control message, a ping, or
    /// its close.
    async fn on_frame(
        &mut self,
        link: &mut Link,
        frame: Option<Result<Frame, ReceiveError>>,
    ) -> Next {
        let data = match frame {
            None => return Next::End(End::ClientClosed(None)),
            Some(Err(e)) => return Next::End(self.inbox_error(e)),
            Some(Ok(frame)) => match frame {
                Frame::Binary(data) => data,
                // The reader counts the fragments of a message against the size cap.
                Frame::Continuation(Item::FirstBinary(d) | Item::Continue(d) | Item::Last(d)) => d,
                Frame::Continuation(Item::FirstText(_)) => {
                    let refusal = bad_request("fragmented text messages are not supported");
                    return Next::End(End::Error(refusal));
                }
                Frame::Text(text) => return on_control(link, &text),
                Frame::Ping(payload) => {
                    let limit = self.idle_timeout();
                    let pong = self.to_browser.send(Message::Pong(payload));
                    return match within(limit, pong).await {
                        Ok(()) => Next::Wait,
                        Err(Closed) => Next::End(End::ClientClosed(None)),
                    };
                }
                Frame::Pong(_) => return Next::Wait,
                Frame::Close(reason) => {
                    let _ = tokio::time::timeout(FAREWELL_TIMEOUT, link.upstream.shutdown()).await;
                    return Next::End(End::ClientClosed(reason));
                }
            },
        };
        self.write_upstream(link, data).await
    }

    /// The browser's bytes go to the mail server as they came.
    async fn write_upstream(&mut self, link: &mut Link, data: Bytes) -> Next {
        // Idle means no payload either way: an empty frame (or a ping) per second must not hold
        // a tunnel and its slot forever.
        if data.is_empty() {
            return Next::Wait;
        }
        let write = link.upstream.write_all(&data);
        match tokio::time::timeout(self.idle_timeout(), write).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Next::End(End::Error(io_error(e))),
            Err(_) => return Next::End(End::Error(stalled("the mail server"))),
        }
        let n = data.len() as u64;
        self.state.metrics.bytes_to_upstream.fetch_add(n, Relaxed);
        self.moved.to_upstream += n;
        Next::Moved
    }

    /// Upgrades the mail server's connection in place, then tells the browser `tls`.
    async fn starttls(&mut self, link: Link) -> Result<Link, End> {
        let Link {
            upstream,
            target,
            pump,
            ..
        } = link;
        let trust = &self.state.trust;
        let upgraded = upstream::starttls(upstream, &target, trust, self.connect_timeout()).await;
        let (upstream, info) = upgraded.map_err(End::Error)?;
        let limit = self.idle_timeout();
        let tls = ServerMessage::Tls(info);
        if within(limit, send_json(&mut self.to_browser, &tls))
            .await
            .is_err()
        {
            return Err(End::ClientClosed(None));
        }
        Ok(Link {
            upstream,
            target,
            pump,
            may_starttls: false,
        })
    }

    /// What ends a tunnel whose browser sent a frame the reader refused, or whose socket failed.
    fn inbox_error(&self, e: ReceiveError) -> End {
        match e {
            ReceiveError::Frame(FrameError::TooLarge { .. }) => End::Error(TunnelError::new(
                ErrorKind::MessageTooLarge,
                format!(
                    "messages are limited to {} bytes",
                    self.state.config.max_message_bytes
                ),
            )),
            ReceiveError::Frame(other) => End::Error(bad_request(&other.to_string())),
            ReceiveError::Io(_) => End::ClientClosed(None),
        }
    }

    fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.state.config.idle_timeout_secs)
    }

    fn connect_timeout(&self) -> Duration {
        Duration::from_secs(self.state.config.connect_timeout_secs)
    }
}

/// A text frame after `open`: the one control message allowed there is `starttls`, once, in a
/// tunnel opened in STARTTLS mode.
fn on_control(link: &mut Link, text: &[u8]) -> Next {
    match control::parse(text, "control message") {
        Ok(ClientMessage::Starttls) if link.may_starttls => {
            link.may_starttls = false;
            Next::Starttls
        }
        Ok(_) => Next::End(End::Error(bad_request("unexpected control message"))),
        Err(e) => Next::End(End::Error(e)),
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

async fn send_json(to_browser: &mut ToBrowser, msg: &ServerMessage) -> Result<(), Closed> {
    let text = serde_json::to_string(msg).expect("tunnel messages serialise");
    to_browser.send(Message::Text(text.into())).await
}

/// Reports the error as a message, then closes with its code.
pub async fn send_error(to_browser: &mut ToBrowser, err: TunnelError) -> Result<(), Closed> {
    let code = err.kind.close_code();
    let reason = err.kind.as_str();
    send_json(to_browser, &ServerMessage::Error(err)).await?;
    to_browser.send(close(code, reason)).await
}

fn bad_request(message: &str) -> TunnelError {
    TunnelError::new(ErrorKind::BadRequest, message)
}

fn io_error(e: std::io::Error) -> TunnelError {
    TunnelError::new(
        ErrorKind::UpstreamIo,
        format!("upstream connection failed: {}", e.kind()),
    )
}
