//! The window policy against a simulated path: RETRs sent at some time are answered one
//! round trip later, FIFO, at the link's rate; the driver refills whenever a message ends,
//! as the app's engine does.

use super::{BudgetLimits, MIN_RETR_CHARGE, RetrBudget};
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
    /// The most bytes charged against the budget at once.
    max_owed: u64,
    /// The most bytes the RETRs in flight really owed (their replies' sizes) at once.
    max_real_owed: u64,
    max_in_flight: usize,
    final_budget: u64,
}

/// Downloads `sizes` over `path`, refilling by `budget` after each message, or keeping a
/// fixed count in flight when `fixed_count` is given (the app before: 16).
fn simulate(path: &Path, sizes: &[u64], budget: RetrBudget, fixed_count: Option<usize>) -> Outcome {
    let honest: Vec<(u64, u64)> = sizes.iter().map(|s| (*s, *s)).collect();
    simulate_lies(path, &honest, budget, fixed_count)
}

/// As [`simulate`], for (listed size, real size) pairs: a RETR is charged its listed size's
/// cost until its reply ends, plus what the reply brought beyond that cost, as the engine
/// charges it.
fn simulate_lies(
    path: &Path,
    sizes: &[(u64, u64)],
    mut budget: RetrBudget,
    fixed_count: Option<usize>,
) -> Outcome {
    if path.rtt_ms > 0.0 {
        budget.round_trip(path.rtt_ms);
    }
    let mut next = 0;
    // (sent at ms, charge, real size, bytes received) of each RETR in flight, in order.
    let mut in_flight: std::collections::VecDeque<(f64, u64, u64, u64)> = Default::default();
    let (mut owed, mut real_owed) = (0u64, 0u64);
    let (mut max_owed, mut max_real_owed, mut max_in_flight) = (0, 0, 0);
    let mut now = 0.0;
    loop {
        while next < sizes.len() {
            let (listed, real) = sizes[next];
            let ok = match fixed_count {
                Some(n) => in_flight.len() < n,
                None => budget.admits(in_flight.len(), owed, Some(listed)),
            };
            if !ok {
                break;
            }
            let charge = budget.cost(Some(listed));
            in_flight.push_back((now, charge, real, 0));
            owed += charge;
            real_owed += real;
            next += 1;
        }
        max_owed = max_owed.max(owed);
        max_real_owed = max_real_owed.max(real_owed);
        max_in_flight = max_in_flight.max(in_flight.len());
        if in_flight.is_empty() {
            break;
        }
        now += 1.0;
        let mut quota = path.bytes_per_ms;
        let mut got = 0;
        while let Some((sent, charge, real, received)) = in_flight.front_mut() {
            if *sent + path.rtt_ms > now || quota == 0 {
                break;
            }
            let n = quota.min(*real - *received);
            let excess_before = received.saturating_sub(*charge);
            *received += n;
            owed += received.saturating_sub(*charge) - excess_before;
            quota -= n;
            got += n;
            if *received == *real {
                owed -= (*charge).max(*real);
                real_owed -= *real;
                in_flight.pop_front();
            }
        }
        max_owed = max_owed.max(owed);
        if got > 0 {
            budget.received(now, got);
        }
    }
    Outcome {
        ms: now,
        max_owed,
        max_real_owed,
        max_in_flight,
        final_budget: budget.bytes(),
    }
}

const KB: u64 = 1000;

