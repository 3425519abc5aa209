//! PostgreSQL's side of the group commit (`storage::group_commit`): one transaction and one commit per
//! message capped sends at ~1,900/s. `WRITERS` writers each write what has gathered (up to
//! `MAX_BATCH`) in one transaction, so several keep the database busy while one waits for its commit.
//!
//! A batch is written set-wise: each step is one statement over arrays for the whole batch (claim
//! the idempotency keys, lock the chats, number the messages, insert them, move the chats' last
//! message, queue the deliveries, write the webhook events, record the keys, announce), about ten
//! round trips however many messages — writing message by message took seven per message and held
//! sends near 3,100/s.
//!
//! Locks are taken in one order by every writer: idempotency keys sorted, then chats in the order of
//! their ids (new chats after, sorted), the order in which recording delivery outcomes locks chats
//! too, so neither two batches nor a batch and the recorder deadlock (a deadlock costs PostgreSQL's
//! `deadlock_timeout`, longer than a short delivery lease). A batch that loses a serialization or
//! deadlock race anyway is tried again whole; one that fails otherwise is written one message per
//! transaction by the group commit, so one bad message cannot fail the others.

use std::collections::{HashMap, HashSet};

use sqlx::{PgPool, Postgres, Transaction};

use crate::domain::events::EventKind;
use crate::domain::model::{MessageStatus, OutboundMessage};
use crate::storage::group_commit::{BatchWrite, SendQueue, Signals, Written};
use crate::storage::rows::IDEMPOTENCY_WINDOW_MS;
use crate::storage::{StoreError, StoreResult};

const MAX_BATCH: usize = 128;
const WRITERS: usize = 4;
const RETRIES: u32 = 3;

type Tx = Transaction<'static, Postgres>;
/// A chat as the messages name it: channel and destination.
type ChatKey<'m> = (i64, &'m str);

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

/// The messages to write, in writing order: chat by chat in the order of the chats' ids, each chat's
/// messages in the order they came. `chat[k]` and `id[k]` belong to `messages[index[k]]`.
struct Plan {
    index: Vec<usize>,
    chat: Vec<i64>,
    id: Vec<i64>,
}

async fn write_all(pool: &PgPool, messages: &[&OutboundMessage]) -> StoreResult<Written> {
    let mut tx = pool.begin().await?;
    let mut ids = vec![0; messages.len()];
    let keys = claim_keys(&mut tx, messages, &mut ids).await?;
    let mut w = Written::default();
    if !keys.fresh.is_empty() {
        let chats = lock_chats(&mut tx, messages, &keys.fresh).await?;
        let mut order: Vec<(i64, usize)> =
            keys.fresh.iter().map(|&i| (chats[&chat_key(messages[i])], i)).collect();
        order.sort_unstable();
        let (chat, index): (Vec<i64>, Vec<usize>) = order.into_iter().unzip();
        let id = message_ids(&mut tx, index.len()).await?;
        let plan = Plan { index, chat, id };
        for (k, &i) in plan.index.iter().enumerate() {
            ids[i] = plan.id[k];
        }
        insert_messages(&mut tx, messages, &plan).await?;
        let started = move_chats(&mut tx, messages, &plan).await?;
        w.outbox = queue_deliveries(&mut tx, messages, &plan).await?;
        w.events = write_events(&mut tx, messages, &plan, &started).await?;
        let starts: Vec<i64> = started.iter().copied().collect();
        w.events += super::emit_new_contacts(&mut tx, &starts, messages[0].now).await?;
        record_keys(&mut tx, messages, &plan).await?;
        w.chats = plan.chat.clone();
        w.chats.dedup();
        super::announce(&mut tx, &w.chats).await?;
    }
    for &(repeat, first) in &keys.repeats {
        ids[repeat] = ids[first];
    }
    tx.commit().await?;
    w.ids = ids;
    Ok(w)
}

fn chat_key(m: &OutboundMessage) -> ChatKey<'_> {
    (m.channel_id, m.destination.as_str())
}

