//! The proxy's configuration: an embedded default, an optional TOML file, then environment
//! variables (`POSTBAG_*`) and command-line flags, each layer overriding the one before.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::Parser;
use ipnet::IpNet;
use postbag_protocol::Secret;
use serde::Deserialize;

use crate::oauth_clients::OAuthClient;

/// Everything the proxy needs to run. `Config::default()` is the embedded default: serve the app
/// on 127.0.0.1:8080, relay to the POP3 ports 110 and 995 and the submission ports 587 and 465
/// of any public host, no private targets. Safe on
/// loopback only: on another address [`Config::check_exposure`] refuses it (see exposure.rs).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the HTTP server listens on (used by `main`; `run` takes a listener).
    pub listen: SocketAddr,
    /// Trunk's output directory, served at `/`.
    pub dist: PathBuf,
    /// Upstream ports the tunnel may reach. Empty: none (`from_cli` refuses an empty list).
    pub allow_ports: Vec<u16>,
    /// Upstream host names the tunnel may reach: exact names or `*.example.com`. Only with
    /// `allow_any_public_host = false`, which would allow them all anyway.
    pub allow_hosts: Vec<String>,
    /// Allow any host whose addresses are all public (the private-address rules still apply).
    pub allow_any_public_host: bool,
    /// Consent to run as an open relay on a non-loopback address: with any public host allowed
    /// and no token, anyone who can reach this port can use it to reach any public mail server.
    /// Without it such a configuration refuses to start.
    pub public_relay: bool,
    /// Non-public address ranges that are nevertheless allowed, e.g. `127.0.0.0/8`.
    pub allow_private_cidrs: Vec<IpNet>,
    /// Allowed `Origin` values of the WebSocket handshake, e.g. `https://mail.example.org`;
    /// `"*"`: any origin, which counts as reachable from other machines (like a public page's
    /// origin, see exposure.rs). Empty on a loopback address: the proxy's own origins there
    /// (`http://127.0.0.1:PORT`, `http://localhost:PORT`, `http://[::1]:PORT`). Empty on any
    /// other address: refused at start. Never judged by the request's `Host` header, which a
    /// page whose name was rebound to the proxy's address controls (DNS rebinding).
    pub allowed_origins: Vec<String>,
    /// If set, every tunnel must present this token (see docs/tunnel-protocol.md), and so must
    /// every request for `/metrics` (`Authorization: Bearer <token>`).
    pub token: Option<Secret<String>>,
    /// A PEM file of extra CAs trusted for upstream TLS, besides the web PKI roots.
    pub extra_ca_file: Option<PathBuf>,
    /// Open tunnels in total.
    pub max_tunnels: usize,
    /// Open tunnels per client IP address.
    pub max_tunnels_per_ip: usize,
    /// DNS + TCP connect + TLS handshake, in seconds.
    pub connect_timeout_secs: u64,
    /// A tunnel in which no byte moves either way for this long is closed.
    pub idle_timeout_secs: u64,
    /// Largest WebSocket message accepted from the browser.
    pub max_message_bytes: usize,
    /// On shutdown, open tunnels may run this long before they are closed.
    pub shutdown_grace_secs: u64,
    /// Take the client IP (for the per-IP limit and logs) from the last `X-Forwarded-For` entry
    /// of the last such header line. Only behind a reverse proxy that sets it. Off, requests
    /// carrying `X-Forwarded-For`, `Forwarded`, `X-Real-IP` or `Via` are refused: a reverse
    /// proxy nobody declared would expose a loopback proxy without its checks.
    pub trust_forwarded_for: bool,
    /// HTTP worker threads (0: one per CPU).
    pub workers: usize,
    /// TCP_NODELAY on upstream and accepted sockets. Only the benchmark turns it off, to show
    /// what Nagle's algorithm would cost.
    pub tcp_nodelay: bool,
    /// The OAuth 2 clients registered for this deployment (`[[oauth_clients]]` in the TOML
    /// file), served to the app at `/oauth/clients` without their secrets; see
    /// oauth_clients.rs. A confidential client's secret is added by `/oauth/token`
    /// (oauth_token.rs) and goes nowhere else.
    pub oauth_clients: Vec<OAuthClient>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            dist: PathBuf::from("dist"),
            // POP3 (110) and POP3S (995) to read; submission with STARTTLS (587, RFC 6409) and
            // with implicit TLS (465, RFC 8314) to send. Never 25: that is for servers, and
            // would make the proxy a way to relay spam.
            allow_ports: vec![110, 995, 587, 465],
            allow_hosts: Vec::new(),
            allow_any_public_host: true,
            public_relay: false,
            allow_private_cidrs: Vec::new(),
            allowed_origins: Vec::new(),
            token: None,
            extra_ca_file: None,
            max_tunnels: 1000,
            max_tunnels_per_ip: 20,
            connect_timeout_secs: 10,
            idle_timeout_secs: 300,
            max_message_bytes: 1 << 20,
            shutdown_grace_secs: 10,
            trust_forwarded_for: false,
            workers: 0,
            tcp_nodelay: true,
            oauth_clients: Vec::new(),
        }
    }
}

