//! The HTTP routes: the tunnel path (for requests that are not an upgrade), `/healthz`,
//! `/metrics`, `/oauth/clients` (oauth_clients.rs), `/oauth/token` (oauth_token.rs), and the built app with its security and cache headers, compressed as the browser
//! asks where the build left compressed copies.

use std::sync::Arc;

use actix_http::body::MessageBody;
use actix_web::dev::Service as _;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{App, HttpRequest, HttpResponse, web};
use postbag_protocol::tunnel::{ErrorKind, TUNNEL_PATH, TunnelError};

use crate::handshake::{self, Refused};
use crate::precompressed::{self, Answer};
use crate::state::State;
use crate::static_files;
use crate::{oauth_clients, oauth_token};

pub fn app(
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
    let encoding_state = state.clone();
    let data = web::Data::from(state.clone());
    let mut app = App::new()
        .app_data(data)
        // Inside the headers below, so a compressed copy gets the same security and cache
        // headers as its file.
        .wrap_fn(move |req, srv| {
            use futures_util::future::{Either, FutureExt as _, ready};
            match precompressed::answer(&encoding_state.site.dist, req.request()) {
                Answer::Encoded(response) => {
                    Either::Left(ready(Ok(req.into_response(response).map_into_right_body())))
                }
                answer => Either::Right(srv.call(req).map(move |res| {
                    let mut res = res?;
                    if let Answer::Identity = answer {
                        precompressed::vary_on_encoding(res.headers_mut());
                    }
                    Ok(res.map_into_left_body())
                })),
            }
        })
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
                        TUNNEL_PATH
                        | "/healthz"
                        | "/metrics"
                        | oauth_clients::PATH
                        | oauth_token::PATH => "no-store",
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
        .route("/metrics", web::get().to(metrics_endpoint))
        .route(oauth_clients::PATH, web::get().to(oauth_clients::endpoint))
        .route(oauth_token::PATH, web::post().to(oauth_token::endpoint));
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
        && !handshake::metrics_token_presented(req.head(), token.expose_secret())
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