/// What the idempotency keys decided: the messages to write (positions, ascending), and the
/// repeats of a key earlier in the same batch (position, position of the first use).
struct Claims {
    fresh: Vec<usize>,
    repeats: Vec<(usize, usize)>,
}

/// Claims the batch's idempotency keys in one statement, sorted so that concurrent batches wait on
/// each other in one order. A key another request used within the window (on any instance: the
/// claim waits for its transaction) answers with that request's message, set in `ids`; a key used
/// twice in the batch answers the second use with the first's message.
async fn claim_keys(tx: &mut Tx, messages: &[&OutboundMessage], ids: &mut [i64]) -> StoreResult<Claims> {
    let mut claims = Claims { fresh: Vec::with_capacity(messages.len()), repeats: Vec::new() };
    let mut first_use: HashMap<(i64, &str), usize> = HashMap::new();
    let mut keyed = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        match m.idempotency_key.as_deref() {
            None => claims.fresh.push(i),
            Some(key) => match first_use.entry((m.account_id, key)) {
                std::collections::hash_map::Entry::Occupied(e) => claims.repeats.push((i, *e.get())),
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(i);
                    keyed.push(i);
                }
            },
        }
    }
    if keyed.is_empty() {
        return Ok(claims);
    }
    keyed.sort_unstable_by_key(|&i| (messages[i].account_id, messages[i].idempotency_key.as_deref()));
    let accounts: Vec<i64> = keyed.iter().map(|&i| messages[i].account_id).collect();
    let keys: Vec<&str> =
        keyed.iter().map(|&i| messages[i].idempotency_key.as_deref().unwrap_or("")).collect();
    let times: Vec<i64> = keyed.iter().map(|&i| messages[i].now).collect();
    let claimed: Vec<(i64, String)> = sqlx::query_as(
        "INSERT INTO idempotency_keys (account_id, key, message_id, created_at) \
         SELECT a, k, 0, t FROM UNNEST($1::bigint[], $2::text[], $3::bigint[]) WITH ORDINALITY AS u(a, k, t, n) \
         ORDER BY n \
         ON CONFLICT (account_id, key) DO UPDATE SET message_id = 0, created_at = EXCLUDED.created_at \
         WHERE idempotency_keys.created_at <= EXCLUDED.created_at - $4 RETURNING account_id, key",
    )
    .bind(&accounts)
    .bind(&keys)
    .bind(&times)
    .bind(IDEMPOTENCY_WINDOW_MS)
    .fetch_all(&mut **tx)
    .await?;
    let claimed: HashSet<(i64, &str)> = claimed.iter().map(|(a, k)| (*a, k.as_str())).collect();
    let (won, seen): (Vec<usize>, Vec<usize>) = keyed.into_iter().partition(|&i| {
        claimed.contains(&(messages[i].account_id, messages[i].idempotency_key.as_deref().unwrap_or("")))
    });
    claims.fresh.extend(won);
    claims.fresh.sort_unstable();
    if !seen.is_empty() {
        let accounts: Vec<i64> = seen.iter().map(|&i| messages[i].account_id).collect();
        let keys: Vec<&str> =
            seen.iter().map(|&i| messages[i].idempotency_key.as_deref().unwrap_or("")).collect();
        let firsts: Vec<(i64, String, i64)> = sqlx::query_as(
            "SELECT k.account_id, k.key, k.message_id FROM idempotency_keys k \
             JOIN UNNEST($1::bigint[], $2::text[]) AS u(a, k) ON k.account_id = u.a AND k.key = u.k",
        )
        .bind(&accounts)
        .bind(&keys)
        .fetch_all(&mut **tx)
        .await?;
        let first: HashMap<(i64, &str), i64> =
            firsts.iter().map(|(a, k, id)| ((*a, k.as_str()), *id)).collect();
        for i in seen {
            let m = messages[i];
            ids[i] =
                first.get(&(m.account_id, m.idempotency_key.as_deref().unwrap_or(""))).copied().unwrap_or(0);
        }
    }
    Ok(claims)
}

