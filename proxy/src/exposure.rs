//! What the listen address exposes, and the configurations the proxy refuses to start with.
//!
//! On a loopback address only programs on this machine reach the proxy, and the only pages that
//! may open tunnels are the ones it serves itself, so the embedded default (any public host, no
//! token) is safe there. On any other address other machines reach it too: it starts only when
//! the configuration says which page may use it (`allowed_origins`) and who may relay through it
//! (a token, a list of mail servers, or the loudly named `public_relay` opt-in).
//!
//! The checks take the address the proxy really listens on: `Config::from_cli` passes
//! `listen`, `spawn`/`run` pass the listener's local address (tests bind port 0).

use std::net::{IpAddr, SocketAddr};

use crate::config::{Config, ConfigError};

/// One thing a proxy on a non-loopback address must be told before it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// `allowed_origins` is empty, and there is no own origin to fall back on.
    Origins,
    /// Any public host, no token, no `public_relay`: an open POP3 relay.
    RelayRestriction,
}

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Missing::Origins => {
                "allowed_origins is empty: set allowed_origins to the URL users open, e.g. \
                 https://mail.example.org (--allowed-origin, POSTBAG_ALLOWED_ORIGINS)"
            }
            Missing::RelayRestriction => {
                "any public host is allowed and no token is required, so anyone who can reach \
                 this port could use it to reach any public POP3 server: list the mail servers \
                 it may reach (--allow-host pop.example.org --allow-any-public-host false), or \
                 require a token from every client (--token, POSTBAG_TOKEN), or accept an open \
                 relay explicitly (--public-relay, POSTBAG_PUBLIC_RELAY=true)"
            }
        })
    }
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
    let port = listen.port();
    let mut origins = vec![
        format!("http://127.0.0.1:{port}"),
        format!("http://localhost:{port}"),
        format!("http://[::1]:{port}"),
    ];
    // 127.0.0.2 and the like serve pages of their own origin too.
    let written = format!(
        "http://{}",
        SocketAddr::new(listen.ip().to_canonical(), port)
    );
    if !origins.contains(&written) {
        origins.push(written);
    }
    origins
}

impl Config {
    /// Refuses what would expose more than the owner of this configuration can have meant, for
    /// a proxy listening on `listen`.
    pub fn check_exposure(&self, listen: SocketAddr) -> Result<(), ConfigError> {
        // Checked everywhere: the list would silently restrict nothing.
        if self.allow_any_public_host && !self.allow_hosts.is_empty() {
            return Err(ConfigError::HostsIgnored);
        }
        // Also everywhere: no browser can present such a token, and an empty one (an unset
        // `POSTBAG_TOKEN=$VAR`) would count as a relay restriction while any client can
        // offer `postbag.token.` with nothing after it.
        if let Some(token) = &self.token
            && !postbag_protocol::tunnel::token_is_sendable(&token.0)
        {
            return Err(ConfigError::TokenUnsendable);
        }
        if is_loopback(listen.ip()) {
            return Ok(());
        }
        let mut missing = Vec::new();
        if self.allowed_origins.is_empty() {
            missing.push(Missing::Origins);
        }
        if self.is_public_relay(listen) && !self.public_relay {
            missing.push(Missing::RelayRestriction);
        }
        if missing.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::Exposed { listen, missing })
        }
    }

    /// Whether the proxy on `listen` is an open relay: any public host, no token, reachable from
    /// other machines. Refused without `public_relay`, and said again at start with it.
    pub fn is_public_relay(&self, listen: SocketAddr) -> bool {
        !is_loopback(listen.ip()) && self.allow_any_public_host && self.token.is_none()
    }
}

