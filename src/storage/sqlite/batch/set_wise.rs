//! A batch without idempotency keys, written set-wise: one statement per table for the whole batch
//! (chats, messages, the chats' last message and session, outbox) instead of six or seven per message.
//! Each statement is a round trip to sqlx's connection thread, and those round trips were most of a
//! bulk list's cost.

use std::collections::{HashMap, HashSet};

use sqlx::{QueryBuilder, Sqlite, Transaction};

use super::super::{emit_first_contacts, emit_message_event};
use crate::domain::events::EventKind;
use crate::domain::model::{MessageStatus, OutboundMessage};
use crate::storage::StoreResult;
use crate::storage::group_commit::Written;
use crate::storage::rows::id_list;

/// Rows per multi-row statement: at most 11 bound values a row, far below SQLite's 32,766.
const ROWS: usize = 500;

type Tx = Transaction<'static, Sqlite>;

pub(super) async fn write(tx: &mut Tx, messages: &[&OutboundMessage]) -> StoreResult<Written> {
    let found = upsert_chats(tx, messages).await?;
    // The one writer holds the write lock: the next ids are the table's largest plus one, as SQLite
    // itself would give them, so the ids follow the batch's order.
    let ids: Vec<i64> = (found.next_id..).take(messages.len()).collect();
    let chats = found.chats;
    insert_messages(tx, messages, &chats, &ids).await?;
    let starts = update_chats(tx, messages, &chats, &ids, &found.idle).await?;
    let events = emit_events(tx, messages, &chats, &ids, &starts, &found.wanted).await?;
    insert_outbox(tx, messages, &chats, &ids).await?;
    Ok(Written { outbox: messages.iter().any(|m| m.needs_delivery), chats, events, ids })
}

fn status(m: &OutboundMessage) -> MessageStatus {
    if m.needs_delivery { MessageStatus::Pending } else { MessageStatus::Sent }
}

/// What the batch's first statement finds out.
struct Found {
    /// Each message's chat, in order.
    chats: Vec<i64>,
    /// The chats with no session open before this batch.
    idle: HashSet<i64>,
    /// The id the batch's first message gets.
    next_id: i64,
    wanted: Wanted,
}

/// Which of the batch's events any webhook wants.
#[derive(Default)]
struct Wanted {
    contact: bool,
    messages: bool,
}

/// Finds or creates each message's chat. The same statement reads what else the batch needs to know
/// before it writes — whether each chat had a session open, the next message id, which events are
/// wanted — since each statement is a hand-off to sqlx's connection thread and back, the larger part
/// of a batch's fixed cost. (Those subqueries do not depend on the row: SQLite evaluates them once.)
async fn upsert_chats(tx: &mut Tx, messages: &[&OutboundMessage]) -> StoreResult<Found> {
    // Each distinct chat once, numbered as it first appears; `key_of[i]` is message i's number.
    let mut number: HashMap<(i64, &str), usize> = HashMap::new();
    let mut keys: Vec<(i64, &str, i64)> = Vec::new();
    let key_of: Vec<usize> = messages
        .iter()
        .map(|m| {
            *number.entry((m.channel_id, m.destination.as_str())).or_insert_with(|| {
                keys.push((m.channel_id, m.destination.as_str(), m.now));
                keys.len() - 1
            })
        })
        .collect();
    let mut chat_ids: Vec<Option<i64>> = vec![None; keys.len()];
    let mut found = Found { chats: Vec::new(), idle: HashSet::new(), next_id: 1, wanted: Wanted::default() };
    let message_events = EventKind::ChatStart.bit() | EventKind::MessageSent.bit();
    for part in keys.chunks(ROWS) {
        let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO chats (channel_id, destination, created_at) ");
        q.push_values(part, |mut row, (channel, destination, now)| {
            row.push_bind(*channel).push_bind(destination.to_string()).push_bind(*now);
        });
        q.push(
            " ON CONFLICT (channel_id, destination) DO UPDATE SET destination = excluded.destination \
             RETURNING id, channel_id, destination, session_start IS NULL, \
             (SELECT COALESCE(MAX(id), 0) + 1 FROM messages), \
             EXISTS (SELECT 1 FROM webhooks WHERE (events & ",
        );
        q.push_bind(EventKind::ContactCreated.bit());
        q.push(") <> 0), EXISTS (SELECT 1 FROM webhooks WHERE (events & ");
        q.push_bind(message_events);
        q.push(") <> 0)");
        let rows: Vec<(i64, i64, String, bool, i64, bool, bool)> =
            q.build_query_as().fetch_all(&mut **tx).await?;
        for (id, channel, destination, no_session, next_id, contact, messages) in rows {
            if let Some(&k) = number.get(&(channel, destination.as_str())) {
                chat_ids[k] = Some(id);
            }
            if no_session {
                found.idle.insert(id);
            }
            (found.next_id, found.wanted) = (next_id, Wanted { contact, messages });
        }
    }
    let chats = key_of.iter().map(|&k| chat_ids[k].ok_or(crate::storage::StoreError::NotFound("chat")));
    found.chats = chats.collect::<StoreResult<_>>()?;
    Ok(found)
}

