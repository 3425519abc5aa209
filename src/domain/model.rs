//! The nouns of chatgate: platforms, channels, messages, scopes. Plain data, no I/O.

use std::fmt;

/// A chat platform a channel connects to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Platform {
    Webchat,
    Whatsapp,
    Telegram,
    Operator,
}

impl Platform {
    /// Platforms chatgate delivers to itself (its own pages), not through an external API.
    pub fn is_internal(self) -> bool {
        matches!(self, Self::Webchat | Self::Operator)
    }

    pub const ALL: [Platform; 4] = [Self::Webchat, Self::Whatsapp, Self::Telegram, Self::Operator];

    /// Case-insensitive, as the spec says of `platform`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str().eq_ignore_ascii_case(s))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Webchat => "webchat",
            Self::Whatsapp => "whatsapp",
            Self::Telegram => "telegram",
            Self::Operator => "operator",
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `type` of a file message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileType {
    Image,
    Video,
    Audio,
    Voice,
    Document,
    Contact,
}

impl FileType {
    pub const ALL: [FileType; 6] =
        [Self::Image, Self::Video, Self::Audio, Self::Voice, Self::Document, Self::Contact];

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str().eq_ignore_ascii_case(s))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Video => "video",
            Self::Audio => "audio",
            Self::Voice => "voice",
            Self::Document => "document",
            Self::Contact => "contact",
        }
    }
}

/// Where a message is in its life. Outbound: pending → sent → delivered → read, or failed/expired.
/// Inbound: unread → read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageStatus {
    Pending,
    Sent,
    Delivered,
    Read,
    Failed,
    Expired,
    Unread,
}

impl MessageStatus {
    const ALL: [MessageStatus; 7] =
        [Self::Pending, Self::Sent, Self::Delivered, Self::Read, Self::Failed, Self::Expired, Self::Unread];

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The statuses of an outbound message a platform's report of `self` may replace: a status only
    /// moves forwards (a late `delivered` after `read` changes nothing; nothing undoes `failed`).
    pub fn replaces(self) -> &'static [MessageStatus] {
        match self {
            Self::Sent => &[Self::Pending],
            Self::Delivered => &[Self::Pending, Self::Sent],
            Self::Read => &[Self::Pending, Self::Sent, Self::Delivered],
            Self::Failed => &[Self::Pending, Self::Sent],
            Self::Pending | Self::Expired | Self::Unread => &[],
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Read => "read",
            Self::Failed => "failed",
            Self::Expired => "expired",
            Self::Unread => "unread",
        }
    }
}

/// What a credential may do. The account's own login has every scope; an access has those it was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scopes(u8);

/// One scope of SPEC §3.4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    ChatRead,
    ChatWrite,
    WebhookManage,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Self::ChatRead, Self::ChatWrite, Self::WebhookManage];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ChatRead => "chat:read",
            Self::ChatWrite => "chat:write",
            Self::WebhookManage => "webhook:manage",
        }
    }

    fn bit(self) -> u8 {
        match self {
            Self::ChatRead => 1,
            Self::ChatWrite => 2,
            Self::WebhookManage => 4,
        }
    }
}

impl Scopes {
    pub const NONE: Scopes = Scopes(0);
    pub const ALL: Scopes = Scopes(7);

    pub fn allows(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    pub fn with(self, scope: Scope) -> Self {
        Scopes(self.0 | scope.bit())
    }

    /// Parses a comma- or space-separated list; `None` names the first unknown scope.
    pub fn parse(list: &str) -> Result<Self, String> {
        list.split([',', ' ']).map(str::trim).filter(|s| !s.is_empty()).try_fold(Scopes::NONE, |acc, s| {
            Scope::ALL
                .into_iter()
                .find(|sc| sc.as_str() == s)
                .map(|sc| acc.with(sc))
                .ok_or_else(|| s.to_string())
        })
    }

    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.allows(*s))
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Scope::as_str).collect();
        f.write_str(&names.join(" "))
    }
}

/// An account's connection to a platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    pub id: i64,
    pub account_id: i64,
    pub platform: Platform,
    pub name: String,
}

/// The file part of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub file_type: FileType,
    pub url: String,
    pub thumb_url: Option<String>,
}

/// A stored message, as the read methods show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: i64,
    pub channel_id: i64,
    pub platform: Platform,
    pub destination: String,
    pub text: Option<String>,
    pub attachment: Option<Attachment>,
    /// true when the account sent it, false when it was received.
    pub sent: bool,
    pub status: MessageStatus,
    pub reason: Option<String>,
    /// Unix milliseconds, UTC.
    pub created_at: i64,
}

/// A message to store as `pending` together with its outbox entry.
#[derive(Debug, Clone)]
pub struct OutboundMessage {
    pub account_id: i64,
    pub channel_id: i64,
    pub destination: String,
    pub text: Option<String>,
    pub attachment: Option<Attachment>,
    /// Unix milliseconds after which it must not be sent.
    pub expires_at: Option<i64>,
    pub idempotency_key: Option<String>,
    /// Whether a worker must take it to its platform (Telegram, WhatsApp). Webchat and operator
    /// messages are delivered by being stored — their pages read them there — so they are `sent` at once.
    pub needs_delivery: bool,
    pub now: i64,
}

/// A message received from a platform, stored `unread`.
#[derive(Debug, Clone)]
pub struct InboundMessage {
    pub channel_id: i64,
    pub destination: String,
    pub text: Option<String>,
    pub attachment: Option<Attachment>,
    /// The platform's id of what carried it (Telegram `update_id`, WhatsApp message id): stored once
    /// per channel, so a platform's retry stores nothing twice.
    pub dedup_key: Option<String>,
    pub now: i64,
}

/// A channel's platform settings (bot token, access token, secrets, …). Secrets all: never shown by the
/// API, never logged — `Debug` prints the keys only.
#[derive(Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct ChannelSettings(std::collections::BTreeMap<String, String>);

impl ChannelSettings {
    /// A setting, if present and not empty.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str).filter(|v| !v.is_empty())
    }

    /// Every key with its value.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Sets a value, or removes the key with `None`.
    pub fn set(&mut self, key: &str, value: Option<String>) {
        match value {
            Some(v) => self.0.insert(key.to_string(), v),
            None => self.0.remove(key),
        };
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_else(|_| "{}".into())
    }
}

impl fmt::Debug for ChannelSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

/// A channel with its settings, as connectors and inbound webhooks need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelConfig {
    pub channel: Channel,
    pub settings: ChannelSettings,
}

/// Who is calling, once authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    pub account_id: i64,
    pub credential_id: i64,
    pub scopes: Scopes,
}