/// The chats of the messages at `fresh`, locked: the existing ones by one `SELECT … FOR UPDATE` in
/// the order of their ids, then the new ones inserted in (channel, destination) order.
async fn lock_chats<'m>(
    tx: &mut Tx,
    messages: &[&'m OutboundMessage],
    fresh: &[usize],
) -> StoreResult<HashMap<ChatKey<'m>, i64>> {
    let mut wanted: Vec<ChatKey<'m>> = fresh.iter().map(|&i| chat_key(messages[i])).collect();
    wanted.sort_unstable();
    wanted.dedup();
    let found = |rows: Vec<(i64, i64, String)>, into: &mut HashMap<ChatKey<'m>, i64>| {
        for (id, channel, destination) in rows {
            if let Ok(k) = wanted.binary_search(&(channel, destination.as_str())) {
                into.insert(wanted[k], id);
            }
        }
    };
    let (channels, destinations): (Vec<i64>, Vec<&str>) = wanted.iter().copied().unzip();
    let rows = sqlx::query_as(
        "SELECT c.id, c.channel_id, c.destination FROM chats c \
         JOIN UNNEST($1::bigint[], $2::text[]) AS k(channel_id, destination) \
         ON c.channel_id = k.channel_id AND c.destination = k.destination \
         ORDER BY c.id FOR UPDATE OF c",
    )
    .bind(&channels)
    .bind(&destinations)
    .fetch_all(&mut **tx)
    .await?;
    let mut chats = HashMap::with_capacity(wanted.len());
    found(rows, &mut chats);
    let missing: Vec<ChatKey<'m>> = wanted.iter().copied().filter(|k| !chats.contains_key(k)).collect();
    if !missing.is_empty() {
        let (channels, destinations): (Vec<i64>, Vec<&str>) = missing.iter().copied().unzip();
        let now = messages[fresh[0]].now;
        let rows = sqlx::query_as(
            "INSERT INTO chats (channel_id, destination, created_at) \
             SELECT c, d, $3 FROM UNNEST($1::bigint[], $2::text[]) WITH ORDINALITY AS u(c, d, n) ORDER BY n \
             ON CONFLICT (channel_id, destination) DO UPDATE SET destination = excluded.destination \
             RETURNING id, channel_id, destination",
        )
        .bind(&channels)
        .bind(&destinations)
        .bind(now)
        .fetch_all(&mut **tx)
        .await?;
        found(rows, &mut chats);
    }
    if chats.len() < wanted.len() {
        return Err(StoreError::Backend("a chat of the batch was neither found nor created".into()));
    }
    Ok(chats)
}

/// `n` new message ids, ascending: given out in writing order, they keep each chat's messages in the
/// order they came.
async fn message_ids(tx: &mut Tx, n: usize) -> StoreResult<Vec<i64>> {
    let mut ids: Vec<i64> = sqlx::query_scalar(
        "SELECT nextval(pg_get_serial_sequence('messages', 'id')) FROM generate_series(1, $1)",
    )
    .bind(n as i64)
    .fetch_all(&mut **tx)
    .await?;
    ids.sort_unstable();
    Ok(ids)
}

fn status_of(m: &OutboundMessage) -> MessageStatus {
    if m.needs_delivery { MessageStatus::Pending } else { MessageStatus::Sent }
}

