//! The embedded default: one SQLite file in WAL mode. Writes go through a single-connection pool (SQLite
//! has one writer anyway; this queues them in-process instead of spinning on the file lock), reads
//! through a pool of their own. `synchronous=NORMAL` in WAL mode survives a killed process, which is
//! the durability promise of SPEC §7.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use ipnet::IpNet;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};

use super::rows::{ChannelRow, CredentialRow, MessageRow, now_ms, to_messages};
use super::{
    CredentialChange, CredentialRecord, NewAccess, OutboxClaim, Store, StoreError, StoreResult,
    format_ip_list,
};
use crate::domain::model::{
    Attachment, Channel, InboundMessage, Message, MessageStatus, OutboundMessage, Platform, Scopes,
};

mod batch;
mod oauth;

pub struct SqliteStore {
    pub(crate) reader: SqlitePool,
    pub(crate) writer: SqlitePool,
    sends: batch::SendQueue,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `url` and runs the migrations.
    pub async fn connect(url: &str, readers: u32) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let writer = SqlitePoolOptions::new().max_connections(1).connect_with(options.clone()).await?;
        sqlx::migrate!("./migrations/sqlite").run(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(readers.max(1))
            .connect_with(options.read_only(true))
            .await?;
        Ok(Self { sends: batch::SendQueue::start(writer.clone()), reader, writer })
    }

    /// A write transaction that takes the lock at once (another process — the CLI — may write too).
    pub(crate) async fn write(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?)
    }

    pub async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }
}

/// Finds or creates the chat of `channel_id` with `destination`.
async fn upsert_chat(
    tx: &mut Transaction<'static, Sqlite>,
    channel_id: i64,
    destination: &str,
    now: i64,
) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO chats (channel_id, destination, created_at) VALUES (?, ?, ?) \
         ON CONFLICT (channel_id, destination) DO UPDATE SET destination = excluded.destination RETURNING id",
    )
    .bind(channel_id)
    .bind(destination)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?)
}

/// A message row to insert: an outbound one (`pending`) or a received one (`unread`).
struct NewRow<'a> {
    sent: bool,
    status: MessageStatus,
    text: Option<&'a str>,
    attachment: Option<&'a Attachment>,
    expires_at: Option<i64>,
    now: i64,
}

/// Inserts a message into a chat and makes it the chat's last one.
async fn insert_message(
    tx: &mut Transaction<'static, Sqlite>,
    chat_id: i64,
    m: NewRow<'_>,
) -> StoreResult<i64> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO messages (chat_id, sent, status, body, file_type, file_url, thumb_url, expires_at, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(chat_id)
    .bind(m.sent)
    .bind(m.status.as_str())
    .bind(m.text)
    .bind(m.attachment.map(|a| a.file_type.as_str()))
    .bind(m.attachment.map(|a| a.url.as_str()))
    .bind(m.attachment.and_then(|a| a.thumb_url.as_deref()))
    .bind(m.expires_at)
    .bind(m.now)
    .fetch_one(&mut **tx)
    .await?;
    sqlx::query("UPDATE chats SET last_message_id = ? WHERE id = ?")
        .bind(id)
        .bind(chat_id)
        .execute(&mut **tx)
        .await?;
    Ok(id)
}