#[test]
fn on_a_50_ms_path_the_window_grows_to_the_bandwidth_delay_product() {
    // 1,000 x 21 KB at 40 MB/s (twice what the browser stores, 20 MB/s): the bytes alone
    // take 525 ms, plus one round trip. (A path over ~50 MB/s would be bound by the 128
    // commands, 2.7 MB per round trip: the price of bounding what a server listing false
    // sizes can make the app hold, `most_owed`.)
    let path = Path {
        rtt_ms: 50.0,
        bytes_per_ms: 40 * KB,
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
    // The bandwidth-delay product is 2 MB: the budget went past it.
    assert!(by_bytes.final_budget >= 2_000 * KB, "{by_bytes:?}");
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
    // Tiny messages: each is charged the floor, and the count bounds them too.
    let out = simulate(&path, &vec![100; 5000], RetrBudget::new(limits), None);
    assert!(out.max_in_flight <= limits.max_commands, "{out:?}");
    assert!(
        out.max_in_flight as u64 <= out.final_budget / MIN_RETR_CHARGE,
        "{out:?}"
    );
}

/// What the app lets a reply bring beyond twice its listed size before it ends the session
/// (`OVERRUN_SLACK` in the engine's events).
const SLACK: u64 = 64 << 10;

#[test]
fn the_most_a_lying_server_can_make_the_driver_hold_is_stated() {
    let limits = BudgetLimits::default();
    assert_eq!(limits.most_owed(SLACK), 24 << 20);
    // Sizes listed as 0 (or 1) on a fast path that grows the budget to its ceiling: each
    // reply brings the most the overrun rule lets through, and the real bytes owed stay
    // within the ceiling (a reply's limit is 2 bytes more for a listed 1).
    let path = Path {
        rtt_ms: 200.0,
        bytes_per_ms: 1_000 * KB,
    };
    for listed in [0, 1] {
        let lies = vec![(listed, 2 * listed + SLACK); 3000];
        let out = simulate_lies(&path, &lies, RetrBudget::new(limits), None);
        assert_eq!(out.final_budget, limits.max_bytes, "{out:?}");
        assert!(
            out.max_real_owed <= limits.max_bytes + 2 * listed * 128,
            "listed {listed}: {out:?}"
        );
    }
    // Any sizes, each reply twice its listed size plus the slack: within `most_owed`.
    for listed in [
        1,
        4 * KB,
        16 * KB,
        20 * KB,
        100 * KB,
        1_000 * KB,
        5_000 * KB,
    ] {
        let lies = vec![(listed, 2 * listed + SLACK); 1000];
        let out = simulate_lies(&path, &lies, RetrBudget::new(limits), None);
        assert!(
            out.max_real_owed <= limits.most_owed(SLACK),
            "listed {listed}: {out:?}"
        );
    }
}

#[test]
fn sizes_listed_as_zero_are_charged_the_floor_before_the_budget_grows() {
    let limits = BudgetLimits::default();
    // No round trip measured: the budget stays at 1 MiB, so 64 RETRs of a listed 0.
    let path = Path {
        rtt_ms: 0.0,
        bytes_per_ms: 1_000 * KB,
    };
    let lies = vec![(0, SLACK); 500];
    let out = simulate_lies(&path, &lies, RetrBudget::new(limits), None);
    assert_eq!(
        out.max_in_flight as u64,
        limits.min_bytes / MIN_RETR_CHARGE,
        "{out:?}"
    );
    assert!(out.max_real_owed <= limits.min_bytes * SLACK / MIN_RETR_CHARGE);
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
fn unknown_sizes_come_alone_and_small_sizes_cost_the_floor() {
    let b = RetrBudget::new(BudgetLimits::default());
    // Unknown: nothing bounds the reply but the driver's limit on one message.
    assert_eq!(b.cost(None), b.limits().max_bytes);
    assert!(b.admits(0, 0, None));
    assert!(!b.admits(1, 1, None));
    assert!(!b.admits(1, b.cost(None), Some(0)));
    for listed in [0, 1, MIN_RETR_CHARGE - 1] {
        assert_eq!(b.cost(Some(listed)), MIN_RETR_CHARGE);
    }
    assert_eq!(b.cost(Some(20_000)), 20_000);
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

#[test]
fn the_client_counts_the_replies_owed() {
    // A driver times a round trip only on a write made while nothing else was owed.
    let mut client = logged_in(true);
    assert_eq!(client.replies_owed(), 0);
    for n in 1..=3 {
        client.enqueue(Command::Retr(n)).unwrap();
    }
    assert_eq!(client.replies_owed(), 3);
    client.receive(b"+OK\r\nbody\r\n.\r\n");
    while client.next_event().unwrap().is_some() {}
    assert_eq!(client.replies_owed(), 2);
    // During login each write owes one reply.
    let mut config = ClientConfig::new("u", Secret::new("p".to_string()));
    config.want_starttls = false;
    config.allow_plaintext_password = true;
    let mut client = Client::new(config);
    assert_eq!(client.replies_owed(), 1); // the greeting
    client.receive(b"+OK ready\r\n");
    while client.next_event().unwrap().is_some() {}
    assert!(client.take_outgoing().is_some()); // CAPA
    assert_eq!(client.replies_owed(), 1);
}
