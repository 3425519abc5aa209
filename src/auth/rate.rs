//! Fixed-window request limits: at most `quota` hits per key in a window that starts at the key's first
//! hit; beyond it, the seconds until the window ends. Used for webchat visitors (per visitor, per
//! address) and for the API's optional limits per client address and per credential (SPEC §8).
//!
//! Memory is bounded by the number of keys kept (the least recently used are forgotten first, which
//! at worst gives a forgotten key a fresh window).

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use moka::sync::Cache;
use serde::{Deserialize, Serialize};

use crate::domain::error::Throttled;
use crate::domain::ports::RequestLimits;

pub struct RateLimit {
    /// The policy's name in the `RateLimit` headers.
    policy: &'static str,
    quota: u32,
    window: Duration,
    windows: Cache<String, Arc<Window>>,
}

/// One key's window: when it started (its first hit) and how many hits it holds. The failed-login
/// limiter (`auth::limiter`) keeps its counts in these too.
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
        let windows = Cache::builder().max_capacity(keys).time_to_live(window).build();
        Self { policy, quota, window, windows }
    }

    /// Counts a hit of `key`; `Err` with the seconds until its window ends when it is over the limit.
    pub fn hit(&self, key: &str) -> Result<(), Throttled> {
        let window = self.windows.get_with_by_ref(key, Window::new);
        if window.take(self.quota) {
            return Ok(());
        }
        Err(window.throttled(self.policy, self.quota, self.window))
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
