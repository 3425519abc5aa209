//! Who may open an event stream (SPEC §4). A stream holds a connection for as long as the page is
//! open, so a free visitor token could otherwise hold any number of them: streams are capped per
//! visitor (or console session), per client address — the forwarded one behind a trusted proxy, an
//! IPv6 address by its /64 — and overall, below the connection cap (`server::Budget`). Past a cap
//! the request is answered (429 for one caller's caps, 503 for the overall one, with `Retry-After`) and
//! its connection closed.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use crate::auth::client_addr::address_key;
use crate::config::StreamSettings;

/// Which cap a stream met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamRefusal {
    /// The caller's own caps (visitor, address): 429.
    Caller,
    /// Every stream the server allows is open: 503.
    Full,
}

type Counts<K> = HashMap<K, usize, foldhash::fast::RandomState>;

#[derive(Default)]
struct Open {
    total: usize,
    by_address: Counts<IpAddr>,
    by_visitor: Counts<String>,
}

pub struct Gate {
    open: Mutex<Open>,
    max: usize,
    per_address: usize,
    per_visitor: usize,
}

/// An open stream's places; dropping it (when the stream ends) gives them back.
pub struct Pass {
    gate: Arc<Gate>,
    address: IpAddr,
    visitor: String,
}

impl Gate {
    /// `max`: the overall cap as the budget decided it.
    pub fn new(max: usize, s: &StreamSettings) -> Arc<Self> {
        Arc::new(Gate { open: Mutex::default(), max, per_address: s.per_address, per_visitor: s.per_visitor })
    }

    /// A place for a stream of `visitor` (a key unique per webchat visitor or console session) from
    /// `client`.
    pub fn admit(self: &Arc<Self>, client: IpAddr, visitor: String) -> Result<Pass, StreamRefusal> {
        let address = address_key(client);
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let over = |n: Option<&usize>, cap: usize| cap != 0 && n.copied().unwrap_or(0) >= cap;
        if over(open.by_visitor.get(&visitor), self.per_visitor)
            || over(open.by_address.get(&address), self.per_address)
        {
            return Err(StreamRefusal::Caller);
        }
        if self.max != 0 && open.total >= self.max {
            return Err(StreamRefusal::Full);
        }
        open.total += 1;
        *open.by_address.entry(address).or_default() += 1;
        *open.by_visitor.entry(visitor.clone()).or_default() += 1;
        Ok(Pass { gate: self.clone(), address, visitor })
    }

    /// Streams open now.
    pub fn open(&self) -> usize {
        self.open.lock().map_or(0, |o| o.total)
    }
}

impl Drop for Pass {
    fn drop(&mut self) {
        let mut open = self.gate.open.lock().unwrap_or_else(|e| e.into_inner());
        open.total -= 1;
        release(&mut open.by_address, &self.address);
        release(&mut open.by_visitor, &self.visitor);
    }
}

fn release<K: std::hash::Hash + Eq>(counts: &mut Counts<K>, key: &K) {
    if let Some(n) = counts.get_mut(key) {
        *n -= 1;
        if *n == 0 {
            counts.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_per_visitor_per_address_and_overall() {
        let s = StreamSettings { per_address: 3, per_visitor: 2, ..StreamSettings::default() };
        let gate = Gate::new(5, &s);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let v1 = (gate.admit(a, "v1".into()).unwrap(), gate.admit(a, "v1".into()).unwrap());
        assert_eq!(gate.admit(a, "v1".into()).err(), Some(StreamRefusal::Caller), "a third for one visitor");
        let _v2 = gate.admit(a, "v2".into()).unwrap();
        assert_eq!(gate.admit(a, "v3".into()).err(), Some(StreamRefusal::Caller), "a fourth for one address");
        let b: IpAddr = "2001:db8:0:7::1".parse().unwrap();
        let _b = (gate.admit(b, "w1".into()).unwrap(), gate.admit(b, "w2".into()).unwrap());
        assert_eq!(gate.open(), 5);
        assert_eq!(gate.admit("198.51.100.1".parse().unwrap(), "x".into()).err(), Some(StreamRefusal::Full));
        drop(v1);
        assert_eq!(gate.open(), 3);
        let _again = gate.admit(a, "v1".into()).expect("places come back");
        let _w3 = gate.admit("2001:db8:0:7:ffff::2".parse().unwrap(), "w3".into()).unwrap();
        assert_eq!(
            gate.admit("2001:db8:0:7:eeee::3".parse().unwrap(), "w4".into()).err(),
            Some(StreamRefusal::Caller),
            "an IPv6 /64 is one address"
        );
    }
}
