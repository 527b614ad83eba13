//! The Postbag proxy: relays POP3 bytes between a browser WebSocket and a mail server over TCP or
//! TLS, and serves the built web app.
//!
//! Architecture invariant: the proxy never parses POP3. It sees only the tunnel's control
//! messages and opaque bytes.
//!
//! One entry point, [`run`], for `main` and the tests alike. Code map, each module above the
//! ones it uses (none uses a module that uses it):
//! - `server`: [`run`], the HTTP server's assembly and its stop; `routes`: the app, `/healthz`,
//!   `/metrics`; `upgrade`: takes the connection at the WebSocket upgrade.
//! - `tunnel`: one relay loop per WebSocket; `pump`: the mail server's bytes to frames;
//!   `ws`: the framing, straight on the socket; `frame`: the browser's frames judged on their
//!   header, before their payload is read; `splice`: the zero-copy path (Linux);
//!   `upstream`: resolve once, check, connect, TLS; `read_ahead`: a TLS upstream's socket read in
//!   large pieces; `tls` + `x509`: trust, pinning, what the app is told about a certificate;
//!   `control`: the browser's JSON control messages.
//! - `handshake`: forwarding headers, Origin, token, subprotocol and client address, before the
//!   upgrade; `state`: what every request shares ([`State`](state::State)) and where the
//!   proxy is in its life (`Lifecycle`: running, draining, closing).
//! - `config`: the embedded default, TOML file, environment and flags; `exposure`: what the
//!   listen address exposes, the configurations refused there, the origins allowed there;
//!   `policy`: address classification and the deny-by-default target rules, pure.
//! - `oauth_clients`: the OAuth clients served to the app; `oauth_token`: a confidential
//!   client's token requests, forwarded with its secret to its token endpoint only.
//! - `static_files`: the app, CSP, cache headers; `precompressed`: the build's brotli and gzip
//!   copies by `Accept-Encoding`; `metrics`, `limits`: counters for `/metrics`,
//!   the tunnel caps and `/oauth/token`'s rate per address; `log_safe`: peer text escaped and cut for the log.

mod config;
mod control;
mod exposure;
mod frame;
mod handshake;
mod limits;
mod log_safe;
mod metrics;
mod oauth_clients;
mod oauth_token;
mod policy;
mod precompressed;
mod pump;
mod read_ahead;
mod routes;
mod server;
#[cfg(target_os = "linux")]
mod splice;
mod state;
mod static_files;
mod tls;
mod tunnel;
mod upgrade;
mod upstream;
mod ws;
mod x509;

pub use config::{Cli, Config, ConfigError};
pub use exposure::{Exposed, Missing, StartRefused};
pub use oauth_clients::{ClientAuth, OAuthClient, OAuthProvider};
/// The protocol crate's one secret type, which the access token travels in.
pub use postbag_protocol::Secret;
pub use server::{Shutdown, run};

/// What the tests and the fuzz targets (proxy/fuzz) reach inside the proxy: the pure parsers of
/// what the browser sends, and the bound the buffer tests hold the proxy to. Not an API: only
/// the `testing` feature builds it.
#[cfg(feature = "testing")]
pub mod testing {
    pub use crate::control::parse as parse_control;
    pub use crate::frame::{FrameError, FrameReader, check_header};
    pub use crate::log_safe::{MAX_LOGGED_CHARS, Untrusted};
    pub use crate::pump::MAX_HELD;
    pub use postbag_protocol::tunnel::{ClientMessage, ErrorKind};
}
