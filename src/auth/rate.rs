//! Fixed-window request limits: at most `quota` hits per key in a window that starts at the key's first
//! hit; beyond it, the seconds until the window ends. Used for webchat visitors (per visitor, per
//! address) and for the API's optional limits per client address and per credential (SPEC §8).
//!
//! Memory is bounded by the number of keys kept (the least used are forgotten first, which at worst
//! gives a forgotten key a fresh window). Every webchat call and page view counts a hit or two, so the
//! windows are kept in `quick_cache` (a lookup and an atomic add) rather than in a cache that keeps
//! expiry queues.

use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use quick_cache::Equivalent;
use quick_cache::sync::Cache;
use serde::{Deserialize, Serialize};

use crate::domain::error::Throttled;
use crate::domain::ports::RequestLimits;

pub struct RateLimit {
    /// The policy's name in the `RateLimit` headers.
    policy: &'static str,
    quota: u32,
    windows: Windows<String>,
}

/// Each key's current window, for at most a bounded number of keys. The failed-login limiter
/// (`auth::limiter`) keeps its counts in one too.
pub struct Windows<K> {
    length: Duration,
    windows: Cache<K, Arc<Window>>,
}

impl<K: Eq + Hash + Clone> Windows<K> {
    /// Windows of `length`, for at most `keys` keys (at least one).
    pub fn new(length: Duration, keys: u64) -> Self {
        Self { length, windows: Cache::new(usize::try_from(keys.max(1)).unwrap_or(usize::MAX)) }
    }

    pub fn length(&self) -> Duration {
        self.length
    }

    /// The key's window, or a fresh one once it is over. Concurrent first hits share one window (the
    /// cache inserts it once), and an ended window is replaced once: it is removed only if it is still
    /// the one found, and the next window is again inserted once.
    pub fn current<Q>(&self, key: &Q) -> Arc<Window>
    where
        Q: Hash + Equivalent<K> + ToOwned<Owned = K> + ?Sized,
    {
        loop {
            let found =
                self.windows.get_or_insert_with(key, || Ok::<_, std::convert::Infallible>(Window::new()));
            let Ok(window) = found;
            if window.start.elapsed() < self.length {
                return window;
            }
            self.windows.remove_if(key, |w| Arc::ptr_eq(w, &window));
        }
    }

    /// Forgets the key's window: its next hit starts a fresh one.
    pub fn forget<Q: Hash + Equivalent<K> + ?Sized>(&self, key: &Q) {
        self.windows.remove(key);
    }
}

/// One key's window: when it started (its first hit) and how many hits it holds.
pub struct Window {
    start: Instant,
    count: AtomicU32,
}

impl Window {
    pub fn new() -> Arc<Self> {
        Arc::new(Self { start: Instant::now(), count: AtomicU32::new(0) })
    }

    /// One more hit, unless `quota` are already counted.
    pub fn take(&self, quota: u32) -> bool {
        self.count.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < quota).then_some(n + 1)).is_ok()
    }

    /// Gives a taken hit back.
    pub fn give_back(&self) {
        self.count.fetch_sub(1, Ordering::AcqRel);
    }

    /// The refusal of a hit over `quota` in this window of `length`: how long until it ends.
    pub fn throttled(&self, policy: &'static str, quota: u32, length: Duration) -> Throttled {
        Throttled {
            policy,
            retry_after_secs: length.saturating_sub(self.start.elapsed()).as_secs().max(1),
            quota,
            window_secs: length.as_secs(),
        }
    }
}

impl RateLimit {
    /// `quota` hits per minute; `keys` bounds the memory.
    pub fn per_minute(policy: &'static str, quota: u32, keys: u64) -> Self {
        Self::new(policy, quota, Duration::from_secs(60), keys)
    }

    pub fn new(policy: &'static str, quota: u32, window: Duration, keys: u64) -> Self {
        Self { policy, quota, windows: Windows::new(window, keys) }
    }

    /// Counts a hit of `key`; `Err` with the seconds until its window ends when it is over the limit.
    pub fn hit(&self, key: &str) -> Result<(), Throttled> {
        let window = self.windows.current(key);
        if window.take(self.quota) {
            return Ok(());
        }
        Err(window.throttled(self.policy, self.quota, self.windows.length()))
    }
}

/// `rate_limit.*`: requests per window through the API doors, per client address and per credential.
/// 0 = no limit (the default, so that a benchmark or a busy integration is not throttled unasked).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RateLimitSettings {
    pub per_address: u32,
    pub per_credential: u32,
    pub window_secs: u64,
    /// Addresses and credentials counted at once (memory bound).
    pub keys: u64,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self { per_address: 0, per_credential: 0, window_secs: 60, keys: 100_000 }
    }
}

/// The API's request limits, as the gateway checks them.
pub struct ApiRateLimits {
    per_address: Option<RateLimit>,
    per_credential: Option<RateLimit>,
}

impl ApiRateLimits {
    pub fn new(s: &RateLimitSettings) -> Self {
        let window = Duration::from_secs(s.window_secs.max(1));
        let limit =
            |policy, quota: u32| (quota > 0).then(|| RateLimit::new(policy, quota, window, s.keys.max(1)));
        Self {
            per_address: limit("address", s.per_address),
            per_credential: limit("credential", s.per_credential),
        }
    }
}

impl RequestLimits for ApiRateLimits {
    fn admit_address(&self, client: IpAddr) -> Result<(), Throttled> {
        self.per_address.as_ref().map_or(Ok(()), |l| l.hit(&client.to_string()))
    }

    fn admit_credential(&self, credential_id: i64) -> Result<(), Throttled> {
        self.per_credential.as_ref().map_or(Ok(()), |l| l.hit(&credential_id.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_gets_its_quota_per_window_and_a_fresh_window_after_it() {
        let limit = RateLimit::new("visitor", 3, Duration::from_millis(200), 10);
        for _ in 0..3 {
            assert!(limit.hit("a").is_ok());
        }
        let refused = limit.hit("a").unwrap_err();
        assert_eq!((refused.quota, refused.retry_after_secs), (3, 1));
        assert!(limit.hit("b").is_ok(), "another key has its own window");
        std::thread::sleep(Duration::from_millis(250));
        assert!(limit.hit("a").is_ok(), "a new window after the last one ended");
    }

    #[test]
    fn hits_at_once_never_exceed_the_quota_even_across_a_window_change() {
        let limit = Arc::new(RateLimit::new("address", 50, Duration::from_millis(500), 10));
        for round in 0..3 {
            let admitted = AtomicU32::new(0);
            std::thread::scope(|s| {
                for _ in 0..8 {
                    s.spawn(|| {
                        for _ in 0..40 {
                            if limit.hit("k").is_ok() {
                                admitted.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    });
                }
            });
            assert_eq!(admitted.load(Ordering::Relaxed), 50, "round {round}");
            std::thread::sleep(Duration::from_millis(550));
        }
    }
}
