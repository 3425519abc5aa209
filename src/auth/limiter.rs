//! Failed logins per (login, address) and per address, counted in a window that starts at a key's first
//! attempt. An attempt takes its place in both counts *before* its password is checked (SPEC §4), so
//! however many arrive at once, no more than the limit ever reach argon2; a success gives its place
//! back. Over either limit a login is refused with `TOO_MANY_REQUESTS`, and `Retry-After` is the time
//! until that key's window ends.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use super::rate::{Window, Windows};
use crate::domain::error::Throttled;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FailureLimits {
    pub per_login_and_address: u32,
    pub per_address: u32,
    pub window_secs: u64,
}

impl Default for FailureLimits {
    fn default() -> Self {
        Self { per_login_and_address: 10, per_address: 100, window_secs: 300 }
    }
}

#[derive(Clone, Hash, PartialEq, Eq)]
enum Key {
    LoginAt(String, IpAddr),
    Address(IpAddr),
}

pub struct FailureLimiter {
    limits: FailureLimits,
    /// Each key's attempts in its window.
    counts: Windows<Key>,
}

/// An admitted attempt: it holds its place in both counts; `succeeded` gives it back, dropping it
/// (a wrong password, or a request abandoned midway) keeps it counted.
#[must_use]
pub struct Attempt<'a> {
    limiter: &'a FailureLimiter,
    login: Arc<Window>,
    address: Arc<Window>,
    login_key: Key,
}

impl Attempt<'_> {
    /// Not checked after all (no argon2 thread was free): its place is given back.
    pub fn withdrawn(self) {
        self.address.give_back();
        self.login.give_back();
    }

    /// A correct password: this attempt is not a failure, and the login's count at that address is
    /// cleared.
    pub fn succeeded(self) {
        self.limiter.counts.forget(&self.login_key);
        self.withdrawn();
    }
}

impl FailureLimiter {
    pub fn new(limits: FailureLimits) -> Self {
        let window = Duration::from_secs(limits.window_secs.max(1));
        Self { limits, counts: Windows::new(window, 200_000) }
    }

    /// Takes a place for an attempt of `login` from `client`, or says how long until one is free.
    pub fn admit(&self, login: &str, client: IpAddr) -> Result<Attempt<'_>, Throttled> {
        let login_key = Key::LoginAt(login.to_string(), client);
        let login_count = self.counts.current(&login_key);
        let address = self.counts.current(&Key::Address(client));
        let blocked = |count: &Window, quota| count.throttled("failed-logins", quota, self.counts.length());
        if !login_count.take(self.limits.per_login_and_address) {
            return Err(blocked(&login_count, self.limits.per_login_and_address));
        }
        if !address.take(self.limits.per_address) {
            login_count.give_back();
            return Err(blocked(&address, self.limits.per_address));
        }
        Ok(Attempt { limiter: self, login: login_count, address, login_key })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[test]
    fn no_more_than_the_limit_are_admitted_however_many_arrive_at_once() {
        let limiter = Arc::new(FailureLimiter::new(FailureLimits {
            per_login_and_address: 10,
            per_address: 100,
            window_secs: 300,
        }));
        let ip: IpAddr = "203.0.113.9".parse().unwrap();
        let admitted = AtomicU32::new(0);
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    for _ in 0..125 {
                        if let Ok(attempt) = limiter.admit("alice", ip) {
                            admitted.fetch_add(1, Ordering::Relaxed);
                            drop(attempt); // a failure: its place stays taken
                        }
                    }
                });
            }
        });
        assert_eq!(admitted.load(Ordering::Relaxed), 10);
        let blocked = limiter.admit("alice", ip).err().unwrap();
        assert!((299..=300).contains(&blocked.retry_after_secs), "{blocked:?}");
        // Another login from the same address is counted on its own, up to the address's limit.
        let ok = (0..200).filter(|i| limiter.admit(&format!("user{i}"), ip).is_ok()).count();
        assert_eq!(ok, 90);
    }

    #[test]
    fn a_success_gives_its_place_back() {
        let limiter =
            FailureLimiter::new(FailureLimits { per_login_and_address: 2, per_address: 2, window_secs: 60 });
        let ip: IpAddr = "198.51.100.1".parse().unwrap();
        for _ in 0..10 {
            limiter.admit("bob", ip).unwrap().succeeded();
        }
        drop(limiter.admit("bob", ip).unwrap());
        drop(limiter.admit("bob", ip).unwrap());
        assert!(limiter.admit("bob", ip).is_err());
    }

    #[test]
    fn a_window_that_ended_admits_again() {
        let limiter =
            FailureLimiter::new(FailureLimits { per_login_and_address: 1, per_address: 5, window_secs: 1 });
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        drop(limiter.admit("carol", ip).unwrap());
        let blocked = limiter.admit("carol", ip).err().unwrap();
        assert_eq!((blocked.policy, blocked.quota, blocked.window_secs), ("failed-logins", 1, 1));
        std::thread::sleep(Duration::from_millis(1100));
        drop(limiter.admit("carol", ip).unwrap());
        assert!(limiter.admit("carol", ip).is_err(), "the fresh window counts again");
    }
}
