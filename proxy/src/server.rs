//! The HTTP server: the app routes, the upgrade service that takes WebSocket upgrades with their
//! connection (upgrade.rs), and the shutdown sequence (stop accepting, let tunnels drain for the
//! grace period, then close them).
//!
//! It is assembled from actix-server and actix-http the way `actix_web::HttpServer` assembles
//! it, because `HttpServer` offers no way to register an upgrade service.

use std::sync::Arc;
use std::time::Duration;

use actix_http::HttpService;
use actix_http::body::MessageBody;
use actix_service::{
    IntoServiceFactory as _, ServiceFactoryExt as _, fn_factory, fn_service, map_config,
};
use actix_web::dev::{AppConfig, Server, ServerHandle, Service as _};
use actix_web::http::header::{self, HeaderValue};
use actix_web::{App, HttpRequest, HttpResponse, web};
use postbag_protocol::tunnel::{ErrorKind, TUNNEL_PATH, TunnelError};
use tokio::sync::watch;

use crate::config::Config;
use crate::handshake::{self, Origins, Refused};
use crate::limits::Limits;
use crate::metrics::Metrics;
use crate::policy::Policy;
use crate::static_files::{self, Site};
use crate::tls::Trust;
use crate::upgrade;

/// Where the proxy is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Running,
    /// Not accepting; open tunnels keep running until the grace period ends.
    Draining,
    /// Open tunnels are being closed.
    Closing,
}

/// Shared by every request.
pub struct State {
    pub config: Config,
    /// Who may open tunnels, from `allowed_origins` and the address the proxy listens on.
    pub origins: Origins,
    pub policy: Policy,
    pub trust: Trust,
    pub limits: Arc<Limits>,
    pub metrics: Arc<Metrics>,
    pub site: Site,
    pub phase: watch::Receiver<Phase>,
}

/// A built, not yet awaited server and the levers to stop it.
pub struct Built {
    pub server: Server,
    pub metrics: Arc<Metrics>,
    pub phase: watch::Sender<Phase>,
    pub grace: Duration,
}

/// Builds the server on `listener`, after checking the configuration against the address it
/// really listens on (tests bind port 0; the embedded default is only for loopback).
pub fn build(config: Config, listener: std::net::TcpListener) -> std::io::Result<Built> {
    let listen = listener.local_addr()?;
    config
        .check_exposure(listen)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    if config.is_public_relay(listen) {
        tracing::warn!(
            %listen,
            "public relay: anyone who can reach this port can use it to reach any public POP3 server"
        );
    }
    let trust = Trust::new(config.extra_ca_file.as_deref()).map_err(std::io::Error::other)?;
    let (phase_tx, phase_rx) = watch::channel(Phase::Running);
    let metrics = Arc::new(Metrics::default());
    let grace = Duration::from_secs(config.shutdown_grace_secs);
    let site = Site::new(config.dist.clone());
    if !site.is_built() {
        tracing::warn!(dist = %config.dist.display(), "the web app is not built; serving a notice");
    }
    let state = Arc::new(State {
        policy: Policy::new(&config),
        trust,
        limits: Limits::new(config.max_tunnels, config.max_tunnels_per_ip),
        metrics: metrics.clone(),
        site,
        phase: phase_rx,
        origins: Origins::new(&config.allowed_origins, listen),
        config: config.clone(),
    });
    listener.set_nonblocking(true)?;
    // A browser that stops reading altogether (zero window) would keep its connection and the
    // buffers in front of it forever: TCP retries zero-window probes without end. The tunnel
    // gives up after the idle timeout; this makes the kernel drop the connection too.
    let user_timeout = Duration::from_secs(config.idle_timeout_secs.max(1));
    let nodelay = config.tcp_nodelay;
    let draining = phase_tx.subscribe();
    let mut server = Server::build()
        .disable_signals()
        // Past the grace period, closing tunnels send their farewell and linger; then the
        // workers stop whatever is left.
        .shutdown_timeout(
            (grace + crate::tunnel::FAREWELL_TIMEOUT + crate::tunnel::LINGER).as_secs() + 1,
        );
    if config.workers > 0 {
        server = server.workers(config.workers);
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
                let mut phase = draining.clone();
                async move {
                    let _ = phase.wait_for(|p| *p != Phase::Running).await;
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
                app(state.clone())
                    .into_factory()
                    .map_err(|e: actix_web::Error| e.error_response()),
                move |_| AppConfig::default(),
            ))
            .tcp()
    })?;
    Ok(Built {
        server: server.run(),
        metrics,
        phase: phase_tx,
        grace,
    })
}

