//! The channels of each account, cached: they are read on nearly every call (and listed by
//! `getchatchannels`) but change only through administration, which writes the account change log
//! that every instance watches.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::error::DomainResult;
use super::model::Channel;
use super::ports::AccountCache;
use super::ports::ChatStore;
use super::ttl_cache::TtlCache;

pub struct ChannelDirectory {
    store: Arc<dyn ChatStore>,
    /// Read by most requests.
    by_account: TtlCache<i64, Arc<Vec<Channel>>>,
    /// Bumped on every invalidation, so that a list read before a change is not cached after it.
    epoch: AtomicU64,
}

impl ChannelDirectory {
    pub fn new(store: Arc<dyn ChatStore>) -> Self {
        // Bounded in size; the time limit is only a safety net behind the change log.
        let by_account = TtlCache::new(100_000, Duration::from_secs(600));
        Self { store, by_account, epoch: AtomicU64::new(0) }
    }

    pub async fn channels(&self, account_id: i64) -> DomainResult<Arc<Vec<Channel>>> {
        if let Some(list) = self.by_account.get(&account_id) {
            return Ok(list);
        }
        let epoch = self.epoch.load(Ordering::Acquire);
        let list = Arc::new(self.store.channels(account_id).await?);
        if self.epoch.load(Ordering::Acquire) == epoch {
            self.by_account.insert(account_id, list.clone());
        }
        Ok(list)
    }

    pub async fn channel(&self, account_id: i64, channel_id: i64) -> DomainResult<Option<Channel>> {
        Ok(self.channels(account_id).await?.iter().find(|c| c.id == channel_id).cloned())
    }
}

impl AccountCache for ChannelDirectory {
    fn account_changed(&self, account_id: i64) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.by_account.remove(&account_id);
    }

    fn everything_changed(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.by_account.clear();
    }
}
