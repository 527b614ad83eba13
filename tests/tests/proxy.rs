//! The real proxy, started by `postbag_proxy::run` as `main` starts it, driven by native
//! WebSocket clients and raw sockets: relaying POP3 from a real Dovecot, the deny-by-default
//! policy, limits and backpressure, the browser's frames attacked on the wire, the web server.
//!
//! One test binary; the modules live in `tests/tests/proxy/` (the harness: postbag_tests::
//! proxy_harness).

// The POP3 client through the proxy to a real Dovecot, in each TLS mode; typed connect failures.
#[path = "proxy/tunnel.rs"]
mod tunnel;
// Deny by default: every policy rule answered with its documented error, no upstream connection.
#[path = "proxy/policy.rs"]
mod policy;
// Tunnel caps, idle timeout, message size, a slow browser, graceful shutdown.
#[path = "proxy/limits.rs"]
mod limits;
// The browser's frames attacked over raw sockets: the guarantees of a WebSocket library.
#[path = "proxy/frames.rs"]
mod frames;
// A self-signed `CA:TRUE` certificate refused as a CA and accepted by its pin.
#[path = "proxy/pin.rs"]
mod pin;
// The proxy as a web server: the app, CSP, cache headers, /healthz, /metrics, the tunnel path.
#[path = "proxy/http.rs"]
mod http;
// The app sent compressed by Accept-Encoding (brotli, gzip), and what the service worker caches.
#[path = "proxy/compression.rs"]
mod compression;
// /oauth/token against a scripted token endpoint: the secret added, nothing else forwarded,
// sizes bounded, nothing secret logged.
#[path = "proxy/oauth_token.rs"]
mod oauth_token;
// /oauth/token's rate per client address: a burst, then 429 with Retry-After, per address.
#[path = "proxy/oauth_token_rate.rs"]
mod oauth_token_rate;
// The scripted token endpoint and the app's token requests both of those use.
#[path = "proxy/token_endpoint.rs"]
mod token_endpoint;