async fn insert_messages(tx: &mut Tx, messages: &[&OutboundMessage], plan: &Plan) -> StoreResult<()> {
    let each = |f: &dyn Fn(&OutboundMessage) -> Option<&str>| -> Vec<Option<&str>> {
        plan.index.iter().map(|&i| f(messages[i])).collect()
    };
    let status = each(&|m| Some(status_of(m).as_str()));
    let body = each(&|m| m.text.as_deref());
    let file_type = each(&|m| m.attachment.as_ref().map(|a| a.file_type.as_str()));
    let file_url = each(&|m| m.attachment.as_ref().map(|a| a.url.as_str()));
    let thumb_url = each(&|m| m.attachment.as_ref().and_then(|a| a.thumb_url.as_deref()));
    let expires_at: Vec<Option<i64>> = plan.index.iter().map(|&i| messages[i].expires_at).collect();
    let created_at: Vec<i64> = plan.index.iter().map(|&i| messages[i].now).collect();
    let details: Vec<Option<String>> = plan.index.iter().map(|&i| messages[i].details.to_json()).collect();
    sqlx::query(
        "INSERT INTO messages (id, chat_id, sent, status, body, file_type, file_url, thumb_url, expires_at, created_at, details) \
         SELECT id, chat, TRUE, status, body, file_type, file_url, thumb_url, expires_at, created_at, details \
         FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], \
         $8::bigint[], $9::bigint[], $10::text[]) \
         AS u(id, chat, status, body, file_type, file_url, thumb_url, expires_at, created_at, details)",
    )
    .bind(&plan.id)
    .bind(&plan.chat)
    .bind(&status)
    .bind(&body)
    .bind(&file_type)
    .bind(&file_url)
    .bind(&thumb_url)
    .bind(&expires_at)
    .bind(&created_at)
    .bind(&details)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The first and the last of each chat's messages in the plan (positions in it), in chat order.
fn chat_spans(plan: &Plan) -> Vec<(usize, usize)> {
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for k in 0..plan.chat.len() {
        match spans.last_mut() {
            Some(span) if plan.chat[span.0] == plan.chat[k] => span.1 = k,
            _ => spans.push((k, k)),
        }
    }
    spans
}

/// Makes each chat's last message in the batch its last one; a chat without an open session starts
/// one with its first message in the batch. Answers the messages that started a session.
async fn move_chats(tx: &mut Tx, messages: &[&OutboundMessage], plan: &Plan) -> StoreResult<HashSet<i64>> {
    let spans = chat_spans(plan);
    let chat: Vec<i64> = spans.iter().map(|s| plan.chat[s.0]).collect();
    let first: Vec<i64> = spans.iter().map(|s| plan.id[s.0]).collect();
    let last: Vec<i64> = spans.iter().map(|s| plan.id[s.1]).collect();
    let at: Vec<i64> = spans.iter().map(|s| messages[plan.index[s.1]].now).collect();
    let sessions: Vec<Option<i64>> = sqlx::query_scalar(
        "UPDATE chats c SET last_message_id = u.last, last_at = u.at, \
         session_start = COALESCE(c.session_start, u.first), ended_at = NULL \
         FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[]) AS u(chat, first, last, at) \
         WHERE c.id = u.chat RETURNING c.session_start",
    )
    .bind(&chat)
    .bind(&first)
    .bind(&last)
    .bind(&at)
    .fetch_all(&mut **tx)
    .await?;
    let firsts: HashSet<i64> = first.into_iter().collect();
    Ok(sessions.into_iter().flatten().filter(|id| firsts.contains(id)).collect())
}

/// The outbox entries of the messages a worker must deliver, in message order. A chat's first entry
/// in the batch is its head when the chat has no entry waiting (the statement does not see its own
/// rows, so the batch says which is first).
async fn queue_deliveries(tx: &mut Tx, messages: &[&OutboundMessage], plan: &Plan) -> StoreResult<bool> {
    /// The entries' columns.
    #[derive(Default)]
    struct Entries {
        message: Vec<i64>,
        at: Vec<i64>,
        chat: Vec<i64>,
        channel: Vec<i64>,
        expires_at: Vec<Option<i64>>,
        first: Vec<bool>,
    }
    let mut entries = Entries::default();
    let mut previous_chat = None;
    for (k, &i) in plan.index.iter().enumerate() {
        let m = messages[i];
        if !m.needs_delivery {
            continue;
        }
        entries.message.push(plan.id[k]);
        entries.at.push(m.now);
        entries.chat.push(plan.chat[k]);
        entries.channel.push(m.channel_id);
        entries.expires_at.push(m.expires_at);
        entries.first.push(previous_chat != Some(plan.chat[k]));
        previous_chat = Some(plan.chat[k]);
    }
    if entries.message.is_empty() {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO outbox (message_id, available_at, chat_id, channel_id, expires_at, created_at, head) \
         SELECT id, at, chat, channel, expires_at, at, first AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.chat_id = u.chat) \
         FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bool[]) \
         WITH ORDINALITY AS u(id, at, chat, channel, expires_at, first, n) ORDER BY n",
    )
    .bind(&entries.message)
    .bind(&entries.at)
    .bind(&entries.chat)
    .bind(&entries.channel)
    .bind(&entries.expires_at)
    .bind(&entries.first)
    .execute(&mut **tx)
    .await?;
    Ok(true)
}

