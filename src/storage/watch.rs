//! The account change log, polled by every instance: caches of account state (credentials, IP filters,
//! channels) subscribe and drop what changed. One small query per interval, never one per request.

use std::sync::{Arc, Weak};
use std::time::Duration;

pub use crate::domain::ports::AccountCache;

use crate::domain::ports::CredentialStore;

/// Polls the change log every `every` until every subscriber is gone.
pub fn watch_account_changes(
    store: Arc<dyn CredentialStore>,
    caches: Vec<Weak<dyn AccountCache>>,
    every: Duration,
) {
    tokio::spawn(async move {
        let mut seen = store.last_credential_change().await.unwrap_or(0);
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            let live: Vec<Arc<dyn AccountCache>> = caches.iter().filter_map(Weak::upgrade).collect();
            if live.is_empty() {
                return;
            }
            match store.credential_changes_since(seen).await {
                Ok(changes) => {
                    for c in &changes {
                        live.iter().for_each(|cache| cache.account_changed(c.account_id));
                        seen = seen.max(c.id);
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "account change log unreadable; dropping cached account state");
                    live.iter().for_each(|cache| cache.everything_changed());
                }
            }
        }
    });
}
