//! When an account is checked next: the rules of automatic checking as plain data and
//! arithmetic on an injected clock (ms since the epoch), so they are tested without waiting.
//! The timers, the network events and the locks that act on them are `model/scheduler.rs`.
//!
//! The rules: an account with an interval is checked at launch, when the network comes back
//! and then every interval; never sooner after the last login than the server's `LOGIN-DELAY`
//! (RFC 2449 section 6.5: the minimum seconds between logins, remembered across reloads and
//! tabs); after failures the wait doubles per failure, capped; after a refused sign-in, no
//! automatic check until the user fixes the account.

use serde::{Deserialize, Serialize};

/// The longest wait after failures in a row (unless the account's own interval is longer).
pub const MAX_BACKOFF_MS: f64 = 60.0 * 60_000.0;

/// Why automatic checks of an account stopped until the user acts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Paused {
    /// The server refused the user name or password: trying again on a timer would only
    /// repeat the refusal (and may get the account locked).
    SignInFailed,
}

/// What this app remembers about an account's logins, in every tab and across reloads.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CheckRecord {
    /// When the last session with the server ended (any tab; ms since the epoch). A session's
    /// end is never earlier than its login, so spacing from it is never too short.
    pub last_login_ms: Option<f64>,
    /// The `LOGIN-DELAY` the server announced, in seconds.
    pub login_delay_s: Option<u32>,
    /// Failed checks in a row.
    pub failures: u32,
    pub paused: Option<Paused>,
}

/// How a check ended, as far as the schedule cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    Ok,
    /// The network, the proxy or the server failed: try again later, backing off.
    Failed,
    /// The server refused the user name or password, or could not prove it knows the password
    /// (SCRAM): either way a timer would only repeat it, so the user decides.
    SignInRefused,
}

/// When an account is checked next.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Next {
    /// Only when the user presses Sync.
    Manual,
    Paused(Paused),
    /// At this time (ms since the epoch); due if it is not after now.
    At(f64),
}

/// One account's schedule: the remembered record and this tab's wish to check soon.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Schedule {
    pub record: CheckRecord,
    /// Check as soon as the login delay allows (launch, network back, account just saved).
    pub soon: bool,
}

impl Schedule {
    pub fn new(record: CheckRecord) -> Schedule {
        Schedule { record, soon: true }
    }

    /// The earliest time the server allows the next login.
    pub fn login_allowed_at(&self) -> f64 {
        match self.record.last_login_ms {
            None => f64::NEG_INFINITY,
            Some(last) => last + f64::from(self.record.login_delay_s.unwrap_or(0)) * 1000.0,
        }
    }

    /// When the account is checked next, for an interval of `every_minutes` (`None`: manual).
    pub fn next(&self, every_minutes: Option<u32>) -> Next {
        let Some(minutes) = every_minutes else {
            return Next::Manual;
        };
        if let Some(p) = self.record.paused {
            return Next::Paused(p);
        }
        let allowed = self.login_allowed_at();
        let Some(last) = self.record.last_login_ms else {
            return Next::At(allowed);
        };
        if self.soon {
            return Next::At(allowed);
        }
        let every = f64::from(minutes) * 60_000.0;
        let wait = match self.record.failures {
            0 => every,
            n => backoff(n, every),
        };
        Next::At((last + wait).max(allowed))
    }

    /// Whether an automatic check is due at `now`.
    pub fn due(&self, every_minutes: Option<u32>, now: f64) -> bool {
        matches!(self.next(every_minutes), Next::At(at) if at <= now)
    }

    /// A check ended at `now`. `login_delay_s` is what the server announced, if it did.
    pub fn ended(&mut self, now: f64, how: Ended, login_delay_s: Option<u32>) {
        let r = &mut self.record;
        r.last_login_ms = Some(now);
        if login_delay_s.is_some() {
            r.login_delay_s = login_delay_s;
        }
        self.soon = false;
        match how {
            Ended::Ok => {
                r.failures = 0;
                r.paused = None;
            }
            Ended::Failed => r.failures = r.failures.saturating_add(1),
            Ended::SignInRefused => {
                r.failures = r.failures.saturating_add(1);
                r.paused = Some(Paused::SignInFailed);
            }
        }
    }

    /// The user fixed the account (saved it, typed the password): checks may start again.
    pub fn resume(&mut self) {
        self.record.paused = None;
        self.record.failures = 0;
        self.soon = true;
    }
}

/// The wait after `failures` (at least one) failures in a row: the interval doubled per
/// failure, capped at [`MAX_BACKOFF_MS`] or the interval itself, whichever is longer.
pub fn backoff(failures: u32, every_ms: f64) -> f64 {
    let grown = every_ms * 2f64.powi(failures.min(30) as i32);
    grown.min(MAX_BACKOFF_MS.max(every_ms))
}

