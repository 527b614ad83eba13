//! `postbag-proxy`: parse the configuration, start logging, check what the listen address
//! exposes, bind, run until SIGTERM or ctrl-c.

use clap::Parser as _;
use postbag_proxy::Shutdown;

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    // Refused before binding: `run` judges the bound address again.
    let checked = postbag_proxy::Config::from_cli(postbag_proxy::Cli::parse())
        .map_err(postbag_proxy::StartRefused::from)
        .and_then(|c| c.check_exposure(c.listen).map(|()| c));
    let config = match checked {
        Ok(c) => c,
        Err(e) => {
            eprintln!("postbag-proxy: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let listener = match std::net::TcpListener::bind(config.listen) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("postbag-proxy: cannot listen on {}: {e}", config.listen);
            return std::process::ExitCode::from(1);
        }
    };
    tracing::info!(listen = %config.listen, dist = %config.dist.display(), "postbag-proxy starting");
    for client in &config.oauth_clients {
        if let Some(warning) = client.warning() {
            // A client id is public (the app shows it to the provider); no secret is in it.
            tracing::warn!(client_id = %client.client_id, "{warning}");
        }
    }
    let stopped = async {
        signal().await;
        Shutdown::Graceful
    };
    match actix_web::rt::System::new().block_on(postbag_proxy::run(config, listener, stopped)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("postbag-proxy: {e}");
            std::process::ExitCode::from(1)
        }
    }
}

/// SIGTERM (what a service manager or container runtime sends) or ctrl-c.
async fn signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
