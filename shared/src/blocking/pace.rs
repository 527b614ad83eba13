//! The per-reply time limit of the blocking drivers: a deadline for silence and a minimum
//! rate per window.

use std::fmt;
use std::io;
use std::time::{Duration, Instant};

use super::SetReadTimeout;

/// How long a reply may take. A reply starts when the driver begins waiting for it and ends
/// with the event that completes it; it fails when the server
/// - sends nothing for `reply_timeout`, or
/// - brings fewer than `min_rate × reply_timeout` bytes in a window of `reply_timeout`
///   (windows follow one another from the reply's start).
///
/// A drip of one byte a second therefore fails at the end of its first window; a large message
/// at a fair rate never does, however long it takes; and a rate is judged per window, not
/// averaged over the reply, so a fast start cannot buy hours of drip after it. (The app's sync
/// engine judges a reply the same way: `frontend/src/sync/run.rs`, `check_pace`.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pace {
    pub reply_timeout: Duration,
    /// Bytes per second; 0 checks silence only.
    pub min_rate: u64,
}

/// How a reply ran out of time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timeout {
    /// Nothing arrived for `silent` (with `received` bytes of the reply before).
    Silent { silent: Duration, received: u64 },
    /// Only `received` bytes in a window of `elapsed`: fewer than `min_rate` per second.
    TooSlow {
        received: u64,
        elapsed: Duration,
        min_rate: u64,
    },
}

impl fmt::Display for Timeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Timeout::Silent { silent, received } => write!(
                f,
                "the server sent nothing for {:.1} s ({received} bytes of the reply before)",
                silent.as_secs_f64()
            ),
            Timeout::TooSlow {
                received,
                elapsed,
                min_rate,
            } => write!(
                f,
                "the server sent {received} bytes in {:.1} s, less than the minimum of \
                 {min_rate} bytes/s",
                elapsed.as_secs_f64()
            ),
        }
    }
}

/// Why the clock stopped a read.
pub(crate) enum ClockError {
    /// Setting the socket's read timeout failed.
    Io(io::Error),
    Timeout(Timeout),
}

/// The deadline of the reply being read, in a session with a [`Pace`].
pub(crate) struct Clock {
    pace: Pace,
    set_read_timeout: Option<SetReadTimeout>,
    reply: Option<ReplyClock>,
}

/// The reply being waited for: when its current window started, when its last byte came,
/// and how many came in the current window.
#[derive(Clone, Copy, Debug)]
struct ReplyClock {
    start: Instant,
    last: Instant,
    received: u64,
}

impl Clock {
    pub(crate) fn new(pace: Pace, set_read_timeout: Option<SetReadTimeout>) -> Clock {
        Clock {
            pace,
            set_read_timeout,
            reply: None,
        }
    }

    /// The driver starts waiting; a reply already under way keeps its clock.
    pub(crate) fn begin(&mut self, now: Instant) {
        self.reply.get_or_insert(ReplyClock {
            start: now,
            last: now,
            received: 0,
        });
    }

    /// The reply is complete; the next one gets a new clock.
    pub(crate) fn end(&mut self) {
        self.reply = None;
    }

    /// A new reply is awaited from `now`, if the driver is waiting.
    pub(crate) fn restart(&mut self, now: Instant) {
        if self.reply.is_some() {
            self.end();
            self.begin(now);
        }
    }

    pub(crate) fn received(&mut self, n: usize, now: Instant) {
        if let Some(r) = &mut self.reply {
            r.received += n as u64;
            r.last = now;
        }
    }

    /// Gives the socket a whole reply's time (for a TLS handshake, bounded as a whole).
    pub(crate) fn whole_reply(&mut self) -> io::Result<()> {
        match self.set_read_timeout.as_mut() {
            Some(set) => set(self.pace.reply_timeout),
            None => Ok(()),
        }
    }

