//! Delivery (SPEC §5.2): workers in every `serve` process claim due outbox entries with a lease, pace
//! them per channel and chat, send them through the channel's connector and record what happened.
//!
//! ```text
//! claim (dispatcher) → pace (throttle) → send (connector) → record (recorder, batched) → release
//! ```
//! A send holds one of `concurrency` slots from before the request until its outcome is committed,
//! so after a crash the sends that may be repeated are at most `concurrency`.

pub mod connectors;
mod recorder;
mod throttle;
mod worker;

use serde::{Deserialize, Serialize};

pub use worker::Worker;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeliverySettings {
    /// Run delivery workers in this process (an instance may serve the API only).
    pub enabled: bool,
    /// Sends in flight whose outcome is not yet committed: the most a crash can repeat.
    pub concurrency: u32,
    /// First retry delay of a temporary failure; it doubles per attempt (with jitter) up to `retry_max_ms`.
    pub retry_base_ms: u64,
    pub retry_max_ms: u64,
    /// A message still not sent this long after it was acknowledged becomes `failed`.
    pub max_age_secs: u64,
    /// How long a claim holds an entry; a crashed worker's entries are claimable again after it.
    pub lease_secs: u64,
    /// How often the outbox is looked at when nothing woke the worker (other instances' sends, retries).
    pub poll_ms: u64,
    /// Entries claimed per query.
    pub batch: u32,
    /// Entries this process holds at once (waiting for their pace, or in flight).
    pub max_held: u32,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        Self {
            enabled: true,
            concurrency: 64,
            retry_base_ms: 1000,
            retry_max_ms: 300_000,
            max_age_secs: 86_400,
            lease_secs: 60,
            poll_ms: 500,
            batch: 256,
            max_held: 4096,
        }
    }
}
