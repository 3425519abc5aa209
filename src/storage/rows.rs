//! What both SQL engines share: row types and their conversion to the model, error mapping, the
//! message projection. Each engine keeps its own SQL (placeholders and types differ).

use sqlx::FromRow;

use super::{CredentialRecord, DeliveryJob, RefreshToken, StoreError, StoreResult, parse_ip_list};
use crate::domain::model::{
    Attachment, Channel, ChannelSettings, FileType, Message, MessageDetails, MessageStatus, Platform, Scopes,
};

/// How long a platform's status for a message not yet known is kept (SPEC §5.3).
pub const EARLY_STATUS_MS: i64 = 10 * 60 * 1000;

/// How long an idempotency key holds (SPEC §2).
pub const IDEMPOTENCY_WINDOW_MS: i64 = 24 * 3600 * 1000;

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e.as_database_error() {
            Some(d) if d.is_unique_violation() => StoreError::Conflict("login"),
            // PostgreSQL serialization_failure / deadlock_detected.
            Some(d) if matches!(d.code().as_deref(), Some("40001" | "40P01")) => {
                StoreError::Retry(e.to_string())
            }
            _ => StoreError::Backend(e.to_string()),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError::Backend(e.to_string())
    }
}

/// The columns of a message as the read methods show it; `concat!` keeps the SQL a literal.
macro_rules! message_columns {
    () => {
        "SELECT m.id, c.channel_id, ch.platform, c.destination, m.sent, m.status, m.reason, m.body, \
         m.file_type, m.file_url, m.thumb_url, m.created_at, m.details "
    };
}
pub(crate) use message_columns;

/// A credential with its account's IP list, as `CredentialRow` reads it.
macro_rules! credential_select {
    () => {
        "SELECT c.id, c.account_id, c.login, c.secret_hash, c.scopes, c.enabled, c.ip_allow, \
         a.ip_allow AS account_ip_allow, c.version, c.is_primary, c.channel_id, c.group_name \
         FROM credentials c JOIN accounts a ON a.id = c.account_id "
    };
}
pub(crate) use credential_select;

/// A message with its chat and channel.
macro_rules! message_select {
    () => {
        concat!(
            $crate::storage::rows::message_columns!(),
            "FROM messages m JOIN chats c ON c.id = m.chat_id JOIN channels ch ON ch.id = c.channel_id "
        )
    };
}
pub(crate) use message_select;

/// A chat of the console's inbox: its last message and its unread count.
#[derive(FromRow)]
pub struct InboxRow {
    #[sqlx(flatten)]
    pub message: MessageRow,
    pub unread: i64,
    pub assignee: Option<String>,
}

#[derive(FromRow)]
pub struct MessageRow {
    pub id: i64,
    pub channel_id: i64,
    pub platform: String,
    pub destination: String,
    pub sent: bool,
    pub status: String,
    pub reason: Option<String>,
    pub body: Option<String>,
    pub file_type: Option<String>,
    pub file_url: Option<String>,
    pub thumb_url: Option<String>,
    pub created_at: i64,
    pub details: Option<String>,
}

impl TryFrom<MessageRow> for Message {
    type Error = StoreError;

    fn try_from(r: MessageRow) -> StoreResult<Self> {
        let corrupt = |what: &str| StoreError::Backend(format!("message {}: bad {what}", r.id));
        let attachment = attachment(r.id, r.file_type.as_deref(), r.file_url.clone(), r.thumb_url.clone())?;
        Ok(Message {
            id: r.id,
            channel_id: r.channel_id,
            platform: Platform::parse(&r.platform).ok_or_else(|| corrupt("platform"))?,
            status: MessageStatus::parse(&r.status).ok_or_else(|| corrupt("status"))?,
            destination: r.destination,
            text: r.body,
            attachment,
            sent: r.sent,
            reason: r.reason,
            created_at: r.created_at,
            details: MessageDetails::from_json(r.details.as_deref()),
        })
    }
}

/// The attachment of a row's file columns, if it has one.
fn attachment(
    id: i64,
    file_type: Option<&str>,
    url: Option<String>,
    thumb_url: Option<String>,
) -> StoreResult<Option<Attachment>> {
    match (file_type, url) {
        (Some(t), Some(url)) => Ok(Some(Attachment {
            file_type: FileType::parse(t)
                .ok_or_else(|| StoreError::Backend(format!("message {id}: bad file type")))?,
            url,
            thumb_url,
        })),
        _ => Ok(None),
    }
}

pub fn to_messages(rows: Vec<MessageRow>) -> StoreResult<Vec<Message>> {
    rows.into_iter().map(Message::try_from).collect()
}

#[derive(FromRow)]
pub struct ChannelRow {
    pub id: i64,
    pub account_id: i64,
    pub platform: String,
    pub name: String,
}

