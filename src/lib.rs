//! chatgate: one chat command layer behind four front doors.
//!
//! What depends on what (arrows point at what is used):
//!
//! ```text
//! main → cli → startup → doors → domain → auth → storage (trait) ← storage::sqlite
//!                  ↘ config, telemetry      ↘ storage (trait)
//! admin → auth::password, storage
//! ```
//! `domain` holds the rules and imports no web, XML, SQL or HTTP-client crate; `doors` only translate
//! wire formats; `storage` is the only place SQL lives.

pub mod admin;
pub mod auth;
pub mod cli;
pub mod config;
pub mod delivery;
pub mod docs;
pub mod domain;
pub mod doors;
pub mod net;
pub mod startup;
pub mod storage;
pub mod telemetry;
