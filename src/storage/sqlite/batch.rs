//! SQLite's side of the group commit (`storage::group_commit`). SQLite has one writer, and every
//! statement is a round trip to sqlx's connection thread, so one transaction per message capped
//! throughput: one writer writes whatever has gathered in a single `BEGIN IMMEDIATE` transaction —
//! set-wise (`set_wise.rs`) unless a message carries an idempotency key, then message by message (a
//! key's first message must be found, also earlier in the same batch).

mod set_wise;

use sqlx::{Sqlite, SqlitePool, Transaction};

use super::{NewRow, insert_message, upsert_chat};
use crate::domain::model::{MessageStatus, OutboundMessage};
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
    if messages.iter().all(|m| m.idempotency_key.is_none()) {
        let w = set_wise::write(&mut tx, messages).await?;
        tx.commit().await?;
        return Ok(w);
    }
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

/// Stores an outbound message (starting its chat if new) and its events, in the caller's
/// transaction: `pending` with its outbox entry when a worker must deliver it, else `sent`. The
/// caller deals with the idempotency key. Answers the message's and its chat's ids and how many
/// deliveries were written.
async fn insert_outbound(
    tx: &mut Transaction<'static, Sqlite>,
    m: &OutboundMessage,
) -> StoreResult<(i64, i64, u64)> {
    let chat_id = upsert_chat(tx, m.channel_id, &m.destination, m.now).await?;
    let details = m.details.to_json();
    let row = NewRow {
        sent: true,
        status: if m.needs_delivery { MessageStatus::Pending } else { MessageStatus::Sent },
        text: m.text.as_deref(),
        attachment: m.attachment.as_ref(),
        expires_at: m.expires_at,
        details: details.as_deref(),
        created_at: m.now,
        inbound_at: None,
        now: m.now,
    };
    let (id, events) = insert_message(tx, chat_id, row).await?;
    if !m.needs_delivery {
        return Ok((id, chat_id, events));
    }
    sqlx::query(
        "INSERT INTO outbox (message_id, available_at, chat_id, channel_id, expires_at, created_at, head) \
         VALUES ($1, $2, $3, $4, $5, $2, NOT EXISTS (SELECT 1 FROM outbox WHERE chat_id = $3))",
    )
    .bind(id)
    .bind(m.now)
    .bind(chat_id)
    .bind(m.channel_id)
    .bind(m.expires_at)
    .execute(&mut **tx)
    .await?;
    Ok((id, chat_id, events))
}
