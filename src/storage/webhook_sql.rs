//! The webhook tables' SQL, the same text on both engines (see `sql.rs`). `sql_webhook_store!` emits
//! the helpers that write events inside the transaction of their cause (used by `sql_store!`'s send,
//! receive and status code) and the `WebhookStore` implementation.
//!
//! An event is written as one `webhook_deliveries` row per webhook of the account that wants it, by a
//! single `INSERT … SELECT` over the account's webhooks: an account without webhooks writes nothing.

/// `sql_webhook_store!(StoreType, sqlx database type, "row lock clause")`.
macro_rules! sql_webhook_store {
    ($store:ty, $db:ty, $lock:literal) => {
        use $crate::domain::events::EventKind;

        /// How an event finds its account: given, or through the message's channel or chat.
        #[derive(Clone, Copy)]
        enum EventAt {
            Channel(i64),
            Chat(i64),
        }

        impl EventAt {
            /// SQL for the account id, reading `$7`.
            fn account(self) -> (&'static str, i64) {
                match self {
                    EventAt::Channel(id) => ("(SELECT account_id FROM channels WHERE id = $7)", id),
                    EventAt::Chat(id) => (
                        "(SELECT ch.account_id FROM chats c JOIN channels ch ON ch.id = c.channel_id WHERE c.id = $7)",
                        id,
                    ),
                }
            }
        }

        /// The `webhook-id` of an event: unique, and the same on every retry and for every webhook.
        fn new_event_id() -> String {
            format!("msg_{:032x}", rand::random::<u128>())
        }

        /// Writes a chat event about `message_id` (with the status it has now, if it changed) for the
        /// account's webhooks that want `kind`; answers how many deliveries it wrote.
        async fn emit_message_event(
            tx: &mut Transaction<'static, $db>,
            kind: EventKind,
            at: EventAt,
            message_id: i64,
            status: Option<MessageStatus>,
            reason: Option<&str>,
            now: i64,
        ) -> StoreResult<u64> {
            let (account, key) = at.account();
            let done = sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO webhook_deliveries (webhook_id, account_id, event_id, event, message_id, message_status, \
                 reason, created_at, next_at, window_start) \
                 SELECT w.id, w.account_id, $1, $2, $3, $4, $5, $6, $6, $6 FROM webhooks w \
                 WHERE w.account_id = {account} AND (w.events & $8) <> 0"
            )))
            .bind(new_event_id())
            .bind(kind.name())
            .bind(message_id)
            .bind(status.map(MessageStatus::as_str))
            .bind(reason)
            .bind(now)
            .bind(key)
            .bind(kind.bit())
            .execute(&mut **tx)
            .await?;
            Ok(done.rows_affected())
        }

        /// Writes a chat event that names no message (`contact.updated`, `conversation.ended`,
        /// `chat_session.forward`): the chat, and `extra` (the event's own fields, a JSON object)
        /// merged into its body. Answers how many deliveries it wrote.
        async fn emit_chat_event(
            tx: &mut Transaction<'static, $db>,
            kind: EventKind,
            chat_id: i64,
            extra: &serde_json::Value,
            now: i64,
        ) -> StoreResult<u64> {
            emit_chat_event_with(tx, kind, chat_id, None, extra, now).await
        }

        /// `emit_chat_event`, carrying `message_id` when the event has a message of its own.
        async fn emit_chat_event_with(
            tx: &mut Transaction<'static, $db>,
            kind: EventKind,
            chat_id: i64,
            message_id: Option<i64>,
            extra: &serde_json::Value,
            now: i64,
        ) -> StoreResult<u64> {
            let done = sqlx::query(
                "INSERT INTO webhook_deliveries (webhook_id, account_id, event_id, event, chat_id, message_id, \
                 extra, created_at, next_at, window_start) \
                 SELECT w.id, w.account_id, $1, $2, $3, $4, $5, $6, $6, $6 FROM webhooks w \
                 WHERE w.account_id = (SELECT ch.account_id FROM chats c JOIN channels ch ON ch.id = c.channel_id \
                 WHERE c.id = $3) AND (w.events & $7) <> 0",
            )
            .bind(new_event_id())
            .bind(kind.name())
            .bind(chat_id)
            .bind(message_id)
            .bind(extra.to_string())
            .bind(now)
            .bind(kind.bit())
            .execute(&mut **tx)
            .await?;
            Ok(done.rows_affected())
        }

        /// A session of `chat_id` ended (idle or ended by an operator) with received messages nobody read:
        /// `chat_session.unread` with their count, carrying the oldest of them. Nothing when all were read.
        async fn emit_unread(tx: &mut Transaction<'static, $db>, chat_id: i64, now: i64) -> StoreResult<u64> {
            if !wants_event(tx, EventKind::ChatUnread).await? {
                return Ok(0);
            }
            let (count, oldest): (i64, Option<i64>) = sqlx::query_as(
                "SELECT COUNT(*), MIN(id) FROM messages WHERE chat_id = $1 AND NOT sent AND status = 'unread'",
            )
            .bind(chat_id)
            .fetch_one(&mut **tx)
            .await?;
            let Some(oldest) = oldest.filter(|_| count > 0) else { return Ok(0) };
            let extra = serde_json::json!({ "unread_count": count });
            emit_chat_event_with(tx, EventKind::ChatUnread, chat_id, Some(oldest), &extra, now).await
        }

        /// `contact.created` for each of `starts` (messages that began a session) that is its chat's
        /// first message, carrying it. Nothing is read when no webhook wants the event.
        async fn emit_new_contacts(
            tx: &mut Transaction<'static, $db>,
            starts: &[i64],
            now: i64,
        ) -> StoreResult<u64> {
            if starts.is_empty() || !wants_event(tx, EventKind::ContactCreated).await? {
                return Ok(0);
            }
            emit_first_contacts(tx, starts, now).await
        }

        /// `contact.created` as `emit_new_contacts` writes it, for a caller that knows a webhook wants it.
        async fn emit_first_contacts(
            tx: &mut Transaction<'static, $db>,
            starts: &[i64],
            now: i64,
        ) -> StoreResult<u64> {
            let firsts: Vec<(i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT m.id, m.chat_id FROM messages m WHERE m.id IN ({}) \
                 AND NOT EXISTS (SELECT 1 FROM messages p WHERE p.chat_id = m.chat_id AND p.id < m.id)",
                id_list(starts.iter().copied())
            )))
            .fetch_all(&mut **tx)
            .await?;
            let mut events = 0;
            for (id, chat) in firsts {
                events += emit_message_event(tx, EventKind::ContactCreated, EventAt::Chat(chat), id, None, None, now).await?;
            }
            Ok(events)
        }

        /// Whether any webhook at all wants `kind` (one cheap look before writing many events).
        async fn wants_event(tx: &mut Transaction<'static, $db>, kind: EventKind) -> StoreResult<bool> {
            let found: Option<i64> = sqlx::query_scalar("SELECT id FROM webhooks WHERE (events & $1) <> 0 LIMIT 1")
                .bind(kind.bit())
                .fetch_optional(&mut **tx)
                .await?;
            Ok(found.is_some())
        }

        impl $store {
            /// After a commit that wrote `n` deliveries: wake this process's sender.
            fn webhooks_written(&self, n: u64) {
                if n > 0 {
                    self.parts().webhook_signal.notify_one();
                }
            }
        }

        #[async_trait::async_trait]
        impl $crate::domain::webhook_ports::WebhookStore for $store {
            async fn create_webhook(
                &self,
                w: &$crate::domain::webhook_ports::NewWebhook,
                max_per_account: i64,
            ) -> StoreResult<Option<i64>> {
                let mut tx = self.write().await?;
                // Writing the account's row first serializes concurrent creations for one account on
                // PostgreSQL (a row lock until commit), so the count below cannot be stale; SQLite's
                // single writer does this already.
                sqlx::query("UPDATE accounts SET id = id WHERE id = $1").bind(w.account_id).execute(&mut *tx).await?;
                let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhooks WHERE account_id = $1")
                    .bind(w.account_id)
                    .fetch_one(&mut *tx)
                    .await?;
                if count >= max_per_account {
                    return Ok(None);
                }
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO webhooks (account_id, url, events, headers, secret, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                )
                .bind(w.account_id)
                .bind(&w.url)
                .bind(w.events.0)
                .bind(self.parts().secrets.seal_text(
                    $crate::secrets::Purpose::WebhookHeaders,
                    &$crate::storage::webhook_rows::headers_json(&w.headers),
                )?)
                .bind(self.parts().secrets.seal_text($crate::secrets::Purpose::WebhookSecret, &w.secret)?)
                .bind(w.now)
                .fetch_one(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(Some(id))
            }

            async fn webhooks(&self, account_id: i64) -> StoreResult<Vec<$crate::domain::webhook_ports::Webhook>> {
                let rows: Vec<$crate::storage::webhook_rows::WebhookRow> =
                    sqlx::query_as("SELECT id, url, events FROM webhooks WHERE account_id = $1 ORDER BY id")
                        .bind(account_id)
                        .fetch_all(self.reader())
                        .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn delete_webhook(&self, account_id: i64, webhook_id: i64) -> StoreResult<bool> {
                let mut tx = self.write().await?;
                let done = sqlx::query("DELETE FROM webhooks WHERE id = $1 AND account_id = $2")
                    .bind(webhook_id)
                    .bind(account_id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(done.rows_affected() > 0)
            }

            async fn deliveries(
                &self,
                account_id: i64,
                webhook_id: Option<i64>,
                limit: u32,
            ) -> StoreResult<Vec<$crate::domain::webhook_ports::DeliveryInfo>> {
                const COLUMNS: &str = "SELECT id, webhook_id, event, event_id, message_id, state, attempts, last_code, \
                                       next_at, created_at FROM webhook_deliveries ";
                let rows: Vec<$crate::storage::webhook_rows::DeliveryInfoRow> = match webhook_id {
                    Some(webhook) => {
                        sqlx::query_as(sqlx::AssertSqlSafe(format!(
                            "{COLUMNS}WHERE webhook_id = $1 AND account_id = $2 ORDER BY id DESC LIMIT $3"
                        )))
                        .bind(webhook)
                        .bind(account_id)
                        .bind(i64::from(limit))
                        .fetch_all(self.reader())
                        .await?
                    }
                    None => {
                        sqlx::query_as(sqlx::AssertSqlSafe(format!(
                            "{COLUMNS}WHERE account_id = $1 ORDER BY id DESC LIMIT $2"
                        )))
                        .bind(account_id)
                        .bind(i64::from(limit))
                        .fetch_all(self.reader())
                        .await?
                    }
                };
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn redeliver(&self, account_id: i64, delivery_id: i64, now: i64) -> StoreResult<bool> {
                let mut tx = self.write().await?;
                let done = sqlx::query(
                    "UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_at = $1, window_start = $1 \
                     WHERE id = $2 AND account_id = $3",
                )
                .bind(now)
                .bind(delivery_id)
                .bind(account_id)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                self.webhooks_written(done.rows_affected());
                Ok(done.rows_affected() > 0)
            }

            async fn emit_operator_event(
                &self,
                account_id: i64,
                kind: EventKind,
                login: &str,
                now: i64,
            ) -> StoreResult<u64> {
                let mut tx = self.write().await?;
                let done = sqlx::query(
                    "INSERT INTO webhook_deliveries (webhook_id, account_id, event_id, event, operator, operator_status, \
                     created_at, next_at, window_start) \
                     SELECT w.id, w.account_id, $1, $2, $3, $4, $5, $5, $5 FROM webhooks w \
                     WHERE w.account_id = $6 AND (w.events & $7) <> 0",
                )
                .bind(new_event_id())
                .bind(kind.name())
                .bind(login)
                .bind($crate::domain::events::operator_status(kind))
                .bind(now)
                .bind(account_id)
                .bind(kind.bit())
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                self.webhooks_written(done.rows_affected());
                Ok(done.rows_affected())
            }

            async fn end_idle_sessions(&self, idle_since: i64, now: i64, limit: u32) -> StoreResult<u64> {
                let mut tx = self.write().await?;
                let idle: Vec<(i64, Option<i64>)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT id, last_message_id FROM chats WHERE session_start IS NOT NULL AND last_at <= $1 \
                     ORDER BY last_at LIMIT $2{}",
                    $lock
                )))
                .bind(idle_since)
                .bind(i64::from(limit))
                .fetch_all(&mut *tx)
                .await?;
                let mut events = 0;
                for (chat_id, last) in &idle {
                    sqlx::query("UPDATE chats SET session_start = NULL WHERE id = $1")
                        .bind(chat_id)
                        .execute(&mut *tx)
                        .await?;
                    if let Some(message_id) = last {
                        let at = EventAt::Chat(*chat_id);
                        events += emit_message_event(&mut tx, EventKind::ChatEnd, at, *message_id, None, None, now)
                            .await?;
                    }
                    events += emit_unread(&mut tx, *chat_id, now).await?;
                }
                tx.commit().await?;
                self.webhooks_written(events);
                Ok(idle.len() as u64)
            }

            async fn due_webhooks(&self, now: i64, skip: &[i64], limit: u32) -> StoreResult<Vec<i64>> {
                let skip = if skip.is_empty() {
                    String::new()
                } else {
                    format!(" AND w.id NOT IN ({})", id_list(skip.iter().copied()))
                };
                Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT w.id FROM webhooks w WHERE (w.lease_until IS NULL OR w.lease_until <= $1){skip} \
                     AND EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.next_at <= $1) \
                     ORDER BY w.id LIMIT $2"
                )))
                .bind(now)
                .bind(i64::from(limit))
                .fetch_all(self.reader())
                .await?)
            }

            async fn claim_webhook_batch(
                &self,
                webhook_id: i64,
                owner: i64,
                lease_until: i64,
                now: i64,
                limit: u32,
                skip: &[i64],
            ) -> StoreResult<Option<$crate::domain::webhook_ports::WebhookBatch>> {
                let mut tx = self.write().await?;
                let leased: Option<(String, String, String)> = sqlx::query_as(
                    "UPDATE webhooks SET lease_owner = $1, lease_until = $2 WHERE id = $3 \
                     AND (lease_owner = $1 OR lease_until IS NULL OR lease_until <= $4) RETURNING url, headers, secret",
                )
                .bind(owner)
                .bind(lease_until)
                .bind(webhook_id)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((url, headers, secret)) = leased else {
                    tx.commit().await?;
                    return Ok(None);
                };
                let rows: Vec<$crate::storage::webhook_rows::PendingDeliveryRow> = if limit == 0 {
                    Vec::new()
                } else {
                    let skip = if skip.is_empty() {
                        String::new()
                    } else {
                        format!(" AND d.id NOT IN ({})", id_list(skip.iter().copied()))
                    };
                    sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "{}WHERE d.webhook_id = $1 AND d.next_at <= $2{skip} ORDER BY d.next_at, d.id LIMIT $3",
                        $crate::storage::webhook_rows::pending_delivery_select!()
                    )))
                    .bind(webhook_id)
                    .bind(now)
                    .bind(i64::from(limit))
                    .fetch_all(&mut *tx)
                    .await?
                };
                tx.commit().await?;
                let secret = $crate::storage::sealed::open_text(
                    &self.parts().secrets,
                    $crate::secrets::Purpose::WebhookSecret,
                    &format!("webhook {webhook_id} secret"),
                    &secret,
                )?;
                let headers = $crate::storage::sealed::open_headers(&self.parts().secrets, webhook_id, &headers)?;
                Ok(Some($crate::domain::webhook_ports::WebhookBatch {
                    target: $crate::storage::webhook_rows::target(url, &headers, secret),
                    deliveries: rows.into_iter().map(TryInto::try_into).collect::<StoreResult<_>>()?,
                }))
            }

            async fn record_webhook_attempts(
                &self,
                attempts: &[$crate::domain::webhook_ports::AttemptRecord],
            ) -> StoreResult<()> {
                use $crate::domain::webhook_ports::AttemptNext;
                let mut tx = self.write().await?;
                for a in attempts {
                    let code = a.code.map(i64::from);
                    // The webhook may have been deleted meanwhile: then there is nothing to log against.
                    sqlx::query(
                        "INSERT INTO webhook_attempts (delivery_id, at, code, duration_ms, error) \
                         SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM webhook_deliveries WHERE id = $1)",
                    )
                    .bind(a.delivery_id)
                    .bind(a.at)
                    .bind(code)
                    .bind(a.duration_ms)
                    .bind(a.error.as_deref())
                    .execute(&mut *tx)
                    .await?;
                    let (state, next_at) = match a.next {
                        AttemptNext::Delivered => ("delivered", None),
                        AttemptNext::Failed => ("failed", None),
                        AttemptNext::RetryAt(at) => ("pending", Some(at)),
                    };
                    sqlx::query(
                        "UPDATE webhook_deliveries SET attempts = attempts + 1, last_code = $1, state = $2, next_at = $3 \
                         WHERE id = $4",
                    )
                    .bind(code)
                    .bind(state)
                    .bind(next_at)
                    .bind(a.delivery_id)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn release_webhook(&self, webhook_id: i64, owner: i64) -> StoreResult<()> {
                let mut tx = self.write().await?;
                sqlx::query(
                    "UPDATE webhooks SET lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2",
                )
                .bind(webhook_id)
                .bind(owner)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn prune_deliveries(&self, before: i64, limit: u32) -> StoreResult<u64> {
                let mut tx = self.write().await?;
                let done = sqlx::query(
                    "DELETE FROM webhook_deliveries WHERE id IN \
                     (SELECT id FROM webhook_deliveries WHERE next_at IS NULL AND created_at < $1 LIMIT $2)",
                )
                .bind(before)
                .bind(i64::from(limit))
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(done.rows_affected())
            }

            fn webhook_signal(&self) -> std::sync::Arc<tokio::sync::Notify> {
                self.parts().webhook_signal.clone()
            }
        }
    };
}
pub(crate) use sql_webhook_store;
