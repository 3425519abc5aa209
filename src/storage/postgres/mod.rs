//! PostgreSQL, for several instances on one database (SPEC §7). One pool; the SQL is the SQLite store's
//! with PostgreSQL's placeholders and types. Writes that can collide across instances (idempotency
//! keys, outbox claims) are made safe by constraints and row locks, not by process state, and
//! transactions that lose a serialization or deadlock race are retried. `sendmessage` goes through a
//! group commit (`batch`), as on SQLite.

use std::str::FromStr;
use std::time::Duration;

use ipnet::IpNet;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Postgres, Transaction};

// Besides this file's own code, `sql_store!` below expands to code that uses these names.
use super::DbSettings;
use super::rows::{
    ChannelRow, CredentialRow, DeliveryRow, EARLY_STATUS_MS, InboxRow, MessageRow, id_list, now_ms,
    to_messages,
};
use super::{
    CredentialChange, CredentialRecord, DeliveryJob, DeliveryResult, FinishedDelivery, NewAccess,
    OutboxClaim, StoreError, StoreResult, format_ip_list,
};
use crate::domain::model::{
    Attachment, Channel, ChannelConfig, ChannelSettings, InboundEdit, InboundMessage, Message,
    MessageDetails, MessageStatus, OutboundMessage, Platform, Scopes,
};

use super::engine::{Engine, Parts};

mod batch;
mod oauth;

pub struct PgStore {
    pool: PgPool,
    parts: Parts,
}

impl Engine for PgStore {
    type Db = Postgres;

    fn reader(&self) -> &PgPool {
        &self.pool
    }

    async fn write(&self) -> StoreResult<Transaction<'static, Postgres>> {
        Ok(self.pool.begin().await?)
    }

    fn parts(&self) -> &Parts {
        &self.parts
    }
}

impl PgStore {
    /// Connects and runs the migrations.
    pub async fn connect(
        url: &str,
        db: &DbSettings,
        secrets: std::sync::Arc<crate::secrets::SecretKeys>,
    ) -> StoreResult<Self> {
        let timeout = format!("{}ms", db.statement_timeout_ms);
        let options = PgConnectOptions::from_str(url)?
            .options([("statement_timeout", timeout.as_str()), ("timezone", "UTC")]);
        let pool = PgPoolOptions::new()
            .max_connections(db.max_connections.max(1))
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        let feed = std::sync::Arc::<super::feed::Feed>::default();
        listen(&pool, feed.clone()).await?;
        let (outbox_signal, webhook_signal) = (std::sync::Arc::default(), std::sync::Arc::default());
        let signals = crate::storage::group_commit::Signals {
            outbox: std::sync::Arc::clone(&outbox_signal),
            webhooks: std::sync::Arc::clone(&webhook_signal),
            feed: feed.clone(),
        };
        let sends = batch::start(pool.clone(), signals);
        Ok(Self { pool, parts: Parts { sends, outbox_signal, webhook_signal, feed, secrets } })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Tells the other instances of chats' news when the transaction commits (`NOTIFY` is transactional):
/// one notification per transaction (chunked below PostgreSQL's 8000-byte payload limit).
async fn announce(tx: &mut Transaction<'static, Postgres>, chats: &[i64]) -> StoreResult<()> {
    for chunk in chats.chunks(500) {
        let list = chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(super::feed::PG_CHANNEL)
            .bind(format!("{}:{list}", super::feed::instance()))
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Hears the other instances' news and passes it to this one's subscribers. `PgListener` reconnects by
/// itself; news sent while it was away is lost, and pages reload what they show when they reconnect.
async fn listen(pool: &PgPool, feed: std::sync::Arc<super::feed::Feed>) -> StoreResult<()> {
    let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
    listener.listen(super::feed::PG_CHANNEL).await?;
    tokio::spawn(async move {
        loop {
            match listener.recv().await {
                Ok(n) => feed.announce(super::feed::Feed::from_notification(n.payload()).unwrap_or_default()),
                Err(e) => {
                    tracing::warn!(error = %e, "listening for chat news failed");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    });
    Ok(())
}

/// The newest migration this build carries (`readiness` checks the database has run it).
fn latest_migration() -> i64 {
    sqlx::migrate!("./migrations/postgres").iter().map(|m| m.version).max().unwrap_or(0)
}

crate::storage::console_sql::sql_console_store!(PgStore);

impl PgStore {
    /// `getchats`' page (`$1` channel, `$2` before, `$3` limit): the page of chats first, newest last
    /// message first (`chats_last`), then each one's last message by its id. Given the join whole,
    /// PostgreSQL merged the chats with a backward scan of every message id down to the page's oldest:
    /// 271 ms for 1,000 of 10,000 chats among 1M messages, against 3.4 ms this way (a subquery with a
    /// LIMIT is not flattened).
    const CHAT_PAGE: &'static str = concat!(
        crate::storage::rows::message_columns!(),
        "FROM (SELECT channel_id, destination, last_message_id FROM chats \
         WHERE channel_id = $1 AND last_message_id < $2 ORDER BY last_message_id DESC LIMIT $3) c \
         JOIN messages m ON m.id = c.last_message_id JOIN channels ch ON ch.id = c.channel_id \
         ORDER BY c.last_message_id DESC"
    );
}

crate::storage::webhook_sql::sql_webhook_store!(PgStore, Postgres, " FOR UPDATE SKIP LOCKED");

crate::storage::sql::sql_store!(PgStore, Postgres, " FOR UPDATE SKIP LOCKED", {
    fn pool_state(&self) -> crate::domain::ports::PoolState {
        let (size, idle) = (self.pool.size(), self.pool.num_idle() as u32);
        crate::domain::ports::PoolState { in_use: size.saturating_sub(idle), idle }
    }
});
