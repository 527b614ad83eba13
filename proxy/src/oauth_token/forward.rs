//! The one HTTP request `/oauth/token` makes: a POST to a configured token endpoint, over a
//! connection opened for it and closed after it (no pool, no redirects followed, HTTP/1.1).
//! hyper speaks HTTP; the socket, the TLS session (the proxy's own trust: web PKI roots plus
//! `extra_ca_file`) and every bound are here: [`TIMEOUT`] for everything from the name lookup
//! to the answer's last byte, [`MAX_ANSWER`] for the answer's body, judged on its announced
//! length first and then on what arrives.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::header::{ACCEPT, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HOST, USER_AGENT};
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use rustls_pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// From the name lookup to the answer's last byte. Under the app's own 20 s, so the app hears
/// the proxy's reason rather than its own timeout.
pub const TIMEOUT: Duration = Duration::from_secs(15);
/// A token answer with an ID token is a few KiB; error answers are smaller.
pub const MAX_ANSWER: usize = 64 * 1024;

/// The token endpoint's answer: its status and JSON body.
pub struct Forwarded {
    pub status: u16,
    pub body: Bytes,
}

/// Why the token endpoint gave no usable answer. Never holds anything the provider sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ForwardError {
    #[error("the token endpoint's host has no address")]
    NoAddress,
    #[error("cannot connect to the token endpoint ({0})")]
    Connect(std::io::ErrorKind),
    #[error(
        "TLS with the token endpoint failed (its certificate is not trusted, or the handshake failed)"
    )]
    Tls,
    #[error("the token endpoint broke off the HTTP exchange")]
    Http,
    #[error("the token endpoint did not answer within {} s", TIMEOUT.as_secs())]
    TimedOut,
    #[error("the token endpoint's answer is larger than {MAX_ANSWER} bytes")]
    TooLarge,
    #[error("the token endpoint answered HTTP {0}, which is not a token answer")]
    Status(u16),
    #[error("the token endpoint's answer is not JSON")]
    NotJson,
}

impl ForwardError {
    /// The `error` code the app is given.
    pub fn code(&self) -> &'static str {
        match self {
            ForwardError::TimedOut => "token_endpoint_timeout",
            ForwardError::TooLarge => "token_endpoint_answer_too_large",
            ForwardError::Status(_) | ForwardError::NotJson => "token_endpoint_bad_answer",
            _ => "token_endpoint_unreachable",
        }
    }
}

/// POSTs the form `body` to `url`, with `authorization` if given, and reads the answer.
pub async fn post(
    url: &url::Url,
    tls: &Arc<ClientConfig>,
    body: String,
    authorization: Option<String>,
) -> Result<Forwarded, ForwardError> {
    tokio::time::timeout(TIMEOUT, exchange(url, tls, body, authorization))
        .await
        .unwrap_or(Err(ForwardError::TimedOut))
}

async fn exchange(
    url: &url::Url,
    tls: &Arc<ClientConfig>,
    body: String,
    authorization: Option<String>,
) -> Result<Forwarded, ForwardError> {
    // `token_url` only gives https URLs, or http ones on loopback.
    let host = url.host_str().ok_or(ForwardError::NoAddress)?;
    let port = url.port_or_known_default().ok_or(ForwardError::NoAddress)?;
    let tcp = connect(host.trim_start_matches('[').trim_end_matches(']'), port).await?;
    let _ = tcp.set_nodelay(true);
    let mut request = hyper::Request::post(match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    })
    .header(
        HOST,
        &url[url::Position::BeforeHost..url::Position::AfterPort],
    )
    .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
    .header(ACCEPT, "application/json")
    .header(CONTENT_LENGTH, body.len())
    .header(
        USER_AGENT,
        concat!("postbag-proxy/", env!("CARGO_PKG_VERSION")),
    );
    if let Some(value) = authorization {
        request = request.header(AUTHORIZATION, value);
    }
    let request = request
        .body(Full::new(Bytes::from(body)))
        .map_err(|_| ForwardError::Http)?;
    if url.scheme() == "https" {
        let name = ServerName::try_from(host.to_string()).map_err(|_| ForwardError::NoAddress)?;
        let stream = TlsConnector::from(tls.clone())
            .connect(name, tcp)
            .await
            .map_err(|_| ForwardError::Tls)?;
        send(TokioIo::new(stream), request).await
    } else {
        send(TokioIo::new(tcp), request).await
    }
}

/// Resolves `host` and connects to the first of its addresses that answers.
async fn connect(host: &str, port: u16) -> Result<TcpStream, ForwardError> {
    let addrs = tokio::net::lookup_host((host, port))
        .await
        .map_err(|_| ForwardError::NoAddress)?;
    let mut last = ForwardError::NoAddress;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(stream) => return Ok(stream),
            Err(e) => last = ForwardError::Connect(e.kind()),
        }
    }
    Err(last)
}

/// One request on a fresh HTTP/1.1 connection, which is driven here, beside the exchange,
/// and dropped with it: nothing outlives the call.
async fn send<T>(
    io: TokioIo<T>,
    request: hyper::Request<Full<Bytes>>,
) -> Result<Forwarded, ForwardError>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|_| ForwardError::Http)?;
    let exchange = async move {
        let response = sender
            .send_request(request)
            .await
            .map_err(|_| ForwardError::Http)?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) && !(400..500).contains(&status) {
            return Err(ForwardError::Status(status));
        }
        let json = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| {
                let v = v.trim().to_ascii_lowercase();
                v == "application/json" || v.ends_with("+json")
            });
        if !json {
            return Err(ForwardError::NotJson);
        }
        let announced = response
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if announced.is_some_and(|n| n > MAX_ANSWER as u64) {
            return Err(ForwardError::TooLarge);
        }
        let body = Limited::new(response.into_body(), MAX_ANSWER)
            .collect()
            .await
            .map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    ForwardError::TooLarge
                } else {
                    ForwardError::Http
                }
            })?
            .to_bytes();
        Ok(Forwarded { status, body })
    };
    let mut connection = std::pin::pin!(connection);
    let mut exchange = std::pin::pin!(exchange);
    tokio::select! {
        result = &mut exchange => result,
        // The connection ended first (closed, or an error): the exchange settles with what
        // it had, or fails.
        _ = &mut connection => exchange.await,
    }
}