async fn record_change(tx: &mut Transaction<'static, Sqlite>, account_id: i64) -> StoreResult<()> {
    sqlx::query("INSERT INTO credential_changes (account_id, at) VALUES (?, ?)")
        .bind(account_id)
        .bind(now_ms())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn account_id_of(tx: &mut Transaction<'static, Sqlite>, login: &str) -> StoreResult<i64> {
    sqlx::query_scalar("SELECT id FROM accounts WHERE login = ?")
        .bind(login)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(StoreError::NotFound("account"))
}

#[async_trait]
impl Store for SqliteStore {
    async fn find_credential(&self, login: &str) -> StoreResult<Option<CredentialRecord>> {
        let row: Option<CredentialRow> = sqlx::query_as(
            "SELECT c.id, c.account_id, c.login, c.secret_hash, c.scopes, c.enabled, c.ip_allow, \
             a.ip_allow AS account_ip_allow, c.version \
             FROM credentials c JOIN accounts a ON a.id = c.account_id WHERE c.login = ?",
        )
        .bind(login)
        .fetch_optional(&self.reader)
        .await?;
        Ok(row.map(CredentialRecord::from))
    }

    async fn credential_changes_since(&self, after: i64) -> StoreResult<Vec<CredentialChange>> {
        let rows: Vec<(i64, i64)> =
            sqlx::query_as("SELECT id, account_id FROM credential_changes WHERE id > ? ORDER BY id")
                .bind(after)
                .fetch_all(&self.reader)
                .await?;
        Ok(rows.into_iter().map(|(id, account_id)| CredentialChange { id, account_id }).collect())
    }

    async fn last_credential_change(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM credential_changes")
            .fetch_one(&self.reader)
            .await?)
    }

    async fn channels(&self, account_id: i64) -> StoreResult<Vec<Channel>> {
        let rows: Vec<ChannelRow> = sqlx::query_as(
            "SELECT id, account_id, platform, name FROM channels WHERE account_id = ? ORDER BY id",
        )
        .bind(account_id)
        .fetch_all(&self.reader)
        .await?;
        rows.into_iter().map(Channel::try_from).collect()
    }

    async fn channel(&self, account_id: i64, channel_id: i64) -> StoreResult<Option<Channel>> {
        let row: Option<ChannelRow> = sqlx::query_as(
            "SELECT id, account_id, platform, name FROM channels WHERE id = ? AND account_id = ?",
        )
        .bind(channel_id)
        .bind(account_id)
        .fetch_optional(&self.reader)
        .await?;
        row.map(Channel::try_from).transpose()
    }

    async fn chat_exists(&self, channel_id: i64, destination: &str) -> StoreResult<bool> {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT id FROM chats WHERE channel_id = ? AND destination = ?")
                .bind(channel_id)
                .bind(destination)
                .fetch_optional(&self.reader)
                .await?;
        Ok(found.is_some())
    }

    async fn send_message(&self, m: &OutboundMessage) -> StoreResult<i64> {
        self.sends.send(m.clone()).await
    }

    async fn receive_message(&self, m: &InboundMessage) -> StoreResult<i64> {
        let mut tx = self.write().await?;
        let chat_id = upsert_chat(&mut tx, m.channel_id, &m.destination, m.now).await?;
        let row = NewRow {
            sent: false,
            status: MessageStatus::Unread,
            text: m.text.as_deref(),
            attachment: m.attachment.as_ref(),
            expires_at: None,
            now: m.now,
        };
        let id = insert_message(&mut tx, chat_id, row).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn last_message_per_chat(&self, channel_id: i64) -> StoreResult<Vec<Message>> {
        let rows: Vec<MessageRow> = sqlx::query_as(concat!(
            crate::message_select!(),
            "WHERE c.channel_id = ? AND m.id = c.last_message_id ORDER BY m.id DESC"
        ))
        .bind(channel_id)
        .fetch_all(&self.reader)
        .await?;
        to_messages(rows)
    }

    async fn messages(
        &self,
        channel_id: i64,
        destination: &str,
        before: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<Message>> {
        let rows: Vec<MessageRow> = sqlx::query_as(concat!(
            crate::message_select!(),
            "WHERE c.channel_id = ? AND c.destination = ? AND m.id < ? ORDER BY m.id DESC LIMIT ?"
        ))
        .bind(channel_id)
        .bind(destination)
        .bind(before.unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        to_messages(rows)
    }

    async fn message(&self, account_id: i64, message_id: i64) -> StoreResult<Option<Message>> {
        let row: Option<MessageRow> =
            sqlx::query_as(concat!(crate::message_select!(), "WHERE m.id = ? AND ch.account_id = ?"))
                .bind(message_id)
                .bind(account_id)
                .fetch_optional(&self.reader)
                .await?;
        row.map(Message::try_from).transpose()
    }

    async fn unread_messages(
        &self,
        channel_id: i64,
        destination: &str,
        mark_read: bool,
    ) -> StoreResult<Vec<Message>> {
        let query = sqlx::query_as(concat!(
            crate::message_select!(),
            "WHERE c.channel_id = ? AND c.destination = ? AND m.sent = 0 AND m.status = 'unread' ORDER BY m.id"
        ))
        .bind(channel_id)
        .bind(destination);
        if !mark_read {
            return to_messages(query.fetch_all(&self.reader).await?);
        }
        let mut tx = self.write().await?;
        let rows: Vec<MessageRow> = query.fetch_all(&mut *tx).await?;
        let mut list = to_messages(rows)?;
        if let Some(last) = list.last() {
            sqlx::query(
                "UPDATE messages SET status = 'read' WHERE sent = 0 AND status = 'unread' AND id <= ? \
                 AND chat_id = (SELECT id FROM chats WHERE channel_id = ? AND destination = ?)",
            )
            .bind(last.id)
            .bind(channel_id)
            .bind(destination)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        list.iter_mut().for_each(|m| m.status = MessageStatus::Read);
        Ok(list)
    }

    async fn mark_read(&self, channel_id: i64, destination: &str, up_to: i64) -> StoreResult<u64> {
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "UPDATE messages SET status = 'read' WHERE sent = 0 AND status = 'unread' AND id <= ? \
             AND chat_id = (SELECT id FROM chats WHERE channel_id = ? AND destination = ?)",
        )
        .bind(up_to)
        .bind(channel_id)
        .bind(destination)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }

    async fn outbox_len(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM outbox").fetch_one(&self.reader).await?)
    }

    async fn claim_outbox(&self, limit: u32, lease_ms: i64, now: i64) -> StoreResult<Vec<OutboxClaim>> {
        let mut tx = self.write().await?;
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "UPDATE outbox SET lease_until = ?, attempts = attempts + 1 WHERE id IN \
             (SELECT id FROM outbox WHERE available_at <= ? AND (lease_until IS NULL OR lease_until <= ?) \
             ORDER BY id LIMIT ?) RETURNING id, message_id",
        )
        .bind(now + lease_ms)
        .bind(now)
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(rows.into_iter().map(|(id, message_id)| OutboxClaim { id, message_id }).collect())
    }

    async fn account_count(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM accounts").fetch_one(&self.reader).await?)
    }

    async fn create_account(&self, login: &str, secret_hash: &str) -> StoreResult<i64> {
        let mut tx = self.write().await?;
        let now = now_ms();
        let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM credentials WHERE login = ?")
            .bind(login)
            .fetch_optional(&mut *tx)
            .await?;
        if taken.is_some() {
            return Err(StoreError::Conflict("login"));
        }
        let id: i64 =
            sqlx::query_scalar("INSERT INTO accounts (login, created_at) VALUES (?, ?) RETURNING id")
                .bind(login)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
        sqlx::query(
            "INSERT INTO credentials (account_id, login, name, secret_hash, scopes, is_primary, created_at) \
             VALUES (?, ?, ?, ?, ?, 1, ?)",
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
        sqlx::query("UPDATE accounts SET ip_allow = ? WHERE id = ?")
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
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO credentials (account_id, login, name, secret_hash, scopes, ip_allow, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(account_id)
        .bind(&a.login)
        .bind(&a.name)
        .bind(&a.secret_hash)
        .bind(a.scopes.to_string())
        .bind(format_ip_list(&a.ip_allow))
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?;
        record_change(&mut tx, account_id).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn set_access_enabled(&self, login: &str, enabled: bool) -> StoreResult<()> {
        let mut tx = self.write().await?;
        let account_id: i64 = sqlx::query_scalar(
            "UPDATE credentials SET enabled = ?, version = version + 1 WHERE login = ? AND is_primary = 0 \
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
            "UPDATE credentials SET secret_hash = ?, version = version + 1 WHERE login = ? RETURNING account_id",
        )
        .bind(secret_hash)
        .bind(login)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound("login"))?;
        record_change(&mut tx, account_id).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn create_channel(
        &self,
        account_login: &str,
        platform: Platform,
        name: &str,
        settings: &serde_json::Value,
    ) -> StoreResult<i64> {
        let mut tx = self.write().await?;
        let account_id = account_id_of(&mut tx, account_login).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO channels (account_id, platform, name, settings, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(account_id)
        .bind(platform.as_str())
        .bind(name)
        .bind(settings.to_string())
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?;
        record_change(&mut tx, account_id).await?;
        tx.commit().await?;
        Ok(id)
    }
}
