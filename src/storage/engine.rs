//! The engines' contract with the shared SQL (`sql.rs` and its siblings), which is written once for
//! both: each engine's store supplies a pool for reads, a write transaction, and the parts both hold
//! alike — the sends' group commit, the signals that wake workers, the chat news and the keys that seal
//! secrets.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::Notify;

use super::StoreResult;
use super::feed::Feed;
use super::group_commit::SendQueue;
use crate::secrets::SecretKeys;

/// What both engines' stores hold besides their pools.
pub(crate) struct Parts {
    /// Sends go through the group commit: acknowledged once their batch committed.
    pub sends: SendQueue,
    /// Signalled after this process committed an outbox entry (the delivery worker starts at once).
    pub outbox_signal: Arc<Notify>,
    /// Signalled after this process committed a webhook delivery (the sender starts at once).
    pub webhook_signal: Arc<Notify>,
    /// Chats with news, for the live pages.
    pub feed: Arc<Feed>,
    pub secrets: Arc<SecretKeys>,
}

pub(crate) trait Engine: Send + Sync {
    type Db: sqlx::Database;

    /// A pool for reads.
    fn reader(&self) -> &sqlx::Pool<Self::Db>;

    /// A write transaction (on SQLite, holding the write lock from its start).
    fn write(&self) -> impl Future<Output = StoreResult<sqlx::Transaction<'static, Self::Db>>> + Send;

    fn parts(&self) -> &Parts;
}