/// The lines of [`ConfigError::Exposed`]: one per missing setting.
pub(crate) fn list(missing: &[Missing]) -> String {
    missing.iter().map(|m| format!("\n  - {m}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    /// `adjust` applied to the embedded default, checked as if listening on `listen`.
    fn check(listen: &str, adjust: impl FnOnce(&mut Config)) -> Result<(), Vec<Missing>> {
        let mut c = Config::default();
        adjust(&mut c);
        match c.check_exposure(addr(listen)) {
            Ok(()) => Ok(()),
            Err(ConfigError::Exposed { missing, .. }) => Err(missing),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn the_embedded_default_is_fine_on_loopback_only() {
        for listen in [
            "127.0.0.1:8080",
            "127.0.0.2:1",
            "[::1]:8080",
            "[::ffff:127.0.0.1]:80",
        ] {
            assert_eq!(check(listen, |_| {}), Ok(()), "{listen}");
        }
        for listen in ["0.0.0.0:8080", "[::]:8080", "192.168.1.5:8080"] {
            assert_eq!(
                check(listen, |_| {}),
                Err(vec![Missing::Origins, Missing::RelayRestriction]),
                "{listen}"
            );
        }
    }

    #[test]
    fn a_public_listener_needs_origins_and_a_relay_restriction() {
        let origins = |c: &mut Config| c.allowed_origins = vec!["https://mail.example.org".into()];
        let public = "0.0.0.0:8080";
        assert_eq!(check(public, origins), Err(vec![Missing::RelayRestriction]));
        assert_eq!(
            check(public, |c| c.public_relay = true),
            Err(vec![Missing::Origins])
        );
        assert_eq!(
            check(public, |c| {
                origins(c);
                c.token = Some(Secret("t".into()));
            }),
            Ok(())
        );
        assert_eq!(
            check(public, |c| {
                origins(c);
                c.allow_any_public_host = false;
                c.allow_hosts = vec!["pop.example.org".into()];
            }),
            Ok(())
        );
        assert_eq!(
            check(public, |c| {
                origins(c);
                c.public_relay = true;
            }),
            Ok(())
        );
    }

    #[test]
    fn a_host_list_beside_any_public_host_is_refused_everywhere() {
        for listen in ["127.0.0.1:8080", "0.0.0.0:8080"] {
            let c = Config {
                allow_hosts: vec!["pop.example.org".into()],
                allowed_origins: vec!["https://mail.example.org".into()],
                ..Config::default()
            };
            let err = c.check_exposure(addr(listen)).unwrap_err();
            assert!(matches!(err, ConfigError::HostsIgnored), "{err}");
            assert!(err.to_string().contains("allow_any_public_host"), "{err}");
        }
    }

    #[test]
    fn an_empty_or_unsendable_token_is_refused_everywhere() {
        for token in ["", "two words", "base64/with=="] {
            for listen in ["127.0.0.1:8080", "0.0.0.0:8080"] {
                let c = Config {
                    token: Some(Secret(token.into())),
                    allowed_origins: vec!["https://mail.example.org".into()],
                    ..Config::default()
                };
                let err = c.check_exposure(addr(listen)).unwrap_err();
                assert!(
                    matches!(err, ConfigError::TokenUnsendable),
                    "{token:?}: {err}"
                );
                assert!(!err.to_string().contains(token) || token.is_empty());
            }
        }
    }

    #[test]
    fn the_error_says_what_to_set() {
        let err = Config::default()
            .check_exposure(addr("0.0.0.0:8080"))
            .unwrap_err()
            .to_string();
        for hint in [
            "0.0.0.0:8080",
            "--allowed-origin",
            "--allow-host",
            "--token",
            "--public-relay",
        ] {
            assert!(err.contains(hint), "{hint} missing from: {err}");
        }
    }

    #[test]
    fn own_origins_of_a_loopback_listener() {
        assert_eq!(
            own_origins(addr("127.0.0.1:5000")),
            [
                "http://127.0.0.1:5000",
                "http://localhost:5000",
                "http://[::1]:5000"
            ]
        );
        assert_eq!(own_origins(addr("[::1]:5000")).len(), 3);
        assert_eq!(
            own_origins(addr("127.0.0.2:5000")).last().unwrap(),
            "http://127.0.0.2:5000"
        );
        assert!(own_origins(addr("0.0.0.0:5000")).is_empty());
        assert!(own_origins(addr("10.0.0.1:5000")).is_empty());
    }
}
