//! `ChatStore`'s SQL, the same text on both engines (see `sql.rs`).

/// `sql_chats!(StoreType, sqlx database type)`.
macro_rules! sql_chats {
    ($store:ty, $db:ty) => {
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
                    // A chat exists once a message was sent or received (a webchat visitor's page may
                    // have given its contact before that).
                    sqlx::query_scalar(
                        "SELECT id FROM chats WHERE channel_id = $1 AND destination = $2 AND last_message_id IS NOT NULL",
                    )
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
                // A reply from the wa_id a send answer named joins the chat the business started.
                let alias: Option<i64> = sqlx::query_scalar(
                    "SELECT chat_id FROM chat_aliases WHERE channel_id = $1 AND alias = $2",
                )
                .bind(m.channel_id)
                .bind(&m.destination)
                .fetch_optional(&mut *tx)
                .await?;
                let chat_id = match alias {
                    Some(chat) => chat,
                    None => upsert_chat(&mut tx, m.channel_id, &m.destination, m.now).await?,
                };
                let details = m.details.to_json();
                let row = NewRow {
                    sent: false,
                    status: MessageStatus::Unread,
                    text: m.text.as_deref(),
                    attachment: m.attachment.as_ref(),
                    expires_at: None,
                    details: details.as_deref(),
                    created_at: m.written_at.unwrap_or(m.now),
                    inbound_at: Some(m.written_at.unwrap_or(m.now)),
                    now: m.now,
                };
                let (id, mut events) = insert_message(&mut tx, chat_id, row).await?;
                if let Some(name) = &m.contact_name {
                    // The chat's row is this transaction's since `insert_message` moved it.
                    let (contact, custom): (String, String) =
                        sqlx::query_as("SELECT contact, custom FROM chats WHERE id = $1")
                            .bind(chat_id)
                            .fetch_one(&mut *tx)
                            .await?;
                    let before = $crate::domain::contacts::Contact::from_stored(&contact, &custom);
                    let change = $crate::domain::contacts::ContactChange::name(name);
                    events += change_contact(&mut tx, chat_id, &before, &change, m.now).await?.1;
                }
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
                self.parts().feed.announce([chat_id]);
                Ok(id)
            }

            async fn last_inbound_at(&self, channel_id: i64, destination: &str) -> StoreResult<Option<i64>> {
                let at: Option<Option<i64>> = sqlx::query_scalar(
                    "SELECT last_inbound_at FROM chats WHERE channel_id = $1 AND destination = $2",
                )
                .bind(channel_id)
                .bind(destination)
                .fetch_optional(self.reader())
                .await?;
                Ok(at.flatten())
            }

            async fn edit_received(&self, e: &InboundEdit) -> StoreResult<bool> {
                let mut tx = self.write().await?;
                let found: Option<(i64, i64, Option<String>)> = sqlx::query_as(
                    "SELECT m.id, m.chat_id, m.details FROM inbound_keys k JOIN messages m ON m.id = k.message_id \
                     WHERE k.channel_id = $1 AND k.key = $2",
                )
                .bind(e.channel_id)
                .bind(&e.dedup_key)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((id, chat_id, details)) = found else {
                    return Ok(false);
                };
                let mut details = MessageDetails::from_json(details.as_deref());
                // Edits may arrive twice or out of order: the latest edit wins.
                if details.edited_at.is_some_and(|at| at > e.edited_at) {
                    return Ok(true);
                }
                details.edited_at = Some(e.edited_at);
                sqlx::query("UPDATE messages SET body = $1, details = $2 WHERE id = $3")
                    .bind(e.text.as_deref())
                    .bind(details.to_json())
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                announce(&mut tx, &[chat_id]).await?;
                tx.commit().await?;
                self.parts().feed.announce([chat_id]);
                Ok(true)
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
                    $crate::storage::rows::message_select!(),
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
                    sqlx::query_as(concat!($crate::storage::rows::message_select!(), "WHERE m.id = $1 AND ch.account_id = $2"))
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
                    $crate::storage::rows::message_select!(),
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
                    self.parts().feed.announce([chat]);
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
                    self.parts().feed.announce([chat]);
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
                let Some(list) = replaceable(status) else { return Ok(0) };
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
                self.parts().feed.announce(changed.first().map(|c| c.1));
                Ok(changed.len() as u64)
            }

            async fn update_status_by_platform_id(
                &self,
                channel_id: i64,
                platform_message_id: &str,
                status: MessageStatus,
                reason: Option<&str>,
            ) -> StoreResult<bool> {
                let Some(list) = replaceable(status) else { return Ok(false) };
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
                let kept = changed.is_empty()
                    && keep_early_status(&mut tx, channel_id, platform_message_id, status, reason).await?;
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
                self.parts().feed.announce(changed.iter().map(|c| c.2));
                if kept {
                    // The send's answer may have been committed while this status was being kept (two
                    // transactions that could not see each other's rows): look once more, now that the
                    // kept status is visible to the send's side too. Whichever side applies it first
                    // takes it; the other finds nothing left.
                    let mut tx = self.write().await?;
                    if let Some((message_id, chat_id)) =
                        message_by_platform_id(&mut tx, channel_id, platform_message_id).await?
                    {
                        let wanted = wants_event(&mut tx, EventKind::MessageStatus).await?;
                        let events =
                            apply_early_statuses(&mut tx, chat_id, message_id, platform_message_id, wanted).await?;
                        announce(&mut tx, &[chat_id]).await?;
                        tx.commit().await?;
                        self.webhooks_written(events);
                        self.parts().feed.announce([chat_id]);
                    }
                }
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
                    let settings = $crate::storage::sealed::open_settings(&self.parts().secrets, id, &settings)?;
                    Ok(ChannelConfig { channel, settings })
                })
                .transpose()
            }

            async fn channel_configs(&self, platform: Platform) -> StoreResult<Vec<ChannelConfig>> {
                let rows: Vec<(i64, i64, String, String, String)> = sqlx::query_as(
                    "SELECT id, account_id, platform, name, settings FROM channels WHERE platform = $1 ORDER BY id",
                )
                .bind(platform.as_str())
                .fetch_all(self.reader())
                .await?;
                rows.into_iter()
                    .map(|(id, account_id, platform, name, settings)| {
                        let channel = Channel::try_from(ChannelRow { id, account_id, platform, name })?;
                        let settings = $crate::storage::sealed::open_settings(&self.parts().secrets, id, &settings)?;
                        Ok(ChannelConfig { channel, settings })
                    })
                    .collect()
            }

            fn chat_news(&self) -> tokio::sync::broadcast::Receiver<i64> {
                self.parts().feed.subscribe()
            }

            /// Through the group commit (`batch`): acknowledged once its batch committed.
            async fn send_message(&self, m: &OutboundMessage) -> StoreResult<i64> {
                self.parts().sends.send(m.clone()).await
            }

            async fn send_messages(&self, messages: Vec<OutboundMessage>) -> Vec<StoreResult<i64>> {
                self.parts().sends.send_all(messages).await
            }
        }
    };
}
pub(crate) use sql_chats;
