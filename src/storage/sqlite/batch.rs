//! Group commit for `send_message`. SQLite has one writer, and every statement is a round trip to
//! sqlx's connection thread, so one transaction per message caps throughput. Concurrent sends are
//! queued to one task that writes whatever has gathered (up to `MAX_BATCH`) in a single transaction
//! and answers each caller only after that transaction committed: an acknowledged message is durable
//! exactly as before. If a batch fails, its messages are retried one transaction each, so one bad
//! message cannot fail the others.

use std::sync::Arc;

use sqlx::{Sqlite, SqlitePool, Transaction};
use tokio::sync::{Notify, mpsc, oneshot};

use super::insert_outbound;
use crate::domain::model::OutboundMessage;
use crate::storage::feed::Feed;
use crate::storage::rows::IDEMPOTENCY_WINDOW_MS;
use crate::storage::{StoreError, StoreResult};

const MAX_BATCH: usize = 256;

type Job = (OutboundMessage, oneshot::Sender<StoreResult<i64>>);

/// The sending side, held by the store; the writing task ends when it is dropped.
pub struct SendQueue {
    jobs: mpsc::Sender<Job>,
}

impl SendQueue {
    /// `webhooks` is signalled after a batch that wrote webhook deliveries committed; `feed` hears of
    /// every chat a batch wrote to.
    pub fn start(writer: SqlitePool, webhooks: Arc<Notify>, feed: Arc<Feed>) -> Self {
        let (jobs, rx) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(run(writer, rx, webhooks, feed));
        Self { jobs }
    }

    pub async fn send(&self, m: OutboundMessage) -> StoreResult<i64> {
        let (reply, answer) = oneshot::channel();
        let gone = || StoreError::Backend("the message writer stopped".into());
        self.jobs.send((m, reply)).await.map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

async fn run(writer: SqlitePool, mut rx: mpsc::Receiver<Job>, webhooks: Arc<Notify>, feed: Arc<Feed>) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    let written = |w: &Written| {
        if w.events > 0 {
            webhooks.notify_one();
        }
        feed.announce(w.chats.iter().copied());
    };
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let messages: Vec<&OutboundMessage> = batch.iter().map(|(m, _)| m).collect();
        match write_all(&writer, &messages).await {
            Ok(w) => {
                written(&w);
                for ((_, reply), id) in batch.drain(..).zip(w.ids) {
                    let _ = reply.send(Ok(id));
                }
            }
            Err(_) if batch.len() > 1 => {
                for (m, reply) in batch.drain(..) {
                    let one = write_all(&writer, &[&m]).await.map(|w| {
                        written(&w);
                        w.ids
                    });
                    let _ = reply
                        .send(one.and_then(|ids| ids.first().copied().ok_or(StoreError::NotFound("id"))));
                }
            }
            Err(e) => {
                for (_, reply) in batch.drain(..) {
                    let _ = reply.send(Err(StoreError::Backend(e.to_string())));
                }
            }
        }
    }
}

/// What a committed batch wrote: the messages' ids, the chats they went to, the webhook deliveries.
struct Written {
    ids: Vec<i64>,
    chats: Vec<i64>,
    events: u64,
}

async fn write_all(writer: &SqlitePool, messages: &[&OutboundMessage]) -> StoreResult<Written> {
    let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
    let mut w = Written { ids: Vec::with_capacity(messages.len()), chats: Vec::new(), events: 0 };
    for m in messages {
        let (id, chat, events) = write_one(&mut tx, m).await?;
        w.ids.push(id);
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
