//! Throughput of framing + dot-unstuffing a 10 MB RETR body, in MB/s.
//!
//! `cargo bench -p postbag-protocol --bench parse`. Two measurements: the framer alone
//! (`Framer::body`), and the whole client (status line, events, chunk copies) fed in 64 KiB
//! reads as a socket driver would.

use std::hint::black_box;
use std::time::{Duration, Instant};

use postbag_protocol::pop3::{BodyPiece, Client, ClientConfig, Command, Event, Framer, Secret};

const SIZE: usize = 10 * 1024 * 1024;

/// A realistic body: 76-character lines, every 50th line dot-stuffed.
fn wire_body() -> Vec<u8> {
    let mut wire = Vec::with_capacity(SIZE + 1024);
    let mut i = 0usize;
    while wire.len() < SIZE {
        if i.is_multiple_of(50) {
            wire.extend_from_slice(b"..");
        }
        let fill = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/";
        wire.extend_from_slice(&fill[..(60 + i % 16).min(fill.len())]);
        wire.extend_from_slice(b"\r\n");
        i += 1;
    }
    wire.extend_from_slice(b".\r\n");
    wire
}

fn report(name: &str, bytes: usize, runs: &[Duration]) {
    let best = runs.iter().min().unwrap();
    let mut sorted = runs.to_vec();
    sorted.sort();
    let median = sorted[sorted.len() / 2];
    let mbps = |d: &Duration| bytes as f64 / 1e6 / d.as_secs_f64();
    println!(
        "{name:<28} {:>8.0} MB/s best, {:>8.0} MB/s median ({} runs, {:.1} MB)",
        mbps(best),
        mbps(&median),
        runs.len(),
        bytes as f64 / 1e6
    );
}

fn bench_framer(wire: &[u8]) -> Duration {
    let start = Instant::now();
    let mut f = Framer::new();
    f.push(wire);
    let mut total = 0;
    while let Some(piece) = f.body(64 * 1024) {
        match piece {
            BodyPiece::Data(d) => total += black_box(d).len(),
            BodyPiece::End => break,
        }
    }
    assert!(total > SIZE * 9 / 10);
    start.elapsed()
}

fn ready_client() -> Client {
    let mut config = ClientConfig::new("u", Secret::new("p".to_string()));
    config.want_starttls = false;
    config.allow_plaintext_password = true;
    let mut client = Client::new(config);
    client.receive(b"+OK hi\r\n-ERR\r\n+OK\r\n+OK\r\n");
    while client.next_event().unwrap().is_some() {}
    client
}

fn bench_client(wire: &[u8]) -> Duration {
    let mut client = ready_client();
    client.enqueue(Command::Retr(1)).unwrap();
    let start = Instant::now();
    client.receive(b"+OK message follows\r\n");
    let mut total = 0;
    let mut ended = false;
    for read in wire.chunks(64 * 1024) {
        client.receive(read);
        while let Some(ev) = client.next_event().unwrap() {
            match ev {
                Event::MessageChunk { bytes, .. } => total += black_box(bytes).len(),
                Event::MessageEnd { .. } => ended = true,
                _ => {}
            }
        }
    }
    assert!(ended && total > SIZE * 9 / 10);
    start.elapsed()
}

fn main() {
    let wire = wire_body();
    let runs = 20;
    let framer: Vec<Duration> = (0..runs).map(|_| bench_framer(&wire)).collect();
    report("framer (10 MB in one push)", wire.len(), &framer);
    let client: Vec<Duration> = (0..runs).map(|_| bench_client(&wire)).collect();
    report("client (64 KiB reads)", wire.len(), &client);
}
