//! `cargo bench -p postbag-tests --bench relay`: the proxy against direct TCP, side by side.
//!
//! The proxy runs as its own process, so its CPU time and RSS are its own: this bench binary
//! again, started with `POSTBAG_BENCH_AS_PROXY=1` and the flags `postbag-proxy` takes, which
//! then does what the proxy's `main` does (the configuration from those flags, `run` on an actix
//! system) and nothing else. The upstreams are the stand-ins of `postbag_tests::fake_upstreams`.
//! The bench lives in this crate, not the proxy's, because those stand-ins do: the proxy crate
//! cannot depend on this one, which depends on it.
//! `POSTBAG_BENCH_QUICK=1` shrinks the run; `POSTBAG_BENCH_PROXY=path` measures a proxy binary
//! instead (`target/release/postbag-proxy`, or an older build for a before/after).
//!
//! The proxy runs with its default worker count (one per core), as deployed. CPU is counted per
//! relayed run: the proxy process's, and the client's (the bench's main thread, where the
//! clients run; the sources have threads of their own or the runtime's worker), so neither is
//! charged to the other. Plain and TLS upstreams alternate in each round, and their CPU per GiB
//! is printed with the ratio of the two, median and range over the rounds.

use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use postbag_protocol::tunnel::{ClientMessage, OpenRequest, PROTOCOL_VERSION, TlsMode};
use postbag_tests::fake_upstreams::{
    spawn_idle, spawn_pingpong, spawn_source, spawn_split_replier, spawn_threaded_source,
    spawn_tls_source,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

const MIB: usize = 1024 * 1024;

struct Sizes {
    stream_bytes: usize,
    rounds: usize,
    round_trips: usize,
    split_round_trips: usize,
    idle_tunnels: usize,
}

/// Set in the environment of the proxy process this bench starts (itself).
const AS_PROXY: &str = "POSTBAG_BENCH_AS_PROXY";

fn main() {
    if std::env::var_os(AS_PROXY).is_some() {
        return proxy_main();
    }
    let quick = std::env::var_os("POSTBAG_BENCH_QUICK").is_some();
    let sizes = if quick {
        Sizes {
            stream_bytes: 128 * MIB,
            rounds: 3,
            round_trips: 300,
            split_round_trips: 40,
            idle_tunnels: 200,
        }
    } else {
        Sizes {
            stream_bytes: 512 * MIB,
            rounds: 9,
            round_trips: 3000,
            split_round_trips: 200,
            idle_tunnels: 1000,
        }
    };
    check_fd_limit(sizes.idle_tunnels * 4 + 100);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(bench(sizes));
}

async fn bench(sizes: Sizes) {
    let source = spawn_source(sizes.stream_bytes).await;
    let threaded_source = spawn_threaded_source(sizes.stream_bytes);
    let pingpong = spawn_pingpong().await;
    let split = spawn_split_replier();
    let idle = spawn_idle().await;
    let (tls_source, tls_pin) = spawn_tls_source(sizes.stream_bytes);
    let ports = [source, threaded_source, pingpong, split, idle, tls_source]
        .map(|a| a.port().to_string())
        .join(",");

    let proxy = ProxyProcess::start(&ports, true);

    // Throughput, server to client (the RETR direction), in rounds that alternate direct and
    // relayed runs so that both see the same moments of a shared machine. The raw client reads
    // the WebSocket with a minimal frame parser, so the figure is the proxy's, not tungstenite's.
    // The threaded source is a mail server as in real life: its own thread (process, really),
    // so direct TCP crosses cores too, as the relayed bytes always do.
    // The TLS upstream is the threaded source behind TLS 1.3, pinned: the proxy decrypts and
    // the client reads plain bytes, as the app does with POP3S.
    let plain_open = open_request(threaded_source, TlsMode::None, None);
    let tls_open = open_request(tls_source, TlsMode::Implicit, Some(tls_pin));
    let mut rounds = Vec::with_capacity(sizes.rounds);
    for _ in 0..sizes.rounds {
        let bytes = sizes.stream_bytes;
        rounds.push(Round {
            direct: direct_stream(source, bytes).await,
            tungstenite: tunnel_stream(proxy.addr, source, bytes).await,
            raw: raw_tunnel_stream(
                proxy.addr,
                &open_request(source, TlsMode::None, None),
                bytes,
            )
            .await,
            threaded_direct: direct_stream(threaded_source, bytes).await,
            plain: Relayed::measure(
                &proxy,
                bytes,
                raw_tunnel_stream(proxy.addr, &plain_open, bytes),
            )
            .await,
            tls: Relayed::measure(
                &proxy,
                bytes,
                raw_tunnel_stream(proxy.addr, &tls_open, bytes),
            )
            .await,
        });
    }

    // Round trips of a one-line command and a one-line reply.
    let direct_rtt = direct_round_trips(pingpong, sizes.round_trips).await;
    let proxy_rtt = tunnel_round_trips(
        proxy.addr,
        pingpong,
        b"NOOP\r\n",
        b"+OK\r\n",
        sizes.round_trips,
    )
    .await;

    // A reply in two segments, with and without TCP_NODELAY.
    let split_on = tunnel_round_trips(
        proxy.addr,
        split,
        b"RETR 1\r\n",
        b"\r\n.\r\n",
        sizes.split_round_trips,
    )
    .await;

    // Memory per idle tunnel.
    let rss_before = proxy.rss_kib();
    let mut held = Vec::with_capacity(sizes.idle_tunnels);
    for _ in 0..sizes.idle_tunnels {
        held.push(open_tunnel(proxy.addr, idle).await);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_after = proxy.rss_kib();
    let per_tunnel_kib = (rss_after.saturating_sub(rss_before)) as f64 / sizes.idle_tunnels as f64;
    drop(held);
    drop(proxy);

    let nagle = ProxyProcess::start(&ports, false);
    let split_off = tunnel_round_trips(
        nagle.addr,
        split,
        b"RETR 1\r\n",
        b"\r\n.\r\n",
        sizes.split_round_trips,
    )
    .await;
    drop(nagle);

    println!();
    println!("| measure | direct TCP | through the proxy | proxy vs direct |");
    println!("|---|---|---|---|");
    println!(
        "| throughput server->client, {} MiB, {} rounds (MiB/s, median; ratio: median of the rounds' ratios, and its range) | | | |",
        sizes.stream_bytes / MIB,
        sizes.rounds
    );
    let rows: [(&str, Pick, Pick); 4] = [
        ("tungstenite client", |r| r.direct, |r| r.tungstenite),
        ("minimal WebSocket client", |r| r.direct, |r| r.raw),
        (
            "mail server on its own thread, minimal client",
            |r| r.threaded_direct,
            |r| r.plain.mib_per_s,
        ),
        (
            "same, TLS upstream (proxy decrypts; direct column: plain TCP)",
            |r| r.threaded_direct,
            |r| r.tls.mib_per_s,
        ),
    ];
    for (name, direct, relayed) in rows {
        let ratios: Vec<f64> = rounds.iter().map(|r| relayed(r) / direct(r)).collect();
        println!(
            "| - {name} | {:.0} | {:.0} | {:.0} % ({:.0} to {:.0} %) |",
            median(rounds.iter().map(direct).collect()),
            median(rounds.iter().map(relayed).collect()),
            100.0 * median(ratios.clone()),
            100.0 * ratios.iter().cloned().fold(f64::INFINITY, f64::min),
            100.0 * ratios.iter().cloned().fold(0.0, f64::max),
        );
    }
    println!(
        "| CPU per GiB relayed (s), median (range) of {} rounds | plain upstream | TLS upstream | TLS / plain |",
        sizes.rounds
    );
    let cpu_rows: [(&str, CpuPick); 2] = [
        ("proxy process", |r| r.proxy_s_per_gib),
        ("client (bench main thread)", |r| r.client_s_per_gib),
    ];
    for (name, cpu) in cpu_rows {
        let plain: Vec<f64> = rounds.iter().map(|r| cpu(&r.plain)).collect();
        let tls: Vec<f64> = rounds.iter().map(|r| cpu(&r.tls)).collect();
        let ratios: Vec<f64> = rounds.iter().map(|r| cpu(&r.tls) / cpu(&r.plain)).collect();
        println!(
            "| - {name} | {} | {} | {} |",
            spread(&plain, 2),
            spread(&tls, 2),
            spread(&ratios, 1)
        );
    }
    println!(
        "| round trip, one-line command/reply, median (us) | {:.1} | {:.1} | +{:.1} us |",
        direct_rtt.median,
        proxy_rtt.median,
        proxy_rtt.median - direct_rtt.median
    );
    println!(
        "| round trip, p99 (us) | {:.1} | {:.1} | +{:.1} us |",
        direct_rtt.p99,
        proxy_rtt.p99,
        proxy_rtt.p99 - direct_rtt.p99
    );
    println!(
        "| reply in two segments, median / p99 (us), TCP_NODELAY on | - | {:.1} / {:.1} | |",
        split_on.median, split_on.p99
    );
    println!(
        "| reply in two segments, median / p99 (us), TCP_NODELAY off | - | {:.1} / {:.1} | {:.1}x slower (median) |",
        split_off.median,
        split_off.p99,
        split_off.median / split_on.median
    );
    println!(
        "| proxy RSS per idle tunnel, {} tunnels (KiB) | - | {:.1} | RSS {} -> {} KiB |",
        sizes.idle_tunnels, per_tunnel_kib, rss_before, rss_after
    );
}

/// The proxy binary in its own process, killed on drop.
struct ProxyProcess {
    child: Child,
    addr: SocketAddr,
}

impl ProxyProcess {
    fn start(ports: &str, nodelay: bool) -> ProxyProcess {
        let addr = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        // A proxy binary (an older commit's, say) can be measured the same way.
        let mut command = match std::env::var_os("POSTBAG_BENCH_PROXY") {
            Some(binary) => Command::new(binary),
            None => {
                let mut itself = Command::new(std::env::current_exe().unwrap());
                itself.env(AS_PROXY, "1");
                itself
            }
        };
        let child = command
            .args([
                "--listen",
                &addr.to_string(),
                "--dist",
                "/nonexistent/postbag-dist",
            ])
            .args(["--allow-port", ports, "--allow-private-cidr", "127.0.0.0/8"])
            .args(["--max-tunnels", "100000"])
            .args(["--max-tunnels-per-ip", "100000"])
            .args(["--tcp-nodelay", if nodelay { "true" } else { "false" }])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("start the proxy binary");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(addr).is_err() {
            assert!(Instant::now() < deadline, "the proxy did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        ProxyProcess { child, addr }
    }

    /// User + system CPU time of the proxy process so far, all its threads.
    fn cpu_secs(&self) -> f64 {
        cpu_secs(&format!("/proc/{}/stat", self.child.id()))
    }

    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }
}

impl Drop for ProxyProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// User + system CPU time from a `/proc` stat file (of a process or of one thread).
fn cpu_secs(stat_file: &str) -> f64 {
    let stat = std::fs::read_to_string(stat_file).unwrap();
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after.split(' ').collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    ticks as f64 / 100.0
}

/// CPU time of the bench's main thread (its id is the process id): the clients run there, in
/// `block_on`, while the sources run on threads of their own or on the runtime's worker.
fn client_cpu_secs() -> f64 {
    let pid = std::process::id();
    cpu_secs(&format!("/proc/{pid}/task/{pid}/stat"))
}

/// The proxy process: what `postbag-proxy`'s `main` does with the same flags, without its log.
fn proxy_main() {
    use clap::Parser as _;
    let config = postbag_proxy::Config::from_cli(postbag_proxy::Cli::parse()).unwrap();
    let listener = TcpListener::bind(config.listen).unwrap();
    // Killed by the bench when it is done; never asked to stop.
    let forever = std::future::pending::<postbag_proxy::Shutdown>();
    actix_rt::System::new()
        .block_on(postbag_proxy::run(config, listener, forever))
        .unwrap();
}

fn check_fd_limit(needed: usize) {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    let soft: usize = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse().ok())
        .unwrap_or(usize::MAX);
    assert!(
        soft >= needed,
        "raise the open-files limit (ulimit -n {needed}); it is {soft}"
    );
}

async fn direct_stream(source: SocketAddr, total: usize) -> f64 {
    let mut s = TcpStream::connect(source).await.unwrap();
    let mut buf = vec![0u8; 64 * 1024];
    let start = Instant::now();
    let mut got = 0;
    loop {
        let n = s.read(&mut buf).await.unwrap();
        if n == 0 {
            break;
        }
        got += n;
    }
    assert_eq!(got, total);
    got as f64 / MIB as f64 / start.elapsed().as_secs_f64()
}

fn open_request(target: SocketAddr, tls: TlsMode, pin_sha256: Option<String>) -> OpenRequest {
    OpenRequest {
        version: PROTOCOL_VERSION,
        host: target.ip().to_string(),
        port: target.port(),
        tls,
        pin_sha256,
    }
}

async fn open_tunnel(proxy: SocketAddr, target: SocketAddr) -> Ws {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{proxy}/tunnel"))
        .await
        .unwrap();
    let open = ClientMessage::Open(OpenRequest {
        version: PROTOCOL_VERSION,
        host: target.ip().to_string(),
        port: target.port(),
        tls: TlsMode::None,
        pin_sha256: None,
    });
    ws.send(Message::text(serde_json::to_string(&open).unwrap()))
        .await
        .unwrap();
    match ws.next().await {
        Some(Ok(Message::Text(t))) if t.as_str().contains("\"connected\"") => ws,
        other => panic!("tunnel did not open: {other:?}"),
    }
}

async fn tunnel_stream(proxy: SocketAddr, source: SocketAddr, total: usize) -> f64 {
    let mut ws = open_tunnel(proxy, source).await;
    let start = Instant::now();
    let mut got = 0;
    while let Some(msg) = ws.next().await {
        match msg.unwrap() {
            Message::Binary(b) => got += b.len(),
            Message::Close(_) => break,
            _ => {}
        }
    }
    assert_eq!(got, total);
    got as f64 / MIB as f64 / start.elapsed().as_secs_f64()
}

/// The tunnel read with a hand-written WebSocket client: handshake, one masked `open`, then
/// frame headers parsed and payloads skipped in place in a 256 KiB buffer (`copy_buf`: no second
/// copy, so the client costs what the direct client does).
async fn raw_tunnel_stream(proxy: SocketAddr, open: &OpenRequest, total: usize) -> f64 {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let mut s = TcpStream::connect(proxy).await.unwrap();
    s.set_nodelay(true).unwrap();
    let request = format!(
        "GET /tunnel HTTP/1.1\r\nHost: {proxy}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    s.write_all(request.as_bytes()).await.unwrap();
    let mut r = BufReader::with_capacity(256 * 1024, s);
    let mut line = String::new();
    r.read_line(&mut line).await.unwrap();
    assert!(line.starts_with("HTTP/1.1 101"), "{line}");
    while line != "\r\n" {
        line.clear();
        r.read_line(&mut line).await.unwrap();
    }
    let json = serde_json::to_vec(&ClientMessage::Open(open.clone())).unwrap();
    assert!(json.len() <= u16::MAX as usize);
    // FIN + text, masked with an all-zero key (legal, and the payload stays as is).
    let mut frame = vec![0x81, 0x80 | 126];
    frame.extend_from_slice(&(json.len() as u16).to_be_bytes());
    frame.extend_from_slice(&[0, 0, 0, 0]);
    frame.extend_from_slice(&json);
    r.get_mut().write_all(&frame).await.unwrap();

    let mut got = 0usize;
    let mut start = None;
    loop {
        let mut head = [0u8; 2];
        r.read_exact(&mut head).await.unwrap();
        let len = match head[1] & 0x7f {
            126 => r.read_u16().await.unwrap() as u64,
            127 => r.read_u64().await.unwrap(),
            n => n as u64,
        };
        match head[0] & 0x0f {
            0x2 => {
                got += len as usize;
                tokio::io::copy_buf(&mut (&mut r).take(len), &mut tokio::io::sink())
                    .await
                    .unwrap();
            }
            0x8 => break,
            _ => {
                // The `connected` message: the clock starts now. Anything else is an error.
                let mut text = String::new();
                (&mut r).take(len).read_to_string(&mut text).await.unwrap();
                assert!(text.contains("\"connected\""), "{text}");
                start.get_or_insert_with(Instant::now);
            }
        }
    }
    assert_eq!(got, total);
    got as f64 / MIB as f64 / start.unwrap().elapsed().as_secs_f64()
}

/// One figure of a [`Round`].
type Pick = fn(&Round) -> f64;

/// One CPU figure of a [`Relayed`] run.
type CpuPick = fn(&Relayed) -> f64;

/// One round of throughput runs, in MiB/s.
struct Round {
    direct: f64,
    tungstenite: f64,
    raw: f64,
    threaded_direct: f64,
    /// The threaded source through the proxy, plain TCP (spliced) and TLS.
    plain: Relayed,
    tls: Relayed,
}

/// One relayed run with the CPU it took.
struct Relayed {
    mib_per_s: f64,
    proxy_s_per_gib: f64,
    client_s_per_gib: f64,
}

impl Relayed {
    async fn measure(
        proxy: &ProxyProcess,
        bytes: usize,
        run: impl std::future::Future<Output = f64>,
    ) -> Relayed {
        let (proxy_before, client_before) = (proxy.cpu_secs(), client_cpu_secs());
        let mib_per_s = run.await;
        let gib = bytes as f64 / (1024.0 * MIB as f64);
        Relayed {
            mib_per_s,
            proxy_s_per_gib: (proxy.cpu_secs() - proxy_before) / gib,
            client_s_per_gib: (client_cpu_secs() - client_before) / gib,
        }
    }
}

/// "median (min to max)".
fn spread(values: &[f64], decimals: usize) -> String {
    let min = values.iter().cloned().fold(f64::INFINITY, f64::min);
    let max = values.iter().cloned().fold(0.0, f64::max);
    format!(
        "{:.decimals$} ({:.decimals$} to {:.decimals$})",
        median(values.to_vec()),
        min,
        max
    )
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.partial_cmp(b).unwrap());
    values[values.len() / 2]
}

struct Latency {
    median: f64,
    p99: f64,
}

fn summarise(mut micros: Vec<f64>) -> Latency {
    micros.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let at = |q: f64| micros[((micros.len() - 1) as f64 * q) as usize];
    Latency {
        median: at(0.5),
        p99: at(0.99),
    }
}

async fn direct_round_trips(target: SocketAddr, n: usize) -> Latency {
    let mut s = TcpStream::connect(target).await.unwrap();
    s.set_nodelay(true).unwrap();
    let mut buf = [0u8; 64];
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        s.write_all(b"NOOP\r\n").await.unwrap();
        let mut got = 0;
        while got < 5 {
            got += s.read(&mut buf[got..]).await.unwrap();
        }
        samples.push(start.elapsed().as_secs_f64() * 1e6);
    }
    summarise(samples)
}

async fn tunnel_round_trips(
    proxy: SocketAddr,
    target: SocketAddr,
    command: &[u8],
    reply_end: &[u8],
    n: usize,
) -> Latency {
    let mut ws = open_tunnel(proxy, target).await;
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        ws.send(Message::binary(command.to_vec())).await.unwrap();
        let mut got = Vec::new();
        while !got.ends_with(reply_end) {
            match ws.next().await.unwrap().unwrap() {
                Message::Binary(b) => got.extend_from_slice(&b),
                other => panic!("unexpected {other:?}"),
            }
        }
        samples.push(start.elapsed().as_secs_f64() * 1e6);
    }
    summarise(samples)
}
