//! Caps on open tunnels, in total and per client IP. A slot is a guard: dropping it frees it,
//! whichever way the tunnel ends. For requests over in one answer, a rate per client IP
//! counted the same way (`rate.rs`).
//!
//! An IPv6 client counts by its /64: one subscriber usually gets at least a /64, and picks any
//! of its 2^64 addresses at will, so a per-address cap would cap nothing.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex};

mod rate;
pub use rate::{Rate, TooFrequent};

#[derive(Debug)]
pub struct Limits {
    max_total: usize,
    max_per_ip: usize,
    open: Mutex<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    per_ip: HashMap<IpAddr, usize>,
}

/// One open tunnel's place.
#[derive(Debug)]
pub struct Slot {
    limits: Arc<Limits>,
    ip: IpAddr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    #[error("the proxy has reached its maximum number of tunnels")]
    Total,
    #[error("too many tunnels from this address")]
    PerIp,
}

impl Limits {
    pub fn new(max_total: usize, max_per_ip: usize) -> Arc<Limits> {
        Arc::new(Limits {
            max_total,
            max_per_ip,
            open: Mutex::default(),
        })
    }

    pub fn acquire(self: &Arc<Self>, ip: IpAddr) -> Result<Slot, LimitError> {
        let ip = bucket(ip);
        let mut open = self.open.lock().unwrap();
        if open.total >= self.max_total {
            return Err(LimitError::Total);
        }
        let n = open.per_ip.entry(ip).or_default();
        if *n >= self.max_per_ip {
            return Err(LimitError::PerIp);
        }
        *n += 1;
        open.total += 1;
        Ok(Slot {
            limits: self.clone(),
            ip,
        })
    }
}

/// Prefix length of the IPv6 networks counted as one client.
const IPV6_CLIENT_PREFIX: u32 = 64;

/// The key a client address is counted under: IPv4 (an IPv4-mapped IPv6 address included) as
/// is, IPv6 by its /64.
fn bucket(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let mask = u128::MAX << (128 - IPV6_CLIENT_PREFIX);
            IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask))
        }
        v4 => v4,
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.limits.open.lock().unwrap();
        open.total -= 1;
        if let Some(n) = open.per_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.per_ip.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_and_release() {
        let limits = Limits::new(3, 2);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let a1 = limits.acquire(a).unwrap();
        let _a2 = limits.acquire(a).unwrap();
        assert_eq!(limits.acquire(a).unwrap_err(), LimitError::PerIp);
        let _b1 = limits.acquire(b).unwrap();
        assert_eq!(limits.acquire(b).unwrap_err(), LimitError::Total);
        drop(a1);
        assert!(limits.acquire(a).is_ok());
        assert!(limits.open.lock().unwrap().per_ip.len() == 2);
    }

    #[test]
    fn an_ipv6_client_counts_by_its_64() {
        let limits = Limits::new(10, 1);
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let _a = limits.acquire(ip("2001:db8:1:2::1")).unwrap();
        assert_eq!(
            limits
                .acquire(ip("2001:db8:1:2:ffff:ffff:ffff:ffff"))
                .unwrap_err(),
            LimitError::PerIp
        );
        let _b = limits.acquire(ip("2001:db8:1:3::1")).unwrap();
        let _c = limits.acquire(ip("192.0.2.1")).unwrap();
        assert_eq!(
            limits.acquire(ip("::ffff:192.0.2.1")).unwrap_err(),
            LimitError::PerIp
        );
    }
}