impl TryFrom<ChannelRow> for Channel {
    type Error = StoreError;

    fn try_from(r: ChannelRow) -> StoreResult<Self> {
        Ok(Channel {
            platform: Platform::parse(&r.platform)
                .ok_or_else(|| StoreError::Backend(format!("channel {}: bad platform", r.id)))?,
            id: r.id,
            account_id: r.account_id,
            name: r.name,
        })
    }
}

#[derive(FromRow)]
pub struct CredentialRow {
    pub id: i64,
    pub account_id: i64,
    pub login: String,
    pub secret_hash: String,
    pub scopes: String,
    pub enabled: bool,
    pub ip_allow: String,
    pub account_ip_allow: String,
    pub version: i64,
    pub is_primary: bool,
    pub channel_id: Option<i64>,
    pub group_name: Option<String>,
}

impl From<CredentialRow> for CredentialRecord {
    fn from(r: CredentialRow) -> Self {
        CredentialRecord {
            id: r.id,
            account_id: r.account_id,
            login: r.login,
            secret_hash: r.secret_hash,
            // Stored scopes were validated on the way in; an unreadable list grants nothing.
            scopes: Scopes::parse(&r.scopes).unwrap_or(Scopes::NONE),
            enabled: r.enabled,
            ip_allow: parse_ip_list(&r.ip_allow),
            account_ip_allow: parse_ip_list(&r.account_ip_allow),
            version: r.version,
            is_primary: r.is_primary,
            channel_id: r.channel_id,
            group: r.group_name,
        }
    }
}

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[derive(FromRow)]
pub struct RefreshRow {
    pub token_hash: String,
    pub chain: String,
    pub credential_id: i64,
    pub login: String,
    pub cred_version: i64,
    pub scope: String,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub revoked: bool,
}

impl From<RefreshRow> for RefreshToken {
    fn from(r: RefreshRow) -> Self {
        RefreshToken {
            token_hash: r.token_hash,
            chain: r.chain,
            credential_id: r.credential_id,
            login: r.login,
            cred_version: r.cred_version,
            scope: r.scope,
            expires_at: r.expires_at,
        }
    }
}

/// The refresh-token columns, joined with the credential's login; callers add `WHERE r.token_hash = …`.
pub const REFRESH_COLUMNS: &str = "SELECT r.token_hash, r.chain, r.credential_id, c.login, r.cred_version, r.scope, \
     r.expires_at, r.used_at, r.revoked FROM refresh_tokens r JOIN credentials c ON c.id = r.credential_id ";

/// A claimed outbox entry joined with its message, chat and channel.
#[derive(FromRow)]
pub struct DeliveryRow {
    pub outbox_id: i64,
    pub message_id: i64,
    pub chat_id: i64,
    pub channel_id: i64,
    pub platform: String,
    pub destination: String,
    pub body: Option<String>,
    pub file_type: Option<String>,
    pub file_url: Option<String>,
    pub thumb_url: Option<String>,
    pub expires_at: Option<i64>,
    pub created_at: i64,
    pub attempts: i64,
    pub lease_until: Option<i64>,
    pub last_error: Option<String>,
    pub details: Option<String>,
    pub last_inbound_at: Option<i64>,
}

impl TryFrom<DeliveryRow> for DeliveryJob {
    type Error = StoreError;

    fn try_from(r: DeliveryRow) -> StoreResult<Self> {
        Ok(DeliveryJob {
            attachment: attachment(r.message_id, r.file_type.as_deref(), r.file_url, r.thumb_url)?,
            platform: Platform::parse(&r.platform)
                .ok_or_else(|| StoreError::Backend(format!("channel {}: bad platform", r.channel_id)))?,
            outbox_id: r.outbox_id,
            message_id: r.message_id,
            chat_id: r.chat_id,
            channel_id: r.channel_id,
            destination: r.destination,
            text: r.body,
            expires_at: r.expires_at,
            created_at: r.created_at,
            attempts: r.attempts,
            last_error: r.last_error,
            lease_until: r.lease_until.unwrap_or_default(),
            template: MessageDetails::from_json(r.details.as_deref()).template,
            last_inbound_at: r.last_inbound_at,
        })
    }
}

/// A channel's stored settings (a JSON object of strings).
pub fn channel_settings(channel_id: i64, text: &str) -> StoreResult<ChannelSettings> {
    serde_json::from_str(text)
        .map_err(|_| StoreError::Backend(format!("channel {channel_id}: unreadable settings")))
}

/// Ids as a SQL list (`1, 2, 3`): integers only, so safe to put into the statement text.
pub fn id_list(ids: impl Iterator<Item = i64>) -> String {
    ids.map(|id| id.to_string()).collect::<Vec<_>>().join(", ")
}
