//! The RETR window's measurements: the engine has the clock, the protocol crate's
//! [`RetrBudget`] has none, so the engine times the round trips of the lockstep commands
//! (login, listing) and tells it every received byte count; `Run::refill` asks it whether the
//! next RETR may go.

use postbag_protocol::pop3::{BudgetLimits, RetrBudget};

pub(in crate::sync) struct RetrWindow {
    pub budget: RetrBudget,
    /// When a command was written while nothing else was owed (a round-trip probe).
    probe_sent: Option<f64>,
}

/// Milliseconds, sub-millisecond where the browser allows: a loopback round trip is a fraction
/// of one, and `Date.now()` would call it zero.
fn now_ms() -> f64 {
    crate::global::now_ms()
}

impl RetrWindow {
    pub fn new(limits: BudgetLimits) -> RetrWindow {
        RetrWindow {
            budget: RetrBudget::new(limits),
            probe_sent: None,
        }
    }

    /// `written` was written, and `replies_owed` replies are owed now (the client's count,
    /// this write's commands included); `lockstep` when the session is in a phase where each
    /// write waits for its answer before the next. The first bytes back time one round trip
    /// only if nothing else was owed: bytes of an earlier reply still arriving would time
    /// about 0 ms, and the shortest round trip counts.
    pub fn sent(&mut self, lockstep: bool, written: &[u8], replies_owed: usize) {
        // Each command, and each answer to a SASL challenge, is one line.
        let commands = written.iter().filter(|b| **b == b'\n').count();
        let earlier = replies_owed.saturating_sub(commands);
        if lockstep && earlier == 0 && self.probe_sent.is_none() {
            self.probe_sent = Some(now_ms());
        }
    }

    /// `n` bytes of the server's replies arrived.
    pub fn received(&mut self, n: usize) {
        let now = now_ms();
        if let Some(sent) = self.probe_sent.take() {
            self.budget.round_trip(now - sent);
        }
        self.budget.received(now, n as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// Waits about `ms` milliseconds (a busy wait: the test is synchronous).
    fn pause(ms: f64) {
        let start = now_ms();
        while now_ms() - start < ms {}
    }

    #[test]
    fn a_write_made_while_an_earlier_reply_is_owed_times_nothing() {
        let mut w = RetrWindow::new(BudgetLimits::default());
        // LIST written while UIDL's reply (sent before) is still owed: 2 owed, 1 line.
        w.sent(true, b"LIST\r\n", 2);
        w.received(100);
        assert_eq!(w.budget.rtt_ms(), None);
        // UIDL and LIST in one write, nothing owed before: a probe.
        w.sent(true, b"UIDL\r\nLIST\r\n", 2);
        pause(3.0);
        w.received(100);
        let rtt = w.budget.rtt_ms().expect("timed");
        assert!(rtt >= 2.0, "{rtt} ms");
        // Not in lockstep: no probe.
        w.sent(false, b"RETR 1\r\n", 1);
        w.received(100);
        assert_eq!(w.budget.rtt_ms(), Some(rtt));
    }
}