fn app(
    state: Arc<State>,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let headers_state = state.clone();
    let data = web::Data::from(state.clone());
    let mut app = App::new()
        .app_data(data)
        .wrap_fn(move |req, srv| {
            let path = req.path().to_string();
            let site_state = headers_state.clone();
            let fut = srv.call(req);
            async move {
                let mut res = fut.await?;
                let headers = res.headers_mut();
                if path == static_files::PARSER_FRAME_PATH {
                    static_files::parser_frame_headers(headers);
                } else {
                    static_files::security_headers(headers, &site_state.site.csp());
                }
                if !headers.contains_key(header::CACHE_CONTROL) {
                    let cache = match path.as_str() {
                        TUNNEL_PATH | "/healthz" | "/metrics" => "no-store",
                        "/" => "no-cache",
                        p => static_files::cache_control(p),
                    };
                    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
                }
                Ok(res)
            }
        })
        .route(TUNNEL_PATH, web::get().to(tunnel_endpoint))
        .route(
            "/healthz",
            web::get().to(|| async { HttpResponse::Ok().body("ok\n") }),
        )
        .route("/metrics", web::get().to(metrics_endpoint));
    if state.site.is_built() {
        let index = state.site.index();
        app = app.service(
            actix_files::Files::new("/", &state.site.dist)
                .index_file("index.html")
                .use_etag(true)
                .use_last_modified(true)
                .default_handler(web::to(move |req: HttpRequest| {
                    // App routes (no file extension) get the app; missing files are 404s.
                    let index = index.clone();
                    async move {
                        if static_files::looks_like_file(req.path()) {
                            return Ok(HttpResponse::NotFound().body("not found\n"));
                        }
                        actix_files::NamedFile::open(index).map(|f| f.into_response(&req))
                    }
                })),
        );
    } else {
        app = app.default_service(web::to(|| async {
            HttpResponse::ServiceUnavailable()
                .content_type("text/plain; charset=utf-8")
                .body(static_files::NOT_BUILT)
        }));
    }
    app
}

/// The counters, to whoever may open tunnels: with a token configured, only to a request that
/// presents it (the counters tell who uses the proxy how much, and how its refusals go).
async fn metrics_endpoint(req: HttpRequest, state: web::Data<State>) -> HttpResponse {
    if let Some(token) = &state.config.token
        && !handshake::metrics_token_presented(req.head(), &token.0)
    {
        return HttpResponse::Unauthorized()
            .insert_header((header::WWW_AUTHENTICATE, "Bearer"))
            .content_type("text/plain; charset=utf-8")
            .body("missing or wrong access token (Authorization: Bearer <token>)\n");
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render())
}

/// The tunnel path without an upgrade: the app's probe after a refused WebSocket, so it gets the
/// refusal the upgrade got (upgrade.rs), or, when the checks pass, a request for the upgrade.
async fn tunnel_endpoint(req: HttpRequest, state: web::Data<State>) -> HttpResponse {
    match handshake::admit(&state, req.head()) {
        Err(Refused { status, error }) => HttpResponse::build(status).json(error),
        Ok(_) => HttpResponse::BadRequest().json(TunnelError::new(
            ErrorKind::BadRequest,
            "WebSocket upgrade is expected",
        )),
    }
}

/// Stops accepting, lets open tunnels run for `grace` (or not at all), then closes them.
pub async fn shutdown(
    handle: ServerHandle,
    phase: watch::Sender<Phase>,
    grace: Duration,
    graceful: bool,
) {
    if graceful {
        tracing::info!(
            grace_secs = grace.as_secs(),
            "shutting down: draining tunnels"
        );
        let _ = phase.send(Phase::Draining);
        // The timer owns the sender: tunnels see Closing when it fires (or when it is dropped).
        actix_web::rt::spawn(async move {
            tokio::time::sleep(grace).await;
            let _ = phase.send(Phase::Closing);
        });
        handle.stop(true).await;
    } else {
        tracing::info!("shutting down: closing tunnels now");
        let _ = phase.send(Phase::Closing);
        // A moment for each tunnel to send its close frame, then drop every connection
        // (idle keep-alive ones included) instead of waiting for them.
        tokio::time::sleep(Duration::from_millis(100)).await;
        handle.stop(false).await;
    }
}
