//! Failed logins per (login, address) and per address, counted in a window. Over either limit a login
//! is refused with `TOO_MANY_REQUESTS` before any argon2 work.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use moka::sync::Cache;

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
    counts: Cache<Key, Arc<AtomicU32>>,
}

impl FailureLimiter {
    pub fn new(limits: FailureLimits) -> Self {
        let counts = Cache::builder()
            .max_capacity(200_000)
            .time_to_live(Duration::from_secs(limits.window_secs.max(1)))
            .build();
        Self { limits, counts }
    }

    fn count(&self, key: Key) -> u32 {
        self.counts.get(&key).map_or(0, |c| c.load(Ordering::Relaxed))
    }

    pub fn is_blocked(&self, login: &str, client: IpAddr) -> bool {
        self.count(Key::LoginAt(login.to_string(), client)) >= self.limits.per_login_and_address
            || self.count(Key::Address(client)) >= self.limits.per_address
    }

    pub fn record_failure(&self, login: &str, client: IpAddr) {
        for key in [Key::LoginAt(login.to_string(), client), Key::Address(client)] {
            self.counts.get_with(key, Default::default).fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A correct password clears the count of that login at that address.
    pub fn record_success(&self, login: &str, client: IpAddr) {
        self.counts.invalidate(&Key::LoginAt(login.to_string(), client));
    }
}
