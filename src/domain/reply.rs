//! What a successful command answers, in the field names of the wire (SPEC §2). Doors render these:
//! JSON doors through serde, the SOAP door element by element.

use serde::Serialize;

use super::model::{Channel, Message};
use super::values::format_datetime;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChannelView {
    pub platformid: String,
    pub platform: &'static str,
    pub name: String,
}

impl From<&Channel> for ChannelView {
    fn from(c: &Channel) -> Self {
        Self { platformid: c.id.to_string(), platform: c.platform.as_str(), name: c.name.clone() }
    }
}

/// A message in a list. `issent` is Afilnet's name for `sent` in `getunreadmessages` only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageView {
    pub platformid: String,
    pub platform: &'static str,
    pub message: String,
    pub destination: String,
    pub messageid: String,
    pub sent: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issent: Option<u8>,
    pub status: &'static str,
    pub datetime: String,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub file_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fileurl: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thumburl: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl MessageView {
    pub fn new(m: &Message) -> Self {
        let att = m.attachment.as_ref();
        Self {
            platformid: m.channel_id.to_string(),
            platform: m.platform.as_str(),
            message: m.text.clone().unwrap_or_default(),
            destination: m.destination.clone(),
            messageid: m.id.to_string(),
            sent: u8::from(m.sent),
            issent: None,
            status: m.status.as_str(),
            datetime: format_datetime(m.created_at),
            file_type: att.map(|a| a.file_type.as_str()),
            fileurl: att.map(|a| a.url.clone()),
            thumburl: att.and_then(|a| a.thumb_url.clone()),
            reason: m.reason.clone(),
        }
    }

    pub fn with_issent(mut self) -> Self {
        self.issent = Some(self.sent);
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageIdView {
    pub messageid: String,
}

/// `getmessagestatus`: `reason` is always present, empty unless the message failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageStatusView {
    pub messageid: String,
    pub status: &'static str,
    pub reason: String,
    pub datetime: String,
}

/// One entry of a bulk send's answer: the new message id, or why that item was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum BulkItemView {
    Sent {
        messageid: String,
    },
    Refused {
        error: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        param: Option<&'static str>,
    },
}

/// `setwebhook`: the new webhook and its signing secret, shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebhookCreatedView {
    pub webhookid: String,
    pub secret: String,
}

/// A webhook in `getwebhooks`: `events` is `*` or a comma list of event names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebhookView {
    pub webhookid: String,
    pub url: String,
    pub events: String,
}

/// A delivery in `getdeliveries`. `nextattempt` is empty once the delivery is finished; `lastcode` is
/// the HTTP status of the last attempt, absent before one answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliveryView {
    pub deliveryid: String,
    pub webhookid: String,
    pub event: String,
    pub eventid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messageid: Option<String>,
    pub status: String,
    pub attempts: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lastcode: Option<i64>,
    pub nextattempt: String,
    pub datetime: String,
}

/// The `result` of a successful command. Lists are wrapped in `{"list": [...]}` as Afilnet does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Empty,
    MessageId(MessageIdView),
    Status(MessageStatusView),
    Channels(Vec<ChannelView>),
    Messages(Vec<MessageView>),
    Bulk(Vec<BulkItemView>),
    WebhookCreated(WebhookCreatedView),
    Webhooks(Vec<WebhookView>),
    Deliveries(Vec<DeliveryView>),
}

#[derive(Serialize)]
struct ListOf<'a, T> {
    list: &'a [T],
}

#[derive(Serialize)]
struct Nothing {}

impl Serialize for Reply {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Reply::Empty => Nothing {}.serialize(s),
            Reply::MessageId(v) => v.serialize(s),
            Reply::Status(v) => v.serialize(s),
            Reply::Channels(list) => ListOf { list }.serialize(s),
            Reply::Messages(list) => ListOf { list }.serialize(s),
            Reply::Bulk(list) => ListOf { list }.serialize(s),
            Reply::WebhookCreated(v) => v.serialize(s),
            Reply::Webhooks(list) => ListOf { list }.serialize(s),
            Reply::Deliveries(list) => ListOf { list }.serialize(s),
        }
    }
}
