//! Fixed-window rate limits for unauthenticated callers (webchat visitors): at most `per_minute` per
//! key in any window of a minute from its first hit; beyond it, the seconds until the window ends.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use moka::sync::Cache;

pub struct RateLimit {
    per_minute: u32,
    windows: Cache<String, Arc<Window>>,
}

struct Window {
    start: Instant,
    count: AtomicU32,
}

const WINDOW: Duration = Duration::from_secs(60);

impl RateLimit {
    /// `keys` bounds the memory: the least recent keys are forgotten first.
    pub fn new(per_minute: u32, keys: u64) -> Self {
        Self { per_minute, windows: Cache::builder().max_capacity(keys).time_to_live(WINDOW).build() }
    }

    /// Counts a hit of `key`; `Err(retry_after_secs)` when it is over the limit.
    pub fn hit(&self, key: &str) -> Result<(), u64> {
        let window = self.windows.get_with(key.to_string(), || {
            Arc::new(Window { start: Instant::now(), count: AtomicU32::new(0) })
        });
        if window.count.fetch_add(1, Ordering::Relaxed) < self.per_minute {
            return Ok(());
        }
        Err(WINDOW.saturating_sub(window.start.elapsed()).as_secs().max(1))
    }
}