/// "4 min", "1 h 5 min", "30 s": how long until `at`, in the words "Next check in …" uses.
pub fn wait_text(now: f64, at: f64) -> String {
    let s = ((at - now) / 1000.0).ceil().max(0.0) as u64;
    match s {
        0 => "a moment".into(),
        1..=59 => format!("{s} s"),
        60..=3599 => format!("{} min", s.div_ceil(60)),
        _ => match (s / 3600, (s % 3600) / 60) {
            (h, 0) => format!("{h} h"),
            (h, m) => format!("{h} h {m} min"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    const MIN: f64 = 60_000.0;
    const T0: f64 = 1_700_000_000_000.0;

    fn checked(at: f64, delay: Option<u32>) -> Schedule {
        let mut s = Schedule::new(CheckRecord::default());
        s.ended(at, Ended::Ok, delay);
        s
    }

    #[test]
    fn a_new_account_is_due_at_once_a_manual_one_never() {
        let s = Schedule::new(CheckRecord::default());
        assert!(s.due(Some(15), T0));
        assert_eq!(s.next(None), Next::Manual);
        assert!(!s.due(None, T0));
    }

    #[test]
    fn checks_follow_the_interval() {
        let s = checked(T0, None);
        assert_eq!(s.next(Some(15)), Next::At(T0 + 15.0 * MIN));
        assert!(!s.due(Some(15), T0 + 15.0 * MIN - 1.0));
        assert!(s.due(Some(15), T0 + 15.0 * MIN));
    }

    #[test]
    fn no_login_sooner_than_the_login_delay_even_at_launch_or_when_the_network_returns() {
        // Gmail's 300 s against a 1-minute interval.
        let mut s = checked(T0, Some(300));
        assert_eq!(s.next(Some(1)), Next::At(T0 + 5.0 * MIN));
        // A reload or the network coming back asks for a check soon: still not before.
        s.soon = true;
        assert_eq!(s.next(Some(1)), Next::At(T0 + 5.0 * MIN));
        assert!(!s.due(Some(1), T0 + 5.0 * MIN - 1.0));
        // A check that learnt nothing new keeps the delay the server announced before.
        s.ended(T0 + 5.0 * MIN, Ended::Failed, None);
        assert_eq!(s.record.login_delay_s, Some(300));
        assert!(s.login_allowed_at() >= T0 + 10.0 * MIN);
        // The remembered record gives the same answer in another tab or after a reload.
        let reloaded = Schedule::new(s.record.clone());
        assert_eq!(reloaded.login_allowed_at(), s.login_allowed_at());
        assert!(!reloaded.due(Some(1), T0 + 10.0 * MIN - 1.0));
    }

    #[test]
    fn failures_back_off_growing_and_capped() {
        let mut s = checked(T0, None);
        let mut waits = Vec::new();
        let mut now = T0;
        for _ in 0..8 {
            s.ended(now, Ended::Failed, None);
            let Next::At(at) = s.next(Some(5)) else {
                panic!("a failure does not pause: {s:?}");
            };
            waits.push((at - now) / MIN);
            now = at;
        }
        assert_eq!(waits, [10.0, 20.0, 40.0, 60.0, 60.0, 60.0, 60.0, 60.0]);
        // Success ends the backoff.
        s.ended(now, Ended::Ok, None);
        assert_eq!(s.next(Some(5)), Next::At(now + 5.0 * MIN));
        // An interval longer than the cap is never shortened by it.
        assert_eq!(backoff(3, 120.0 * MIN), 120.0 * MIN);
    }

    #[test]
    fn a_refused_sign_in_stops_automatic_checks_until_the_user_fixes_the_account() {
        let mut s = checked(T0, None);
        s.ended(T0 + MIN, Ended::SignInRefused, None);
        assert_eq!(s.next(Some(5)), Next::Paused(Paused::SignInFailed));
        s.soon = true;
        assert!(!s.due(Some(5), T0 + 1000.0 * MIN));
        s.resume();
        assert!(s.due(Some(5), T0 + MIN));
        assert_eq!(s.record.failures, 0);
    }

    #[test]
    fn waits_read_as_words() {
        assert_eq!(wait_text(T0, T0 - 5.0), "a moment");
        assert_eq!(wait_text(T0, T0 + 30_000.0), "30 s");
        assert_eq!(wait_text(T0, T0 + 4.0 * MIN), "4 min");
        assert_eq!(wait_text(T0, T0 + 4.0 * MIN + 1.0), "5 min");
        assert_eq!(wait_text(T0, T0 + 65.0 * MIN), "1 h 5 min");
        assert_eq!(wait_text(T0, T0 + 120.0 * MIN), "2 h");
    }
}
