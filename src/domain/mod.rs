//! The command layer: what chatgate does, independent of how a request arrived.
//!
//! A door turns its wire format into a [`gateway::Call`] (or a principal plus class/method/params),
//! the [`gateway::Gateway`] authenticates and resolves it into a [`command::Command`], and the command
//! applies itself against the [`crate::storage::Store`]. Errors are one enum, [`error::ErrorCode`].
//! This module imports no web, XML, SQL or HTTP-client crate.

pub mod channel_rules;
pub mod command;
pub mod console_ports;
pub mod contacts;
pub mod context;
pub mod directory;
pub mod error;
pub mod events;
#[cfg(test)]
mod fake_store;
pub mod gateway;
pub mod goals;
pub mod model;
pub mod operation;
pub mod ops;
pub mod pages;
pub mod params;
pub mod ports;
pub mod reply;
pub mod room;
pub mod rooms;
#[cfg(test)]
mod rules_tests;
pub mod store_error;
pub mod template_book;
pub mod templates;
pub mod ttl_cache;
pub mod urls;
pub mod values;
pub mod visitor;
pub mod webhook_ports;
pub mod window;

pub use error::{DomainError, DomainResult, ErrorCode};
pub use gateway::{Call, Gateway};
pub use params::Params;
pub use reply::Reply;
