//! A bounded cache whose entries expire a fixed time after they were put in: quick_cache (a sharded
//! table with S3-FIFO eviction) with each value's insertion time kept beside it.
//!
//! The caches every authenticated request reads (credentials, proofs of verified secrets, verified
//! tokens, an account's channels) used moka, whose reads also log themselves for its eviction policy
//! and now and then run its housekeeping: a plain request's three reads took ~1,800 instructions
//! (callgrind), ~800 here — a hash, a shard's read lock and one clock read each.
//!
//! An expired entry is not returned, and is removed when read; one never read again waits for
//! eviction, so the number of entries (not their age) is what bounds memory.

use std::hash::Hash;
use std::time::{Duration, Instant};

use quick_cache::sync::{Cache, DefaultLifecycle};
use quick_cache::{Equivalent, OptionsBuilder, UnitWeighter};

/// Keys are hashed with foldhash rather than SipHash (seeded per process, so callers cannot choose
/// keys that collide).
type Hasher = foldhash::fast::RandomState;

/// A value and when it was put in.
type Stamped<V> = (V, Instant);

pub struct TtlCache<K, V> {
    entries: Cache<K, Stamped<V>, UnitWeighter, Hasher, DefaultLifecycle<K, Stamped<V>>>,
    ttl: Duration,
}

impl<K: Eq + Hash + Clone, V: Clone> TtlCache<K, V> {
    /// At most `max_entries` (at least one), each for `ttl`. Nothing is allocated before use.
    pub fn new(max_entries: u64, ttl: Duration) -> Self {
        let max_entries = max_entries.max(1);
        let options = OptionsBuilder::new()
            .estimated_items_capacity(usize::try_from(max_entries).unwrap_or(usize::MAX))
            .weight_capacity(max_entries)
            .build()
            .expect("a positive capacity is a valid option");
        Self {
            entries: Cache::with_options(
                options,
                UnitWeighter,
                Hasher::default(),
                DefaultLifecycle::default(),
            ),
            ttl,
        }
    }

    /// The value, if present and younger than the time to live.
    pub fn get<Q: Hash + Equivalent<K> + ?Sized>(&self, key: &Q) -> Option<V> {
        self.get_with_time(key).map(|(value, _)| value)
    }

    /// The value and when it was put in, if present and younger than the time to live.
    pub fn get_with_time<Q: Hash + Equivalent<K> + ?Sized>(&self, key: &Q) -> Option<Stamped<V>> {
        let (value, at) = self.entries.get(key)?;
        if at.elapsed() < self.ttl {
            return Some((value, at));
        }
        // Only this expired entry: not one put in meanwhile.
        self.entries.remove_if(key, |(_, t)| *t == at);
        None
    }

    pub fn insert(&self, key: K, value: V) {
        self.entries.insert(key, (value, Instant::now()));
    }

    pub fn remove<Q: Hash + Equivalent<K> + ?Sized>(&self, key: &Q) {
        self.entries.remove(key);
    }

    /// Keeps only the entries for which `keep` is true (a walk over all of them).
    pub fn retain(&self, keep: impl Fn(&K, &V) -> bool) {
        self.entries.retain(|k, (v, _)| keep(k, v));
    }

    pub fn clear(&self) {
        self.entries.clear();
    }

    /// For the tests: how many entries are held, expired ones included.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.len()
    }

    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_expires_after_its_time_to_live() {
        let cache = TtlCache::new(10, Duration::from_millis(50));
        cache.insert("a".to_string(), 1);
        assert_eq!(cache.get("a"), Some(1));
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(cache.get("a"), None);
        assert!(cache.is_empty(), "an expired entry read is removed");
    }

    #[test]
    fn it_holds_at_most_its_capacity() {
        let cache = TtlCache::new(100, Duration::from_secs(60));
        for i in 0..10_000u32 {
            cache.insert(i, i);
        }
        assert!(cache.len() <= 100, "{} entries", cache.len());
    }

    #[test]
    fn retain_drops_what_it_is_told_to() {
        let cache = TtlCache::new(10, Duration::from_secs(60));
        for i in 0..6u32 {
            cache.insert(i, i % 2);
        }
        cache.retain(|_, v| *v == 0);
        assert_eq!((0..6).filter(|i| cache.get(i).is_some()).count(), 3);
        assert_eq!(cache.get(&1), None);
        cache.clear();
        assert!(cache.is_empty());
    }
}
