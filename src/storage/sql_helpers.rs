//! The helpers the shared SQL uses inside its transactions (chats, message rows, the change log).

/// `sql_helpers!(sqlx database type, "outbox row lock clause")`: functions at the engine module's level.
macro_rules! sql_helpers {
    ($db:ty, $outbox_lock:literal) => {
        /// Finds or creates the chat of `channel_id` with `destination`.
        async fn upsert_chat(
            tx: &mut Transaction<'static, $db>,
            channel_id: i64,
            destination: &str,
            now: i64,
        ) -> StoreResult<i64> {
            Ok(sqlx::query_scalar(
                "INSERT INTO chats (channel_id, destination, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (channel_id, destination) DO UPDATE SET destination = excluded.destination RETURNING id",
            )
            .bind(channel_id)
            .bind(destination)
            .bind(now)
            .fetch_one(&mut **tx)
            .await?)
        }

        /// The channel's sent message with this platform id, and its chat.
        async fn message_by_platform_id(
            tx: &mut Transaction<'static, $db>,
            channel_id: i64,
            platform_id: &str,
        ) -> StoreResult<Option<(i64, i64)>> {
            Ok(sqlx::query_as(
                "SELECT m.id, m.chat_id FROM messages m JOIN chats c ON c.id = m.chat_id \
                 WHERE m.platform_message_id = $1 AND c.channel_id = $2 LIMIT 1",
            )
            .bind(platform_id)
            .bind(channel_id)
            .fetch_optional(&mut **tx)
            .await?)
        }

        /// The statuses `status` may replace, as an SQL list (`'pending', 'sent'`); `None` when it
        /// replaces none. Status names are this crate's own constants, so they may go into a
        /// statement's text.
        fn replaceable(status: MessageStatus) -> Option<String> {
            let earlier = status.replaces();
            (!earlier.is_empty())
                .then(|| earlier.iter().map(|s| format!("'{}'", s.as_str())).collect::<Vec<_>>().join(", "))
        }

        /// A status for a platform id no message of the channel has yet: the send's answer may still
        /// be on its way (WhatsApp reports `sent` within milliseconds), so it is kept for 10 minutes
        /// for `apply_early_statuses`. A known message that did not move (a step backwards) keeps
        /// nothing. Whether it was kept.
        async fn keep_early_status(
            tx: &mut Transaction<'static, $db>,
            channel_id: i64,
            platform_id: &str,
            status: MessageStatus,
            reason: Option<&str>,
        ) -> StoreResult<bool> {
            if message_by_platform_id(tx, channel_id, platform_id).await?.is_some() {
                return Ok(false);
            }
            let now = now_ms();
            sqlx::query("DELETE FROM early_statuses WHERE created_at < $1")
                .bind(now - EARLY_STATUS_MS)
                .execute(&mut **tx)
                .await?;
            sqlx::query(
                "INSERT INTO early_statuses (channel_id, platform_message_id, status, reason, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(channel_id)
            .bind(platform_id)
            .bind(status.as_str())
            .bind(reason)
            .bind(now)
            .execute(&mut **tx)
            .await?;
            Ok(true)
        }

        /// Statuses the platform reported for `platform_id` before the send's answer was recorded
        /// (kept by `update_status_by_platform_id`), applied now that it is, in the order they
        /// progress; the `message_status` events they make, when `wanted`.
        async fn apply_early_statuses(
            tx: &mut Transaction<'static, $db>,
            chat_id: i64,
            message_id: i64,
            platform_id: &str,
            wanted: bool,
        ) -> StoreResult<u64> {
            let early: Vec<(String, Option<String>)> = sqlx::query_as(
                "DELETE FROM early_statuses WHERE platform_message_id = $1 \
                 AND channel_id = (SELECT channel_id FROM chats WHERE id = $2) RETURNING status, reason",
            )
            .bind(platform_id)
            .bind(chat_id)
            .fetch_all(&mut **tx)
            .await?;
            let mut early: Vec<(MessageStatus, Option<String>)> =
                early.into_iter().filter_map(|(s, r)| Some((MessageStatus::parse(&s)?, r))).collect();
            early.sort_by_key(|(s, _)| s.replaces().len());
            let mut events = 0;
            for (status, reason) in early {
                let Some(list) = replaceable(status) else { continue };
                let changed = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE messages SET status = $1, reason = COALESCE($2, reason) WHERE id = $3 AND status IN ({list})"
                )))
                .bind(status.as_str())
                .bind(reason.as_deref())
                .bind(message_id)
                .execute(&mut **tx)
                .await?;
                if changed.rows_affected() > 0 && wanted {
                    let at = EventAt::Chat(chat_id);
                    let reason = reason.as_deref();
                    events += emit_message_event(tx, EventKind::MessageStatus, at, message_id, Some(status), reason, now_ms())
                        .await?;
                }
            }
            Ok(events)
        }

        /// A message row to insert: an outbound one (`pending`) or a received one (`unread`).
        struct NewRow<'a> {
            sent: bool,
            status: MessageStatus,
            text: Option<&'a str>,
            attachment: Option<&'a Attachment>,
            expires_at: Option<i64>,
            /// `MessageDetails` as stored (JSON), if there are any.
            details: Option<&'a str>,
            /// The message's `datetime`: the platform's own time for a received one, else `now`.
            created_at: i64,
            /// A received message: when the person wrote (the chat's `last_inbound_at`, WhatsApp's
            /// 24-hour window, moves forwards to it).
            inbound_at: Option<i64>,
            now: i64,
        }

        /// Inserts a message into a chat and makes it the chat's last one; a chat without an open session
        /// starts one with it (`chat_session.start`, and `contact.created` when it is the chat's first
        /// message), and an ended conversation opens again.
        async fn insert_message(
            tx: &mut Transaction<'static, $db>,
            chat_id: i64,
            m: NewRow<'_>,
        ) -> StoreResult<(i64, u64)> {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO messages (chat_id, sent, status, body, file_type, file_url, thumb_url, expires_at, created_at, details) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
            )
            .bind(chat_id)
            .bind(m.sent)
            .bind(m.status.as_str())
            .bind(m.text)
            .bind(m.attachment.map(|a| a.file_type.as_str()))
            .bind(m.attachment.map(|a| a.url.as_str()))
            .bind(m.attachment.and_then(|a| a.thumb_url.as_deref()))
            .bind(m.expires_at)
            .bind(m.created_at)
            .bind(m.details)
            .fetch_one(&mut **tx)
            .await?;
            let session_start: Option<i64> = sqlx::query_scalar(
                "UPDATE chats SET last_message_id = $1, last_at = $2, session_start = COALESCE(session_start, $1), ended_at = NULL, \
                 last_inbound_at = CASE WHEN $4 IS NULL OR last_inbound_at >= $4 THEN last_inbound_at ELSE $4 END \
                 WHERE id = $3 RETURNING session_start",
            )
            .bind(id)
            .bind(m.now)
            .bind(chat_id)
            .bind(m.inbound_at)
            .fetch_one(&mut **tx)
            .await?;
            announce(tx, &[chat_id]).await?;
            let mut events = 0;
            if session_start == Some(id) {
                let at = EventAt::Chat(chat_id);
                events += emit_message_event(tx, EventKind::ChatStart, at, id, Some(m.status), None, m.now).await?;
                events += emit_new_contacts(tx, &[id], m.now).await?;
            }
            let kind = if m.sent { EventKind::MessageSent } else { EventKind::MessageReceived };
            events += emit_message_event(tx, kind, EventAt::Chat(chat_id), id, Some(m.status), None, m.now).await?;
            Ok((id, events))
        }

        /// Leases up to `limit` due outbox entries until `lease_until`: first entries whose
        /// `invalidationtime` has passed (to be marked `expired`, wherever they stand in their chat),
        /// then due heads — the oldest entry of each chat, so a chat's messages go out in the order they
        /// were acknowledged. Entries of `skip` channels (throttled or paused in this process) are left
        /// for later or for another instance. Both statements use partial indexes, so a claim costs
        /// what it takes, not the length of the queue. Claims name their `owner` (a process's
        /// `delivery_owners` row), so that they end with it.
        async fn claim_ids(
            tx: &mut Transaction<'static, $db>,
            limit: u32,
            owner: i64,
            lease_until: i64,
            now: i64,
            skip: &[i64],
        ) -> StoreResult<Vec<OutboxClaim>> {
            let skip = if skip.is_empty() {
                String::new()
            } else {
                format!(" AND channel_id NOT IN ({})", id_list(skip.iter().copied()))
            };
            let mut claims = Vec::new();
            for due in ["expires_at <= $2", "head AND available_at <= $2"] {
                let left = i64::from(limit) - claims.len() as i64;
                if left <= 0 {
                    break;
                }
                let rows: Vec<(i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "UPDATE outbox SET lease_until = $1, lease_owner = $4, attempts = attempts + 1 WHERE id IN \
                     (SELECT id FROM outbox WHERE {due} AND (lease_until IS NULL OR lease_until <= $2){skip} \
                     ORDER BY id LIMIT $3{}) RETURNING id, message_id",
                    $outbox_lock
                )))
                .bind(lease_until)
                .bind(now)
                .bind(left)
                .bind(owner)
                .fetch_all(&mut **tx)
                .await?;
                claims.extend(rows.into_iter().map(|(id, message_id)| OutboxClaim { id, message_id }));
            }
            claims.sort();
            claims.dedup();
            Ok(claims)
        }

        /// Frees the outbox claims of delivery processes that stopped (due at once, for any worker) and
        /// forgets their heartbeats; how many claims were freed.
        async fn free_owners(tx: &mut Transaction<'static, $db>, owners: &[i64]) -> StoreResult<u64> {
            if owners.is_empty() {
                return Ok(0);
            }
            let owners = id_list(owners.iter().copied());
            let freed = sqlx::query(sqlx::AssertSqlSafe(format!(
                "UPDATE outbox SET lease_until = NULL, lease_owner = NULL WHERE lease_owner IN ({owners})"
            )))
            .execute(&mut **tx)
            .await?
            .rows_affected();
            sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM delivery_owners WHERE owner IN ({owners})")))
                .execute(&mut **tx)
                .await?;
            Ok(freed)
        }

        /// The chat of `channel_id` with `destination`, if there is one. Reads of a chat's messages look it
        /// up first and then name it by id: both engines then read the `(chat_id, id)` indexes in order,
        /// however large the chat (PostgreSQL, given the chat only by a join or a subquery, read the
        /// whole chat and sorted it: 8.9 ms for 100 of a chat's 11,100 messages among 1M, against 0.16 ms).
        async fn chat_id_of(
            pool: &sqlx::Pool<$db>,
            channel_id: i64,
            destination: &str,
        ) -> StoreResult<Option<i64>> {
            Ok(sqlx::query_scalar("SELECT id FROM chats WHERE channel_id = $1 AND destination = $2")
                .bind(channel_id)
                .bind(destination)
                .fetch_optional(pool)
                .await?)
        }

        /// Marks the chat's received messages up to `up_to` read; when any changed, the chat is announced
        /// to the other instances (its unread count changed). How many changed.
        async fn mark_chat_read(tx: &mut Transaction<'static, $db>, chat: i64, up_to: i64) -> StoreResult<u64> {
            let done = sqlx::query(
                "UPDATE messages SET status = 'read' WHERE NOT sent AND status = 'unread' AND id <= $1 AND chat_id = $2",
            )
            .bind(up_to)
            .bind(chat)
            .execute(&mut **tx)
            .await?
            .rows_affected();
            if done > 0 {
                announce(tx, &[chat]).await?;
            }
            Ok(done)
        }

        async fn record_change(tx: &mut Transaction<'static, $db>, account_id: i64) -> StoreResult<()> {
            sqlx::query("INSERT INTO credential_changes (account_id, at) VALUES ($1, $2)")
                .bind(account_id)
                .bind(now_ms())
                .execute(&mut **tx)
                .await?;
            Ok(())
        }

        async fn account_id_of(tx: &mut Transaction<'static, $db>, login: &str) -> StoreResult<i64> {
            sqlx::query_scalar("SELECT id FROM accounts WHERE login = $1")
                .bind(login)
                .fetch_optional(&mut **tx)
                .await?
                .ok_or(StoreError::NotFound("account"))
        }
    };
}
pub(crate) use sql_helpers;
