//! PostgreSQL, for several instances on one database (SPEC §7). One pool; the SQL is the SQLite store's
//! with PostgreSQL's placeholders and types. Writes that can collide across instances (idempotency
//! keys, outbox claims) are made safe by constraints and row locks, not by process state, and
//! transactions that lose a serialization or deadlock race are retried.

use std::str::FromStr;
use std::time::Duration;

use ipnet::IpNet;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Postgres, Transaction};

// Besides this file's own code, `sql_store!` below expands to code that uses these names.
use super::DbSettings;
use super::rows::{
    ChannelRow, CredentialRow, DeliveryRow, IDEMPOTENCY_WINDOW_MS, MessageRow, id_list, now_ms, to_messages,
};
use super::{
    CredentialChange, CredentialRecord, DeliveryJob, DeliveryResult, FinishedDelivery, NewAccess,
    OutboxClaim, StoreError, StoreResult, format_ip_list,
};
use crate::domain::model::{
    Attachment, Channel, ChannelConfig, ChannelSettings, InboundMessage, Message, MessageStatus,
    OutboundMessage, Platform, Scopes,
};

mod oauth;

pub struct PgStore {
    pool: PgPool,
    outbox_signal: std::sync::Arc<tokio::sync::Notify>,
    webhook_signal: std::sync::Arc<tokio::sync::Notify>,
    feed: std::sync::Arc<super::feed::Feed>,
    secrets: std::sync::Arc<crate::secrets::SecretKeys>,
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
        Ok(Self {
            pool,
            outbox_signal: Default::default(),
            webhook_signal: Default::default(),
            feed,
            secrets,
        })
    }

    fn reader(&self) -> &PgPool {
        &self.pool
    }

    pub(crate) async fn write(&self) -> StoreResult<Transaction<'static, Postgres>> {
        Ok(self.pool.begin().await?)
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// One attempt at `send_message`. The idempotency key is claimed first: a concurrent request with
    /// the same key (on any instance) waits on that row, then sees the first message's id.
    async fn send_once(&self, m: &OutboundMessage) -> StoreResult<i64> {
        let mut tx = self.write().await?;
        if let Some(key) = &m.idempotency_key {
            let claimed: Option<i64> = sqlx::query_scalar(
                "INSERT INTO idempotency_keys (account_id, key, message_id, created_at) VALUES ($1, $2, 0, $3) \
                 ON CONFLICT (account_id, key) DO UPDATE SET message_id = 0, created_at = EXCLUDED.created_at \
                 WHERE idempotency_keys.created_at <= $4 RETURNING account_id",
            )
            .bind(m.account_id)
            .bind(key)
            .bind(m.now)
            .bind(m.now - IDEMPOTENCY_WINDOW_MS)
            .fetch_optional(&mut *tx)
            .await?;
            if claimed.is_none() {
                let first: i64 = sqlx::query_scalar(
                    "SELECT message_id FROM idempotency_keys WHERE account_id = $1 AND key = $2",
                )
                .bind(m.account_id)
                .bind(key)
                .fetch_one(&mut *tx)
                .await?;
                tx.rollback().await?;
                return Ok(first);
            }
        }
        let (id, chat, events) = insert_outbound(&mut tx, m).await?;
        if let Some(key) = &m.idempotency_key {
            sqlx::query("UPDATE idempotency_keys SET message_id = $1 WHERE account_id = $2 AND key = $3")
                .bind(id)
                .bind(m.account_id)
                .bind(key)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        self.webhooks_written(events);
        self.feed.announce([chat]);
        Ok(id)
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

crate::sql_console_store!(PgStore);

crate::sql_webhook_store!(PgStore, Postgres, " FOR UPDATE SKIP LOCKED");

crate::sql_store!(PgStore, Postgres, " FOR UPDATE SKIP LOCKED", {
    fn pool_state(&self) -> crate::domain::ports::PoolState {
        let (size, idle) = (self.pool.size(), self.pool.num_idle() as u32);
        crate::domain::ports::PoolState { in_use: size.saturating_sub(idle), idle }
    }

    async fn send_message(&self, m: &OutboundMessage) -> StoreResult<i64> {
        let mut attempt = 0;
        loop {
            match self.send_once(m).await {
                Err(StoreError::Retry(_)) if attempt < 3 => attempt += 1,
                other => {
                    // Only an outbox entry is news for the worker (a webchat message has none).
                    if other.is_ok() && m.needs_delivery {
                        self.outbox_signal.notify_one();
                    }
                    return other;
                }
            }
        }
    }

    fn outbox_signal(&self) -> std::sync::Arc<tokio::sync::Notify> {
        self.outbox_signal.clone()
    }
});
