//! What the listen address exposes, and the configurations the proxy refuses to start with.
//!
//! On a loopback address only programs on this machine reach the proxy, and the only pages that
//! may open tunnels are the ones it serves itself, so the embedded default (any public host, no
//! token) is safe there. On any other address other machines reach it too: it starts only when
//! the configuration says which page may use it (`allowed_origins`) and who may relay through it
//! (a token, a list of mail servers, or the loudly named `public_relay` opt-in).
//!
//! The checks take the address the proxy really listens on: `main` passes `listen` before it
//! binds, `run` the listener's local address (tests bind port 0). [`Origins`], the pages that
//! may open tunnels, are settled from the same address.

use std::net::{IpAddr, SocketAddr};

use crate::config::{Config, ConfigError};

/// A proxy that other machines can reach, configured as if they could not.
#[derive(Debug, thiserror::Error)]
#[error(
    "refusing to listen on {listen}: other machines can reach the proxy there (it is not a \
     loopback address, or a reverse proxy is in front: trust_forwarded_for, or an allowed \
     origin that is not this machine's), and{}",
    list(missing)
)]
pub struct Exposed {
    pub listen: SocketAddr,
    /// One line each, in the message.
    pub missing: Vec<Missing>,
}

/// Why the proxy will not start: its settings contradict themselves, or they expose it.
#[derive(Debug, thiserror::Error)]
pub enum StartRefused {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Exposed(#[from] Exposed),
}

/// One thing a proxy on a non-loopback address must be told before it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// `allowed_origins` is empty, and there is no own origin to fall back on.
    Origins,
    /// Any public host, no token, no `public_relay`: an open POP3 relay.
    RelayRestriction,
    /// A token shorter than [`MIN_TOKEN_CHARS`].
    LongerToken,
    /// A confidential OAuth client and no token: `/oauth/token` would redeem anyone's codes
    /// and refresh tokens with the deployment's secret.
    TokenForClientSecret,
}

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Missing::Origins => {
                "allowed_origins is empty: set allowed_origins to the URL users open, e.g. \
                 https://mail.example.org (--allowed-origin, POSTBAG_ALLOWED_ORIGINS)"
            }
            Missing::LongerToken => {
                "the token is shorter than 16 characters, too easy to guess for a proxy other \
                 machines can reach: use e.g. `openssl rand -hex 32`"
            }
            Missing::RelayRestriction => {
                "any public host is allowed and no token is required, so anyone who can reach \
                 this port could use it to reach any public mail server: list the mail servers \
                 it may reach (--allow-host pop.example.org --allow-any-public-host false), or \
                 require a token from every client (--token, POSTBAG_TOKEN), or accept an open \
                 relay explicitly (--public-relay, POSTBAG_PUBLIC_RELAY=true)"
            }
            Missing::TokenForClientSecret => {
                "an [[oauth_clients]] entry has a client_secret and no token is required, so \
                 anyone who can reach this port could redeem a stolen authorization code or \
                 refresh token with this deployment's secret (/oauth/token): require a token \
                 from every client (--token, POSTBAG_TOKEN)"
            }
        })
    }
}

/// The shortest access token accepted on a proxy that other machines can reach.
pub const MIN_TOKEN_CHARS: usize = 16;

/// Whether `origin` (`scheme://host[:port]`) names a page on this machine.
fn is_loopback_origin(origin: &str) -> bool {
    let Some((_, authority)) = origin.split_once("://") else {
        return false;
    };
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.split(':').next().unwrap_or(""),
    };
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(is_loopback)
}

/// Loopback, IPv4-mapped loopback included.
pub fn is_loopback(ip: IpAddr) -> bool {
    ip.to_canonical().is_loopback()
}

/// The origins of the pages this proxy serves itself when it listens on the loopback address
/// `listen`: the address as written, `localhost` and the other loopback literal, on the same
/// port. Nothing for any other address: a name that other machines use to reach the proxy is
/// not known here, and trusting the request's own `Host` header would let a page whose name was
/// rebound to this address pass (DNS rebinding).
pub fn own_origins(listen: SocketAddr) -> Vec<String> {
    if !is_loopback(listen.ip()) {
        return Vec::new();
    }
    // A browser leaves the scheme's default port out of `Origin`.
    let port = match listen.port() {
        80 => String::new(),
        p => format!(":{p}"),
    };
    let mut origins = vec![
        format!("http://127.0.0.1{port}"),
        format!("http://localhost{port}"),
        format!("http://[::1]{port}"),
    ];
    // 127.0.0.2 and the like serve pages of their own origin too.
    let written = match listen.ip().to_canonical() {
        IpAddr::V4(v4) => format!("http://{v4}{port}"),
        IpAddr::V6(v6) => format!("http://[{v6}]{port}"),
    };
    if !origins.contains(&written) {
        origins.push(written);
    }
    origins
}

