//! PostgreSQL's side of the group commit (`storage::group_commit`): one transaction and one commit per
//! message capped sends at ~1,900/s. `WRITERS` writers each write what has gathered (up to
//! `MAX_BATCH`) in one transaction, so several keep the database busy while one waits for its commit.
//!
//! A batch writes its messages chat by chat in the order of the chats' ids (in order within a chat):
//! a chat is locked while its message is written, and recording delivery outcomes locks chats in the
//! same order, so neither two batches nor a batch and the recorder deadlock on them (a deadlock costs
//! PostgreSQL's `deadlock_timeout`, longer than a short delivery lease). A batch
//! that loses a serialization or deadlock race is tried again whole; one that fails otherwise is
//! written one message per transaction, so one bad message cannot fail the others.

use sqlx::{PgPool, Postgres, Transaction};

use super::insert_outbound;
use crate::domain::model::OutboundMessage;
use crate::storage::group_commit::{BatchWrite, SendQueue, Signals, Written};
use crate::storage::rows::IDEMPOTENCY_WINDOW_MS;
use crate::storage::{StoreError, StoreResult};

const MAX_BATCH: usize = 128;
const WRITERS: usize = 4;
const RETRIES: u32 = 3;

/// Starts the writers on the pool.
pub fn start(pool: PgPool, signals: Signals) -> SendQueue {
    SendQueue::start(Batches(pool), signals, WRITERS, MAX_BATCH)
}

struct Batches(PgPool);

#[async_trait::async_trait]
impl BatchWrite for Batches {
    async fn write(&self, messages: &[&OutboundMessage]) -> StoreResult<Written> {
        write_retrying(&self.0, messages).await
    }
}

async fn write_retrying(pool: &PgPool, messages: &[&OutboundMessage]) -> StoreResult<Written> {
    let mut attempt = 0;
    loop {
        match write_all(pool, messages).await {
            Err(StoreError::Retry(_)) if attempt < RETRIES => attempt += 1,
            other => return other,
        }
    }
}

async fn write_all(pool: &PgPool, messages: &[&OutboundMessage]) -> StoreResult<Written> {
    let mut tx = pool.begin().await?;
    // Chat by chat in the order of their ids — the order in which recording delivery outcomes locks
    // chats too — and each chat's messages in the order they came (a stable sort). Chats not yet
    // created come last.
    let (channels, destinations): (Vec<i64>, Vec<&str>) =
        messages.iter().map(|m| (m.channel_id, m.destination.as_str())).unzip();
    let known: Vec<(i64, i64, String)> = sqlx::query_as(
        "SELECT c.id, c.channel_id, c.destination FROM chats c \
         JOIN UNNEST($1::bigint[], $2::text[]) AS k(channel_id, destination) \
         ON c.channel_id = k.channel_id AND c.destination = k.destination",
    )
    .bind(&channels)
    .bind(&destinations)
    .fetch_all(&mut *tx)
    .await?;
    let chat_of = |m: &OutboundMessage| {
        known.iter().find(|(_, ch, d)| *ch == m.channel_id && *d == m.destination).map_or(i64::MAX, |k| k.0)
    };
    let mut order: Vec<(i64, usize)> = messages.iter().enumerate().map(|(i, m)| (chat_of(m), i)).collect();
    order.sort_by(|a, b| {
        let (ma, mb) = (messages[a.1], messages[b.1]);
        (a.0, ma.channel_id, &ma.destination).cmp(&(b.0, mb.channel_id, &mb.destination))
    });
    let mut w = Written { ids: vec![0; messages.len()], ..Written::default() };
    for (_, i) in order {
        let m = messages[i];
        let (id, written) = write_one(&mut tx, m).await?;
        w.ids[i] = id;
        if let Some((chat, events)) = written {
            w.chats.push(chat);
            w.events += events;
            w.outbox |= m.needs_delivery;
        }
    }
    tx.commit().await?;
    Ok(w)
}

/// One message inside the batch's transaction. The idempotency key is claimed first: a concurrent
/// request with the same key (on any instance) waits on that row, then sees the first message's id;
/// so does a second use of the key in the same batch. The message's id, and when it was written its
/// chat and how many webhook deliveries it wrote.
async fn write_one(
    tx: &mut Transaction<'static, Postgres>,
    m: &OutboundMessage,
) -> StoreResult<(i64, Option<(i64, u64)>)> {
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
        .fetch_optional(&mut **tx)
        .await?;
        if claimed.is_none() {
            let first: i64 = sqlx::query_scalar(
                "SELECT message_id FROM idempotency_keys WHERE account_id = $1 AND key = $2",
            )
            .bind(m.account_id)
            .bind(key)
            .fetch_one(&mut **tx)
            .await?;
            return Ok((first, None));
        }
    }
    let (id, chat, events) = insert_outbound(tx, m).await?;
    if let Some(key) = &m.idempotency_key {
        sqlx::query("UPDATE idempotency_keys SET message_id = $1 WHERE account_id = $2 AND key = $3")
            .bind(id)
            .bind(m.account_id)
            .bind(key)
            .execute(&mut **tx)
            .await?;
    }
    Ok((id, Some((chat, events))))
}
