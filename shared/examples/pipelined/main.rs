//! The native baseline for the sync benches: a raw pipelined POP3 download, nothing more.
//!
//! ```text
//! cargo run --release -p postbag-protocol --example pipelined -- --host H --port P \
//!     --tls none|starttls|implicit --user U --password-env VAR [--ca-file PEM] [--window N]
//! ```
//!
//! Logs in, asks UIDL and LIST, sends every RETR at once (the client pipelines up to
//! `--window` commands when the server announces PIPELINING), reads the bodies into memory
//! and drops them, QUITs without deleting, and prints one line of JSON: messages, bytes,
//! seconds from connect to QUIT answered. No file, no fsync: what the protocol crate and the
//! link cost, without the durable storage that `fetch` (a file, fsync and rename per message)
//! and the app (IndexedDB with strict durability) pay for. A bench's lower bound, not a tool.

#[path = "../common/connect.rs"]
mod connect;
#[path = "../common/tls.rs"]
mod tls;

use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use postbag_protocol::pop3::blocking::{DriverError, Reply, Session};
use postbag_protocol::pop3::{ClientConfig, Command, Event, Secret, TlsState};

use connect::{Tls, TlsFailure};

/// Download a mailbox as fast as the protocol allows, keeping nothing.
#[derive(Debug, Parser)]
struct Args {
    #[command(flatten)]
    server: connect::Server,
    #[arg(long)]
    user: String,
    /// Name of the environment variable holding the password.
    #[arg(long)]
    password_env: String,
    /// Commands in flight at most (all of them by default).
    #[arg(long, default_value_t = 1 << 20)]
    window: usize,
}

impl TlsFailure for DriverError {
    fn tls_failure(&self) -> Option<&std::io::Error> {
        match self {
            DriverError::Io(e) if e.kind() == std::io::ErrorKind::InvalidData => Some(e),
            _ => None,
        }
    }
}

fn run(args: &Args) -> Result<(usize, u64), String> {
    let password = std::env::var(&args.password_env)
        .map_err(|_| format!("environment variable {} is not set", args.password_env))?;
    let mut config = ClientConfig::new(args.user.clone(), Secret::new(password));
    config.allow_plaintext_password = args.server.allow_plaintext;
    config.want_starttls = args.server.tls == Tls::Starttls;
    if args.server.tls == Tls::Implicit {
        config.tls = TlsState::Implicit;
    }
    config.pipeline_window = args.window;
    let mut session = args.server.session(
        |stream, upgrade, pace, set| {
            Session::login_paced(stream, config, Some(upgrade), pace, Some(set))
        },
        |e| e.to_string(),
    )?;
    let listed = match session.execute(&[Command::List(None)]) {
        Ok(mut replies) => match replies.pop() {
            Some(Reply::List(entries)) => entries,
            other => return Err(format!("unexpected reply to LIST: {other:?}")),
        },
        Err(e) => return Err(e.to_string()),
    };
    for (msg, _) in &listed {
        session
            .enqueue(Command::Retr(*msg))
            .map_err(|e| e.to_string())?;
    }
    let (mut left, mut bytes) = (listed.len(), 0u64);
    while left > 0 {
        match session.next_event().map_err(|e| e.to_string())? {
            Event::MessageChunk { bytes: b, .. } => bytes += b.len() as u64,
            Event::MessageEnd { .. } | Event::CommandFailed { .. } => left -= 1,
            _ => {}
        }
    }
    session.quit().map_err(|e| e.to_string())?;
    Ok((listed.len(), bytes))
}

fn main() -> ExitCode {
    let args = Args::parse();
    let t0 = Instant::now();
    match run(&args) {
        Ok((messages, bytes)) => {
            let seconds = t0.elapsed().as_secs_f64();
            println!("{{\"messages\":{messages},\"bytes\":{bytes},\"seconds\":{seconds:.4}}}");
            ExitCode::SUCCESS
        }
        Err(why) => {
            eprintln!("pipelined: {why}");
            ExitCode::FAILURE
        }
    }
}
