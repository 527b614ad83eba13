//! What every request and every tunnel shares: the settled configuration and where the proxy is in its life.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::watch;

use crate::config::Config;
use crate::exposure::Origins;
use crate::limits::Limits;
use crate::metrics::Metrics;
use crate::oauth_token::TokenRequests;
use crate::policy::Policy;
use crate::static_files::Site;
use crate::tls::Trust;

/// Where the proxy is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifecycle {
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
    /// `/oauth/token`'s cap and TLS configuration.
    pub token_requests: TokenRequests,
    pub lifecycle: watch::Receiver<Lifecycle>,
}

impl State {
    /// Settles `config` for a proxy listening on `listen`: reads the extra CA file, derives the
    /// allowed origins, sets up the caps. Fails only on an unreadable CA file.
    pub fn new(
        config: Config,
        listen: SocketAddr,
        lifecycle: watch::Receiver<Lifecycle>,
    ) -> std::io::Result<State> {
        let trust = Trust::new(config.extra_ca_file.as_deref()).map_err(std::io::Error::other)?;
        let connect_origins: Vec<String> = config
            .oauth_clients
            .iter()
            .filter_map(|c| c.connect_origin())
            .collect();
        let site = Site::new(config.dist.clone(), &connect_origins);
        if !site.is_built() {
            tracing::warn!(dist = %config.dist.display(), "the web app is not built; serving a notice");
        }
        Ok(State {
            origins: Origins::new(&config.allowed_origins, listen),
            policy: Policy::new(&config),
            token_requests: TokenRequests::new(&trust),
            trust,
            limits: Limits::new(config.max_tunnels, config.max_tunnels_per_ip),
            metrics: Arc::new(Metrics::default()),
            site,
            lifecycle,
            config,
        })
    }
}
