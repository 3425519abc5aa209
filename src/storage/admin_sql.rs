//! `CredentialStore`'s, `SecretStore`'s and `AdminStore`'s SQL, the same text on both engines (see
//! `sql.rs`).

/// `sql_admin!(StoreType, sqlx database type)`.
macro_rules! sql_admin {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::domain::ports::CredentialStore for $store {
            async fn find_credential(&self, login: &str) -> StoreResult<Option<CredentialRecord>> {
                let row: Option<CredentialRow> =
                    sqlx::query_as(concat!($crate::storage::rows::credential_select!(), "WHERE c.login = $1"))
                .bind(login)
                .fetch_optional(self.reader())
                .await?;
                Ok(row.map(CredentialRecord::from))
            }

            async fn find_token(&self, token_hash: &str) -> StoreResult<Option<CredentialRecord>> {
                let row: Option<CredentialRow> =
                    sqlx::query_as(concat!($crate::storage::rows::credential_select!(), "WHERE c.token_hash = $1"))
                .bind(token_hash)
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
        impl $crate::domain::ports::SecretStore for $store {
            async fn server_key(&self, name: &str, candidate: &[u8]) -> StoreResult<Vec<u8>> {
                use $crate::secrets::Purpose;
                let mut tx = self.write().await?;
                sqlx::query("INSERT INTO server_keys (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
                    .bind(name)
                    .bind($crate::storage::sealed::seal_bytes(&self.parts().secrets, Purpose::ServerKey, candidate)?)
                    .execute(&mut *tx)
                    .await?;
                let key: Vec<u8> = sqlx::query_scalar("SELECT value FROM server_keys WHERE name = $1")
                    .bind(name)
                    .fetch_one(&mut *tx)
                    .await?;
                tx.commit().await?;
                $crate::storage::sealed::open_bytes(&self.parts().secrets, Purpose::ServerKey, name, &key)
            }

            async fn secret_key_check(&self) -> StoreResult<Option<Vec<u8>>> {
                Ok(sqlx::query_scalar("SELECT value FROM server_keys WHERE name = $1")
                    .bind($crate::storage::sealed::KEY_CHECK)
                    .fetch_optional(self.reader())
                    .await?)
            }

            async fn reseal_secrets(&self) -> StoreResult<$crate::storage::ResealReport> {
                let mut tx = self.write().await?;
                let report = $crate::storage::reseal_sql::reseal_all!(self, tx);
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
                    let sealed = self.parts().secrets.seal_text($crate::secrets::Purpose::WebhookHeaders, headers)?;
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
                if let Some(channel) = a.channel_id {
                    let mine: Option<i64> =
                        sqlx::query_scalar("SELECT id FROM channels WHERE id = $1 AND account_id = $2")
                            .bind(channel)
                            .bind(account_id)
                            .fetch_optional(&mut *tx)
                            .await?;
                    mine.ok_or(StoreError::NotFound("channel"))?;
                }
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO credentials (account_id, login, name, secret_hash, scopes, ip_allow, created_at, token_hash, channel_id, group_name) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                )
                .bind(account_id)
                .bind(&a.login)
                .bind(&a.name)
                .bind(&a.secret_hash)
                .bind(a.scopes.to_string())
                .bind(format_ip_list(&a.ip_allow))
                .bind(now_ms())
                .bind(&a.token_hash)
                .bind(a.channel_id)
                .bind(&a.group)
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
                .bind($crate::storage::sealed::seal_settings(&self.parts().secrets, settings)?)
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
                let row: Option<(i64, String, String, String)> =
                    sqlx::query_as("SELECT account_id, settings, platform, name FROM channels WHERE id = $1")
                        .bind(channel_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                let (account_id, text, platform, name) = row.ok_or(StoreError::NotFound("channel"))?;
                let mut settings = $crate::storage::sealed::open_settings(&self.parts().secrets, channel_id, &text)?;
                let before = settings.clone();
                for (key, value) in changes {
                    settings.set(key, value.clone());
                }
                // A webchat channel's widget changed: `um_widget.config` (never a secret: it has none).
                let mut events = 0;
                if platform == "webchat" && settings != before {
                    let widget = $crate::domain::visitor::widget(channel_id, &name, &settings);
                    let kind = EventKind::WidgetConfig;
                    events = sqlx::query(
                        "INSERT INTO webhook_deliveries (webhook_id, account_id, event_id, event, extra, created_at, \
                         next_at, window_start) SELECT w.id, w.account_id, $1, $2, $3, $4, $4, $4 FROM webhooks w \
                         WHERE w.account_id = $5 AND (w.events & $6) <> 0",
                    )
                    .bind(new_event_id())
                    .bind(kind.name())
                    .bind(serde_json::json!({ "widget": widget }).to_string())
                    .bind(now_ms())
                    .bind(account_id)
                    .bind(kind.bit())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                }
                sqlx::query("UPDATE channels SET settings = $1 WHERE id = $2")
                    .bind($crate::storage::sealed::seal_settings(&self.parts().secrets, &settings)?)
                    .bind(channel_id)
                    .execute(&mut *tx)
                    .await?;
                record_change(&mut tx, account_id).await?;
                tx.commit().await?;
                self.webhooks_written(events);
                Ok(())
            }
        }
    };
}
pub(crate) use sql_admin;
