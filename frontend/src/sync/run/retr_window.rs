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
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or_else(js_sys::Date::now, |p| p.now())
}

impl RetrWindow {
    pub fn new(limits: BudgetLimits) -> RetrWindow {
        RetrWindow {
            budget: RetrBudget::new(limits),
            probe_sent: None,
        }
    }

    /// Bytes were written; `lockstep` when the session is in a phase where each write waits
    /// for its answer before the next (so the first bytes back time one round trip).
    pub fn sent(&mut self, lockstep: bool) {
        if lockstep && self.probe_sent.is_none() {
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