/// The batch's chat events for every webhook of the account that wants them, in message order:
/// `chat_session.start` before the message that started the session, `message_sent` for each. The
/// same rows as `emit_message_event` writes one event at a time. How many deliveries it wrote.
async fn write_events(
    tx: &mut Tx,
    messages: &[&OutboundMessage],
    plan: &Plan,
    started: &HashSet<i64>,
) -> StoreResult<u64> {
    /// The events' columns.
    #[derive(Default)]
    struct Events {
        id: Vec<String>,
        name: Vec<&'static str>,
        bit: Vec<i64>,
        message: Vec<i64>,
        status: Vec<&'static str>,
        account: Vec<i64>,
        at: Vec<i64>,
    }
    let mut events = Events::default();
    for (k, &i) in plan.index.iter().enumerate() {
        let (m, id) = (messages[i], plan.id[k]);
        let kinds: &[EventKind] = if started.contains(&id) {
            &[EventKind::ChatStart, EventKind::MessageSent]
        } else {
            &[EventKind::MessageSent]
        };
        for kind in kinds {
            events.id.push(super::new_event_id());
            events.name.push(kind.name());
            events.bit.push(kind.bit());
            events.message.push(id);
            events.status.push(status_of(m).as_str());
            events.account.push(m.account_id);
            events.at.push(m.now);
        }
    }
    let done = sqlx::query(
        "INSERT INTO webhook_deliveries (webhook_id, account_id, event_id, event, message_id, message_status, \
         created_at, next_at, window_start) \
         SELECT w.id, w.account_id, e.event_id, e.event, e.message_id, e.status, e.at, e.at, e.at \
         FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::bigint[], $7::bigint[]) \
         WITH ORDINALITY AS e(event_id, event, bit, message_id, status, account_id, at, n) \
         JOIN webhooks w ON w.account_id = e.account_id AND (w.events & e.bit) <> 0 \
         ORDER BY e.n, w.id",
    )
    .bind(&events.id)
    .bind(&events.name)
    .bind(&events.bit)
    .bind(&events.message)
    .bind(&events.status)
    .bind(&events.account)
    .bind(&events.at)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected())
}

/// The claimed keys now name their messages.
async fn record_keys(tx: &mut Tx, messages: &[&OutboundMessage], plan: &Plan) -> StoreResult<()> {
    let mut keys: (Vec<i64>, Vec<&str>, Vec<i64>) = Default::default();
    for (k, &i) in plan.index.iter().enumerate() {
        if let Some(key) = messages[i].idempotency_key.as_deref() {
            keys.0.push(messages[i].account_id);
            keys.1.push(key);
            keys.2.push(plan.id[k]);
        }
    }
    if keys.0.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "UPDATE idempotency_keys k SET message_id = u.id \
         FROM UNNEST($1::bigint[], $2::text[], $3::bigint[]) AS u(a, k, id) WHERE k.account_id = u.a AND k.key = u.k",
    )
    .bind(&keys.0)
    .bind(&keys.1)
    .bind(&keys.2)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
