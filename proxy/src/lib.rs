//! The Postbag proxy: relays POP3 bytes between a browser WebSocket and a mail server over TCP or
//! TLS, and serves the built web app.
//!
//! Architecture invariant: the proxy never parses POP3. It sees only the tunnel's control
//! messages and opaque bytes.
//!
//! Code map:
//! - [`config`]: the embedded default, TOML file, environment and flags; `exposure`: what the
//!   listen address exposes and the configurations refused there.
//! - [`policy`]: pure address classification and the deny-by-default target rules.
//! - `upstream`: resolve once, check, connect, TLS; `tls`: trust, pinning, session info.
//! - `tunnel`: one `select!` loop per WebSocket; `ws`: the framing, straight on the socket;
//!   `frame`: the browser's frames judged on their header, before their payload is read;
//!   `pump`: the mail server's bytes to frames; `splice`: the zero-copy path (Linux).
//! - `server`: routes, shutdown; `upgrade`: takes the connection at the WebSocket upgrade;
//!   `handshake`: Origin, token, subprotocol and client address checks before the upgrade;
//!   `static_files`: the app, CSP, cache headers.
//! - `control`: the browser's JSON control messages; `metrics`, `limits`: counters for
//!   `/metrics` and the tunnel caps; `log_safe`: peer text escaped and cut for the log.

pub mod config;
mod control;
mod exposure;
mod frame;
mod handshake;
mod limits;
mod log_safe;
mod metrics;
pub mod policy;
mod pump;
mod server;
#[cfg(target_os = "linux")]
mod splice;
mod static_files;
mod tls;
mod tunnel;
mod upgrade;
mod upstream;
mod ws;
mod x509;

use std::net::SocketAddr;
use std::sync::Arc;

pub use config::{Cli, Config, ConfigError, Secret};
pub use exposure::Missing;
pub use pump::MAX_HELD;
pub use static_files::csp_for;

/// The pure parsers of what the browser sends, for the fuzz targets in proxy/fuzz. Not an API:
/// only the `fuzzing` feature builds it.
#[cfg(feature = "fuzzing")]
pub mod fuzzing {
    pub use crate::control::parse as parse_control;
    pub use crate::frame::{FrameError, FrameReader, check_header};
    pub use crate::log_safe::{MAX_LOGGED_CHARS, Untrusted};
    pub use postbag_protocol::tunnel::{ClientMessage, ErrorKind};
}

/// Runs the proxy until SIGTERM or ctrl-c, then shuts down gracefully. Used by `main`.
pub async fn run(config: Config, listener: std::net::TcpListener) -> std::io::Result<()> {
    let built = server::build(config, listener)?;
    let handle = built.server.handle();
    let (phase, grace) = (built.phase, built.grace);
    actix_web::rt::spawn(async move {
        wait_for_signal().await;
        server::shutdown(handle, phase, grace, true).await;
    });
    built.server.await
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// A proxy running on its own thread and actix system, for tests and benchmarks.
pub struct ProxyHandle {
    addr: SocketAddr,
    metrics: Arc<metrics::Metrics>,
    stop: Option<tokio::sync::oneshot::Sender<bool>>,
    thread: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

/// Starts the proxy on `listener` in a new thread; returns once it accepts connections, or the
/// configuration's refusal to serve on the listener's address (`Config::check_exposure`).
pub fn spawn(config: Config, listener: std::net::TcpListener) -> std::io::Result<ProxyHandle> {
    let addr = listener.local_addr()?;
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<bool>();
    let thread = std::thread::Builder::new()
        .name("postbag-proxy".into())
        .spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let built = match server::build(config, listener) {
                    Ok(b) => b,
                    Err(e) => {
                        let _ = ready_tx.send(Err(std::io::Error::new(e.kind(), e.to_string())));
                        return Err(e);
                    }
                };
                let handle = built.server.handle();
                let (phase, grace) = (built.phase, built.grace);
                let _ = ready_tx.send(Ok(built.metrics.clone()));
                actix_web::rt::spawn(async move {
                    let graceful = stop_rx.await.unwrap_or(false);
                    server::shutdown(handle, phase, grace, graceful).await;
                });
                built.server.await
            })
        })?;
    let metrics = ready_rx
        .recv()
        .map_err(|_| std::io::Error::other("the proxy thread ended before starting"))??;
    Ok(ProxyHandle {
        addr,
        metrics,
        stop: Some(stop_tx),
        thread: Some(thread),
    })
}

impl ProxyHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops the proxy and waits for its thread. Graceful: stop accepting, let open tunnels run
    /// for the configured grace period, then close them with `shutting_down` (1001). Not
    /// graceful: close open tunnels at once.
    pub fn stop(mut self, graceful: bool) {
        self.stop_inner(graceful);
    }

    fn stop_inner(&mut self, graceful: bool) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(graceful);
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }

    /// The `/metrics` text, without an HTTP request.
    pub fn metrics_text(&self) -> String {
        self.metrics.render()
    }
}

impl Drop for ProxyHandle {
    fn drop(&mut self) {
        self.stop_inner(false);
    }
}
