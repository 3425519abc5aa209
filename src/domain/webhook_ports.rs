//! What the webhook methods and the webhook sender need from the store (SPEC §6), and the check of
//! customers' URLs that the network layer provides.

use std::sync::Arc;

use async_trait::async_trait;

use super::events::{Event, EventKind, EventSet};
use super::store_error::StoreResult;

/// A webhook as `setwebhook` creates it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWebhook {
    pub account_id: i64,
    pub url: String,
    pub events: EventSet,
    /// Extra headers, already checked (names are tokens, none reserved).
    pub headers: Vec<(String, String)>,
    /// `whsec_…`
    pub secret: String,
    pub now: i64,
}

/// A webhook as `getwebhooks` lists it (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: i64,
    pub url: String,
    pub events: EventSet,
}

/// Where a delivery stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryInfo {
    pub id: i64,
    pub webhook_id: i64,
    pub event: String,
    pub event_id: String,
    pub message_id: Option<i64>,
    /// `pending`, `delivered` or `failed`.
    pub state: String,
    pub attempts: i64,
    pub last_code: Option<i64>,
    /// Unix ms; `None` once finished.
    pub next_at: Option<i64>,
    pub created_at: i64,
}

/// What sending to a webhook needs.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookTarget {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub secret: String,
}

impl std::fmt::Debug for WebhookTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookTarget").field("url", &self.url).field("secret", &"[redacted]").finish()
    }
}

/// A due delivery with the event it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingDelivery {
    pub id: i64,
    pub attempts: i64,
    /// Retries stop `max_age` after this (the event's time, or the last `redeliver`).
    pub window_start: i64,
    pub event: Event,
}

/// The deliveries a sender holds the webhook's lease for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookBatch {
    pub target: WebhookTarget,
    pub deliveries: Vec<PendingDelivery>,
}

/// What became of a delivery after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptNext {
    Delivered,
    Failed,
    RetryAt(i64),
}

/// One attempt, for the delivery log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRecord {
    pub delivery_id: i64,
    pub at: i64,
    pub code: Option<u16>,
    pub duration_ms: i64,
    pub error: Option<String>,
    pub next: AttemptNext,
}

#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// Stores the webhook unless the account has `max_per_account` already (`None` then).
    async fn create_webhook(&self, w: &NewWebhook, max_per_account: i64) -> StoreResult<Option<i64>>;
    async fn webhooks(&self, account_id: i64) -> StoreResult<Vec<Webhook>>;
    /// Deletes the webhook and its deliveries; false when the account has no such webhook.
    async fn delete_webhook(&self, account_id: i64, webhook_id: i64) -> StoreResult<bool>;
    /// Newest first; of one webhook when given.
    async fn deliveries(
        &self,
        account_id: i64,
        webhook_id: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<DeliveryInfo>>;
    /// Makes the delivery pending again from a fresh attempt count; false when it is not the account's.
    async fn redeliver(&self, account_id: i64, delivery_id: i64, now: i64) -> StoreResult<bool>;
    /// An operator's presence changed: an `operator.*` event for the account's webhooks that want it.
    async fn emit_operator_event(
        &self,
        account_id: i64,
        kind: EventKind,
        login: &str,
        now: i64,
    ) -> StoreResult<u64>;
    /// Ends (with a `chat_session.end` event) up to `limit` sessions whose last message is older than
    /// `idle_since`; how many it ended.
    async fn end_idle_sessions(&self, idle_since: i64, now: i64, limit: u32) -> StoreResult<u64>;
    /// Webhooks with a due delivery that no sender holds (none of `skip`).
    async fn due_webhooks(&self, now: i64, skip: &[i64], limit: u32) -> StoreResult<Vec<i64>>;
    /// Takes or renews the webhook's lease for `owner` and reads up to `limit` due deliveries (none of
    /// `skip`, which the sender holds already); `None` when another owner holds the lease or the
    /// webhook is gone.
    async fn claim_webhook_batch(
        &self,
        webhook_id: i64,
        owner: i64,
        lease_until: i64,
        now: i64,
        limit: u32,
        skip: &[i64],
    ) -> StoreResult<Option<WebhookBatch>>;
    /// Logs the attempts and moves their deliveries on, in one transaction.
    async fn record_webhook_attempts(&self, attempts: &[AttemptRecord]) -> StoreResult<()>;
    /// Gives up the lease (when nothing is due).
    async fn release_webhook(&self, webhook_id: i64, owner: i64) -> StoreResult<()>;
    /// Removes up to `limit` finished deliveries (and their attempts) created before `before`.
    async fn prune_deliveries(&self, before: i64, limit: u32) -> StoreResult<u64>;
    /// Signalled after this process committed a new delivery, so that its sender starts at once.
    fn webhook_signal(&self) -> Arc<tokio::sync::Notify>;
}

/// The SSRF rule for customers' URLs (SPEC §4), implemented by the network layer.
#[async_trait]
pub trait UrlGuard: Send + Sync {
    /// Ok when the URL is absolute http(s) and every address its host resolves to may be reached.
    async fn check(&self, url: &str) -> Result<(), String>;
}