impl Config {
    /// Reads a TOML file; keys absent from it keep their embedded default.
    pub fn from_toml_file(path: &Path) -> Result<Config, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|e| ConfigError::Read(path.to_path_buf(), e))?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse(path.to_path_buf(), Box::new(e)))
    }

    /// Builds the configuration from the command line (and the environment, through clap) and
    /// checks that it says what it means ([`Config::validate`]). What the listen address
    /// exposes is judged apart (`Config::check_exposure`, exposure.rs): by `main` before it
    /// binds, and by `run` on the address really bound.
    pub fn from_cli(cli: Cli) -> Result<Config, ConfigError> {
        let mut config = match &cli.config {
            Some(path) => Config::from_toml_file(path)?,
            None => Config::default(),
        };
        cli.apply(&mut config);
        if config.allow_ports.is_empty() {
            // An empty list reaches nothing: from a file, that is a mistake.
            return Err(ConfigError::NoPorts);
        }
        config.validate()?;
        Ok(config)
    }

    /// Refuses settings that would silently mean less than they say, whatever the address.
    pub fn validate(&self) -> Result<(), ConfigError> {
        // The list would restrict nothing.
        if self.allow_any_public_host && !self.allow_hosts.is_empty() {
            return Err(ConfigError::HostsIgnored);
        }
        // No browser can present such a token, and an empty one (an unset `POSTBAG_TOKEN=$VAR`)
        // would count as a relay restriction while any client can offer `postbag.token.` with
        // nothing after it.
        if let Some(token) = &self.token
            && !postbag_protocol::tunnel::token_is_sendable(token.expose_secret())
        {
            return Err(ConfigError::TokenUnsendable);
        }
        for (index, client) in self.oauth_clients.iter().enumerate() {
            if let Some(problem) = client.problem() {
                return Err(ConfigError::OAuthClient { index, problem });
            }
        }
        if let Some(index) = crate::oauth_clients::ambiguous(&self.oauth_clients) {
            return Err(ConfigError::OAuthClient {
                index,
                problem: "another client with a client_secret has the same client_id (the \
                          proxy could not tell whose secret a token request needs)"
                    .into(),
            });
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("cannot parse {0}: {1}")]
    Parse(PathBuf, Box<toml::de::Error>),
    #[error("allow_ports is empty: the proxy would reach no server")]
    NoPorts,
    #[error(
        "allow_hosts has no effect while allow_any_public_host is true (every public host is \
         allowed anyway): set allow_any_public_host = false (--allow-any-public-host false, \
         POSTBAG_ALLOW_ANY_PUBLIC_HOST=false) to reach only the listed hosts"
    )]
    HostsIgnored,
    #[error(
        "the token is empty or has characters a browser cannot send (it travels as the \
         WebSocket subprotocol postbag.token.<TOKEN>): use letters, digits and \
         !#$%&'*+-.^_`|~ only, e.g. the output of `openssl rand -hex 32`"
    )]
    TokenUnsendable,
    #[error("oauth_clients entry {index}: {problem}")]
    OAuthClient { index: usize, problem: String },
}

