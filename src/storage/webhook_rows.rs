//! Row types of the webhook tables and their conversion to the domain's webhook types.

use sqlx::FromRow;

use super::StoreResult;
use super::rows::MessageRow;
use crate::domain::contacts::{Assignee, Contact, Conversation};
use crate::domain::events::{Event, EventKind, EventSet, EventSubject, status_at_event};
use crate::domain::model::{Message, MessageStatus, Platform};
use crate::domain::webhook_ports::{DeliveryInfo, PendingDelivery, Webhook, WebhookTarget};
use crate::storage::StoreError;

#[derive(FromRow)]
pub struct WebhookRow {
    pub id: i64,
    pub url: String,
    pub events: i64,
}

impl From<WebhookRow> for Webhook {
    fn from(r: WebhookRow) -> Self {
        Webhook { id: r.id, url: r.url, events: EventSet(r.events) }
    }
}

#[derive(FromRow)]
pub struct DeliveryInfoRow {
    pub id: i64,
    pub webhook_id: i64,
    pub event: String,
    pub event_id: String,
    pub message_id: Option<i64>,
    pub state: String,
    pub attempts: i64,
    pub last_code: Option<i64>,
    pub next_at: Option<i64>,
    pub created_at: i64,
}

impl From<DeliveryInfoRow> for DeliveryInfo {
    fn from(r: DeliveryInfoRow) -> Self {
        DeliveryInfo {
            id: r.id,
            webhook_id: r.webhook_id,
            event: r.event,
            event_id: r.event_id,
            message_id: r.message_id,
            state: r.state,
            attempts: r.attempts,
            last_code: r.last_code,
            next_at: r.next_at,
            created_at: r.created_at,
        }
    }
}

/// The headers a webhook was stored with (a JSON object of strings).
pub fn target(url: String, headers: &str, secret: String) -> WebhookTarget {
    let headers: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(headers).unwrap_or_default();
    let headers =
        headers.into_iter().filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string()))).collect();
    WebhookTarget { url, headers, secret }
}

pub fn headers_json(headers: &[(String, String)]) -> String {
    let map: serde_json::Map<String, serde_json::Value> =
        headers.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect();
    serde_json::Value::Object(map).to_string()
}

/// The columns of a due delivery with its message, if it has one; `concat!` keeps the SQL a literal.
macro_rules! pending_delivery_select {
    () => {
        "SELECT d.id, d.attempts, d.window_start, d.event_id, d.event, d.message_status, d.reason AS event_reason, \
         d.operator, d.operator_status, d.created_at AS event_at, m.id AS message_id, c.channel_id, ch.platform, \
         c.destination, m.sent, m.status, m.reason, m.body, m.file_type, m.file_url, m.thumb_url, m.created_at, m.details, \
         d.chat_id AS event_chat, d.extra, c.contact, c.custom, c.ended_at, c.assignee \
         FROM webhook_deliveries d LEFT JOIN messages m ON m.id = d.message_id \
         LEFT JOIN chats c ON c.id = COALESCE(m.chat_id, d.chat_id) \
         LEFT JOIN channels ch ON ch.id = c.channel_id "
    };
}
pub(crate) use pending_delivery_select;

#[derive(FromRow)]
pub struct PendingDeliveryRow {
    pub id: i64,
    pub attempts: i64,
    pub window_start: i64,
    pub event_id: String,
    pub event: String,
    pub message_status: Option<String>,
    pub event_reason: Option<String>,
    pub operator: Option<String>,
    pub operator_status: Option<String>,
    pub event_at: i64,
    pub message_id: Option<i64>,
    pub channel_id: Option<i64>,
    pub platform: Option<String>,
    pub destination: Option<String>,
    pub sent: Option<bool>,
    pub status: Option<String>,
    pub reason: Option<String>,
    pub body: Option<String>,
    pub file_type: Option<String>,
    pub file_url: Option<String>,
    pub thumb_url: Option<String>,
    pub created_at: Option<i64>,
    pub details: Option<String>,
    pub event_chat: Option<i64>,
    pub extra: Option<String>,
    pub contact: Option<String>,
    pub custom: Option<String>,
    pub ended_at: Option<i64>,
    pub assignee: Option<String>,
}

impl TryFrom<PendingDeliveryRow> for PendingDelivery {
    type Error = StoreError;

    fn try_from(r: PendingDeliveryRow) -> StoreResult<Self> {
        let kind = EventKind::parse(&r.event)
            .ok_or_else(|| StoreError::Backend(format!("delivery {}: unknown event", r.id)))?;
        // The chat's person and conversation, for chat events (the chat is joined through the message
        // or named by the event).
        let conversation = r.contact.as_deref().map(|contact| Conversation {
            contact: Contact::from_stored(contact, r.custom.as_deref().unwrap_or("{}")),
            ended_at: r.ended_at,
            assignee: r.assignee.as_deref().map(Assignee::from_stored),
            ..Conversation::default()
        });
        let extra = match r.extra.as_deref().map(serde_json::from_str) {
            Some(Ok(serde_json::Value::Object(map))) => Some(map),
            _ => None,
        };
        let subject = match (r.operator, r.message_id) {
            (Some(login), _) => {
                EventSubject::Operator { login, status: r.operator_status.unwrap_or_default() }
            }
            (None, Some(id)) => {
                let row = MessageRow {
                    id,
                    channel_id: r.channel_id.unwrap_or_default(),
                    platform: r.platform.unwrap_or_default(),
                    destination: r.destination.unwrap_or_default(),
                    sent: r.sent.unwrap_or_default(),
                    status: r.status.unwrap_or_default(),
                    reason: r.reason,
                    body: r.body,
                    file_type: r.file_type,
                    file_url: r.file_url,
                    thumb_url: r.thumb_url,
                    created_at: r.created_at.unwrap_or_default(),
                    details: r.details,
                };
                let mut message = Message::try_from(row)?;
                let status = r.message_status.as_deref().and_then(MessageStatus::parse);
                status_at_event(&mut message, status, r.event_reason);
                EventSubject::Message(Box::new(message))
            }
            (None, None) => {
                match (r.event_chat, r.platform.as_deref().and_then(Platform::parse), r.destination) {
                    (Some(_), Some(platform), Some(destination)) => EventSubject::Chat {
                        platform,
                        channel_id: r.channel_id.unwrap_or_default(),
                        destination,
                    },
                    _ => EventSubject::Gone,
                }
            }
        };
        Ok(PendingDelivery {
            id: r.id,
            attempts: r.attempts,
            window_start: r.window_start,
            event: Event { id: r.event_id, kind, created_at: r.event_at, subject, conversation, extra },
        })
    }
}
