//! How many bytes of `RETR` replies a driver lets the server owe at once: the pipelining
//! window by bytes (from `LIST` sizes) and by the measured round trip, not by a count.
//!
//! A fixed count of commands in flight is tuned for one link only: 16 RETRs of 20 KB keep a
//! loopback path busy, but on a 50 ms path they are 320 KB per round trip, so 1,000 messages
//! cost 63 round trips (3.1 s) where the bytes alone take a fraction of that. What keeps a
//! path busy is its bandwidth-delay product: the bytes it moves in one round trip. So the
//! budget starts at [`BudgetLimits::min_bytes`] and, once the driver has measured a round trip,
//! grows by the bytes received (as TCP's slow start does) until it is twice the bytes that
//! arrive per round trip, up to [`BudgetLimits::max_bytes`]. Those bytes pile up in the driver (a browser reads a
//! WebSocket without back-pressure) whenever it stops reading, so the ceiling is a memory
//! bound.
//!
//! The sizes come from the server, so the bound must hold when they are false. A RETR is
//! charged at least [`MIN_RETR_CHARGE`] (a server listing every size as 0 would otherwise get
//! every RETR for free), a message of unknown size comes alone, and a driver charges the
//! bytes of a reply that run past its charge as they arrive (so no RETR joins while one
//! overruns). What a lying server can still make a driver hold is
//! [`BudgetLimits::most_owed`]: see there.
//!
//! No clock here, as everywhere in this crate: the driver measures and passes times in. It
//! gives one round trip per command it sent while nothing else was owed (the login's lockstep
//! commands), and every received byte count with the time it arrived.
//!
//! The budget decides what a driver hands to [`Client::enqueue`](super::Client::enqueue);
//! the client still sends one command at a time to a server without PIPELINING (RFC 2449
//! section 6.6), whatever it was handed.

/// The bounds of a [`RetrBudget`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BudgetLimits {
    /// The budget before a round trip is measured, and its floor.
    pub min_bytes: u64,
    /// The ceiling: the most bytes of replies owed at once, which is what the driver may have
    /// to hold if it stops reading for a while.
    pub max_bytes: u64,
    /// The most RETRs in flight whatever their sizes: each may bring more than it is charged
    /// when its listed size is false (see [`BudgetLimits::most_owed`]).
    pub max_commands: usize,
}

/// The least a RETR is charged, whatever size was listed. 16 KiB is below the size of most
/// mail (the benches' messages are 20 KB), so an honest listing is charged as listed and the
/// window's speed does not change; it only makes a listed 0 cost something: with the floor,
/// a 1 MiB budget holds 64 RETRs, not all of them.
pub const MIN_RETR_CHARGE: u64 = 16 << 10;

impl Default for BudgetLimits {
    /// 1 MiB to 8 MiB, at most 128 commands. 8 MiB was the app's bound on requested bytes
    /// before (beside a count of 16); 1 MiB is about the bandwidth-delay product of a browser
    /// that stores 20 MB/s on a 50 ms path, so most links start close to full. 128 commands of
    /// 20 KB are 2.6 MB in flight, over twice that product; and 128 replies cut off at the
    /// app's 64 KiB overrun slack are the 8 MiB ceiling (`most_owed`).
    fn default() -> BudgetLimits {
        BudgetLimits {
            min_bytes: 1 << 20,
            max_bytes: 8 << 20,
            max_commands: 128,
        }
    }
}

impl BudgetLimits {
    /// What a RETR of a message listed at `size` is charged: its size, at least
    /// [`MIN_RETR_CHARGE`]; the ceiling when no size was listed, so that such a message comes
    /// alone (nothing bounds it but the driver's limit on one message).
    pub fn cost(&self, size: Option<u64>) -> u64 {
        size.map_or(self.max_bytes, |s| s.max(MIN_RETR_CHARGE))
    }

    /// The most bytes of replies a server can make a driver hold at once for the RETRs in
    /// flight, when the driver ends the session at any reply that runs past twice its listed
    /// size plus `slack` (the app's overrun rule), however false the listed sizes: besides a
    /// message that came alone, the charges in flight are at most `max_bytes`, so their
    /// listed sizes too, and there are at most `max_commands` of them (each charged at least
    /// [`MIN_RETR_CHARGE`]: at most `max_bytes / MIN_RETR_CHARGE`); each may bring twice its
    /// listed size plus `slack`. With the defaults and 64 KiB: 16 + 8 = 24 MiB. A server that
    /// lists sizes of 0 gets 128 replies of at most 64 KiB each: the 8 MiB ceiling. (A server
    /// can always send bytes nobody asked for; no window bounds those.)
    pub fn most_owed(&self, slack: u64) -> u64 {
        let commands = (self.max_commands as u64).min(self.max_bytes / MIN_RETR_CHARGE);
        self.max_bytes
            .saturating_mul(2)
            .saturating_add(commands.saturating_mul(slack))
    }
}

