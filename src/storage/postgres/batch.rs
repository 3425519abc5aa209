//! Group commit for `send_message` on PostgreSQL, as SQLite has it (`sqlite/batch.rs`): one transaction
//! and one commit per message capped sends at ~1,900/s, nearly all of it commits. Concurrent sends are
//! queued to `WRITERS` tasks; each takes whatever has gathered (up to `MAX_BATCH`), writes it in one
//! transaction and answers each caller only after that transaction committed, so an acknowledged
//! message is as durable as before (a SIGKILL loses nothing acknowledged). Several writers keep the
//! database busy while one of them waits for its commit.
//!
//! A batch writes its messages chat by chat in the order of the chats' ids (in order within a chat):
//! a chat is locked while its message is written, and recording delivery outcomes locks chats in the
//! same order, so neither two batches nor a batch and the recorder deadlock on them (a deadlock costs
//! PostgreSQL's `deadlock_timeout`, longer than a short delivery lease). A batch
//! that loses a serialization or deadlock race is tried again whole; one that fails otherwise is
//! written one message per transaction, so one bad message cannot fail the others.

use std::sync::Arc;

use sqlx::{PgPool, Postgres, Transaction};
use tokio::sync::{Mutex, Notify, mpsc, oneshot};

use super::insert_outbound;
use crate::domain::model::OutboundMessage;
use crate::storage::feed::Feed;
use crate::storage::rows::IDEMPOTENCY_WINDOW_MS;
use crate::storage::{StoreError, StoreResult};

const MAX_BATCH: usize = 128;
const WRITERS: usize = 4;
const RETRIES: u32 = 3;

type Job = (OutboundMessage, oneshot::Sender<StoreResult<i64>>);

/// The sending side, held by the store; the writing tasks end when it is dropped.
pub struct SendQueue {
    jobs: mpsc::Sender<Job>,
}

/// What the writers tell when a batch committed.
#[derive(Clone)]
pub struct Signals {
    pub outbox: Arc<Notify>,
    pub webhooks: Arc<Notify>,
    pub feed: Arc<Feed>,
}

impl SendQueue {
    pub fn start(pool: PgPool, signals: Signals) -> Self {
        let (jobs, rx) = mpsc::channel(4 * MAX_BATCH);
        let rx = Arc::new(Mutex::new(rx));
        for _ in 0..WRITERS {
            tokio::spawn(run(pool.clone(), rx.clone(), signals.clone()));
        }
        Self { jobs }
    }

    pub async fn send(&self, m: OutboundMessage) -> StoreResult<i64> {
        let (reply, answer) = oneshot::channel();
        let gone = || StoreError::Backend("the message writer stopped".into());
        self.jobs.send((m, reply)).await.map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

async fn run(pool: PgPool, rx: Arc<Mutex<mpsc::Receiver<Job>>>, signals: Signals) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    loop {
        // One writer gathers at a time; it lets go of the queue before it writes.
        let got = rx.lock().await.recv_many(&mut batch, MAX_BATCH).await;
        if got == 0 {
            return;
        }
        let messages: Vec<&OutboundMessage> = batch.iter().map(|(m, _)| m).collect();
        match write_retrying(&pool, &messages).await {
            Ok(w) => {
                w.tell(&signals);
                for ((_, reply), id) in batch.drain(..).zip(w.ids) {
                    let _ = reply.send(Ok(id));
                }
            }
            Err(_) if batch.len() > 1 => {
                for (m, reply) in batch.drain(..) {
                    let one = write_retrying(&pool, &[&m]).await.map(|w| {
                        w.tell(&signals);
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

/// What a committed batch wrote: the messages' ids (in the callers' order), the chats it wrote to,
/// the webhook deliveries, whether any message waits for delivery.
struct Written {
    ids: Vec<i64>,
    chats: Vec<i64>,
    events: u64,
    outbox: bool,
}

impl Written {
    fn tell(&self, signals: &Signals) {
        if self.outbox {
            signals.outbox.notify_one();
        }
        if self.events > 0 {
            signals.webhooks.notify_one();
        }
        signals.feed.announce(self.chats.iter().copied());
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
    let mut w = Written { ids: vec![0; messages.len()], chats: Vec::new(), events: 0, outbox: false };
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
