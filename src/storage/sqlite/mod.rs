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
    ChannelRow, CredentialRow, DeliveryRow, EARLY_STATUS_MS, InboxRow, MessageRow, id_list, now_ms,
    to_messages,
};
use super::{
    CredentialChange, CredentialRecord, DbSettings, DeliveryJob, DeliveryResult, FinishedDelivery, NewAccess,
    OutboxClaim, StoreError, StoreResult, format_ip_list,
};
use crate::domain::model::{
    Attachment, Channel, ChannelConfig, ChannelSettings, InboundEdit, InboundMessage, Message,
    MessageDetails, MessageStatus, OutboundMessage, Platform, Scopes,
};

use super::engine::{Engine, Parts};

mod batch;
mod checkpoint;
mod oauth;

/// How long a connection waits for another's lock (the CLI writes too) before giving up.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Prepared statements the writer keeps: every batch size of every multi-row statement of a burst of
/// concurrent sends, with room for bulk lists' sizes.
const WRITER_STATEMENTS: usize = 512;

pub struct SqliteStore {
    reader: SqlitePool,
    writer: SqlitePool,
    parts: Parts,
}

impl Engine for SqliteStore {
    type Db = Sqlite;

    fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    /// A write transaction that takes the lock at once (another process — the CLI — may write too).
    async fn write(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?)
    }

    fn parts(&self) -> &Parts {
        &self.parts
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `url` and runs the migrations.
    pub async fn connect(
        url: &str,
        db: &DbSettings,
        secrets: std::sync::Arc<crate::secrets::SecretKeys>,
    ) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        // The writer's multi-row statements differ by their number of rows, one text per batch size and
        // table (up to 64 sizes under 64 concurrent senders, `batch/set_wise.rs`): at sqlx's default of
        // 100 cached statements they were prepared again and again (a seventh of the writer's time).
        let writer_options = options.clone().statement_cache_capacity(WRITER_STATEMENTS);
        let writer = SqlitePoolOptions::new().max_connections(1).connect_with(writer_options).await?;
        sqlx::migrate!("./migrations/sqlite").run(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(db.readers.max(1))
            // A read's rows cross from SQLite's thread to the caller through a channel; at sqlx's
            // default of 50 the thread waits for the caller every 50 rows, and a 1,000-chat page paid
            // a handful of thread switches for each such wait.
            .connect_with(
                options
                    .read_only(true)
                    .row_buffer_size(1024)
                    .pragma("mmap_size", (db.mmap_mib.saturating_mul(1 << 20)).to_string()),
            )
            .await?;
        let webhook_signal = std::sync::Arc::<tokio::sync::Notify>::default();
        let outbox_signal = std::sync::Arc::<tokio::sync::Notify>::default();
        let feed = std::sync::Arc::<super::feed::Feed>::default();
        watch_other_processes(reader.clone(), feed.clone());
        checkpoint::start(writer.clone(), Duration::from_secs(db.checkpoint_secs));
        let sends = batch::start(
            writer.clone(),
            crate::storage::group_commit::Signals {
                outbox: outbox_signal.clone(),
                webhooks: webhook_signal.clone(),
                feed: feed.clone(),
            },
        );
        Ok(Self { reader, writer, parts: Parts { sends, outbox_signal, webhook_signal, feed, secrets } })
    }

    pub async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }
}

/// A chat's news is announced in this process after the commit; other processes on the same file
/// find the message through `watch_other_processes`.
async fn announce(_tx: &mut Transaction<'static, Sqlite>, _chats: &[i64]) -> StoreResult<()> {
    Ok(())
}

/// While anything listens, announces the chats of messages that other processes stored (SQLite has one
/// writer at a time, so ids grow in commit order and none is skipped). Status changes made by another
/// process are not seen here; the page shows them with its next news. Messages of this process are
/// announced twice, which costs a listener one look.
fn watch_other_processes(reader: SqlitePool, feed: std::sync::Arc<super::feed::Feed>) {
    tokio::spawn(async move {
        let mut last: Option<i64> = None;
        loop {
            tokio::time::sleep(Duration::from_millis(250)).await;
            if !feed.has_subscribers() {
                last = None;
                continue;
            }
            let Some(after) = last else {
                last = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM messages")
                    .fetch_one(&reader)
                    .await
                    .ok();
                continue;
            };
            let rows: Result<Vec<(i64, i64)>, _> =
                sqlx::query_as("SELECT id, chat_id FROM messages WHERE id > $1 ORDER BY id LIMIT 1000")
                    .bind(after)
                    .fetch_all(&reader)
                    .await;
            if let Ok(rows) = rows
                && let Some((newest, _)) = rows.last()
            {
                last = Some(*newest);
                feed.announce(rows.iter().map(|(_, chat)| *chat));
            }
        }
    });
}

/// The newest migration this build carries (`readiness` checks the database has run it).
fn latest_migration() -> i64 {
    sqlx::migrate!("./migrations/sqlite").iter().map(|m| m.version).max().unwrap_or(0)
}

crate::storage::console_sql::sql_console_store!(SqliteStore);

impl SqliteStore {
    /// `getchats`' page (`$1` channel, `$2` before, `$3` limit): SQLite walks `chats_last` backwards and
    /// looks each chat's last message up by id, stopping at the limit. PostgreSQL's form (the page as a
    /// subquery) is materialized here and sorted again: 1.85 against 1.37 ms of SQLite's own time for
    /// 1,000 of 10,000 chats among 1M messages.
    const CHAT_PAGE: &'static str = concat!(
        crate::storage::rows::message_columns!(),
        "FROM chats c JOIN messages m ON m.id = c.last_message_id JOIN channels ch ON ch.id = c.channel_id \
         WHERE c.channel_id = $1 AND c.last_message_id < $2 ORDER BY c.last_message_id DESC LIMIT $3"
    );
}

crate::storage::webhook_sql::sql_webhook_store!(SqliteStore, Sqlite, "");

crate::storage::sql::sql_store!(SqliteStore, Sqlite, "", {
    fn pool_state(&self) -> crate::domain::ports::PoolState {
        let (size, idle) =
            (self.reader.size() + self.writer.size(), self.reader.num_idle() + self.writer.num_idle());
        crate::domain::ports::PoolState { in_use: size.saturating_sub(idle as u32), idle: idle as u32 }
    }
});
