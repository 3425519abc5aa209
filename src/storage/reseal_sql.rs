//! `reseal_all!(self, tx)`: the body of `Store::reseal_secrets`, the same SQL on both engines (a macro
//! because the transaction's type is the engine's). Every stored secret is opened — under whichever
//! listed key sealed it, or taken as it is when the database has no key check yet (secrets stored by
//! an earlier version) — and written again under the newest key, unless it is already under it.

/// Re-seals the rows of one secret column: `$rows` are (key, stored value) pairs, the value a `String`
/// (text column) or a `Vec<u8>` (bytes), written back in its own type by `$update` (`$1` the value,
/// `$2` the key). How many were rewritten.
macro_rules! reseal_rows {
    ($tx:ident, $keys:ident, $legacy:ident, $purpose:expr, $what:literal, $rows:expr, $update:literal) => {{
        let mut rewritten = 0u64;
        for (key, stored) in $rows {
            let bytes: &[u8] = stored.as_ref();
            if $keys.is_sealed_under_newest(bytes) {
                continue;
            }
            let what = format!(concat!($what, " {}"), key);
            let plain = $crate::storage::sealed::open_for_reseal($keys, $purpose, &what, bytes, $legacy)?;
            let sealed = $crate::storage::sealed::same_type(&stored, $keys.seal($purpose, &plain)?);
            sqlx::query($update).bind(sealed).bind(key).execute(&mut *$tx).await?;
            rewritten += 1;
        }
        rewritten
    }};
}
pub(crate) use reseal_rows;

macro_rules! reseal_all {
    ($self:ident, $tx:ident) => {{
        use $crate::secrets::Purpose;
        use $crate::storage::sealed::{KEY_CHECK, key_check};
        let keys = &$self.parts().secrets;
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
        let webhooks: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, secret FROM webhooks").fetch_all(&mut *$tx).await?;
        let headers: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, headers FROM webhooks").fetch_all(&mut *$tx).await?;
        // Headers were stored plainly before they were sealed, in databases that have a key check.
        let plain_headers_ok = true;
        let signing: Vec<(i64, Vec<u8>)> =
            sqlx::query_as("SELECT id, private_key FROM signing_keys").fetch_all(&mut *$tx).await?;
        let server: Vec<(String, Vec<u8>)> =
            sqlx::query_as("SELECT name, value FROM server_keys WHERE name <> $1")
                .bind(KEY_CHECK)
                .fetch_all(&mut *$tx)
                .await?;
        let report = $crate::storage::ResealReport {
            channels: $crate::storage::reseal_sql::reseal_rows!($tx, keys, legacy, Purpose::ChannelSettings, "channel settings",
                channels, "UPDATE channels SET settings = $1 WHERE id = $2"),
            webhooks: $crate::storage::reseal_sql::reseal_rows!($tx, keys, legacy, Purpose::WebhookSecret, "webhook secret",
                webhooks, "UPDATE webhooks SET secret = $1 WHERE id = $2"),
            webhook_headers: $crate::storage::reseal_sql::reseal_rows!($tx, keys, plain_headers_ok, Purpose::WebhookHeaders,
                "webhook headers", headers, "UPDATE webhooks SET headers = $1 WHERE id = $2"),
            signing_keys: $crate::storage::reseal_sql::reseal_rows!($tx, keys, legacy, Purpose::SigningKey, "signing key",
                signing, "UPDATE signing_keys SET private_key = $1 WHERE id = $2"),
            server_keys: $crate::storage::reseal_sql::reseal_rows!($tx, keys, legacy, Purpose::ServerKey, "server key",
                server, "UPDATE server_keys SET value = $1 WHERE name = $2"),
        };
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
pub(crate) use reseal_all;
