//! The window policy against a simulated path: RETRs sent at some time are answered one
//! round trip later, FIFO, at the link's rate; the driver refills whenever a message ends,
//! as the app's engine does.

use super::{BudgetLimits, RetrBudget};
use crate::pop3::{Client, ClientConfig, Command, Event, Secret};

/// A path: its round trip and what it (and the reader) moves per millisecond.
struct Path {
    rtt_ms: f64,
    bytes_per_ms: u64,
}

/// What a simulated download of `sizes` did.
#[derive(Debug)]
struct Outcome {
    ms: f64,
    max_owed: u64,
    max_in_flight: usize,
    final_budget: u64,
}

/// Downloads `sizes` over `path`, refilling by `budget` after each message, or keeping a
/// fixed count in flight when `fixed_count` is given (the app before: 16).
fn simulate(
    path: &Path,
    sizes: &[u64],
    mut budget: RetrBudget,
    fixed_count: Option<usize>,
) -> Outcome {
    if path.rtt_ms > 0.0 {
        budget.round_trip(path.rtt_ms);
    }
    let mut next = 0;
    // (sent at ms, listed size, bytes left) of each RETR in flight, in order. A RETR is
    // charged its whole listed size until its reply ends, as the engine charges it.
    let mut in_flight: std::collections::VecDeque<(f64, u64, u64)> = Default::default();
    let mut owed = 0u64;
    let (mut max_owed, mut max_in_flight) = (0, 0);
    let mut now = 0.0;
    loop {
        while next < sizes.len() {
            let size = sizes[next];
            let ok = match fixed_count {
                Some(n) => in_flight.len() < n,
                None => budget.admits(in_flight.len(), owed, Some(size)),
            };
            if !ok {
                break;
            }
            in_flight.push_back((now, size, size));
            owed += size;
            next += 1;
        }
        max_owed = max_owed.max(owed);
        max_in_flight = max_in_flight.max(in_flight.len());
        if in_flight.is_empty() {
            break;
        }
        now += 1.0;
        let mut quota = path.bytes_per_ms;
        let mut got = 0;
        while let Some((sent, size, left)) = in_flight.front_mut() {
            if *sent + path.rtt_ms > now || quota == 0 {
                break;
            }
            let n = quota.min(*left);
            *left -= n;
            quota -= n;
            got += n;
            if *left == 0 {
                owed -= *size;
                in_flight.pop_front();
            }
        }
        if got > 0 {
            budget.received(now, got);
        }
    }
    Outcome {
        ms: now,
        max_owed,
        max_in_flight,
        final_budget: budget.bytes(),
    }
}

const KB: u64 = 1000;

#[test]
fn on_a_50_ms_path_the_window_grows_to_the_bandwidth_delay_product() {
    // 1,000 x 21 KB at 100 MB/s: the bytes alone take 210 ms, plus one round trip.
    let path = Path {
        rtt_ms: 50.0,
        bytes_per_ms: 100 * KB,
    };
    let sizes = vec![21 * KB; 1000];
    let limit = path.rtt_ms + (21_000 * KB / path.bytes_per_ms) as f64;
    let by_bytes = simulate(
        &path,
        &sizes,
        RetrBudget::new(BudgetLimits::default()),
        None,
    );
    let by_count = simulate(
        &path,
        &sizes,
        RetrBudget::new(BudgetLimits::default()),
        Some(16),
    );
    eprintln!("by bytes {by_bytes:?}, by count {by_count:?}");
    assert!(
        by_bytes.ms <= 1.5 * limit,
        "{by_bytes:?} against a physical limit of {limit} ms"
    );
    // The bandwidth-delay product is 5 MB: the budget went past it.
    assert!(by_bytes.final_budget >= 5_000 * KB, "{by_bytes:?}");
    // A fixed 16 is round-trip bound: 63 round trips.
    assert!(by_count.ms > 3_000.0, "{by_count:?}");
}

#[test]
fn the_window_never_passes_its_ceiling_or_its_command_count() {
    let limits = BudgetLimits::default();
    let path = Path {
        rtt_ms: 200.0,
        bytes_per_ms: 1_000 * KB,
    };
    // The path could take 200 MB per round trip; the budget stops at 8 MiB.
    let out = simulate(&path, &vec![100 * KB; 2000], RetrBudget::new(limits), None);
    assert_eq!(out.final_budget, limits.max_bytes, "{out:?}");
    assert!(out.max_owed <= limits.max_bytes, "{out:?}");
    // Tiny messages: the count bounds them.
    let out = simulate(&path, &vec![100; 5000], RetrBudget::new(limits), None);
    assert_eq!(out.max_in_flight, limits.max_commands, "{out:?}");
}

