//! `OutboxStore`'s and `HealthStore`'s SQL, the same text on both engines (see `sql.rs`).

/// `sql_outbox!(StoreType, sqlx database type, "outbox row lock clause", { the engine's `pool_state` })`.
macro_rules! sql_outbox {
    ($store:ty, $db:ty, $outbox_lock:literal, { $($engine:tt)* }) => {
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
                     m.file_type, m.file_url, m.thumb_url, o.expires_at, o.created_at, o.attempts, o.lease_until, o.last_error, \
                     m.details, c.last_inbound_at \
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
                                DeliveryResult::Sent { platform_message_id, .. } => {
                                    (MessageStatus::Sent, None, platform_message_id.as_deref())
                                }
                                DeliveryResult::Failed { reason } => {
                                    (MessageStatus::Failed, Some(reason.as_str()), None)
                                }
                                _ => (MessageStatus::Expired, None, None),
                            };
                            if let DeliveryResult::Sent { recipient: Some(alias), .. } = outcome {
                                sqlx::query(
                                    "INSERT INTO chat_aliases (channel_id, alias, chat_id) \
                                     SELECT channel_id, $1, id FROM chats WHERE id = $2 ON CONFLICT DO NOTHING",
                                )
                                .bind(alias)
                                .bind(d.chat_id)
                                .execute(&mut *tx)
                                .await?;
                            }
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
                            if let (Some(pid), true) = (platform_id, changed.rows_affected() > 0) {
                                events += apply_early_statuses(&mut tx, d.chat_id, d.message_id, pid, wanted).await?;
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
                self.parts().feed.announce(news);
                Ok(())
            }

            fn outbox_signal(&self) -> std::sync::Arc<tokio::sync::Notify> {
                self.parts().outbox_signal.clone()
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
    };
}
pub(crate) use sql_outbox;