/// The shortest round the rate is judged over: on loopback a round trip is a fraction of a
/// millisecond, and a rate over a few microseconds says nothing.
const MIN_ROUND_MS: f64 = 5.0;

/// The window by bytes: see the module's documentation.
#[derive(Clone, Debug)]
pub struct RetrBudget {
    limits: BudgetLimits,
    budget: u64,
    rtt_ms: Option<f64>,
    /// The round being measured: when it started and the bytes received since.
    round: Option<(f64, u64)>,
    /// Twice the bytes per round trip of the last whole round: growth stops there.
    ceiling: Option<u64>,
}

impl RetrBudget {
    pub fn new(limits: BudgetLimits) -> RetrBudget {
        let limits = BudgetLimits {
            min_bytes: limits.min_bytes.max(1),
            max_bytes: limits.max_bytes.max(limits.min_bytes.max(1)),
            max_commands: limits.max_commands.max(1),
        };
        RetrBudget {
            budget: limits.min_bytes,
            limits,
            rtt_ms: None,
            round: None,
            ceiling: None,
        }
    }

    pub fn limits(&self) -> BudgetLimits {
        self.limits
    }

    /// The bytes of replies that may be owed now.
    pub fn bytes(&self) -> u64 {
        self.budget
    }

    /// The shortest round trip measured so far.
    pub fn rtt_ms(&self) -> Option<f64> {
        self.rtt_ms
    }

    /// A round trip the driver measured: from writing a command while nothing else was owed
    /// to the first byte of its reply. The shortest one counts (a slow login step is the
    /// server's work, not the path).
    pub fn round_trip(&mut self, ms: f64) {
        if ms.is_finite() && ms >= 0.0 {
            self.rtt_ms = Some(self.rtt_ms.map_or(ms, |r| r.min(ms)));
        }
    }

    /// `bytes` of the server's replies arrived at `now_ms` (the driver's clock). Once a round
    /// trip is known, the budget grows by every byte received, as TCP's slow start does: while
    /// the budget is what limits the flow, that is about a budget's worth per round trip, so
    /// it grows e-fold per round trip. It stops at twice the bytes that came per round trip in
    /// the last whole round (the path, or the reader, is then the bound) and at the ceiling.
    /// It never shrinks within a session: a pause in the reader (a commit to disk) looks like
    /// a slow link, and shrinking then would starve the next round.
    pub fn received(&mut self, now_ms: f64, bytes: u64) {
        let Some(rtt) = self.rtt_ms else {
            return;
        };
        let stop = self.ceiling.unwrap_or(u64::MAX).min(self.limits.max_bytes);
        if self.budget < stop {
            self.budget = self.budget.saturating_add(bytes).min(stop);
        }
        let (start, got) = self.round.get_or_insert((now_ms, 0));
        *got += bytes;
        let elapsed = now_ms - *start;
        if elapsed >= rtt.max(MIN_ROUND_MS) {
            let per_rtt = *got as f64 * rtt / elapsed;
            self.ceiling = Some((2.0 * per_rtt).min(u64::MAX as f64) as u64);
            self.round = Some((now_ms, 0));
        }
    }

    /// What a message listed at `size` is charged against the budget: [`BudgetLimits::cost`].
    pub fn cost(&self, size: Option<u64>) -> u64 {
        self.limits.cost(size)
    }

    /// Whether a RETR of a message listed at `size` may be sent while `in_flight` RETRs owe
    /// `owed` bytes. With nothing in flight it always may: a message larger than the budget
    /// still comes, alone.
    pub fn admits(&self, in_flight: usize, owed: u64, size: Option<u64>) -> bool {
        in_flight == 0
            || (in_flight < self.limits.max_commands
                && owed.saturating_add(self.cost(size)) <= self.budget)
    }
}

#[cfg(test)]
#[path = "retr_budget/tests.rs"]
mod tests;