    /// Before a read: sets the socket's read timeout to the time left, or says how the reply
    /// ran out of time.
    pub(crate) fn before_read(&mut self, now: Instant) -> Result<(), ClockError> {
        let left = match self.reply.as_mut() {
            Some(reply) => time_left(self.pace, reply, now).map_err(ClockError::Timeout)?,
            None => self.pace.reply_timeout,
        };
        if let Some(set) = self.set_read_timeout.as_mut() {
            // A zero timeout means "none" to `set_read_timeout`: never pass it.
            set(left.max(Duration::from_millis(1))).map_err(ClockError::Io)?;
        }
        Ok(())
    }
}

/// The time `reply` has left at `now` under `pace` (see [`Pace`]), or how it ran out. A window
/// that has passed with enough bytes gives way to the next one.
fn time_left(pace: Pace, reply: &mut ReplyClock, now: Instant) -> Result<Duration, Timeout> {
    let window = pace.reply_timeout;
    let silent = now.saturating_duration_since(reply.last);
    if silent >= window {
        return Err(Timeout::Silent {
            silent,
            received: reply.received,
        });
    }
    let mut left = window - silent;
    if pace.min_rate > 0 {
        let elapsed = now.saturating_duration_since(reply.start);
        if elapsed >= window {
            let needed = pace.min_rate as f64 * window.as_secs_f64();
            if (reply.received as f64) < needed {
                return Err(Timeout::TooSlow {
                    received: reply.received,
                    elapsed,
                    min_rate: pace.min_rate,
                });
            }
            reply.start = now;
            reply.received = 0;
        }
        left = left.min(window - now.saturating_duration_since(reply.start));
    }
    Ok(left)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PACE: Pace = Pace {
        reply_timeout: Duration::from_secs(10),
        min_rate: 100,
    };

    /// `time_left` for a reply whose window started at 0 s and got `received` bytes, the last
    /// at `last` seconds, asked at `now` seconds; then where the window starts.
    fn check(received: u64, last: f64, now: f64, expected: Result<f64, &str>, window: f64) {
        let t0 = Instant::now();
        let at = |s: f64| t0 + Duration::from_secs_f64(s);
        let mut reply = ReplyClock {
            start: t0,
            last: at(last),
            received,
        };
        let got = time_left(PACE, &mut reply, at(now));
        match (got, expected) {
            (Ok(left), Ok(want)) => assert!(
                (left.as_secs_f64() - want).abs() < 1e-6,
                "{received} B, last {last}, now {now}: {left:?} left, want {want}"
            ),
            (Err(Timeout::Silent { .. }), Err("silent")) => {}
            (Err(Timeout::TooSlow { .. }), Err("slow")) => {}
            (got, want) => panic!("{received} B, last {last}, now {now}: {got:?}, want {want:?}"),
        }
        let start = reply.start.duration_since(t0).as_secs_f64();
        assert!((start - window).abs() < 1e-6, "window starts at {start}");
    }

    #[test]
    fn a_reply_has_a_deadline_and_a_minimum_rate_per_window() {
        // 10 s windows at 100 B/s: each window must bring 1000 bytes.
        check(0, 0.0, 0.0, Ok(10.0), 0.0);
        check(0, 0.0, 9.5, Ok(0.5), 0.0);
        check(0, 0.0, 10.0, Err("silent"), 0.0);
        // Within a window, silence and the window's end bound the wait.
        check(1000, 9.0, 9.0, Ok(1.0), 0.0);
        // A window that brought enough gives way to the next one.
        check(1000, 9.5, 10.0, Ok(9.5), 10.0);
        check(5000, 12.0, 14.0, Ok(8.0), 14.0);
        // One byte short: too slow, however recent the last byte.
        check(999, 9.9, 10.0, Err("slow"), 0.0);
        // A drip of one byte a second fails when its first window ends.
        check(9, 9.0, 9.9, Ok(0.1), 0.0);
        check(10, 10.0, 10.0, Err("slow"), 0.0);
    }
}
