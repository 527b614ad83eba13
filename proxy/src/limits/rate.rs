//! A rate per client address: a token bucket for each address (IPv6 by its /64, as the tunnel
//! caps count, [`super::bucket`]), for requests that are over in one answer, where the tunnel
//! caps count what is open. `/oauth/token` uses it: each request it forwards carries the
//! deployment's client secret to the provider, so one address must not be able to redeem
//! stolen codes or refresh tokens with it in bulk, nor get the deployment's client throttled
//! by the provider.
//!
//! The table is bounded: at most [`MAX_TRACKED`] addresses. A full bucket is the same as none,
//! so those go first when room is needed; if every address is still limited, the one seen
//! longest ago goes (it starts again with a full bucket: an attacker with that many addresses
//! gets at most one burst more per address evicted, and memory stays fixed).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::bucket;

/// Addresses remembered at once (about 40 bytes each).
pub const MAX_TRACKED: usize = 4096;

/// An address over its rate, and when it gets its next place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many requests from this address; try again in {retry_after_s} s")]
pub struct TooFrequent {
    pub retry_after_s: u64,
}

/// Up to `burst` requests at once from one address, then one each `every`.
#[derive(Debug)]
pub struct Rate {
    burst: u32,
    every: Duration,
    seen: Mutex<HashMap<IpAddr, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    /// Requests the address may still make now, counted at `at`.
    left: u32,
    /// When `left` was counted; refills are counted from here in whole `every`s.
    at: Instant,
}

impl Rate {
    pub fn new(burst: u32, every: Duration) -> Rate {
        Rate {
            burst: burst.max(1),
            every: every.max(Duration::from_millis(1)),
            seen: Mutex::default(),
        }
    }

    /// Takes one request's place for `ip` at `now`, or says how long until there is one.
    pub fn take(&self, ip: IpAddr, now: Instant) -> Result<(), TooFrequent> {
        let ip = bucket(ip);
        let mut seen = self.seen.lock().unwrap();
        if !seen.contains_key(&ip) && seen.len() >= MAX_TRACKED {
            self.make_room(&mut seen, now);
        }
        let b = seen.entry(ip).or_insert(Bucket {
            left: self.burst,
            at: now,
        });
        self.refill(b, now);
        if b.left == 0 {
            let wait = self
                .every
                .saturating_sub(now.saturating_duration_since(b.at));
            return Err(TooFrequent {
                retry_after_s: wait.as_secs_f64().ceil().max(1.0) as u64,
            });
        }
        b.left -= 1;
        Ok(())
    }

    /// Adds the whole periods elapsed since `b.at`, up to the burst; the part of a period
    /// not yet elapsed stays counted (`at` moves by whole periods only).
    fn refill(&self, b: &mut Bucket, now: Instant) {
        let elapsed = now.saturating_duration_since(b.at);
        let periods = elapsed.as_nanos() / self.every.as_nanos();
        if periods == 0 {
            return;
        }
        let left = u128::from(b.left) + periods;
        if left >= u128::from(self.burst) {
            b.left = self.burst;
            b.at = now;
        } else {
            b.left = left as u32;
            b.at += self.every * periods as u32;
        }
    }

    /// Drops the addresses whose bucket has refilled; if none has, the one seen longest ago.
    fn make_room(&self, seen: &mut HashMap<IpAddr, Bucket>, now: Instant) {
        seen.retain(|_, b| {
            self.refill(b, now);
            b.left < self.burst
        });
        if seen.len() >= MAX_TRACKED
            && let Some(oldest) = seen.iter().min_by_key(|(_, b)| b.at).map(|(ip, _)| *ip)
        {
            seen.remove(&oldest);
        }
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_burst_then_one_per_period_per_address() {
        let rate = Rate::new(3, Duration::from_secs(10));
        let t0 = Instant::now();
        let a = ip("192.0.2.1");
        for _ in 0..3 {
            rate.take(a, t0).unwrap();
        }
        assert_eq!(
            rate.take(a, t0 + Duration::from_secs(1)),
            Err(TooFrequent { retry_after_s: 9 })
        );
        // Another address has its own bucket; another address in the same IPv6 /64 does not.
        rate.take(ip("192.0.2.2"), t0).unwrap();
        rate.take(ip("2001:db8::1"), t0).unwrap();
        for _ in 0..2 {
            rate.take(ip("2001:db8::2"), t0).unwrap();
        }
        assert!(rate.take(ip("2001:db8::ffff"), t0).is_err());
        // One period later: one more, not a new burst.
        rate.take(a, t0 + Duration::from_secs(10)).unwrap();
        assert!(rate.take(a, t0 + Duration::from_secs(11)).is_err());
        // 15 s on, half a period counted: the next place comes 5 s later, not 10.
        rate.take(a, t0 + Duration::from_secs(25)).unwrap();
        assert_eq!(
            rate.take(a, t0 + Duration::from_secs(26)),
            Err(TooFrequent { retry_after_s: 4 })
        );
        rate.take(a, t0 + Duration::from_secs(30)).unwrap();
        // A long pause refills the burst, never more.
        let later = t0 + Duration::from_secs(3600);
        for _ in 0..3 {
            rate.take(a, later).unwrap();
        }
        assert!(rate.take(a, later).is_err());
    }

    #[test]
    fn the_table_stays_bounded_and_keeps_the_addresses_still_limited() {
        let rate = Rate::new(2, Duration::from_secs(60));
        let t0 = Instant::now();
        let limited = ip("198.51.100.7");
        rate.take(limited, t0).unwrap();
        rate.take(limited, t0).unwrap();
        // Many addresses, each once (a refill for each comes a minute later).
        for i in 0..(MAX_TRACKED as u32 + 1000) {
            let other = IpAddr::from((0x0a00_0000 + i).to_be_bytes());
            rate.take(other, t0 + Duration::from_secs(1)).unwrap();
        }
        assert!(rate.tracked() <= MAX_TRACKED, "{}", rate.tracked());
        // Two minutes on, every one-off address has refilled and goes first when room is
        // needed; the limited address, seen earliest, went when none had refilled yet.
        let later = t0 + Duration::from_secs(120);
        rate.take(ip("203.0.113.1"), later).unwrap();
        assert!(rate.tracked() <= 2, "{}", rate.tracked());
    }

    #[test]
    fn an_address_over_its_rate_is_still_limited_while_the_table_has_room() {
        let rate = Rate::new(1, Duration::from_secs(60));
        let t0 = Instant::now();
        let a = ip("192.0.2.9");
        rate.take(a, t0).unwrap();
        for i in 0..100u32 {
            rate.take(IpAddr::from((0x0a00_0000 + i).to_be_bytes()), t0)
                .unwrap();
        }
        assert!(rate.take(a, t0 + Duration::from_secs(30)).is_err());
    }
}
