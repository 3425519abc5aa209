//! Event webhooks (SPEC §6): events are written by the store in the transaction of their cause; this
//! module sends them, signed per Standard Webhooks, and ends idle chat sessions.
//!
//! ```text
//! dispatcher: due webhooks → one task per webhook (holds its lease) → ≤ 4 attempts in flight → record
//! sweep: idle sessions → chat_session.end events; finished deliveries past retention → pruned
//! ```
//! A webhook is worked by one sender at a time across instances (a lease on the webhook row), so a
//! slow receiver holds only its own task and its own 4 slots, and never delays another webhook.

mod attempt;
mod sender;
pub mod signing;
mod sweep;

use serde::{Deserialize, Serialize};

pub use sender::{Sender, SenderHandle};
pub use sweep::start_sweep;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhookSettings {
    /// Send webhooks and sweep idle sessions in this process.
    pub enabled: bool,
    /// First retry delay; it doubles per attempt (with jitter) up to `retry_max_ms`.
    pub retry_base_ms: u64,
    pub retry_max_ms: u64,
    /// Retries stop this long after the event (or its `redeliver`): the delivery is `failed`.
    pub max_age_secs: u64,
    /// A whole attempt, answer included.
    pub timeout_ms: u64,
    /// Requests in flight per webhook.
    pub in_flight: u32,
    /// Most deliveries read per claim (fewer when the timeout is long, so a batch ends within its lease).
    pub batch: u32,
    /// How long a sender holds a webhook without renewing it; a crashed sender's webhook is taken over
    /// after it.
    pub lease_secs: u64,
    /// How often due deliveries are looked for when nothing woke the sender (retries, other instances).
    pub poll_ms: u64,
    /// Webhooks worked at once by this process (so at most `max_active × in_flight` requests).
    pub max_active: u32,
    /// Finished deliveries and their attempts are kept this long.
    pub retention_hours: u64,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            retry_base_ms: 5_000,
            retry_max_ms: 3_600_000,
            max_age_secs: 86_400,
            timeout_ms: 10_000,
            in_flight: 4,
            batch: 64,
            lease_secs: 120,
            poll_ms: 1_000,
            max_active: 64,
            retention_hours: 168,
        }
    }
}

/// Chat sessions (SPEC §6 `chat_session.end`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChatSettings {
    /// A chat with no message for this long gets `chat_session.end` (noticed within 10 s).
    pub idle_end_secs: u64,
    /// Event streams (webchat pages, consoles) send a comment this often when idle, which is also how
    /// soon a closed one is noticed and its resources freed.
    pub stream_heartbeat_ms: u64,
}

impl Default for ChatSettings {
    fn default() -> Self {
        Self { idle_end_secs: 1800, stream_heartbeat_ms: 15_000 }
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
