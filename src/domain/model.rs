//! The nouns of chatgate: platforms, channels, messages, scopes. Plain data, no I/O.

use std::fmt;

use super::templates::TemplateCall;

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
    /// Unix milliseconds, UTC: when the platform says it was written, for a received message.
    pub created_at: i64,
    /// What a received message carries besides its text and file.
    pub details: MessageDetails,
}

/// What a platform tells of a received message besides its text and file (SPEC §5.3). Stored as one
/// JSON value: each part is optional and most messages have only an author.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MessageDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<Author>,
    /// The payload or id of a tapped button or chosen list row (WhatsApp); the title is the text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// The file's own name, as the sender's device gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// Unix milliseconds of the last edit (Telegram), when the text was changed after it was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<i64>,
    /// An outbound WhatsApp template: what the connector sends (the text is its filled-in body).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<TemplateCall>,
}

impl MessageDetails {
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }

    /// The stored form: `None` when there is nothing to keep.
    pub fn to_json(&self) -> Option<String> {
        (!self.is_empty()).then(|| serde_json::to_string(self).unwrap_or_default()).filter(|s| !s.is_empty())
    }

    /// The stored form read back; what cannot be read is dropped rather than hiding the message.
    pub fn from_json(text: Option<&str>) -> Self {
        text.and_then(|t| serde_json::from_str(t).ok()).unwrap_or_default()
    }
}

/// Who wrote a received message: the name the platform shows and the sender's id there (WhatsApp
/// `wa_id`, Telegram user id) — in a group, each member is an author of the one chat.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Author {
    pub name: String,
    pub id: String,
}

/// A shared location. Coordinates are finite numbers (`Location::new` refuses others).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Location {
    pub latitude: f64,
    pub longitude: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

// Equality is total: NaN and the infinities never get in.
impl Eq for Location {}

impl Location {
    pub fn new(latitude: f64, longitude: f64, name: Option<String>, address: Option<String>) -> Option<Self> {
        let valid = latitude.is_finite()
            && longitude.is_finite()
            && (-90.0..=90.0).contains(&latitude)
            && (-180.0..=180.0).contains(&longitude);
        valid.then_some(Self { latitude, longitude, name, address })
    }

    /// The text a reader of the message sees: name, address and the coordinates.
    pub fn text(&self) -> String {
        let place = [self.name.as_deref(), self.address.as_deref()]
            .into_iter()
            .flatten()
            .filter(|s| !s.trim().is_empty())
            .collect::<Vec<_>>()
            .join(", ");
        let at = format!("{}, {}", self.latitude, self.longitude);
        if place.is_empty() { format!("Location: {at}") } else { format!("Location: {place} ({at})") }
    }
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
    /// A template to send (WhatsApp), else empty.
    pub details: MessageDetails,
    pub now: i64,
}

/// A message received from a platform, stored `unread`.
#[derive(Debug, Clone)]
pub struct InboundMessage {
    pub channel_id: i64,
    pub destination: String,
    pub text: Option<String>,
    pub attachment: Option<Attachment>,
    /// The platform's id of the message (Telegram chat and message id, WhatsApp message id): stored
    /// once per channel, so a platform's retry stores nothing twice.
    pub dedup_key: Option<String>,
    pub details: MessageDetails,
    /// When the platform says it was written (Unix ms); `now` when it does not say.
    pub written_at: Option<i64>,
    /// The person's name as the platform gives it (WhatsApp profile name, Telegram first/last name):
    /// the chat's contact takes it (`contact.updated` when it changed).
    pub contact_name: Option<String>,
    pub now: i64,
}

impl InboundMessage {
    /// Text a person typed into one of chatgate's own pages (webchat, console): no file, no platform id.
    pub fn typed(channel_id: i64, destination: String, text: String, now: i64) -> Self {
        Self {
            channel_id,
            destination,
            text: Some(text),
            attachment: None,
            dedup_key: None,
            contact_name: None,
            details: MessageDetails::default(),
            written_at: None,
            now,
        }
    }
}

/// A received message changed by its sender (a Telegram edit): the stored one with the same
/// `dedup_key` gets the new text and `edited_at`.
#[derive(Debug, Clone)]
pub struct InboundEdit {
    pub channel_id: i64,
    pub dedup_key: String,
    pub text: Option<String>,
    pub edited_at: i64,
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
    /// The one channel this credential may use (an access created with `--channel`); elsewhere
    /// `ACCESS_DENIED`.
    pub channel: Option<i64>,
}
