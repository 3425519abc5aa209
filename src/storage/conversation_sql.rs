//! `ConversationStore`'s SQL, the same text on both engines (see `sql.rs`). Each change reads the chat's
//! row after writing it first (`UPDATE chats SET id = id`: a row lock until commit on PostgreSQL, so two
//! changes of one chat at once are applied one after the other; SQLite's single writer does this
//! already), works out what changed with `domain::contacts`, and writes its event in the same
//! transaction.

/// `sql_conversations!(StoreType, sqlx database type)`.
macro_rules! sql_conversations {
    ($store:ty, $db:ty) => {
        use $crate::domain::contacts::{AfterEnd, Assignee, Contact, ContactChange, Conversation};

        /// The conversation columns of `chats`, in `ConversationRow`'s order.
        const CONVERSATION_COLUMNS: &str =
            "contact, custom, ended_at, assignee, rating, feedback, rated_at, survey, surveyed_at";

        type ConversationRow =
            (String, String, Option<i64>, Option<String>, Option<i64>, Option<String>, Option<i64>, Option<String>, Option<i64>);

        /// The chat's id and conversation columns, locked for this transaction.
        async fn locked_conversation(
            tx: &mut Transaction<'static, $db>,
            channel_id: i64,
            destination: &str,
        ) -> StoreResult<Option<(i64, Conversation)>> {
            let id: Option<i64> = sqlx::query_scalar(
                "UPDATE chats SET id = id WHERE channel_id = $1 AND destination = $2 RETURNING id",
            )
            .bind(channel_id)
            .bind(destination)
            .fetch_optional(&mut **tx)
            .await?;
            let Some(id) = id else { return Ok(None) };
            let row: ConversationRow =
                sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {CONVERSATION_COLUMNS} FROM chats WHERE id = $1")))
                    .bind(id)
                    .fetch_one(&mut **tx)
                    .await?;
            Ok(Some((id, conversation_of(row))))
        }

        fn conversation_of(row: ConversationRow) -> Conversation {
            let (contact, custom, ended_at, assignee, rating, feedback, rated_at, survey, surveyed_at) = row;
            Conversation {
                contact: Contact::from_stored(&contact, &custom),
                ended_at,
                assignee: assignee.as_deref().map(Assignee::from_stored),
                rating,
                feedback,
                survey,
                rated_at,
                surveyed_at,
            }
        }

        /// Applies a contact change to a locked chat; writes `contact.updated` when a value changed.
        /// The contact after it and how many deliveries were written.
        async fn change_contact(
            tx: &mut Transaction<'static, $db>,
            chat_id: i64,
            before: &Contact,
            change: &ContactChange,
            now: i64,
        ) -> StoreResult<(Contact, u64)> {
            let (after, changed) = before.apply(change);
            if changed.is_empty() {
                return Ok((after, 0));
            }
            sqlx::query("UPDATE chats SET contact = $1, custom = $2 WHERE id = $3")
                .bind(after.fields_json())
                .bind(after.custom_json())
                .bind(chat_id)
                .execute(&mut **tx)
                .await?;
            let extra = serde_json::json!({ "changed": changed });
            let events = emit_chat_event(tx, EventKind::ContactUpdated, chat_id, &extra, now).await?;
            Ok((after, events))
        }

        #[async_trait::async_trait]
        impl $crate::domain::ports::ConversationStore for $store {
            async fn conversation(&self, channel_id: i64, destination: &str) -> StoreResult<Option<Conversation>> {
                let row: Option<ConversationRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {CONVERSATION_COLUMNS} FROM chats WHERE channel_id = $1 AND destination = $2"
                )))
                .bind(channel_id)
                .bind(destination)
                .fetch_optional(self.reader())
                .await?;
                Ok(row.map(conversation_of))
            }

            async fn update_contact(
                &self,
                channel_id: i64,
                destination: &str,
                change: &ContactChange,
                create: bool,
                now: i64,
            ) -> StoreResult<Option<Contact>> {
                let mut tx = self.write().await?;
                if create {
                    upsert_chat(&mut tx, channel_id, destination, now).await?;
                }
                let Some((chat_id, before)) = locked_conversation(&mut tx, channel_id, destination).await? else {
                    return Ok(None);
                };
                let (after, events) = change_contact(&mut tx, chat_id, &before.contact, change, now).await?;
                tx.commit().await?;
                self.webhooks_written(events);
                Ok(Some(after))
            }

            async fn end_conversation(
                &self,
                channel_id: i64,
                destination: &str,
                now: i64,
            ) -> StoreResult<Option<bool>> {
                let mut tx = self.write().await?;
                let Some((chat_id, before)) = locked_conversation(&mut tx, channel_id, destination).await? else {
                    return Ok(None);
                };
                if before.ended_at.is_some() {
                    return Ok(Some(false));
                }
                sqlx::query("UPDATE chats SET ended_at = $1 WHERE id = $2")
                    .bind(now)
                    .bind(chat_id)
                    .execute(&mut *tx)
                    .await?;
                let extra = serde_json::json!({});
                let mut events = emit_chat_event(&mut tx, EventKind::ConversationEnded, chat_id, &extra, now).await?;
                events += emit_unread(&mut tx, chat_id, now).await?;
                tx.commit().await?;
                self.webhooks_written(events);
                self.parts().feed.announce([chat_id]);
                Ok(Some(true))
            }

            async fn assign(
                &self,
                channel_id: i64,
                destination: &str,
                assignee: &Assignee,
                now: i64,
            ) -> StoreResult<Option<bool>> {
                let mut tx = self.write().await?;
                let Some((chat_id, before)) = locked_conversation(&mut tx, channel_id, destination).await? else {
                    return Ok(None);
                };
                if before.assignee.as_ref() == Some(assignee) {
                    return Ok(Some(false));
                }
                sqlx::query("UPDATE chats SET assignee = $1 WHERE id = $2")
                    .bind(assignee.stored())
                    .bind(chat_id)
                    .execute(&mut *tx)
                    .await?;
                let extra = serde_json::json!({
                    "operator_previous": before.assignee.as_ref().map(Assignee::view),
                    "operator_current": assignee.view(),
                });
                let events = emit_chat_event(&mut tx, EventKind::ChatForward, chat_id, &extra, now).await?;
                tx.commit().await?;
                self.webhooks_written(events);
                self.parts().feed.announce([chat_id]);
                Ok(Some(true))
            }

            async fn take_after_end(
                &self,
                channel_id: i64,
                destination: &str,
                after_end: &AfterEnd,
                now: i64,
            ) -> StoreResult<Option<Result<(), $crate::domain::contacts::Refusal>>> {
                let mut tx = self.write().await?;
                let Some((chat_id, before)) = locked_conversation(&mut tx, channel_id, destination).await? else {
                    return Ok(None);
                };
                if let Err(refusal) = before.may_take(after_end) {
                    return Ok(Some(Err(refusal)));
                }
                let mut events = 0;
                match after_end {
                    AfterEnd::Rating { rate, feedback } => {
                        sqlx::query("UPDATE chats SET rating = $1, feedback = $2, rated_at = $3 WHERE id = $4")
                            .bind(rate)
                            .bind(feedback)
                            .bind(now)
                            .bind(chat_id)
                            .execute(&mut *tx)
                            .await?;
                        let extra = serde_json::json!({ "rate": rate });
                        events += emit_chat_event(&mut tx, EventKind::ChatRating, chat_id, &extra, now).await?;
                        if let Some(words) = feedback {
                            let extra = serde_json::json!({ "rate": rate, "feedback_message": words });
                            events += emit_chat_event(&mut tx, EventKind::ChatFeedback, chat_id, &extra, now).await?;
                        }
                    }
                    AfterEnd::Survey { option } => {
                        sqlx::query("UPDATE chats SET survey = $1, surveyed_at = $2 WHERE id = $3")
                            .bind(option)
                            .bind(now)
                            .bind(chat_id)
                            .execute(&mut *tx)
                            .await?;
                        let extra = serde_json::json!({ "post_survey_option": option });
                        events += emit_chat_event(&mut tx, EventKind::ChatSurvey, chat_id, &extra, now).await?;
                    }
                }
                tx.commit().await?;
                self.webhooks_written(events);
                self.parts().feed.announce([chat_id]);
                Ok(Some(Ok(())))
            }

            async fn reach_goals(
                &self,
                channel_id: i64,
                destination: &str,
                goals: &[String],
                now: i64,
            ) -> StoreResult<usize> {
                // Read first: a page view that reaches nothing new (the usual case) writes nothing.
                let found: Option<(i64, Option<i64>, Option<String>)> = sqlx::query_as(
                    "SELECT id, session_start, assignee FROM chats WHERE channel_id = $1 AND destination = $2",
                )
                .bind(channel_id)
                .bind(destination)
                .fetch_optional(self.reader())
                .await?;
                let Some((chat_id, Some(session), Some(_))) = found else { return Ok(0) };
                let mut tx = self.write().await?;
                let mut reached = 0;
                let mut events = 0;
                for goal in goals {
                    let new = sqlx::query(
                        "INSERT INTO goals_reached (chat_id, session_start, goal, reached_at) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (chat_id, session_start, goal) DO NOTHING",
                    )
                    .bind(chat_id)
                    .bind(session)
                    .bind(goal)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if new > 0 {
                        reached += 1;
                        let extra = serde_json::json!({ "goal": { "name": goal } });
                        events += emit_chat_event(&mut tx, EventKind::ChatGoal, chat_id, &extra, now).await?;
                    }
                }
                tx.commit().await?;
                self.webhooks_written(events);
                Ok(reached)
            }

            async fn operators(&self, account_id: i64) -> StoreResult<(Vec<String>, Vec<String>)> {
                let rows: Vec<(String, String, bool, Option<String>)> = sqlx::query_as(
                    "SELECT login, scopes, enabled, group_name FROM credentials WHERE account_id = $1 ORDER BY login",
                )
                .bind(account_id)
                .fetch_all(self.reader())
                .await?;
                let mut logins = Vec::new();
                let mut groups: Vec<String> = Vec::new();
                for (login, scopes, enabled, group) in rows {
                    let writes = $crate::domain::model::Scopes::parse(&scopes)
                        .is_ok_and(|s| s.allows($crate::domain::model::Scope::ChatWrite));
                    if enabled && writes {
                        logins.push(login);
                    }
                    if let Some(g) = group {
                        groups.push(g);
                    }
                }
                groups.sort();
                groups.dedup();
                Ok((logins, groups))
            }
        }
    };
}
pub(crate) use sql_conversations;
