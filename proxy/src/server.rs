//! The HTTP server: routes, the WebSocket handshake checks (Origin, token, limits), and the
//! shutdown sequence (stop accepting, let tunnels drain for the grace period, then close them).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use actix_http::body::{BodyStream, MessageBody};
use actix_web::dev::{Server, ServerHandle, Service as _};
use actix_web::http::header::{self, HeaderValue};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use postbag_protocol::tunnel::{
    ErrorKind, SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX, TUNNEL_PATH, TunnelError,
};
use tokio::sync::watch;

use crate::config::Config;
use crate::limits::{LimitError, Limits};
use crate::metrics::Metrics;
use crate::policy::Policy;
use crate::static_files::{self, Site};
use crate::tls::Trust;
use crate::tunnel::Tunnel;
use crate::ws;

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

pub fn build(config: Config, listener: std::net::TcpListener) -> std::io::Result<Built> {
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
        config: config.clone(),
    });
    listener.set_nonblocking(true)?;
    // A browser that stops reading altogether (zero window) would keep its connection and the
    // buffers in front of it forever: TCP retries zero-window probes without end. The tunnel
    // gives up after the idle timeout; this makes the kernel drop the connection too.
    let user_timeout = Duration::from_secs(config.idle_timeout_secs.max(1));
    let mut server = HttpServer::new(move || app(state.clone()))
        .on_connect(move |conn, _| {
            if let Some(tcp) = conn.downcast_ref::<actix_web::rt::net::TcpStream>() {
                let _ = socket2::SockRef::from(tcp).set_tcp_user_timeout(Some(user_timeout));
            }
        })
        .disable_signals()
        .tcp_nodelay(config.tcp_nodelay)
        .shutdown_timeout(grace.as_secs() + 2)
        .listen(listener)?;
    if config.workers > 0 {
        server = server.workers(config.workers);
    }
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
                static_files::security_headers(headers, &site_state.site.csp());
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

async fn metrics_endpoint(state: web::Data<State>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render())
}

fn refuse(status: actix_web::http::StatusCode, kind: ErrorKind, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(TunnelError::new(kind, message))
}

async fn tunnel_endpoint(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<State>,
) -> Result<HttpResponse, actix_web::Error> {
    use actix_web::http::StatusCode;
    let state = state.into_inner();
    if !origin_allowed(&req, &state.config.allowed_origins) {
        state.metrics.error(ErrorKind::ForbiddenOrigin);
        tracing::info!("tunnel refused: origin not allowed");
        return Ok(refuse(
            StatusCode::FORBIDDEN,
            ErrorKind::ForbiddenOrigin,
            "origin not allowed",
        ));
    }
    let offered = offered_subprotocols(&req);
    if let Some(token) = &state.config.token
        && !token_presented(&req, &offered, &token.0)
    {
        state.metrics.error(ErrorKind::Unauthorized);
        tracing::info!("tunnel refused: missing or wrong token");
        return Ok(refuse(
            StatusCode::UNAUTHORIZED,
            ErrorKind::Unauthorized,
            "missing or wrong access token",
        ));
    }
    let client = client_ip(&req, state.config.trust_forwarded_for);
    let mut response = actix_http::ws::handshake(req.head())
        .map_err(|e| actix_web::error::ErrorBadRequest(e.to_string()))?;
    if let Some(chosen) = choose_subprotocol(&offered) {
        response.insert_header((header::SEC_WEBSOCKET_PROTOCOL, chosen));
    }
    let (outbox, body) = ws::outbox(state.metrics.clone());
    let inbox = ws::Inbox::new(payload, state.config.max_message_bytes);
    let phase = *state.phase.borrow();
    let slot = state.limits.acquire(client);
    let refusal = match (&slot, phase) {
        (_, Phase::Draining | Phase::Closing) => Some(TunnelError::new(
            ErrorKind::ShuttingDown,
            "the proxy is shutting down",
        )),
        (Err(LimitError::Total), _) => Some(TunnelError::new(
            ErrorKind::LimitReached,
            LimitError::Total.to_string(),
        )),
        (Err(LimitError::PerIp), _) => Some(TunnelError::new(
            ErrorKind::LimitReached,
            LimitError::PerIp.to_string(),
        )),
        (Ok(_), Phase::Running) => None,
    };
    let tunnel = Tunnel {
        state: state.clone(),
        inbox,
        outbox,
        shutdown: state.phase.clone(),
        client,
        slot: if refusal.is_none() { slot.ok() } else { None },
    };
    match refusal {
        Some(err) => {
            tracing::info!(client = %client, kind = err.kind.as_str(), "tunnel refused");
            actix_web::rt::spawn(tunnel.refuse(err));
        }
        None => {
            actix_web::rt::spawn(tunnel.run());
        }
    }
    Ok(response.message_body(BodyStream::new(body).boxed())?.into())
}

/// Browsers always send `Origin` on a WebSocket handshake; a request without one is not from a
/// browser page, and any non-browser client could forge the header anyway, so it passes.
fn origin_allowed(req: &HttpRequest, allowed: &[String]) -> bool {
    let Some(origin) = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
    else {
        return true;
    };
    if allowed
        .iter()
        .any(|a| a == "*" || a.eq_ignore_ascii_case(origin))
    {
        return true;
    }
    if !allowed.is_empty() {
        return false;
    }
    // Default: the proxy's own origin, i.e. the Origin's authority equals the Host header.
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let authority = origin.split_once("://").map(|(_, rest)| rest).unwrap_or("");
    !host.is_empty() && authority.eq_ignore_ascii_case(host)
}

fn offered_subprotocols(req: &HttpRequest) -> Vec<String> {
    req.headers()
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

/// The token comes in the subprotocol list (what browsers can set) or the `token` query
/// parameter (for other clients; it may end up in access logs, so prefer the subprotocol).
fn token_presented(req: &HttpRequest, offered: &[String], token: &str) -> bool {
    let from_protocol = offered
        .iter()
        .filter_map(|p| p.strip_prefix(TOKEN_SUBPROTOCOL_PREFIX))
        .any(|t| ct_eq(t, token));
    let from_query =
        web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
            .ok()
            .and_then(|q| q.get("token").map(|t| ct_eq(t, token)))
            .unwrap_or(false);
    from_protocol || from_query
}

/// Answers `postbag.v1` when offered; otherwise echoes the token protocol, because a browser
/// fails the handshake when it offered protocols and none is selected.
fn choose_subprotocol(offered: &[String]) -> Option<String> {
    if offered.iter().any(|p| p == SUBPROTOCOL) {
        return Some(SUBPROTOCOL.to_string());
    }
    offered.first().cloned()
}

fn ct_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn client_ip(req: &HttpRequest, trust_forwarded_for: bool) -> IpAddr {
    if trust_forwarded_for {
        let last = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|ip| ip.trim().parse().ok());
        if let Some(ip) = last {
            return ip;
        }
    }
    req.peer_addr()
        .map(|a: SocketAddr| a.ip())
        .unwrap_or(IpAddr::from([0, 0, 0, 0]))
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
