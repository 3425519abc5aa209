//! The SQL both engines share. sqlx binds `$N` placeholders on SQLite as on PostgreSQL, and the
//! statements below use only SQL both understand, so one text serves both: `sql_store!` emits the
//! helpers and the `Store` implementation for an engine's store type, which supplies `reader()` (a
//! pool for reads), `write()` (a write transaction), the clause that locks outbox rows for claiming, and
//! the method that really differs (`send_message`: how concurrent sends and idempotency keys are made
//! safe differs per engine: `sqlite/batch.rs` writes message by message, `postgres/batch.rs` set-wise).

/// `sql_store!(StoreType, sqlx database type, "outbox row lock clause", { engine-specific Store methods })`.
#[macro_export]
macro_rules! sql_store {
    ($store:ty, $db:ty, $outbox_lock:literal, { $($engine:tt)* }) => {
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

        /// A message row to insert: an outbound one (`pending`) or a received one (`unread`).
        struct NewRow<'a> {
            sent: bool,
            status: MessageStatus,
            text: Option<&'a str>,
            attachment: Option<&'a Attachment>,
            expires_at: Option<i64>,
            now: i64,
        }

        /// Inserts a message into a chat and makes it the chat's last one; a chat without an open session
        /// starts one with it (`chat_session.start`).
        async fn insert_message(
            tx: &mut Transaction<'static, $db>,
            chat_id: i64,
            m: NewRow<'_>,
        ) -> StoreResult<(i64, u64)> {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO messages (chat_id, sent, status, body, file_type, file_url, thumb_url, expires_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            )
            .bind(chat_id)
            .bind(m.sent)
            .bind(m.status.as_str())
            .bind(m.text)
            .bind(m.attachment.map(|a| a.file_type.as_str()))
            .bind(m.attachment.map(|a| a.url.as_str()))
            .bind(m.attachment.and_then(|a| a.thumb_url.as_deref()))
            .bind(m.expires_at)
            .bind(m.now)
            .fetch_one(&mut **tx)
            .await?;
            let session_start: Option<i64> = sqlx::query_scalar(
                "UPDATE chats SET last_message_id = $1, last_at = $2, session_start = COALESCE(session_start, $1) \
                 WHERE id = $3 RETURNING session_start",
            )
            .bind(id)
            .bind(m.now)
            .bind(chat_id)
            .fetch_one(&mut **tx)
            .await?;
            announce(tx, &[chat_id]).await?;
            let mut events = 0;
            if session_start == Some(id) {
                let at = EventAt::Chat(chat_id);
                events += emit_message_event(tx, EventKind::ChatStart, at, id, Some(m.status), None, m.now).await?;
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

        #[async_trait::async_trait]
        impl $crate::domain::ports::CredentialStore for $store {
            async fn find_credential(&self, login: &str) -> StoreResult<Option<CredentialRecord>> {
                let row: Option<CredentialRow> = sqlx::query_as(
                    "SELECT c.id, c.account_id, c.login, c.secret_hash, c.scopes, c.enabled, c.ip_allow, \
                     a.ip_allow AS account_ip_allow, c.version, c.is_primary \
                     FROM credentials c JOIN accounts a ON a.id = c.account_id WHERE c.login = $1",
                )
                .bind(login)
                .fetch_optional(self.reader())
                .await?;
                Ok(row.map(CredentialRecord::from))
            }

            async fn credential_changes_since(&self, after: i64) -> StoreResult<Vec<CredentialChange>> {
                let rows: Vec<(i64, i64)> =
                    sqlx::query_as("SELECT id, account_id FROM credential_changes WHERE id > $1 ORDER BY id")
                        .bind(after)
                        .fetch_all(self.reader())
                        .await?;
                Ok(rows.into_iter().map(|(id, account_id)| CredentialChange { id, account_id }).collect())
            }

            async fn last_credential_change(&self) -> StoreResult<i64> {
                Ok(sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM credential_changes")
                    .fetch_one(self.reader())
                    .await?)
            }
        }

        #[async_trait::async_trait]
        impl $crate::domain::ports::ChatStore for $store {
            async fn channels(&self, account_id: i64) -> StoreResult<Vec<Channel>> {
                let rows: Vec<ChannelRow> = sqlx::query_as(
                    "SELECT id, account_id, platform, name FROM channels WHERE account_id = $1 ORDER BY id",
                )
                .bind(account_id)
                .fetch_all(self.reader())
                .await?;
                rows.into_iter().map(Channel::try_from).collect()
            }

            async fn channel(&self, account_id: i64, channel_id: i64) -> StoreResult<Option<Channel>> {
                let row: Option<ChannelRow> = sqlx::query_as(
                    "SELECT id, account_id, platform, name FROM channels WHERE id = $1 AND account_id = $2",
                )
                .bind(channel_id)
                .bind(account_id)
                .fetch_optional(self.reader())
                .await?;
                row.map(Channel::try_from).transpose()
            }

            async fn chat_exists(&self, channel_id: i64, destination: &str) -> StoreResult<bool> {
                let found: Option<i64> =
                    sqlx::query_scalar("SELECT id FROM chats WHERE channel_id = $1 AND destination = $2")
                        .bind(channel_id)
                        .bind(destination)
                        .fetch_optional(self.reader())
                        .await?;
                Ok(found.is_some())
            }

            async fn receive_message(&self, m: &InboundMessage) -> StoreResult<i64> {
                let mut tx = self.write().await?;
                if let Some(key) = &m.dedup_key {
                    let seen: Option<i64> = sqlx::query_scalar(
                        "SELECT message_id FROM inbound_keys WHERE channel_id = $1 AND key = $2",
                    )
                    .bind(m.channel_id)
                    .bind(key)
                    .fetch_optional(&mut *tx)
                    .await?;
                    if let Some(id) = seen {
                        return Ok(id);
                    }
                }
                let chat_id = upsert_chat(&mut tx, m.channel_id, &m.destination, m.now).await?;
                let row = NewRow {
                    sent: false,
                    status: MessageStatus::Unread,
                    text: m.text.as_deref(),
                    attachment: m.attachment.as_ref(),
                    expires_at: None,
                    now: m.now,
                };
                let (id, events) = insert_message(&mut tx, chat_id, row).await?;
                if let Some(key) = &m.dedup_key {
                    // Two deliveries of one update racing each other: the loser's insert conflicts and
                    // its transaction rolls back, so one message is stored.
                    sqlx::query(
                        "INSERT INTO inbound_keys (channel_id, key, message_id, created_at) VALUES ($1, $2, $3, $4)",
                    )
                    .bind(m.channel_id)
                    .bind(key)
                    .bind(id)
                    .bind(m.now)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                self.webhooks_written(events);
                self.feed.announce([chat_id]);
                Ok(id)
            }

            async fn last_message_per_chat(
                &self,
                channel_id: i64,
                before: Option<i64>,
                limit: u32,
            ) -> StoreResult<Vec<Message>> {
                // The statement is the engine's (`CHAT_PAGE`): the plan that reads only the page differs.
                let rows: Vec<MessageRow> = sqlx::query_as(Self::CHAT_PAGE)
                .bind(channel_id)
                .bind(before.unwrap_or(i64::MAX))
                .bind(i64::from(limit))
                .fetch_all(self.reader())
                .await?;
                to_messages(rows)
            }

            async fn messages(
                &self,
                channel_id: i64,
                destination: &str,
                before: Option<i64>,
                limit: u32,
            ) -> StoreResult<Vec<Message>> {
                let Some(chat) = chat_id_of(self.reader(), channel_id, destination).await? else {
                    return Ok(Vec::new());
                };
                let rows: Vec<MessageRow> = sqlx::query_as(concat!(
                    $crate::message_select!(),
                    "WHERE m.chat_id = $1 AND m.id < $2 ORDER BY m.id DESC LIMIT $3"
                ))
                .bind(chat)
                .bind(before.unwrap_or(i64::MAX))
                .bind(i64::from(limit))
                .fetch_all(self.reader())
                .await?;
                to_messages(rows)
            }

            async fn message(&self, account_id: i64, message_id: i64) -> StoreResult<Option<Message>> {
                let row: Option<MessageRow> =
                    sqlx::query_as(concat!($crate::message_select!(), "WHERE m.id = $1 AND ch.account_id = $2"))
                        .bind(message_id)
                        .bind(account_id)
                        .fetch_optional(self.reader())
                        .await?;
                row.map(Message::try_from).transpose()
            }

            async fn unread_messages(
                &self,
                channel_id: i64,
                destination: &str,
                mark_read: bool,
                limit: u32,
            ) -> StoreResult<Vec<Message>> {
                let Some(chat) = chat_id_of(self.reader(), channel_id, destination).await? else {
                    return Ok(Vec::new());
                };
                // The partial index `messages_unread` (`NOT sent AND status = 'unread'`, in those words on
                // both engines, so that SQLite's planner sees the query implies it) serves this in order.
                let query = sqlx::query_as(concat!(
                    $crate::message_select!(),
                    "WHERE m.chat_id = $1 AND NOT m.sent AND m.status = 'unread' ORDER BY m.id LIMIT $2"
                ))
                .bind(chat)
                .bind(i64::from(limit));
                if !mark_read {
                    return to_messages(query.fetch_all(self.reader()).await?);
                }
                let mut tx = self.write().await?;
                let rows: Vec<MessageRow> = query.fetch_all(&mut *tx).await?;
                let mut list = to_messages(rows)?;
                let marked = match list.last() {
                    Some(last) => mark_chat_read(&mut tx, chat, last.id).await?,
                    None => 0,
                };
                tx.commit().await?;
                if marked > 0 {
                    self.feed.announce([chat]);
                }
                list.iter_mut().for_each(|m| m.status = MessageStatus::Read);
                Ok(list)
            }

            async fn mark_read(&self, channel_id: i64, destination: &str, up_to: i64) -> StoreResult<u64> {
                let Some(chat) = chat_id_of(self.reader(), channel_id, destination).await? else {
                    return Ok(0);
                };
                let mut tx = self.write().await?;
                let marked = mark_chat_read(&mut tx, chat, up_to).await?;
                tx.commit().await?;
                if marked > 0 {
                    self.feed.announce([chat]);
                }
                Ok(marked)
            }

            async fn mark_outbound(
                &self,
                channel_id: i64,
                destination: &str,
                up_to: i64,
                status: MessageStatus,
            ) -> StoreResult<u64> {
                let earlier = status.replaces();
                if earlier.is_empty() {
                    return Ok(0);
                }
                // Status names are this crate's own constants, so they may go into the statement text.
                let list = earlier.iter().map(|s| format!("'{}'", s.as_str())).collect::<Vec<_>>().join(", ");
                let mut tx = self.write().await?;
                let changed: Vec<(i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "UPDATE messages SET status = $1 WHERE sent AND status IN ({list}) AND id <= $2 \
                     AND chat_id = (SELECT id FROM chats WHERE channel_id = $3 AND destination = $4) RETURNING id, chat_id"
                )))
                .bind(status.as_str())
                .bind(up_to)
                .bind(channel_id)
                .bind(destination)
                .fetch_all(&mut *tx)
                .await?;
                let mut events = 0;
                for (id, chat_id) in &changed {
                    let at = EventAt::Chat(*chat_id);
                    events += emit_message_event(&mut tx, EventKind::MessageStatus, at, *id, Some(status), None, now_ms())
                        .await?;
                }
                if let Some((_, chat_id)) = changed.first() {
                    announce(&mut tx, &[*chat_id]).await?;
                }
                tx.commit().await?;
                self.webhooks_written(events);
                self.feed.announce(changed.first().map(|c| c.1));
                Ok(changed.len() as u64)
            }

            async fn update_status_by_platform_id(
                &self,
                channel_id: i64,
                platform_message_id: &str,
                status: MessageStatus,
                reason: Option<&str>,
            ) -> StoreResult<bool> {
                let earlier = status.replaces();
                if earlier.is_empty() {
                    return Ok(false);
                }
                // Status names are this crate's own constants, so they may go into the statement text.
                let list = earlier.iter().map(|s| format!("'{}'", s.as_str())).collect::<Vec<_>>().join(", ");
                let mut tx = self.write().await?;
                let changed: Vec<(i64, Option<String>, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "UPDATE messages SET status = $1, reason = COALESCE($2, reason) \
                     WHERE platform_message_id = $3 AND sent AND status IN ({list}) \
                     AND chat_id IN (SELECT id FROM chats WHERE channel_id = $4) RETURNING id, reason, chat_id"
                )))
                .bind(status.as_str())
                .bind(reason)
                .bind(platform_message_id)
                .bind(channel_id)
                .fetch_all(&mut *tx)
                .await?;
                let mut events = 0;
                let chats: Vec<i64> = changed.iter().map(|c| c.2).collect();
                announce(&mut tx, &chats).await?;
                for (id, reason, _) in &changed {
                    let at = EventAt::Channel(channel_id);
                    let (status, reason) = (Some(status), reason.as_deref());
                    events += emit_message_event(&mut tx, EventKind::MessageStatus, at, *id, status, reason, now_ms())
                        .await?;
                }
                tx.commit().await?;
                self.webhooks_written(events);
                self.feed.announce(changed.iter().map(|c| c.2));
                Ok(!changed.is_empty())
            }

            async fn channel_config(&self, channel_id: i64) -> StoreResult<Option<ChannelConfig>> {
                let row: Option<(i64, i64, String, String, String)> = sqlx::query_as(
                    "SELECT id, account_id, platform, name, settings FROM channels WHERE id = $1",
                )
                .bind(channel_id)
                .fetch_optional(self.reader())
                .await?;
                row.map(|(id, account_id, platform, name, settings)| {
                    let channel = Channel::try_from(ChannelRow { id, account_id, platform, name })?;
                    let settings = $crate::storage::sealed::open_settings(&self.secrets, id, &settings)?;
                    Ok(ChannelConfig { channel, settings })
                })
                .transpose()
            }

            fn chat_news(&self) -> tokio::sync::broadcast::Receiver<i64> {
                self.feed.subscribe()
            }

            /// Through the group commit (`batch`): acknowledged once its batch committed.
            async fn send_message(&self, m: &OutboundMessage) -> StoreResult<i64> {
                self.sends.send(m.clone()).await
            }

            async fn send_messages(&self, messages: Vec<OutboundMessage>) -> Vec<StoreResult<i64>> {
                self.sends.send_all(messages).await
            }
        }

        #[async_trait::async_trait]
        impl $crate::domain::ports::OutboxStore for $store {
            async fn outbox_len(&self) -> StoreResult<i64> {
                Ok(sqlx::query_scalar("SELECT COUNT(*) FROM outbox").fetch_one(self.reader()).await?)
            }

            async fn claim_outbox(&self, limit: u32, lease_ms: i64, now: i64) -> StoreResult<Vec<OutboxClaim>> {
                let mut tx = self.write().await?;
                let claims = claim_ids(&mut tx, limit, 0, now + lease_ms, now, &[]).await?;
                tx.commit().await?;
                Ok(claims)
            }

            async fn claim_deliveries(
                &self,
                limit: u32,
                owner: i64,
                lease_until: i64,
                now: i64,
                skip_channels: &[i64],
            ) -> StoreResult<Vec<DeliveryJob>> {
                let mut tx = self.write().await?;
                let claims = claim_ids(&mut tx, limit, owner, lease_until, now, skip_channels).await?;
                if claims.is_empty() {
                    tx.commit().await?;
                    return Ok(Vec::new());
                }
                let ids = id_list(claims.iter().map(|c| c.id));
                let rows: Vec<DeliveryRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT o.id AS outbox_id, o.message_id, o.chat_id, o.channel_id, ch.platform, c.destination, m.body, \
                     m.file_type, m.file_url, m.thumb_url, o.expires_at, o.created_at, o.attempts, o.lease_until, o.last_error \
                     FROM outbox o JOIN messages m ON m.id = o.message_id JOIN chats c ON c.id = o.chat_id \
                     JOIN channels ch ON ch.id = o.channel_id WHERE o.id IN ({ids}) ORDER BY o.id"
                )))
                .fetch_all(&mut *tx)
                .await?;
                tx.commit().await?;
                rows.into_iter().map(DeliveryJob::try_from).collect()
            }

            async fn delivery_heartbeat(&self, owner: i64, alive_until: i64, now: i64) -> StoreResult<u64> {
                let mut tx = self.write().await?;
                sqlx::query(
                    "INSERT INTO delivery_owners (owner, alive_until) VALUES ($1, $2) \
                     ON CONFLICT (owner) DO UPDATE SET alive_until = excluded.alive_until",
                )
                .bind(owner)
                .bind(alive_until)
                .execute(&mut *tx)
                .await?;
                let dead: Vec<i64> = sqlx::query_scalar("SELECT owner FROM delivery_owners WHERE alive_until <= $1")
                    .bind(now)
                    .fetch_all(&mut *tx)
                    .await?;
                // Rare (a process died), so the freeing scans the outbox rather than keep an index every
                // claim would update.
                let freed = free_owners(&mut tx, &dead).await?;
                tx.commit().await?;
                Ok(freed)
            }

            async fn delivery_owner_gone(&self, owner: i64) -> StoreResult<()> {
                let mut tx = self.write().await?;
                free_owners(&mut tx, &[owner]).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn finish_deliveries(&self, done: &[FinishedDelivery]) -> StoreResult<()> {
                let mut tx = self.write().await?;
                let mut events = 0;
                let mut news = Vec::new();
                // One look for the whole batch, so that outcomes cost nothing more where no webhook
                // wants status events.
                let wanted = wants_event(&mut tx, EventKind::MessageStatus).await?;
                // Chats are locked in one order by every writer, so two batches cannot deadlock.
                let mut done: Vec<&FinishedDelivery> = done.iter().collect();
                done.sort_by_key(|d| (d.chat_id, d.outbox_id));
                for d in done {
                    match &d.result {
                        DeliveryResult::Retry { at, error } => {
                            // Only while the lease is still ours: a worker that outlived its lease has
                            // lost the entry to another one.
                            sqlx::query(
                                "UPDATE outbox SET available_at = $1, lease_until = NULL, last_error = COALESCE($2, last_error) \
                                 WHERE id = $3 AND lease_until = $4",
                            )
                            .bind(at)
                            .bind(error)
                            .bind(d.outbox_id)
                            .bind(d.lease_until)
                            .execute(&mut *tx)
                            .await?;
                        }
                        outcome => {
                            let (status, reason, platform_id) = match outcome {
                                DeliveryResult::Sent { platform_message_id } => {
                                    (MessageStatus::Sent, None, platform_message_id.as_deref())
                                }
                                DeliveryResult::Failed { reason } => {
                                    (MessageStatus::Failed, Some(reason.as_str()), None)
                                }
                                _ => (MessageStatus::Expired, None, None),
                            };
                            let changed = sqlx::query(
                                "UPDATE messages SET status = $1, reason = $2, platform_message_id = $3 \
                                 WHERE id = $4 AND status = 'pending'",
                            )
                            .bind(status.as_str())
                            .bind(reason)
                            .bind(platform_id)
                            .bind(d.message_id)
                            .execute(&mut *tx)
                            .await?;
                            if changed.rows_affected() > 0 {
                                news.push(d.chat_id);
                            }
                            if changed.rows_affected() > 0 && wanted {
                                let at = EventAt::Chat(d.chat_id);
                                let now = now_ms();
                                events += emit_message_event(
                                    &mut tx, EventKind::MessageStatus, at, d.message_id, Some(status), reason, now,
                                )
                                .await?;
                            }
                            // Lock the chat — a send writing to it holds it too, so a new entry's `head` cannot
                            // race with the removal of the old head — then hand its head to the next entry.
                            sqlx::query("UPDATE chats SET last_message_id = last_message_id WHERE id = $1")
                                .bind(d.chat_id)
                                .execute(&mut *tx)
                                .await?;
                            sqlx::query("DELETE FROM outbox WHERE id = $1")
                                .bind(d.outbox_id)
                                .execute(&mut *tx)
                                .await?;
                            sqlx::query(
                                "UPDATE outbox SET head = TRUE WHERE id = \
                                 (SELECT MIN(id) FROM outbox WHERE chat_id = $1) AND NOT head",
                            )
                            .bind(d.chat_id)
                            .execute(&mut *tx)
                            .await?;
                        }
                    }
                }
                news.sort_unstable();
                news.dedup();
                announce(&mut tx, &news).await?;
                tx.commit().await?;
                self.webhooks_written(events);
                self.feed.announce(news);
                Ok(())
            }

            fn outbox_signal(&self) -> std::sync::Arc<tokio::sync::Notify> {
                self.outbox_signal.clone()
            }
        }

        #[async_trait::async_trait]
        impl $crate::domain::ports::HealthStore for $store {
            async fn readiness(&self) -> Result<(), String> {
                let done: Option<i64> =
                    sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                        .fetch_one(self.reader())
                        .await
                        .map_err(|_| "the database does not answer".to_string())?;
                if done.unwrap_or(0) < latest_migration() {
                    return Err("migrations have not run".into());
                }
                Ok(())
            }

            async fn outbox_backlog(&self) -> StoreResult<Vec<$crate::domain::ports::OutboxBacklog>> {
                let rows: Vec<(String, i64, i64)> = sqlx::query_as(
                    "SELECT ch.platform, COUNT(*), MIN(o.created_at) FROM outbox o \
                     JOIN channels ch ON ch.id = o.channel_id GROUP BY ch.platform",
                )
                .fetch_all(self.reader())
                .await?;
                Ok(rows
                    .into_iter()
                    .filter_map(|(platform, depth, oldest_created_at)| {
                        Some($crate::domain::ports::OutboxBacklog { platform: Platform::parse(&platform)?, depth, oldest_created_at })
                    })
                    .collect())
            }

            $($engine)*
        }

        #[async_trait::async_trait]
        impl $crate::domain::ports::SecretStore for $store {
            async fn server_key(&self, name: &str, candidate: &[u8]) -> StoreResult<Vec<u8>> {
                use $crate::secrets::Purpose;
                let mut tx = self.write().await?;
                sqlx::query("INSERT INTO server_keys (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
                    .bind(name)
                    .bind($crate::storage::sealed::seal_bytes(&self.secrets, Purpose::ServerKey, candidate)?)
                    .execute(&mut *tx)
                    .await?;
                let key: Vec<u8> = sqlx::query_scalar("SELECT value FROM server_keys WHERE name = $1")
                    .bind(name)
                    .fetch_one(&mut *tx)
                    .await?;
                tx.commit().await?;
                $crate::storage::sealed::open_bytes(&self.secrets, Purpose::ServerKey, name, &key)
            }

            async fn secret_key_check(&self) -> StoreResult<Option<Vec<u8>>> {
                Ok(sqlx::query_scalar("SELECT value FROM server_keys WHERE name = $1")
                    .bind($crate::storage::sealed::KEY_CHECK)
                    .fetch_optional(self.reader())
                    .await?)
            }

            async fn reseal_secrets(&self) -> StoreResult<$crate::storage::ResealReport> {
                let mut tx = self.write().await?;
                let report = $crate::reseal_all!(self, tx);
                tx.commit().await?;
                Ok(report)
            }

            async fn seal_plain_webhook_headers(&self) -> StoreResult<u64> {
                let mut tx = self.write().await?;
                let plain: Vec<(i64, String)> =
                    sqlx::query_as("SELECT id, headers FROM webhooks WHERE headers NOT LIKE 'sealed:%'")
                        .fetch_all(&mut *tx)
                        .await?;
                for (id, headers) in &plain {
                    let sealed = self.secrets.seal_text($crate::secrets::Purpose::WebhookHeaders, headers)?;
                    sqlx::query("UPDATE webhooks SET headers = $1 WHERE id = $2")
                        .bind(sealed)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(plain.len() as u64)
            }
        }

        #[async_trait::async_trait]
        impl $crate::domain::ports::AdminStore for $store {
            async fn account_count(&self) -> StoreResult<i64> {
                Ok(sqlx::query_scalar("SELECT COUNT(*) FROM accounts").fetch_one(self.reader()).await?)
            }

            async fn create_account(&self, login: &str, secret_hash: &str) -> StoreResult<i64> {
                let mut tx = self.write().await?;
                let now = now_ms();
                let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM credentials WHERE login = $1")
                    .bind(login)
                    .fetch_optional(&mut *tx)
                    .await?;
                if taken.is_some() {
                    return Err(StoreError::Conflict("login"));
                }
                let id: i64 =
                    sqlx::query_scalar("INSERT INTO accounts (login, created_at) VALUES ($1, $2) RETURNING id")
                        .bind(login)
                        .bind(now)
                        .fetch_one(&mut *tx)
                        .await?;
                sqlx::query(
                    "INSERT INTO credentials (account_id, login, name, secret_hash, scopes, is_primary, created_at) \
                     VALUES ($1, $2, $3, $4, $5, TRUE, $6)",
                )
                .bind(id)
                .bind(login)
                .bind(login)
                .bind(secret_hash)
                .bind(Scopes::ALL.to_string())
                .bind(now)
                .execute(&mut *tx)
                .await?;
                record_change(&mut tx, id).await?;
                tx.commit().await?;
                Ok(id)
            }

            async fn set_account_ip_filter(&self, login: &str, allow: &[IpNet]) -> StoreResult<()> {
                let mut tx = self.write().await?;
                let id = account_id_of(&mut tx, login).await?;
                sqlx::query("UPDATE accounts SET ip_allow = $1 WHERE id = $2")
                    .bind(format_ip_list(allow))
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                record_change(&mut tx, id).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn create_access(&self, a: &NewAccess) -> StoreResult<i64> {
                let mut tx = self.write().await?;
                let account_id = account_id_of(&mut tx, &a.account_login).await?;
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO credentials (account_id, login, name, secret_hash, scopes, ip_allow, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                )
                .bind(account_id)
                .bind(&a.login)
                .bind(&a.name)
                .bind(&a.secret_hash)
                .bind(a.scopes.to_string())
                .bind(format_ip_list(&a.ip_allow))
                .bind(now_ms())
                .fetch_one(&mut *tx)
                .await?;
                record_change(&mut tx, account_id).await?;
                tx.commit().await?;
                Ok(id)
            }

            async fn set_access_enabled(&self, login: &str, enabled: bool) -> StoreResult<()> {
                let mut tx = self.write().await?;
                let account_id: i64 = sqlx::query_scalar(
                    "UPDATE credentials SET enabled = $1, version = version + 1 WHERE login = $2 AND NOT is_primary \
                     RETURNING account_id",
                )
                .bind(enabled)
                .bind(login)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound("access"))?;
                record_change(&mut tx, account_id).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn set_secret(&self, login: &str, secret_hash: &str) -> StoreResult<()> {
                let mut tx = self.write().await?;
                let account_id: i64 = sqlx::query_scalar(
                    "UPDATE credentials SET secret_hash = $1, version = version + 1 WHERE login = $2 RETURNING account_id",
                )
                .bind(secret_hash)
                .bind(login)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound("login"))?;
                // A changed secret ends the credential's console sessions, on every instance at once.
                sqlx::query(
                    "DELETE FROM console_sessions WHERE credential_id IN (SELECT id FROM credentials WHERE login = $1)",
                )
                .bind(login)
                .execute(&mut *tx)
                .await?;
                record_change(&mut tx, account_id).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn create_channel(
                &self,
                account_login: &str,
                platform: Platform,
                name: &str,
                settings: &ChannelSettings,
            ) -> StoreResult<i64> {
                let mut tx = self.write().await?;
                let account_id = account_id_of(&mut tx, account_login).await?;
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO channels (account_id, platform, name, settings, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                )
                .bind(account_id)
                .bind(platform.as_str())
                .bind(name)
                .bind($crate::storage::sealed::seal_settings(&self.secrets, settings)?)
                .bind(now_ms())
                .fetch_one(&mut *tx)
                .await?;
                record_change(&mut tx, account_id).await?;
                tx.commit().await?;
                Ok(id)
            }

            async fn set_channel_settings(
                &self,
                channel_id: i64,
                changes: &[(String, Option<String>)],
            ) -> StoreResult<()> {
                let mut tx = self.write().await?;
                let row: Option<(i64, String)> =
                    sqlx::query_as("SELECT account_id, settings FROM channels WHERE id = $1")
                        .bind(channel_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                let (account_id, text) = row.ok_or(StoreError::NotFound("channel"))?;
                let mut settings = $crate::storage::sealed::open_settings(&self.secrets, channel_id, &text)?;
                for (key, value) in changes {
                    settings.set(key, value.clone());
                }
                sqlx::query("UPDATE channels SET settings = $1 WHERE id = $2")
                    .bind($crate::storage::sealed::seal_settings(&self.secrets, &settings)?)
                    .bind(channel_id)
                    .execute(&mut *tx)
                    .await?;
                record_change(&mut tx, account_id).await?;
                tx.commit().await?;
                Ok(())
            }
        }
    };
}

/// `sql_oauth_store!(StoreType)`: the `OAuthStore` implementation, the same SQL on both engines.
#[macro_export]
macro_rules! sql_oauth_store {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::storage::OAuthStore for $store {

            async fn signing_key_count(&self) -> StoreResult<i64> {
                Ok(sqlx::query_scalar("SELECT COUNT(*) FROM signing_keys").fetch_one(self.reader()).await?)
            }

            async fn signing_keys(&self) -> StoreResult<Vec<SigningKey>> {
                let rows: Vec<(String, Vec<u8>, Vec<u8>, i64, Option<i64>)> = sqlx::query_as(
                    "SELECT kid, private_key, public_key, created_at, retired_at FROM signing_keys ORDER BY id",
                )
                .fetch_all(self.reader())
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(kid, private_key, public_key, created_at, retired_at)| {
                        let private_key = $crate::storage::sealed::open_bytes(
                            &self.secrets,
                            $crate::secrets::Purpose::SigningKey,
                            &format!("signing key {kid}"),
                            &private_key,
                        )?;
                        Ok(SigningKey { kid, private_key, public_key, created_at, retired_at })
                    })
                    .collect::<StoreResult<_>>()?)
            }

            async fn rotate_signing_key(&self, key: &SigningKey) -> StoreResult<()> {
                let mut tx = self.write().await?;
                sqlx::query("UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL")
                    .bind(key.created_at)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "INSERT INTO signing_keys (kid, private_key, public_key, created_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(&key.kid)
                .bind($crate::storage::sealed::seal_bytes(
                    &self.secrets,
                    $crate::secrets::Purpose::SigningKey,
                    &key.private_key,
                )?)
                .bind(&key.public_key)
                .bind(key.created_at)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn revoke_access_token(&self, jti: &str, expires_at: i64) -> StoreResult<()> {
                let mut tx = self.write().await?;
                sqlx::query("INSERT INTO token_revocations (jti, expires_at) VALUES ($1, $2)")
                    .bind(jti)
                    .bind(expires_at)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn revocations_since(&self, after: i64, now: i64) -> StoreResult<Vec<Revocation>> {
                let rows: Vec<(i64, String, i64)> = sqlx::query_as(
                    "SELECT id, jti, expires_at FROM token_revocations WHERE id > $1 AND expires_at > $2 ORDER BY id",
                )
                .bind(after)
                .bind(now)
                .fetch_all(self.reader())
                .await?;
                Ok(rows.into_iter().map(|(id, jti, expires_at)| Revocation { id, jti, expires_at }).collect())
            }

            async fn insert_refresh_token(&self, t: &RefreshToken, now: i64) -> StoreResult<()> {
                let mut tx = self.write().await?;
                sqlx::query(
                    "INSERT INTO refresh_tokens (token_hash, chain, credential_id, cred_version, scope, expires_at, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&t.token_hash)
                .bind(&t.chain)
                .bind(t.credential_id)
                .bind(t.cred_version)
                .bind(&t.scope)
                .bind(t.expires_at)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn use_refresh_token(&self, token_hash: &str, now: i64) -> StoreResult<RefreshUse> {
                let mut tx = self.write().await?;
                let row: Option<RefreshRow> =
                    sqlx::query_as(sqlx::AssertSqlSafe(format!("{REFRESH_COLUMNS}WHERE r.token_hash = $1")))
                        .bind(token_hash)
                        .fetch_optional(&mut *tx)
                        .await?;
                let outcome = match row {
                    None => RefreshUse::Invalid,
                    Some(r) if r.used_at.is_some() => {
                        sqlx::query("UPDATE refresh_tokens SET revoked = TRUE WHERE chain = $1")
                            .bind(&r.chain)
                            .execute(&mut *tx)
                            .await?;
                        RefreshUse::Reused
                    }
                    Some(r) if r.revoked || r.expires_at <= now => RefreshUse::Invalid,
                    Some(r) => {
                        sqlx::query("UPDATE refresh_tokens SET used_at = $1 WHERE token_hash = $2")
                            .bind(now)
                            .bind(token_hash)
                            .execute(&mut *tx)
                            .await?;
                        RefreshUse::Fresh(r.into())
                    }
                };
                tx.commit().await?;
                Ok(outcome)
            }

            async fn find_refresh_token(&self, token_hash: &str, now: i64) -> StoreResult<Option<RefreshToken>> {
                let row: Option<RefreshRow> =
                    sqlx::query_as(sqlx::AssertSqlSafe(format!("{REFRESH_COLUMNS}WHERE r.token_hash = $1")))
                        .bind(token_hash)
                        .fetch_optional(self.reader())
                        .await?;
                Ok(row.filter(|r| r.used_at.is_none() && !r.revoked && r.expires_at > now).map(Into::into))
            }

            async fn revoke_refresh_chain(&self, chain: &str) -> StoreResult<()> {
                let mut tx = self.write().await?;
                sqlx::query("UPDATE refresh_tokens SET revoked = TRUE WHERE chain = $1")
                    .bind(chain)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }
        }
    };
}
