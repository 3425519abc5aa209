//! The channels of each account, and each channel's settings, cached: they are read on nearly every
//! call (listed by `getchatchannels`, read by every webchat page request and inbound webhook) but change
//! only through administration, which writes the account change log that every instance watches.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::error::DomainResult;
use super::model::{Channel, ChannelConfig};
use super::ports::AccountCache;
use super::ports::ChatStore;
use super::ttl_cache::TtlCache;

pub struct ChannelDirectory {
    store: Arc<dyn ChatStore>,
    /// Read by most requests.
    by_account: TtlCache<i64, Arc<Vec<Channel>>>,
    /// A channel with its settings, by id (only channels that exist).
    configs: TtlCache<i64, Arc<ChannelConfig>>,
    /// Bumped on every invalidation, so that a list read before a change is not cached after it.
    epoch: AtomicU64,
}

impl ChannelDirectory {
    pub fn new(store: Arc<dyn ChatStore>) -> Self {
        // Bounded in size; the time limit is only a safety net behind the change log.
        let by_account = TtlCache::new(100_000, Duration::from_secs(600));
        let configs = TtlCache::new(100_000, Duration::from_secs(600));
        Self { store, by_account, configs, epoch: AtomicU64::new(0) }
    }

    pub async fn channels(&self, account_id: i64) -> DomainResult<Arc<Vec<Channel>>> {
        if let Some(list) = self.by_account.get(&account_id) {
            return Ok(list);
        }
        let epoch = self.epoch.load(Ordering::Acquire);
        let list = Arc::new(self.store.channels(account_id).await?);
        self.remember(&self.by_account, account_id, &list, epoch);
        Ok(list)
    }

    /// A channel of any account with its settings.
    pub async fn config(&self, channel_id: i64) -> DomainResult<Option<Arc<ChannelConfig>>> {
        if let Some(c) = self.configs.get(&channel_id) {
            return Ok(Some(c));
        }
        let epoch = self.epoch.load(Ordering::Acquire);
        let found = self.store.channel_config(channel_id).await?.map(Arc::new);
        if let Some(c) = &found {
            self.remember(&self.configs, channel_id, c, epoch);
        }
        Ok(found)
    }

    /// Caches what was read, unless the directory was invalidated since `epoch` (read before the read
    /// began): a value read while a change landed must not outlive the change.
    fn remember<V>(&self, cache: &TtlCache<i64, Arc<V>>, key: i64, value: &Arc<V>, epoch: u64) {
        if self.epoch.load(Ordering::Acquire) == epoch {
            cache.insert(key, value.clone());
        }
    }

    pub async fn channel(&self, account_id: i64, channel_id: i64) -> DomainResult<Option<Channel>> {
        Ok(self.channels(account_id).await?.iter().find(|c| c.id == channel_id).cloned())
    }
}

impl AccountCache for ChannelDirectory {
    fn account_changed(&self, account_id: i64) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.by_account.remove(&account_id);
        self.configs.retain(|_, c| c.channel.account_id != account_id);
    }

    fn everything_changed(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.by_account.clear();
        self.configs.clear();
    }
}
