//! Open connections per client address (SPEC §4): past the cap a new connection is answered 503 and
//! closed before a byte of it is read, so one address cannot take every file descriptor. The address
//! is the TCP peer; trusted proxies, which carry many clients, are not capped.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use ipnet::IpNet;

pub struct ConnectionCounts {
    open: Mutex<HashMap<IpAddr, usize, foldhash::fast::RandomState>>,
    max: usize,
    uncapped: Vec<IpNet>,
}

/// One admitted connection; dropping it (when the connection closes) frees its place.
pub struct Admitted {
    counts: Arc<ConnectionCounts>,
    ip: Option<IpAddr>,
}

impl ConnectionCounts {
    /// `max` 0: no cap.
    pub fn new(max: usize, uncapped: Vec<IpNet>) -> Arc<Self> {
        Arc::new(ConnectionCounts { open: Mutex::default(), max, uncapped })
    }

    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<Admitted> {
        let ip = ip.to_canonical();
        if self.max == 0 || self.uncapped.iter().any(|n| n.contains(&ip)) {
            return Some(Admitted { counts: self.clone(), ip: None });
        }
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(ip).or_default();
        if *n >= self.max {
            return None;
        }
        *n += 1;
        Some(Admitted { counts: self.clone(), ip: Some(ip) })
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let Some(ip) = self.ip else { return };
        let mut open = self.counts.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&ip) {
            *n -= 1;
            if *n == 0 {
                open.remove(&ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_is_per_address_and_places_come_back() {
        let counts = ConnectionCounts::new(2, vec!["10.0.0.0/8".parse().unwrap()]);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let (first, _second) = (counts.admit(a).unwrap(), counts.admit(a).unwrap());
        assert!(counts.admit(a).is_none());
        assert!(counts.admit("192.0.2.2".parse().unwrap()).is_some());
        assert!(counts.admit("::ffff:192.0.2.1".parse().unwrap()).is_none(), "a mapped address is the same");
        drop(first);
        assert!(counts.admit(a).is_some());
        let proxy: IpAddr = "10.1.2.3".parse().unwrap();
        let held: Vec<_> = (0..10).map(|_| counts.admit(proxy).unwrap()).collect();
        assert_eq!(held.len(), 10);
    }
}
