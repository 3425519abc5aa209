//! `OAuthStore`'s SQL, the same text on both engines (see `sql.rs`).

/// `sql_oauth_store!(StoreType)`: the `OAuthStore` implementation, the same SQL on both engines.
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
                            &self.parts().secrets,
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
                    &self.parts().secrets,
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
pub(crate) use sql_oauth_store;
