//! Issue 14's figures: SMTP submission through the real proxy to a real Postfix, with the
//! protocol crate's client (`postbag_protocol::smtp`) driven over the WebSocket tunnel as the
//! app drives it.
//!
//! - 100 messages of about 2 KB in one session, pipelined against lockstep. The client pipelines
//!   when the server announces PIPELINING (RFC 2920), so the lockstep run goes to a second
//!   Postfix that does not ([`postfix::NO_PIPELINING`]); both deliver into the same Dovecot.
//! - One message with a 10 MB attachment (13.7 MB in base64), through the tunnel against a
//!   direct TLS connection from the same client code.
//!
//! All over implicit TLS, the proxy doing TLS to Postfix. `--rtt-ms N` puts a relay that delays
//! each direction by N/2 ms between the proxy and Postfix, a mail server N ms away (loopback
//! has no latency, so there pipelining saves only Postfix's turnarounds).
//!
//! `cargo bench -p postbag-tests --bench smtp_submit [-- --rounds 5 --rtt-ms 20]`
//!
//! Prints medians of the rounds (pipelined and lockstep alternate, so drift hits both) and the
//! ratios. Every message is checked into bob's mailbox before the figures are printed.

#[path = "smtp_submit/relay.rs"]
mod relay;
#[path = "smtp_submit/wire.rs"]
mod wire;

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use postbag_protocol::smtp::{ClientConfig, Envelope, Secret, TlsState};
use postbag_protocol::tunnel::TlsMode;
use postbag_tests::proxy_harness::{LOCALHOST, base_config, start_proxy};
use postbag_tests::ws_client::{TunnelClient, open_request};
use postbag_tests::{Dovecot, Postfix, TestUser, postfix};

use wire::{Direct, Wire, submit};

const MESSAGES: usize = 100;
const ATTACHMENT: usize = 10 * 1000 * 1000;
/// Bytes per WebSocket frame sent into the tunnel.
const FRAME: usize = 256 * 1024;

struct Args {
    rounds: usize,
    rtt: Option<Duration>,
}

fn args() -> Args {
    let mut args = Args {
        rounds: 5,
        rtt: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--rounds" => args.rounds = it.next().and_then(|v| v.parse().ok()).unwrap_or(5),
            "--rtt-ms" => {
                args.rtt = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .map(Duration::from_millis)
            }
            // cargo bench passes --bench; nothing else is ours.
            _ => {}
        }
    }
    args
}

fn main() {
    let args = args();
    let dovecot = Dovecot::start();
    let pipelined = Postfix::start(&dovecot);
    let lockstep = Postfix::start_with(&dovecot, &[postfix::NO_PIPELINING]);
    let alice = dovecot.new_user();
    let bob = dovecot.new_user();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();

    // The proxy reaches Postfix directly, or through the delaying relays.
    let (pipelined_port, lockstep_port) = match args.rtt {
        None => (
            pipelined.submissions_addr().port(),
            lockstep.submissions_addr().port(),
        ),
        Some(rtt) => runtime.block_on(async {
            (
                relay::start(pipelined.submissions_addr(), rtt / 2).await,
                relay::start(lockstep.submissions_addr(), rtt / 2).await,
            )
        }),
    };
    let mut config = base_config(None);
    config.allow_ports = vec![pipelined_port, lockstep_port];
    config.extra_ca_file = Some(dovecot.ca_pem_path());
    let proxy = start_proxy(config, TcpListener::bind("127.0.0.1:0").unwrap()).unwrap();
    let proxy_addr = proxy.addr();

    let many: Vec<Vec<u8>> = (0..MESSAGES)
        .map(|i| small_message(&alice, &bob, i))
        .collect();
    let mut times = [Vec::new(), Vec::new()];
    for round in 0..args.rounds {
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for which in order {
            let port = [pipelined_port, lockstep_port][which];
            let elapsed = runtime.block_on(async {
                let start = Instant::now();
                let mut wire = tunnel(proxy_addr, port).await;
                let accepted = submit(&mut wire, config_for(&alice), envelope(&alice, &bob), &many)
                    .await
                    .unwrap_or_else(|e| panic!("submission failed: {e}"));
                assert_eq!(accepted, MESSAGES);
                start.elapsed()
            });
            times[which].push(elapsed);
        }
    }

    let big = attachment_message(&alice, &bob);
    let mut big_times = [Vec::new(), Vec::new()];
    for _ in 0..args.rounds {
        runtime.block_on(async {
            let start = Instant::now();
            let mut wire = tunnel(proxy_addr, pipelined_port).await;
            let one = std::slice::from_ref(&big);
            submit(&mut wire, config_for(&alice), envelope(&alice, &bob), one)
                .await
                .unwrap_or_else(|e| panic!("the 10 MB message through the proxy: {e}"));
            big_times[0].push(start.elapsed());

            let start = Instant::now();
            // Past the relay too, when there is one: only the proxy differs.
            let addr = SocketAddr::from(([127, 0, 0, 1], pipelined_port));
            let mut wire = Direct::connect(addr, tls(&dovecot)).await;
            submit(&mut wire, config_for(&alice), envelope(&alice, &bob), one)
                .await
                .unwrap_or_else(|e| panic!("the 10 MB message direct: {e}"));
            big_times[1].push(start.elapsed());
        });
    }

    let expected = args.rounds * (2 * MESSAGES + 2);
    pipelined.wait_for_messages(&dovecot, &bob, expected);
    assert_eq!(dovecot.message_count(&bob), expected, "bob's mailbox");

    let [p, l] = times.map(median);
    let [bp, bd] = big_times.map(median);
    let mb = big.len() as f64 / 1e6;
    let rtt = args
        .rtt
        .map_or("loopback".to_string(), |r| format!("{r:?} RTT"));
    println!(
        "SMTP submission through the proxy to Postfix, implicit TLS, {rtt}, median of {} rounds",
        args.rounds
    );
    println!(
        "{MESSAGES} messages of {} bytes in one session:",
        many[0].len()
    );
    println!(
        "  pipelined {:>9.1} ms  {:>7.0} msg/s",
        ms(p),
        MESSAGES as f64 / p.as_secs_f64()
    );
    println!(
        "  lockstep  {:>9.1} ms  {:>7.0} msg/s",
        ms(l),
        MESSAGES as f64 / l.as_secs_f64()
    );
    println!(
        "  lockstep / pipelined = {:.2}",
        l.as_secs_f64() / p.as_secs_f64()
    );
    println!("one message with a 10 MB attachment ({mb:.1} MB on the wire):");
    println!(
        "  through the proxy {:>9.1} ms  {:>6.1} MB/s",
        ms(bp),
        mb / bp.as_secs_f64()
    );
    println!(
        "  direct TLS        {:>9.1} ms  {:>6.1} MB/s",
        ms(bd),
        mb / bd.as_secs_f64()
    );
    println!(
        "  proxy / direct = {:.2}",
        bp.as_secs_f64() / bd.as_secs_f64()
    );
}

