//! SQLite's side of the group commit (`storage::group_commit`). SQLite has one writer, and every
//! statement is a round trip to sqlx's connection thread, so one transaction per message capped
//! throughput: one writer writes whatever has gathered in a single `BEGIN IMMEDIATE` transaction.

use sqlx::{Sqlite, SqlitePool, Transaction};

use super::insert_outbound;
use crate::domain::model::OutboundMessage;
use crate::storage::StoreResult;
use crate::storage::group_commit::{BatchWrite, SendQueue, Signals, Written};
use crate::storage::rows::IDEMPOTENCY_WINDOW_MS;

const MAX_BATCH: usize = 256;

/// Starts the one writer on the write pool.
pub fn start(writer: SqlitePool, signals: Signals) -> SendQueue {
    SendQueue::start(Batches(writer), signals, 1, MAX_BATCH)
}

struct Batches(SqlitePool);

#[async_trait::async_trait]
impl BatchWrite for Batches {
    async fn write(&self, messages: &[&OutboundMessage]) -> StoreResult<Written> {
        write_all(&self.0, messages).await
    }
}

async fn write_all(writer: &SqlitePool, messages: &[&OutboundMessage]) -> StoreResult<Written> {
    let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
    let mut w = Written { ids: Vec::with_capacity(messages.len()), ..Written::default() };
    for m in messages {
        let (id, chat, events) = write_one(&mut tx, m).await?;
        w.ids.push(id);
        w.outbox |= chat.is_some() && m.needs_delivery;
        w.chats.extend(chat);
        w.events += events;
    }
    tx.commit().await?;
    Ok(w)
}

/// One message inside the batch's transaction: the message, its outbox entry, its idempotency key.
/// A key already seen (also earlier in the same batch) answers with its first message.
/// The message's id, its chat's (when a message was written) and how many deliveries it wrote.
async fn write_one(
    tx: &mut Transaction<'static, Sqlite>,
    m: &OutboundMessage,
) -> StoreResult<(i64, Option<i64>, u64)> {
    if let Some(key) = &m.idempotency_key {
        let seen: Option<(i64, i64)> = sqlx::query_as(
            "SELECT message_id, created_at FROM idempotency_keys WHERE account_id = ? AND key = ?",
        )
        .bind(m.account_id)
        .bind(key)
        .fetch_optional(&mut **tx)
        .await?;
        if let Some((id, at)) = seen
            && m.now - at < IDEMPOTENCY_WINDOW_MS
        {
            return Ok((id, None, 0));
        }
    }
    let (id, chat, events) = insert_outbound(tx, m).await?;
    if let Some(key) = &m.idempotency_key {
        sqlx::query(
            "INSERT INTO idempotency_keys (account_id, key, message_id, created_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT (account_id, key) DO UPDATE SET message_id = excluded.message_id, \
             created_at = excluded.created_at",
        )
        .bind(m.account_id)
        .bind(key)
        .bind(id)
        .bind(m.now)
        .execute(&mut **tx)
        .await?;
    }
    Ok((id, Some(chat), events))
}