/// Command-line flags. Each flag can also be set by the environment variable named beside it;
/// flags and variables override the TOML file, which overrides the embedded default.
#[derive(Debug, Default, Parser)]
#[command(
    name = "postbag-proxy",
    version,
    about = "Serves the Postbag web app and relays its POP3 connections (WebSocket to TCP/TLS), \
             deny by default.",
    after_help = "Precedence: flags, then POSTBAG_* variables, then the --config TOML file, then \
        the embedded default.\n\nThe embedded default serves the app from ./dist on \
        127.0.0.1:8080 and lets tunnels reach ports 110 and 995 (POP3) and 587 and 465 (mail \
        submission) of any host whose addresses are \
        all public. Loopback, private, link-local, CGNAT, unique-local, multicast, documentation \
        and cloud-metadata addresses are refused unless --allow-private-cidr names them. On a \
        loopback address only the proxy's own pages (http://127.0.0.1:PORT, \
        http://localhost:PORT, http://[::1]:PORT) may open tunnels unless --allowed-origin says \
        otherwise.\n\n\
        On any other address (0.0.0.0, a container) the proxy refuses to start unless \
        --allowed-origin names the URL users open, and either --token is set, or --allow-host \
        lists the mail servers (with --allow-any-public-host false), or --public-relay accepts \
        that anyone who can reach the port can use it to reach any public mail server.\n\n\
        Endpoints: / (the app), /tunnel (WebSocket, see docs/tunnel-protocol.md), /healthz, \
        /metrics (Prometheus; with --token, only with Authorization: Bearer <token>), \
        /oauth/clients and /oauth/token (the [[oauth_clients]] of the file, see docs/oauth.md). SIGTERM or ctrl-c: stop accepting, drain tunnels for \
        --shutdown-grace-secs, exit."
)]
pub struct Cli {
    /// TOML configuration file (keys as in the flags, with underscores: allow_ports = [995]).
    #[arg(long, env = "POSTBAG_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "POSTBAG_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Directory of the built web app (Trunk's output) [default: dist].
    #[arg(long, env = "POSTBAG_DIST")]
    pub dist: Option<PathBuf>,
    /// Upstream port to allow; repeat or comma-separate [default: 110,995,587,465].
    #[arg(
        long = "allow-port",
        env = "POSTBAG_ALLOW_PORTS",
        value_delimiter = ','
    )]
    pub allow_ports: Vec<u16>,
    /// Upstream host to allow: exact name or *.example.com; repeat or comma-separate. Needs
    /// --allow-any-public-host false.
    #[arg(
        long = "allow-host",
        env = "POSTBAG_ALLOW_HOSTS",
        value_delimiter = ','
    )]
    pub allow_hosts: Vec<String>,
    /// Allow any host with only public addresses (true or false) [default: true].
    #[arg(long, env = "POSTBAG_ALLOW_ANY_PUBLIC_HOST")]
    pub allow_any_public_host: Option<bool>,
    /// On a non-loopback address with any public host and no token: accept that anyone who can
    /// reach this port can use it to reach any public mail server [default: false].
    #[arg(
        long,
        env = "POSTBAG_PUBLIC_RELAY",
        num_args = 0..=1,
        default_missing_value = "true"
    )]
    pub public_relay: Option<bool>,
    /// Non-public range to allow anyway, e.g. 10.0.0.0/8 or 127.0.0.0/8; repeat or comma-separate.
    #[arg(
        long = "allow-private-cidr",
        env = "POSTBAG_ALLOW_PRIVATE_CIDRS",
        value_delimiter = ','
    )]
    pub allow_private_cidrs: Vec<IpNet>,
    /// Allowed WebSocket Origin: the URL users open, e.g. https://mail.example.com; "*" for any
    /// (which, like a public URL, needs a token, a host list or --public-relay); repeat or
    /// comma-separate. Default on loopback: the proxy's own origins; required
    /// elsewhere.
    #[arg(
        long = "allowed-origin",
        env = "POSTBAG_ALLOWED_ORIGINS",
        value_delimiter = ','
    )]
    pub allowed_origins: Vec<String>,
    /// Access token every tunnel must present (private deployments). Prefer the variable.
    #[arg(long, env = "POSTBAG_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// PEM file with extra CAs to trust for upstream TLS (self-hosted mail servers).
    #[arg(long, env = "POSTBAG_EXTRA_CA_FILE")]
    pub extra_ca_file: Option<PathBuf>,
    /// Maximum open tunnels in total [default: 1000].
    #[arg(long, env = "POSTBAG_MAX_TUNNELS")]
    pub max_tunnels: Option<usize>,
    /// Maximum open tunnels per client IP [default: 20].
    #[arg(long, env = "POSTBAG_MAX_TUNNELS_PER_IP")]
    pub max_tunnels_per_ip: Option<usize>,
    /// Seconds allowed for DNS, TCP connect and TLS handshake [default: 10].
    #[arg(long, env = "POSTBAG_CONNECT_TIMEOUT_SECS")]
    pub connect_timeout_secs: Option<u64>,
    /// Seconds without traffic after which a tunnel is closed [default: 300].
    #[arg(long, env = "POSTBAG_IDLE_TIMEOUT_SECS")]
    pub idle_timeout_secs: Option<u64>,
    /// Largest WebSocket message accepted from the browser, in bytes [default: 1048576].
    #[arg(long, env = "POSTBAG_MAX_MESSAGE_BYTES")]
    pub max_message_bytes: Option<usize>,
    /// Seconds open tunnels may keep running after SIGTERM/ctrl-c [default: 10].
    #[arg(long, env = "POSTBAG_SHUTDOWN_GRACE_SECS")]
    pub shutdown_grace_secs: Option<u64>,
    /// Trust the last X-Forwarded-For entry as the client IP (behind a reverse proxy only);
    /// without it, forwarded requests are refused [default: false].
    #[arg(long, env = "POSTBAG_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: Option<bool>,
    /// HTTP worker threads; 0 for one per CPU [default: 0].
    #[arg(long, env = "POSTBAG_WORKERS")]
    pub workers: Option<usize>,
    /// Disable Nagle's algorithm on both sides (true or false); only for measurements [default: true].
    #[arg(long, env = "POSTBAG_TCP_NODELAY")]
    pub tcp_nodelay: Option<bool>,
}