async fn tunnel(proxy: SocketAddr, port: u16) -> TunnelClient {
    let mut tunnel = TunnelClient::connect(proxy).await;
    tunnel
        .open_connected(open_request(LOCALHOST, port, TlsMode::Implicit))
        .await;
    tunnel
}

fn config_for(user: &TestUser) -> ClientConfig {
    let mut config = ClientConfig::new(user.name.clone(), Secret::new(user.password.clone()));
    config.tls = TlsState::Implicit;
    config.want_starttls = false;
    config
}

fn envelope(from: &TestUser, to: &TestUser) -> Envelope {
    Envelope::new(Postfix::address(from), [Postfix::address(to)])
}

fn tls(dovecot: &Dovecot) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(dovecot.ca_der().into()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

fn small_message(from: &TestUser, to: &TestUser, i: usize) -> Vec<u8> {
    let mut body = String::new();
    while body.len() < 1800 {
        body.push_str("A line of an ordinary short message, as people write them.\r\n");
    }
    format!(
        "From: <{}>\r\nTo: <{}>\r\nSubject: bench {i}\r\nMessage-ID: <bench-{i}@postbag.test>\r\n\r\n{body}",
        Postfix::address(from),
        Postfix::address(to),
    )
    .into_bytes()
}

/// multipart/mixed with a 10 MB binary attachment in base64, 76-character lines.
fn attachment_message(from: &TestUser, to: &TestUser) -> Vec<u8> {
    let data: Vec<u8> = (0..ATTACHMENT).map(|i| (i * 7 + i / 251) as u8).collect();
    let encoded = base64::engine::general_purpose::STANDARD.encode(&data);
    let mut out = format!(
        "From: <{}>\r\nTo: <{}>\r\nSubject: 10 MB\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n\
         Content-Type: text/plain\r\n\r\nThe file.\r\n--b\r\n\
         Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\
         Content-Disposition: attachment; filename=\"data.bin\"\r\n\r\n",
        Postfix::address(from),
        Postfix::address(to),
    )
    .into_bytes();
    for line in encoded.as_bytes().chunks(76) {
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"--b--\r\n");
    out
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

// The tunnel as the bench's wire.
impl Wire for TunnelClient {
    /// In frames of [`FRAME`]: the proxy refuses WebSocket messages over 1 MiB (its
    /// `max_message_bytes`), and the client hands over a whole message body at once.
    async fn send(&mut self, bytes: &[u8]) {
        for frame in bytes.chunks(FRAME) {
            self.send_bytes(frame).await;
        }
    }

    async fn recv(&mut self) -> Option<Vec<u8>> {
        match TunnelClient::recv(self).await {
            postbag_tests::ws_client::Incoming::Bytes(b) => Some(b),
            _ => None,
        }
    }
}
