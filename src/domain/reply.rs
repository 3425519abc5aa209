//! What a successful command answers: domain values. Each door renders them in its own wire — the API
//! doors through `doors::views`, in Afilnet's field names and shapes.

use std::sync::Arc;

use super::error::DomainError;
use super::model::{Channel, Message};
use super::templates::Template;
use super::webhook_ports::{DeliveryInfo, Webhook};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Empty,
    /// The id of the message stored.
    MessageId(i64),
    /// One message, for its status.
    Status(Box<Message>),
    /// The account's channels (shared with the channel directory's cache).
    Channels(Arc<Vec<Channel>>),
    /// Messages: a chat's, or the last one of each chat.
    Messages(Vec<Message>),
    /// A chat's unread received messages (shown as they are after the call).
    Unread(Vec<Message>),
    /// A bulk send: each item's new message id, or why it was refused, in the list's order.
    Bulk(Vec<Result<i64, DomainError>>),
    /// A new webhook and its signing secret, shown this once.
    WebhookCreated {
        id: i64,
        secret: String,
    },
    Webhooks(Vec<Webhook>),
    Deliveries(Vec<DeliveryInfo>),
    /// A WhatsApp channel's templates.
    Templates(Vec<Template>),
    ChatInfo(Box<ChatInfo>),
    /// A chat's contact as stored after a change.
    Contact(super::contacts::Contact),
}

/// What `getchatinfo` tells of a chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatInfo {
    pub channel: Channel,
    pub destination: String,
    /// WhatsApp: until when (Unix ms) its 24-hour window is open, if it is.
    pub window: Option<i64>,
    pub conversation: super::contacts::Conversation,
}
