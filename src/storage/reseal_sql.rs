//! `reseal_all!(self, tx)`: the body of `Store::reseal_secrets`, the same SQL on both engines (a macro
//! because the transaction's type is the engine's). Every stored secret is opened — under whichever
//! listed key sealed it, or taken as it is when the database has no key check yet (secrets stored by
//! an earlier version) — and written again under the newest key, unless it is already under it.

#[macro_export]
macro_rules! reseal_all {
    ($self:ident, $tx:ident) => {{
        use $crate::secrets::Purpose;
        use $crate::storage::sealed::{KEY_CHECK, key_check, open_for_reseal, seal_bytes};
        let keys = &$self.secrets;
        let mut report = $crate::storage::ResealReport::default();
        let check: Option<Vec<u8>> = sqlx::query_scalar("SELECT value FROM server_keys WHERE name = $1")
            .bind(KEY_CHECK)
            .fetch_optional(&mut *$tx)
            .await?;
        let legacy = check.is_none();
        // Keys that do not open the check would seal under a key the other instances do not have.
        if let Some(check) = &check {
            keys.open(Purpose::KeyCheck, check)
                .map_err(|e| StoreError::Backend(format!("secret key check: {e}")))?;
        }

        let channels: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, settings FROM channels").fetch_all(&mut *$tx).await?;
        for (id, stored) in channels {
            if keys.is_sealed_under_newest(stored.as_bytes()) {
                continue;
            }
            let what = format!("channel {id} settings");
            let plain = open_for_reseal(keys, Purpose::ChannelSettings, &what, stored.as_bytes(), legacy)?;
            let sealed = String::from_utf8(seal_bytes(keys, Purpose::ChannelSettings, &plain)?)
                .map_err(|_| StoreError::Backend(what))?;
            sqlx::query("UPDATE channels SET settings = $1 WHERE id = $2")
                .bind(sealed)
                .bind(id)
                .execute(&mut *$tx)
                .await?;
            report.channels += 1;
        }

        let webhooks: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, secret FROM webhooks").fetch_all(&mut *$tx).await?;
        for (id, stored) in webhooks {
            if keys.is_sealed_under_newest(stored.as_bytes()) {
                continue;
            }
            let what = format!("webhook {id} secret");
            let plain = open_for_reseal(keys, Purpose::WebhookSecret, &what, stored.as_bytes(), legacy)?;
            let sealed = String::from_utf8(seal_bytes(keys, Purpose::WebhookSecret, &plain)?)
                .map_err(|_| StoreError::Backend(what))?;
            sqlx::query("UPDATE webhooks SET secret = $1 WHERE id = $2")
                .bind(sealed)
                .bind(id)
                .execute(&mut *$tx)
                .await?;
            report.webhooks += 1;
        }

        let signing: Vec<(i64, Vec<u8>)> =
            sqlx::query_as("SELECT id, private_key FROM signing_keys").fetch_all(&mut *$tx).await?;
        for (id, stored) in signing {
            if keys.is_sealed_under_newest(&stored) {
                continue;
            }
            let plain = open_for_reseal(keys, Purpose::SigningKey, &format!("signing key {id}"), &stored, legacy)?;
            sqlx::query("UPDATE signing_keys SET private_key = $1 WHERE id = $2")
                .bind(seal_bytes(keys, Purpose::SigningKey, &plain)?)
                .bind(id)
                .execute(&mut *$tx)
                .await?;
            report.signing_keys += 1;
        }

        let server: Vec<(String, Vec<u8>)> = sqlx::query_as("SELECT name, value FROM server_keys WHERE name <> $1")
            .bind(KEY_CHECK)
            .fetch_all(&mut *$tx)
            .await?;
        for (name, stored) in server {
            if keys.is_sealed_under_newest(&stored) {
                continue;
            }
            let plain = open_for_reseal(keys, Purpose::ServerKey, &name, &stored, legacy)?;
            sqlx::query("UPDATE server_keys SET value = $1 WHERE name = $2")
                .bind(seal_bytes(keys, Purpose::ServerKey, &plain)?)
                .bind(&name)
                .execute(&mut *$tx)
                .await?;
            report.server_keys += 1;
        }

        sqlx::query(
            "INSERT INTO server_keys (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
        )
        .bind(KEY_CHECK)
        .bind(key_check(keys)?)
        .execute(&mut *$tx)
        .await?;
        report
    }};
}
