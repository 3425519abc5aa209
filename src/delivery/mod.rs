//! Delivery (SPEC §5.2): workers in every `serve` process claim due outbox entries with a lease, pace
//! them per channel and chat, send them through the channel's connector and record what happened.
//!
//! ```text
//! claim (dispatcher) → pace (throttle) → send (connector) → record (recorder, batched) → release
//! ```
//! A send holds one of `concurrency` slots from before the request until its outcome is committed,
//! so after a crash the sends that may be repeated are at most `concurrency`.
//!
//! Claims end with their process: each worker beats a heart in the database every `heartbeat_ms`, and
//! the claims of a worker not heard of for `dead_after_ms` are freed by any live one (the lease,
//! `lease_secs`, bounds only how long a live worker may hold an entry). A worker sends only while its
//! own heart is fresh (half of `dead_after_ms` left), so freeing a silent worker's claims cannot make
//! two senders of one entry, bar the sends already in flight.

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
    /// The longest a claim holds an entry while its process lives (a process that died frees its
    /// claims sooner: `dead_after_ms`).
    pub lease_secs: u64,
    /// How often a process tells the database it is alive (and looks for dead ones).
    pub heartbeat_ms: u64,
    /// A process not heard of for this long is dead: any live one frees its claims. So after a crash
    /// its entries wait at most this plus one `heartbeat_ms` (plus `poll_ms`), not a whole lease.
    pub dead_after_ms: u64,
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
            heartbeat_ms: 1000,
            dead_after_ms: 5000,
            poll_ms: 500,
            batch: 256,
            max_held: 4096,
        }
    }
}
