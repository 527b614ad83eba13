//! The server's life: [`run`] checks the configuration against the address it really listens
//! on, assembles the HTTP server with the upgrade service that takes WebSocket upgrades with
//! their connection (upgrade.rs), serves until told to stop, then stops: stop accepting, let
//! tunnels drain for the grace period, then close them.
//!
//! It is assembled from actix-server and actix-http the way `actix_web::HttpServer` assembles
//! it, because `HttpServer` offers no way to register an upgrade service.

use std::sync::Arc;
use std::time::Duration;

use actix_http::HttpService;
use actix_service::{
    IntoServiceFactory as _, ServiceFactoryExt as _, fn_factory, fn_service, map_config,
};
use actix_web::dev::{AppConfig, Server, ServerHandle};
use tokio::sync::watch;

use crate::config::Config;
use crate::routes;
use crate::state::{Lifecycle, State};
use crate::upgrade;

/// How the proxy is told to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shutdown {
    /// Stop accepting, let open tunnels run for the configured grace period, then close them
    /// with `shutting_down` (1001). What SIGTERM and ctrl-c ask for.
    Graceful,
    /// Close open tunnels at once.
    Now,
}

/// Runs the proxy on `listener` until `shutdown` resolves, then stops as it says. The one entry
/// point: `main` passes the signals, the test harness a channel. Refuses to start when the
/// configuration would expose more than it can mean on the listener's address
/// (`Config::check_exposure`; tests bind port 0, the embedded default is only for loopback).
/// Call it on an actix system (`actix_web::rt::System`).
pub async fn run(
    config: Config,
    listener: std::net::TcpListener,
    shutdown: impl Future<Output = Shutdown> + 'static,
) -> std::io::Result<()> {
    let listen = listener.local_addr()?;
    config
        .check_exposure(listen)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    if config.is_public_relay(listen) {
        tracing::warn!(
            %listen,
            "public relay: anyone who can reach this port can use it to reach any public mail server"
        );
    }
    let (lifecycle_tx, lifecycle_rx) = watch::channel(Lifecycle::Running);
    let grace = Duration::from_secs(config.shutdown_grace_secs);
    let state = Arc::new(State::new(config, listen, lifecycle_rx)?);
    let server = serve(state, listener, lifecycle_tx.subscribe(), grace)?;
    let handle = server.handle();
    actix_web::rt::spawn(async move {
        let how = shutdown.await;
        stop(handle, lifecycle_tx, grace, how).await;
    });
    server.await
}

/// The HTTP server on `listener`, started but not awaited.
fn serve(
    state: Arc<State>,
    listener: std::net::TcpListener,
    draining: watch::Receiver<Lifecycle>,
    grace: Duration,
) -> std::io::Result<Server> {
    let listen = listener.local_addr()?;
    listener.set_nonblocking(true)?;
    // A browser that stops reading altogether (zero window) would keep its connection and the
    // buffers in front of it forever: TCP retries zero-window probes without end. The tunnel
    // gives up after the idle timeout; this makes the kernel drop the connection too.
    let user_timeout = Duration::from_secs(state.config.idle_timeout_secs.max(1));
    let nodelay = state.config.tcp_nodelay;
    let workers = state.config.workers;
    let mut server = Server::build()
        .disable_signals()
        // Past the grace period, closing tunnels send their farewell and linger; then the
        // workers stop whatever is left.
        .shutdown_timeout(
            (grace + crate::tunnel::FAREWELL_TIMEOUT + crate::tunnel::LINGER).as_secs() + 1,
        );
    if workers > 0 {
        server = server.workers(workers);
    }
    let server = server.listen("postbag", listener, move || {
        let upgrade_state = state.clone();
        let draining = draining.clone();
        HttpService::build()
            // HttpServer's defaults where actix-http's differ: a client that stops reading
            // after its response is dropped after a second, not kept.
            .client_disconnect_timeout(Duration::from_secs(1))
            .local_addr(listen)
            .tcp_nodelay(nodelay)
            .on_connect_ext(move |tcp: &actix_web::rt::net::TcpStream, _| {
                #[cfg(any(target_os = "linux", target_os = "android"))]
                let _ = socket2::SockRef::from(tcp).set_tcp_user_timeout(Some(user_timeout));
                #[cfg(not(any(target_os = "linux", target_os = "android")))]
                let _ = (tcp, user_timeout);
            })
            // Idle keep-alive connections close when draining starts, as HttpServer's do.
            .graceful_shutdown_signal(move || {
                let mut lifecycle = draining.clone();
                async move {
                    let _ = lifecycle.wait_for(|l| *l != Lifecycle::Running).await;
                }
            })
            .upgrade(fn_factory(move || {
                let state = upgrade_state.clone();
                async move {
                    Ok::<_, ()>(fn_service(move |(req, framed)| {
                        upgrade::serve(state.clone(), req, framed)
                    }))
                }
            }))
            .finish(map_config(
                routes::app(state.clone())
                    .into_factory()
                    .map_err(|e: actix_web::Error| e.error_response()),
                move |_| AppConfig::default(),
            ))
            .tcp()
    })?;
    Ok(server.run())
}

/// Stops accepting, lets open tunnels run for `grace` (or not at all), then closes them.
async fn stop(
    handle: ServerHandle,
    lifecycle: watch::Sender<Lifecycle>,
    grace: Duration,
    how: Shutdown,
) {
    if how == Shutdown::Graceful {
        tracing::info!(
            grace_secs = grace.as_secs(),
            "shutting down: draining tunnels"
        );
        let _ = lifecycle.send(Lifecycle::Draining);
        // The timer owns the sender: tunnels see Closing when it fires (or when it is dropped).
        actix_web::rt::spawn(async move {
            tokio::time::sleep(grace).await;
            let _ = lifecycle.send(Lifecycle::Closing);
        });
        handle.stop(true).await;
    } else {
        tracing::info!("shutting down: closing tunnels now");
        let _ = lifecycle.send(Lifecycle::Closing);
        // A moment for each tunnel to send its close frame, then drop every connection
        // (idle keep-alive ones included) instead of waiting for them.
        tokio::time::sleep(Duration::from_millis(100)).await;
        handle.stop(false).await;
    }
}
