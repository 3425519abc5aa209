//! `TemplateStore`'s SQL, the same text on both engines (see `sql.rs`): a WhatsApp channel's templates
//! as one JSON row per name and language.

/// `sql_templates!(StoreType)`.
macro_rules! sql_templates {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::domain::ports::TemplateStore for $store {
            async fn templates(&self, channel_id: i64) -> StoreResult<Vec<$crate::domain::templates::Template>> {
                let rows: Vec<String> = sqlx::query_scalar(
                    "SELECT template FROM templates WHERE channel_id = $1 ORDER BY name, language",
                )
                .bind(channel_id)
                .fetch_all(self.reader())
                .await?;
                // A row this version cannot read is left out rather than hiding every other template.
                Ok(rows.iter().filter_map(|t| serde_json::from_str(t).ok()).collect())
            }

            async fn replace_templates(
                &self,
                channel_id: i64,
                templates: &[$crate::domain::templates::Template],
                now: i64,
            ) -> StoreResult<()> {
                let mut tx = self.write().await?;
                sqlx::query("DELETE FROM templates WHERE channel_id = $1")
                    .bind(channel_id)
                    .execute(&mut *tx)
                    .await?;
                for t in templates {
                    let json = serde_json::to_string(t).map_err(|e| StoreError::Backend(e.to_string()))?;
                    sqlx::query(
                        "INSERT INTO templates (channel_id, name, language, template, fetched_at) VALUES ($1, $2, $3, $4, $5) \
                         ON CONFLICT (channel_id, name, language) DO UPDATE SET template = excluded.template",
                    )
                    .bind(channel_id)
                    .bind(&t.name)
                    .bind(&t.language)
                    .bind(json)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn set_template_status(
                &self,
                channel_id: i64,
                name: &str,
                language: &str,
                status: &str,
            ) -> StoreResult<bool> {
                let mut tx = self.write().await?;
                let row: Option<String> = sqlx::query_scalar(
                    "SELECT template FROM templates WHERE channel_id = $1 AND name = $2 AND language = $3",
                )
                .bind(channel_id)
                .bind(name)
                .bind(language)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(mut template) =
                    row.and_then(|t| serde_json::from_str::<$crate::domain::templates::Template>(&t).ok())
                else {
                    return Ok(false);
                };
                template.status = status.to_string();
                let json = serde_json::to_string(&template).map_err(|e| StoreError::Backend(e.to_string()))?;
                sqlx::query("UPDATE templates SET template = $1 WHERE channel_id = $2 AND name = $3 AND language = $4")
                    .bind(json)
                    .bind(channel_id)
                    .bind(name)
                    .bind(language)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(true)
            }
        }
    };
}
pub(crate) use sql_templates;