impl Config {
    /// Refuses what would expose more than the owner of this configuration can have meant, for
    /// a proxy listening on `listen`; first, what contradicts itself anywhere
    /// ([`Config::validate`]).
    pub fn check_exposure(&self, listen: SocketAddr) -> Result<(), StartRefused> {
        self.validate()?;
        if !self.reachable_from_elsewhere(listen) {
            return Ok(());
        }
        let mut missing = Vec::new();
        if self.allowed_origins.is_empty() {
            missing.push(Missing::Origins);
        }
        if self.is_public_relay(listen) && !self.public_relay {
            missing.push(Missing::RelayRestriction);
        }
        // The secret is what tells the provider a request comes from this deployment; the
        // route that adds it must not be open to whoever reaches the port (no browser Origin
        // keeps a script out). A list of mail servers limits the tunnel, not this route.
        if self.token.is_none() && self.oauth_clients.iter().any(|c| c.client_secret.is_some()) {
            missing.push(Missing::TokenForClientSecret);
        }
        // 401s are not rate limited: a token that keeps other machines out must resist guessing.
        if let Some(token) = &self.token
            && token.expose_secret().chars().count() < MIN_TOKEN_CHARS
        {
            missing.push(Missing::LongerToken);
        }
        if missing.is_empty() {
            Ok(())
        } else {
            Err(Exposed { listen, missing }.into())
        }
    }

    /// Whether other machines can reach the proxy on `listen`: it listens on a non-loopback
    /// address, or it listens on loopback behind a reverse proxy on the same host. The latter
    /// shows in the configuration: it trusts `X-Forwarded-For`, or it allows page origins that
    /// are not this machine's (the public URL the reverse proxy serves, or `*`, any page at
    /// all). Non-browser clients send no `Origin`, so the origin list alone does not keep them
    /// out. A reverse proxy that the configuration does not declare shows in the requests
    /// instead: the handshake refuses forwarded requests unless `trust_forwarded_for` is on.
    pub fn reachable_from_elsewhere(&self, listen: SocketAddr) -> bool {
        !is_loopback(listen.ip())
            || self.trust_forwarded_for
            || self.allowed_origins.iter().any(|o| !is_loopback_origin(o))
    }

    /// Whether the proxy on `listen` is an open relay: any public host, no token, reachable from
    /// other machines. Refused without `public_relay`, and said again at start with it.
    pub fn is_public_relay(&self, listen: SocketAddr) -> bool {
        self.reachable_from_elsewhere(listen) && self.allow_any_public_host && self.token.is_none()
    }
}

/// The lines of [`Exposed`]: one per missing setting.
fn list(missing: &[Missing]) -> String {
    missing.iter().map(|m| format!("\n  - {m}")).collect()
}

/// Which `Origin`s may open tunnels, settled once from the configuration and the address the
/// proxy listens on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origins {
    Any,
    Only(Vec<String>),
}

impl Origins {
    /// The configured list, or, when it is empty, the proxy's own origins on its loopback
    /// `listen` address (none on another address, which `Config::check_exposure` refuses).
    pub fn new(configured: &[String], listen: SocketAddr) -> Origins {
        if configured.iter().any(|o| o == "*") {
            Origins::Any
        } else if configured.is_empty() {
            Origins::Only(own_origins(listen))
        } else {
            // A trailing slash is easy to copy from the address bar; an Origin never has one.
            let list = configured
                .iter()
                .map(|o| o.trim_end_matches('/').to_string());
            Origins::Only(list.collect())
        }
    }

    /// Browsers always send `Origin` on a WebSocket handshake; a request without one is not from
    /// a browser page, and any non-browser client could forge the header anyway, so it passes.
    pub fn allow(&self, origin: Option<&str>) -> bool {
        match (self, origin) {
            (_, None) | (Origins::Any, _) => true,
            (Origins::Only(list), Some(origin)) => {
                list.iter().any(|a| a.eq_ignore_ascii_case(origin))
            }
        }
    }
}

#[cfg(test)]
mod tests;
