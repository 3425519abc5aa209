//! The embedded default: one SQLite file in WAL mode. Writes go through a single-connection pool (SQLite
//! has one writer anyway; this queues them in-process instead of spinning on the file lock), reads
//! through a pool of their own. `synchronous=NORMAL` in WAL mode survives a killed process, which is
//! the durability promise of SPEC §7.

use std::str::FromStr;
use std::time::Duration;

use ipnet::IpNet;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};

// Besides this file's own code, `sql_store!` below expands to code that uses these names.
use super::rows::{
    ChannelRow, CredentialRow, DeliveryRow, MessageRow, channel_settings, id_list, now_ms, to_messages,
};
use super::{
    CredentialChange, CredentialRecord, DeliveryJob, DeliveryResult, FinishedDelivery, NewAccess,
    OutboxClaim, StoreError, StoreResult, format_ip_list,
};
use crate::domain::model::{
    Attachment, Channel, ChannelConfig, ChannelSettings, InboundMessage, Message, MessageStatus,
    OutboundMessage, Platform, Scopes,
};

mod batch;
mod oauth;

pub struct SqliteStore {
    reader: SqlitePool,
    writer: SqlitePool,
    sends: batch::SendQueue,
    outbox_signal: std::sync::Arc<tokio::sync::Notify>,
    webhook_signal: std::sync::Arc<tokio::sync::Notify>,
    feed: std::sync::Arc<super::feed::Feed>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `url` and runs the migrations.
    pub async fn connect(url: &str, readers: u32) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let writer = SqlitePoolOptions::new().max_connections(1).connect_with(options.clone()).await?;
        sqlx::migrate!("./migrations/sqlite").run(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(readers.max(1))
            .connect_with(options.read_only(true))
            .await?;
        let webhook_signal = std::sync::Arc::<tokio::sync::Notify>::default();
        let feed = std::sync::Arc::<super::feed::Feed>::default();
        Ok(Self {
            sends: batch::SendQueue::start(writer.clone(), webhook_signal.clone(), feed.clone()),
            feed,
            reader,
            writer,
            outbox_signal: Default::default(),
            webhook_signal,
        })
    }

    fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    /// A write transaction that takes the lock at once (another process — the CLI — may write too).
    pub(crate) async fn write(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?)
    }

    pub async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }
}

/// A chat's news travels inside this process only (one SQLite file has one serving process).
async fn announce(_tx: &mut Transaction<'static, Sqlite>, _chat_id: i64) -> StoreResult<()> {
    Ok(())
}

crate::sql_console_store!(SqliteStore);

crate::sql_webhook_store!(SqliteStore, Sqlite, "");

crate::sql_store!(SqliteStore, Sqlite, "", {
    async fn send_message(&self, m: &OutboundMessage) -> StoreResult<i64> {
        let id = self.sends.send(m.clone()).await?;
        // Only an outbox entry is news for the worker (a webchat message has none).
        if m.needs_delivery {
            self.outbox_signal.notify_one();
        }
        Ok(id)
    }

    fn outbox_signal(&self) -> std::sync::Arc<tokio::sync::Notify> {
        self.outbox_signal.clone()
    }
});
