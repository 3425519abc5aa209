//! The console's SQL, the same text on both engines (see `sql.rs`).

/// `sql_console_store!(StoreType)`.
macro_rules! sql_console_store {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::domain::console_ports::ConsoleStore for $store {
            async fn create_session(&self, s: &$crate::domain::console_ports::ConsoleSession) -> StoreResult<()> {
                let mut tx = self.write().await?;
                sqlx::query("DELETE FROM console_sessions WHERE expires_at <= $1")
                    .bind(now_ms())
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "INSERT INTO console_sessions (token_hash, credential_id, account_id, login, csrf, expires_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&s.token_hash)
                .bind(s.credential_id)
                .bind(s.account_id)
                .bind(&s.login)
                .bind(&s.csrf)
                .bind(s.expires_at)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn session(
                &self,
                token_hash: &str,
                now: i64,
            ) -> StoreResult<Option<$crate::domain::console_ports::ConsoleSession>> {
                let row: Option<(String, i64, i64, String, String, i64)> = sqlx::query_as(
                    "SELECT token_hash, credential_id, account_id, login, csrf, expires_at FROM console_sessions \
                     WHERE token_hash = $1 AND expires_at > $2",
                )
                .bind(token_hash)
                .bind(now)
                .fetch_optional(self.reader())
                .await?;
                Ok(row.map(|(token_hash, credential_id, account_id, login, csrf, expires_at)| {
                    $crate::domain::console_ports::ConsoleSession {
                        token_hash,
                        credential_id,
                        account_id,
                        login,
                        csrf,
                        expires_at,
                    }
                }))
            }

            async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
                let mut tx = self.write().await?;
                sqlx::query("DELETE FROM console_sessions WHERE token_hash = $1")
                    .bind(token_hash)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn inbox(
                &self,
                account_id: i64,
                limit: u32,
            ) -> StoreResult<Vec<$crate::domain::console_ports::InboxChat>> {
                // One statement for the page: the account's chats by their last message (newest first),
                // each with that message and its count of unread received messages (read from the partial
                // index `messages_unread`). The page is a subquery with its LIMIT, so the messages are
                // looked up for the page's chats alone.
                let rows: Vec<InboxRow> = sqlx::query_as(concat!(
                    $crate::storage::rows::message_columns!(),
                    ", (SELECT COUNT(*) FROM messages u WHERE u.chat_id = c.id AND NOT u.sent AND u.status = 'unread') AS unread, \
                     c.assignee FROM (SELECT c.id, c.channel_id, c.destination, c.last_message_id, c.assignee FROM chats c \
                     JOIN channels ch ON ch.id = c.channel_id WHERE ch.account_id = $1 AND c.last_message_id IS NOT NULL \
                     ORDER BY c.last_message_id DESC LIMIT $2) c \
                     JOIN messages m ON m.id = c.last_message_id JOIN channels ch ON ch.id = c.channel_id \
                     ORDER BY c.last_message_id DESC"
                ))
                .bind(account_id)
                .bind(i64::from(limit))
                .fetch_all(self.reader())
                .await?;
                rows.into_iter()
                    .map(|r| {
                        Ok($crate::domain::console_ports::InboxChat {
                            last: Message::try_from(r.message)?,
                            unread: r.unread,
                            assignee: r.assignee.as_deref().map($crate::domain::contacts::Assignee::from_stored),
                        })
                    })
                    .collect()
            }

            async fn chat_key(&self, chat_id: i64) -> StoreResult<Option<(i64, i64, String)>> {
                Ok(sqlx::query_as(
                    "SELECT ch.account_id, c.channel_id, c.destination FROM chats c \
                     JOIN channels ch ON ch.id = c.channel_id WHERE c.id = $1",
                )
                    .bind(chat_id)
                    .fetch_optional(self.reader())
                    .await?)
            }
        }
    };
}
pub(crate) use sql_console_store;
