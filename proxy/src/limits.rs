//! Caps on open tunnels, in total and per client IP. A slot is a guard: dropping it frees it,
//! whichever way the tunnel ends.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

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
}