#[test]
fn a_message_larger_than_the_budget_comes_alone() {
    let path = Path {
        rtt_ms: 1.0,
        bytes_per_ms: 1_000 * KB,
    };
    let sizes = [30_000 * KB, 10 * KB, 30_000 * KB];
    let out = simulate(
        &path,
        &sizes,
        RetrBudget::new(BudgetLimits::default()),
        None,
    );
    assert_eq!(out.max_in_flight, 1, "{out:?}");
    assert_eq!(out.max_owed, 30_000 * KB);
}

#[test]
fn without_a_measured_round_trip_the_budget_stays_at_its_floor() {
    let path = Path {
        rtt_ms: 0.0,
        bytes_per_ms: 1_000 * KB,
    };
    let limits = BudgetLimits::default();
    let out = simulate(&path, &vec![20 * KB; 500], RetrBudget::new(limits), None);
    assert_eq!(out.final_budget, limits.min_bytes);
    assert!(out.max_owed <= limits.min_bytes, "{out:?}");
    // Still far more than 16 in flight: the count is by bytes.
    assert!(out.max_in_flight > 16, "{out:?}");
}

#[test]
fn the_budget_does_not_shrink_when_the_reader_pauses() {
    let mut b = RetrBudget::new(BudgetLimits::default());
    b.round_trip(50.0);
    b.round_trip(80.0); // a slower login step: the shortest counts
    assert_eq!(b.rtt_ms(), Some(50.0));
    b.received(0.0, 0);
    b.received(50.0, 2 << 20);
    let grown = b.bytes();
    assert_eq!(grown, 3 << 20);
    // A long commit: few bytes over a long round; then the reader is the bound.
    b.received(2_000.0, 1);
    b.received(2_010.0, 1 << 20);
    assert_eq!(b.bytes(), grown + 1);
    // Nonsense measurements change nothing.
    b.round_trip(f64::NAN);
    b.round_trip(-1.0);
    assert_eq!(b.rtt_ms(), Some(50.0));
}

#[test]
fn unknown_sizes_are_charged_the_floor() {
    let b = RetrBudget::new(BudgetLimits::default());
    let floor = b.limits().min_bytes;
    assert_eq!(b.cost(None), floor);
    assert!(b.admits(0, 0, None));
    assert!(!b.admits(1, 1, None));
}

/// A logged-in client whose server did or did not announce PIPELINING, with a window far
/// larger than the commands given.
fn logged_in(pipelining: bool) -> Client {
    let mut config = ClientConfig::new("u", Secret::new("p".to_string()));
    config.want_starttls = false;
    config.allow_plaintext_password = true;
    config.pipeline_window = BudgetLimits::default().max_commands;
    let mut client = Client::new(config);
    let capa: &[u8] = if pipelining {
        b"+OK\r\nUSER\r\nPIPELINING\r\n.\r\n"
    } else {
        b"+OK\r\nUSER\r\n.\r\n"
    };
    let script: [&[u8]; 5] = [b"+OK ready\r\n", capa, b"+OK\r\n", b"+OK in\r\n", capa];
    let mut ready = false;
    for reply in script {
        client.receive(reply);
        while let Some(event) = client.next_event().unwrap() {
            ready |= matches!(event, Event::Ready { .. });
        }
        client.take_outgoing();
    }
    assert!(ready);
    client
}

#[test]
fn without_pipelining_the_client_stays_in_lockstep_whatever_the_window() {
    for (pipelining, sent) in [
        (false, "RETR 1\r\n"),
        (true, "RETR 1\r\nRETR 2\r\nRETR 3\r\n"),
    ] {
        let mut client = logged_in(pipelining);
        for n in 1..=3 {
            client.enqueue(Command::Retr(n)).unwrap();
        }
        let out = client.take_outgoing().unwrap_or_default();
        assert_eq!(
            String::from_utf8_lossy(&out),
            sent,
            "pipelining: {pipelining}"
        );
    }
}
