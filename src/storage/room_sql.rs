//! `RoomStore`'s SQL, the same text on both engines (see `sql.rs`).

/// `sql_rooms!(StoreType)`.
macro_rules! sql_rooms {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::domain::ports::RoomStore for $store {
            async fn rooms(&self, account_id: i64) -> StoreResult<Vec<$crate::domain::room::Room>> {
                let rows: Vec<(i64, String, bool, Option<String>, String)> = sqlx::query_as(
                    "SELECT id, name, is_public, admin, members FROM rooms WHERE account_id = $1 ORDER BY name",
                )
                .bind(account_id)
                .fetch_all(self.reader())
                .await?;
                Ok(rows.into_iter().map(room_of_row).collect())
            }

            async fn save_room(
                &self,
                account_id: i64,
                change: &$crate::domain::room::RoomChange,
            ) -> StoreResult<$crate::domain::room::Room> {
                let mut tx = self.write().await?;
                let existing: Option<(i64, String, bool, Option<String>, String)> = match (change.id, &change.name) {
                    (Some(id), _) => sqlx::query_as(
                        "SELECT id, name, is_public, admin, members FROM rooms WHERE id = $1 AND account_id = $2",
                    )
                    .bind(id)
                    .bind(account_id)
                    .fetch_optional(&mut *tx)
                    .await?
                    .map(Some)
                    .ok_or(StoreError::NotFound("room"))?,
                    (None, Some(name)) => sqlx::query_as(
                        "SELECT id, name, is_public, admin, members FROM rooms WHERE name = $1 AND account_id = $2",
                    )
                    .bind(name)
                    .bind(account_id)
                    .fetch_optional(&mut *tx)
                    .await?,
                    (None, None) => return Err(StoreError::NotFound("room")),
                };
                let before = existing.map(room_of_row);
                let name = change.name.clone().or_else(|| before.as_ref().map(|r| r.name.clone())).unwrap_or_default();
                let is_public = change.is_public.or(before.as_ref().map(|r| r.is_public)).unwrap_or(false);
                let admin = change.admin.clone().or_else(|| before.as_ref().and_then(|r| r.admin.clone()));
                let members = change.members.clone().or_else(|| before.as_ref().map(|r| r.members.clone())).unwrap_or_default();
                let id: i64 = match &before {
                    Some(r) => {
                        sqlx::query("UPDATE rooms SET name = $1, is_public = $2, admin = $3, members = $4 WHERE id = $5")
                            .bind(&name)
                            .bind(is_public)
                            .bind(&admin)
                            .bind(members.join(" "))
                            .bind(r.id)
                            .execute(&mut *tx)
                            .await?;
                        r.id
                    }
                    None => sqlx::query_scalar(
                        "INSERT INTO rooms (account_id, name, is_public, admin, members, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                    )
                    .bind(account_id)
                    .bind(&name)
                    .bind(is_public)
                    .bind(&admin)
                    .bind(members.join(" "))
                    .bind(now_ms())
                    .fetch_one(&mut *tx)
                    .await?,
                };
                // The room's chat has news: members' consoles show or drop it at once (on every instance).
                let old_name = before.as_ref().map_or(name.clone(), |r| r.name.clone());
                let chats: Vec<i64> = sqlx::query_scalar(
                    "SELECT c.id FROM chats c JOIN channels ch ON ch.id = c.channel_id \
                     WHERE ch.account_id = $1 AND ch.platform = 'operator' AND c.destination IN ($2, $3)",
                )
                .bind(account_id)
                .bind($crate::domain::room::chat_of(&name))
                .bind($crate::domain::room::chat_of(&old_name))
                .fetch_all(&mut *tx)
                .await?;
                announce(&mut tx, &chats).await?;
                tx.commit().await?;
                self.parts().feed.announce(chats);
                Ok($crate::domain::room::Room { id, name, is_public, members, admin })
            }
        }

        fn room_of_row(r: (i64, String, bool, Option<String>, String)) -> $crate::domain::room::Room {
            let (id, name, is_public, admin, members) = r;
            let members = members.split_whitespace().map(str::to_string).collect();
            $crate::domain::room::Room { id, name, is_public, members, admin }
        }
    };
}
pub(crate) use sql_rooms;
