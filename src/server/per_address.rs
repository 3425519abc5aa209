//! Open connections (SPEC §4), per client address and overall: past either cap a new connection is
//! answered 503 and closed before a byte of it is read, so neither one address nor many together can
//! take every file descriptor. The address is the TCP peer, an IPv6 one counted by its /64
//! (`address_key`); trusted proxies, which carry many clients, are capped only by the overall cap
//! (their clients' event streams are counted by forwarded address, `doors::live`).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use ipnet::IpNet;

use crate::auth::client_addr::address_key;

pub struct ConnectionCounts {
    open: Mutex<Open>,
    per_address: usize,
    total: usize,
    uncapped: Vec<IpNet>,
}

#[derive(Default)]
struct Open {
    total: usize,
    by_address: HashMap<IpAddr, usize, foldhash::fast::RandomState>,
}

/// One admitted connection; dropping it (when the connection closes) frees its place.
pub struct Admitted {
    counts: Arc<ConnectionCounts>,
    key: Option<IpAddr>,
}

/// Which cap a connection met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverCap {
    Address,
    Total,
}

impl ConnectionCounts {
    /// `per_address` 0: no cap per address; `total` 0: none overall.
    pub fn new(per_address: usize, total: usize, uncapped: Vec<IpNet>) -> Arc<Self> {
        Arc::new(ConnectionCounts { open: Mutex::default(), per_address, total, uncapped })
    }

    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<Admitted, OverCap> {
        let ip = ip.to_canonical();
        let capped = self.per_address != 0 && !self.uncapped.iter().any(|n| n.contains(&ip));
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if self.total != 0 && open.total >= self.total {
            return Err(OverCap::Total);
        }
        let key = if capped {
            let key = address_key(ip);
            let n = open.by_address.entry(key).or_default();
            if *n >= self.per_address {
                return Err(OverCap::Address);
            }
            *n += 1;
            Some(key)
        } else {
            None
        };
        open.total += 1;
        Ok(Admitted { counts: self.clone(), key })
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.open.lock().map_or(0, |o| o.total)
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut open = self.counts.open.lock().unwrap_or_else(|e| e.into_inner());
        open.total -= 1;
        let Some(key) = self.key else { return };
        if let Some(n) = open.by_address.get_mut(&key) {
            *n -= 1;
            if *n == 0 {
                open.by_address.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_is_per_address_and_places_come_back() {
        let counts = ConnectionCounts::new(2, 0, vec!["10.0.0.0/8".parse().unwrap()]);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let (first, _second) = (counts.admit(a).unwrap(), counts.admit(a).unwrap());
        assert_eq!(counts.admit(a).err(), Some(OverCap::Address));
        assert!(counts.admit("192.0.2.2".parse().unwrap()).is_ok());
        assert!(counts.admit("::ffff:192.0.2.1".parse().unwrap()).is_err(), "a mapped address is the same");
        drop(first);
        assert!(counts.admit(a).is_ok());
        let proxy: IpAddr = "10.1.2.3".parse().unwrap();
        let held: Vec<_> = (0..10).map(|_| counts.admit(proxy).unwrap()).collect();
        assert_eq!(held.len(), 10);
    }

    #[test]
    fn an_ipv6_prefix_is_one_address_and_the_total_caps_everyone() {
        let counts = ConnectionCounts::new(2, 5, vec!["10.0.0.0/8".parse().unwrap()]);
        let _a = counts.admit("2001:db8:0:1::1".parse().unwrap()).unwrap();
        let _b = counts.admit("2001:db8:0:1::2".parse().unwrap()).unwrap();
        assert_eq!(counts.admit("2001:db8:0:1:ffff::9".parse().unwrap()).err(), Some(OverCap::Address));
        let _c = counts.admit("2001:db8:0:2::1".parse().unwrap()).unwrap();
        let _p = counts.admit("10.0.0.1".parse().unwrap()).unwrap();
        let _q = counts.admit("10.0.0.1".parse().unwrap()).unwrap();
        assert_eq!(counts.open(), 5);
        assert_eq!(counts.admit("10.0.0.1".parse().unwrap()).err(), Some(OverCap::Total), "proxies too");
        assert_eq!(counts.admit("192.0.2.9".parse().unwrap()).err(), Some(OverCap::Total));
    }
}
