//! chatgate: one chat command layer behind four front doors.
//!
//! What depends on what (arrows point at what is used):
//!
//! ```text
//! main → cli → startup → doors → domain
//!                  ↘ auth, storage, delivery → domain::ports (Store, Authenticate, AccountCache)
//!                  ↘ config, telemetry        storage::sqlite, ::postgres implement Store
//!          delivery (worker, throttle, connectors) → net, storage
//!          doors::inbound → delivery::connectors (files of received messages)
//!          webhooks (sender, signing, sweep) → net, storage; both senders → retry
//!          metrics (the Prometheus registry) ← telemetry, delivery, webhooks, doors::operating
//! admin → auth::password, storage, delivery::connectors::telegram (setWebhook)
//! ```
//! `domain` holds the rules and owns the ports it needs; it imports no other module of the crate and
//! no web, XML, SQL or HTTP-client crate. `doors` only translate wire formats; `storage` is the only
//! place SQL lives; `net` builds the only outbound HTTP client. No two modules import each other.

pub mod admin;
pub mod auth;
pub mod cli;
pub mod config;
pub mod delivery;
pub mod docs;
pub mod domain;
pub mod doors;
pub mod metrics;
pub mod net;
pub mod retry;
pub mod secrets;
pub mod server;
pub mod startup;
pub mod storage;
pub mod telemetry;
pub mod web;
pub mod webhooks;
