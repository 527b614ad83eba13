//! `postbag-proxy`: parse the configuration, start logging, bind, run.

use clap::Parser as _;

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let config = match postbag_proxy::Config::from_cli(postbag_proxy::Cli::parse()) {
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
    match actix_web::rt::System::new().block_on(postbag_proxy::run(config, listener)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("postbag-proxy: {e}");
            std::process::ExitCode::from(1)
        }
    }
}
