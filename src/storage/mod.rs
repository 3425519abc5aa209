//! The store: everything chatgate keeps, behind one trait so that SQLite and PostgreSQL both fit.
//!
//! Every chat query is scoped by channel or account, which the command layer has already checked.

mod admin_sql;
mod chat_sql;
mod console_sql;
mod conversation_sql;
mod engine;
pub mod feed;
mod group_commit;
mod oauth_sql;
mod outbox_sql;
pub mod postgres;
mod reseal_sql;
mod room_sql;
mod rows;
pub mod sealed;
mod sql;
mod sql_helpers;
pub mod sqlite;
mod template_sql;
pub mod watch;
mod webhook_rows;
mod webhook_sql;

use std::sync::Arc;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::secrets::SecretKeys;

// The store's interface is the command layer's port; it is named here too, where it is implemented.
pub use crate::domain::ports::{
    CredentialChange, CredentialRecord, DeliveryJob, DeliveryResult, FinishedDelivery, NewAccess, OAuthStore,
    OutboxClaim, RefreshToken, RefreshUse, ResealReport, Revocation, SigningKey, Store, StoreError,
    StoreResult,
};

/// IP lists are stored as text, one CIDR per space.
pub fn format_ip_list(list: &[IpNet]) -> String {
    list.iter().map(ToString::to_string).collect::<Vec<_>>().join(" ")
}

pub fn parse_ip_list(text: &str) -> Vec<IpNet> {
    text.split_whitespace().filter_map(|s| s.parse().ok()).collect()
}

/// Opens the store the URL names (`sqlite://FILE` or `postgres://…`), its secrets sealed under `keys`,
/// and checks that those keys are the database's (`sealed::unlock`).
pub async fn connect(
    url: &str,
    db: &DbSettings,
    keys: Arc<SecretKeys>,
) -> Result<Arc<dyn Store>, sealed::UnlockError> {
    let store: Arc<dyn Store> = if url.starts_with("sqlite:") {
        Arc::new(sqlite::SqliteStore::connect(url, db, keys.clone()).await?)
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Arc::new(postgres::PgStore::connect(url, db, keys.clone()).await?)
    } else {
        return Err(StoreError::Backend(format!("unsupported database_url scheme: {url}")).into());
    };
    sealed::unlock(store.as_ref(), &keys).await?;
    Ok(store)
}

/// Connection pools and timeouts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DbSettings {
    /// SQLite: reader connections (writes use one connection).
    pub readers: u32,
    /// PostgreSQL: pool size per instance.
    pub max_connections: u32,
    /// PostgreSQL: `statement_timeout` of every connection.
    pub statement_timeout_ms: u64,
    /// SQLite: every so many seconds the write-ahead log is checkpointed, started over and truncated
    /// (0 = never; see `sqlite/checkpoint.rs`).
    pub checkpoint_secs: u64,
    /// SQLite: how much of the database file the readers map into memory (MiB; 0 = none). A mapped page
    /// is read where it lies; otherwise each read copies it out of the kernel's cache (`pread`), which
    /// was a third of a 1,000-chat page's time at 1M messages. Mapped pages are the kernel's file cache,
    /// shared by every reader; they count in RSS once touched.
    pub mmap_mib: u64,
}

impl Default for DbSettings {
    fn default() -> Self {
        Self {
            readers: 8,
            max_connections: 16,
            statement_timeout_ms: 5000,
            checkpoint_secs: 30,
            mmap_mib: 256,
        }
    }
}
