//! The tunnel's WebSocket upgrade. actix-http hands every request that asks for a protocol
//! upgrade to this service together with its connection; the proxy checks it (handshake.rs),
//! answers `101`, and from then on owns the socket: frames go straight to it (ws.rs) instead of
//! through actix-http's response buffer, which copied every relayed byte once more, and on
//! Linux a plain upstream is spliced to it (splice.rs).
//!
//! Refusals are written here too, with the same statuses, JSON bodies and headers as a plain
//! GET of the tunnel path gets from the app routes (server.rs).

use std::io;
use std::net::IpAddr;
use std::sync::Arc;

use actix_codec::{Framed, FramedParts};
use actix_http::body::BodySize;
use actix_http::h1::{Codec, Message as H1};
use actix_http::header::{self, HeaderValue};
use actix_http::{ConnectionType, Method, Request, Response, StatusCode};
use bytes::Bytes;
use futures_util::SinkExt;
use postbag_protocol::tunnel::{ErrorKind, TUNNEL_PATH, TunnelError};
use tokio::net::TcpStream;

use crate::handshake::{self, Refused};
use crate::state::{Lifecycle, State};
use crate::static_files;
use crate::tunnel::Tunnel;
use crate::ws::{FromBrowser, ToBrowser};

/// Serves one upgrade request, and the tunnel for as long as it runs. A browser that goes away
/// while being answered is not the proxy's error (actix would log it as one): it ends quietly.
pub async fn serve(
    state: Arc<State>,
    req: Request,
    framed: Framed<TcpStream, Codec>,
) -> Result<(), actix_web::Error> {
    if let Err(e) = answer(state, req, framed).await {
        tracing::debug!(error = %e, "the browser went away during the handshake");
    }
    Ok(())
}

async fn answer(
    state: Arc<State>,
    req: Request,
    mut framed: Framed<TcpStream, Codec>,
) -> io::Result<()> {
    let head = req.head();
    if head.uri.path() != TUNNEL_PATH || head.method != Method::GET {
        // Only the tunnel upgrades.
        return refuse(
            &mut framed,
            &state,
            StatusCode::NOT_FOUND,
            "text/plain",
            "not found\n",
        )
        .await;
    }
    let admitted = match handshake::admit(&state, head) {
        Ok(admitted) => admitted,
        Err(Refused { status, error }) => {
            let body = serde_json::to_string(&error).expect("errors serialise");
            return refuse(&mut framed, &state, status, "application/json", &body).await;
        }
    };
    let mut accept = match actix_http::ws::handshake(head) {
        Ok(accept) => accept,
        Err(e) => {
            state.metrics.error(ErrorKind::BadRequest);
            let body = format!("{e}\n");
            return refuse(
                &mut framed,
                &state,
                StatusCode::BAD_REQUEST,
                "text/plain",
                &body,
            )
            .await;
        }
    };
    if let Some(protocol) = admitted.subprotocol {
        accept.insert_header((header::SEC_WEBSOCKET_PROTOCOL, protocol));
    }
    // The request is not kept for the tunnel's lifetime: memory per idle tunnel.
    drop(req);
    let mut accept = accept.finish().drop_body();
    common_headers(&mut accept, &state);
    framed.send(H1::Item((accept, BodySize::None))).await?;
    tunnel(state, admitted.client, framed).await;
    Ok(())
}

/// Runs the tunnel on the upgraded connection, or refuses it with a typed error when a cap is
/// reached or the proxy is shutting down.
async fn tunnel(state: Arc<State>, client: IpAddr, framed: Framed<TcpStream, Codec>) {
    // What the browser sent after its request (its `open`, often) was read with the request.
    // The HTTP layer's buffers go now, not at the end of the tunnel.
    let FramedParts { io, read_buf, .. } = framed.into_parts();
    let (read, write) = io.into_split();
    let from_browser = FromBrowser::new(read, read_buf, state.config.max_message_bytes);
    let to_browser = ToBrowser::new(write, state.metrics.clone());

    let slot = state.limits.acquire(client);
    let refusal = match (&slot, *state.lifecycle.borrow()) {
        (_, Lifecycle::Draining | Lifecycle::Closing) => Some(TunnelError::new(
            ErrorKind::ShuttingDown,
            "the proxy is shutting down",
        )),
        (Err(e), _) => Some(TunnelError::new(ErrorKind::LimitReached, e.to_string())),
        (Ok(_), Lifecycle::Running) => None,
    };
    // A refused tunnel's slot is given back now, not after its farewell.
    let slot = match (&refusal, slot) {
        (None, slot) => slot.ok(),
        (Some(_), _) => None,
    };
    let tunnel = Tunnel::new(state, from_browser, to_browser, client, slot);
    match refusal {
        Some(err) => {
            tracing::info!(client = %client, kind = err.kind.as_str(), "tunnel refused");
            tunnel.refuse(err).await;
        }
        None => tunnel.run().await,
    }
}

/// Answers `status` with `body` and closes the connection.
async fn refuse(
    framed: &mut Framed<TcpStream, Codec>,
    state: &State,
    status: StatusCode,
    content_type: &'static str,
    body: &str,
) -> io::Result<()> {
    let mut res = Response::with_body(status, ());
    res.head_mut().set_connection_type(ConnectionType::Close);
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    common_headers(&mut res, state);
    let body = Bytes::copy_from_slice(body.as_bytes());
    // Head and body in one write: some clients read only what arrives with the head.
    framed
        .feed(H1::Item((res, BodySize::Sized(body.len() as u64))))
        .await?;
    framed.feed(H1::Chunk(Some(body))).await?;
    framed.send(H1::Chunk(None)).await
}

/// What every response of the proxy carries (routes.rs adds the same to the app routes').
fn common_headers(res: &mut Response<()>, state: &State) {
    let headers = res.headers_mut();
    static_files::security_headers(headers, &state.site.csp());
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}