async fn insert_messages(
    tx: &mut Tx,
    messages: &[&OutboundMessage],
    chats: &[i64],
    ids: &[i64],
) -> StoreResult<()> {
    let rows: Vec<(usize, &&OutboundMessage)> = messages.iter().enumerate().collect();
    for part in rows.chunks(ROWS) {
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO messages (id, chat_id, sent, status, body, file_type, file_url, thumb_url, expires_at, created_at, details) ",
        );
        q.push_values(part, |mut row, (i, m)| {
            let file = m.attachment.as_ref();
            row.push_bind(ids[*i])
                .push_bind(chats[*i])
                .push_bind(true)
                .push_bind(status(m).as_str())
                .push_bind(m.text.clone())
                .push_bind(file.map(|a| a.file_type.as_str().to_string()))
                .push_bind(file.map(|a| a.url.clone()))
                .push_bind(file.and_then(|a| a.thumb_url.clone()))
                .push_bind(m.expires_at)
                .push_bind(m.now)
                .push_bind(m.details.to_json());
        });
        q.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// Makes each chat's last message in the batch its last one, and its first the start of a session
/// where none is open (`idle`: the chats that had none). The ids of the messages that started a session.
async fn update_chats(
    tx: &mut Tx,
    messages: &[&OutboundMessage],
    chats: &[i64],
    ids: &[i64],
    idle: &HashSet<i64>,
) -> StoreResult<HashSet<i64>> {
    // Per chat, in the order chats first appear: (chat, first id, last id, last time).
    let mut order: Vec<(i64, i64, i64, i64)> = Vec::new();
    let mut at: HashMap<i64, usize> = HashMap::new();
    for (i, m) in messages.iter().enumerate() {
        match at.get(&chats[i]) {
            Some(&k) => (order[k].2, order[k].3) = (ids[i], m.now),
            None => {
                at.insert(chats[i], order.len());
                order.push((chats[i], ids[i], ids[i], m.now));
            }
        }
    }
    let mut starts = HashSet::new();
    for part in order.chunks(ROWS) {
        starts.extend(part.iter().filter(|c| idle.contains(&c.0)).map(|c| c.1));
        let mut q = QueryBuilder::<Sqlite>::new(
            "UPDATE chats SET last_message_id = v.column3, last_at = v.column4, \
             session_start = COALESCE(session_start, v.column2), ended_at = NULL FROM (",
        );
        q.push_values(part, |mut row, (chat, first, last, now)| {
            row.push_bind(*chat).push_bind(*first).push_bind(*last).push_bind(*now);
        });
        q.push(") AS v WHERE chats.id = v.column1");
        q.build().execute(&mut **tx).await?;
    }
    Ok(starts)
}

/// `chat_session.start` and `message.sent` for the account's webhooks that want them, message by
/// message in order, as a single send writes them; nothing at all when no webhook wants either.
async fn emit_events(
    tx: &mut Tx,
    messages: &[&OutboundMessage],
    chats: &[i64],
    ids: &[i64],
    starts: &HashSet<i64>,
    wanted: &Wanted,
) -> StoreResult<u64> {
    let firsts: Vec<i64> = starts.iter().copied().collect();
    let mut events = match messages.first() {
        Some(m) if wanted.contact && !firsts.is_empty() => emit_first_contacts(tx, &firsts, m.now).await?,
        _ => 0,
    };
    if !wanted.messages {
        return Ok(events);
    }
    for (i, m) in messages.iter().enumerate() {
        let at = || super::super::EventAt::Chat(chats[i]);
        if starts.contains(&ids[i]) {
            events +=
                emit_message_event(tx, EventKind::ChatStart, at(), ids[i], Some(status(m)), None, m.now)
                    .await?;
        }
        events += emit_message_event(tx, EventKind::MessageSent, at(), ids[i], Some(status(m)), None, m.now)
            .await?;
    }
    Ok(events)
}

/// An outbox entry for each message a worker must deliver; the first of a chat with no entry yet is
/// its chat's head.
async fn insert_outbox(
    tx: &mut Tx,
    messages: &[&OutboundMessage],
    chats: &[i64],
    ids: &[i64],
) -> StoreResult<()> {
    let due: Vec<usize> = (0..messages.len()).filter(|&i| messages[i].needs_delivery).collect();
    if due.is_empty() {
        return Ok(());
    }
    let mut waiting: HashSet<i64> = HashSet::new();
    for part in due.chunks(ROWS) {
        // The list as one JSON parameter: one statement text, prepared once, whatever the batch.
        let list = format!("[{}]", id_list(part.iter().map(|&i| chats[i])));
        let busy: Vec<i64> = sqlx::query_scalar(
            "SELECT DISTINCT chat_id FROM outbox WHERE chat_id IN (SELECT value FROM json_each($1))",
        )
        .bind(list)
        .fetch_all(&mut **tx)
        .await?;
        waiting.extend(busy);
    }
    for part in due.chunks(ROWS) {
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO outbox (message_id, available_at, chat_id, channel_id, expires_at, created_at, head) ",
        );
        let rows: Vec<(usize, bool)> = part.iter().map(|&i| (i, waiting.insert(chats[i]))).collect();
        q.push_values(rows, |mut row, (i, head)| {
            let m = messages[i];
            row.push_bind(ids[i])
                .push_bind(m.now)
                .push_bind(chats[i])
                .push_bind(m.channel_id)
                .push_bind(m.expires_at)
                .push_bind(m.now)
                .push_bind(head);
        });
        q.build().execute(&mut **tx).await?;
    }
    Ok(())
}