impl Cli {
    fn apply(self, c: &mut Config) {
        fn set<T>(slot: &mut T, value: Option<T>) {
            if let Some(v) = value {
                *slot = v;
            }
        }
        fn set_list<T>(slot: &mut Vec<T>, value: Vec<T>) {
            if !value.is_empty() {
                *slot = value;
            }
        }
        set(&mut c.listen, self.listen);
        set(&mut c.dist, self.dist);
        set_list(&mut c.allow_ports, self.allow_ports);
        set_list(&mut c.allow_hosts, self.allow_hosts);
        set(&mut c.allow_any_public_host, self.allow_any_public_host);
        set(&mut c.public_relay, self.public_relay);
        set_list(&mut c.allow_private_cidrs, self.allow_private_cidrs);
        set_list(&mut c.allowed_origins, self.allowed_origins);
        if let Some(t) = self.token {
            c.token = Some(Secret::new(t));
        }
        if let Some(p) = self.extra_ca_file {
            c.extra_ca_file = Some(p);
        }
        set(&mut c.max_tunnels, self.max_tunnels);
        set(&mut c.max_tunnels_per_ip, self.max_tunnels_per_ip);
        set(&mut c.connect_timeout_secs, self.connect_timeout_secs);
        set(&mut c.idle_timeout_secs, self.idle_timeout_secs);
        set(&mut c.max_message_bytes, self.max_message_bytes);
        set(&mut c.shutdown_grace_secs, self.shutdown_grace_secs);
        set(&mut c.trust_forwarded_for, self.trust_forwarded_for);
        set(&mut c.workers, self.workers);
        set(&mut c.tcp_nodelay, self.tcp_nodelay);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cli(args: &[&str]) -> Cli {
        let mut all = vec!["postbag-proxy"];
        all.extend_from_slice(args);
        Cli::try_parse_from(all).unwrap()
    }

    #[test]
    fn embedded_default_is_public_pop3_on_localhost() {
        let c = Config::from_cli(cli(&[])).unwrap();
        assert_eq!(c.listen, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(c.allow_ports, vec![110, 995, 587, 465]);
        // Submission (issue 14) beside POP3, and nothing else: not SMTP relay (25), not IMAP.
        let policy = crate::policy::Policy::new(&c);
        for port in [110, 995, 587, 465] {
            assert_eq!(policy.check_request("mail.example.org", port), Ok(()));
        }
        for port in [25, 143, 993, 2525] {
            assert!(
                policy.check_request("mail.example.org", port).is_err(),
                "{port}"
            );
        }
        assert!(c.allow_any_public_host);
        assert!(c.allow_private_cidrs.is_empty());
        assert!(c.token.is_none());
    }

    #[test]
    fn flags_override_the_file() {
        let dir = std::env::temp_dir().join(format!("postbag-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("proxy.toml");
        std::fs::write(
            &file,
            "allow_ports = [995]\nallow_hosts = [\"*.example.com\"]\nallow_any_public_host = false\n\
             max_tunnels = 5\ntoken = \"s3cret\"\n",
        )
        .unwrap();
        let c = Config::from_cli(cli(&[
            "--config",
            file.to_str().unwrap(),
            "--max-tunnels",
            "7",
            "--allow-private-cidr",
            "10.0.0.0/8,127.0.0.0/8",
        ]))
        .unwrap();
        assert_eq!(c.allow_ports, vec![995]);
        assert_eq!(c.allow_hosts, vec!["*.example.com".to_string()]);
        assert!(!c.allow_any_public_host);
        assert_eq!(c.max_tunnels, 7);
        assert_eq!(c.allow_private_cidrs.len(), 2);
        assert_eq!(c.token, Some(Secret::new("s3cret".to_string())));
        assert!(
            !format!("{c:?}").contains("s3cret"),
            "the token leaks through Debug"
        );
    }

    #[test]
    fn a_host_list_beside_any_public_host_is_refused() {
        let c = Config {
            allow_hosts: vec!["pop.example.org".into()],
            ..Config::default()
        };
        let err = c.validate().unwrap_err();
        assert!(matches!(err, ConfigError::HostsIgnored), "{err}");
        assert!(err.to_string().contains("allow_any_public_host"), "{err}");
        assert!(
            Config::from_cli(cli(&["--allow-host", "pop.example.org"]))
                .unwrap_err()
                .to_string()
                .contains("allow_any_public_host = false")
        );
    }

    #[test]
    fn an_empty_or_unsendable_token_is_refused() {
        for token in ["", "two words", "base64/with=="] {
            let c = Config {
                token: Some(Secret::new(token.into())),
                ..Config::default()
            };
            let err = c.validate().unwrap_err();
            assert!(
                matches!(err, ConfigError::TokenUnsendable),
                "{token:?}: {err}"
            );
            assert!(!err.to_string().contains(token) || token.is_empty());
        }
    }

    #[test]
    fn an_empty_port_list_from_the_file_is_refused() {
        let dir = std::env::temp_dir().join(format!("postbag-cfg-ports-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("proxy.toml");
        std::fs::write(&file, "allow_ports = []\n").unwrap();
        let err = Config::from_cli(cli(&["--config", file.to_str().unwrap()])).unwrap_err();
        assert!(matches!(err, ConfigError::NoPorts), "{err}");
    }

    #[test]
    fn unknown_keys_in_the_file_are_errors() {
        let parsed: Result<Config, _> = toml::from_str("alow_ports = [1]\n");
        assert!(parsed.is_err());
    }
}
