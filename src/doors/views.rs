//! The API doors' answers in Afilnet's wire: ids as decimal strings, dates as `YYYY-MM-DD HH:MM:SS`
//! (UTC), `sent` as 0/1, lists as `{"list": [...]}`. The plain, Basic and JSON doors serialize a
//! command's `Reply` through [`ReplyView`] to JSON, the SOAP door to XML — one place for the names.

use crate::domain::contacts::{Assignee, Contact};
use serde::Serialize;

use crate::domain::Reply;
pub use crate::domain::events::MessageView;
use crate::domain::model::Channel;
use crate::domain::templates::Template;
use crate::domain::values::format_datetime;
use crate::domain::webhook_ports::{DeliveryInfo, Webhook};

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

impl From<&Webhook> for WebhookView {
    fn from(w: &Webhook) -> Self {
        Self { webhookid: w.id.to_string(), url: w.url.clone(), events: w.events.to_list() }
    }
}

impl From<&DeliveryInfo> for DeliveryView {
    fn from(d: &DeliveryInfo) -> Self {
        Self {
            deliveryid: d.id.to_string(),
            webhookid: d.webhook_id.to_string(),
            event: d.event.clone(),
            eventid: d.event_id.clone(),
            messageid: d.message_id.map(|id| id.to_string()),
            status: d.state.clone(),
            attempts: d.attempts,
            lastcode: d.last_code,
            nextattempt: d.next_at.map(format_datetime).unwrap_or_default(),
            datetime: format_datetime(d.created_at),
        }
    }
}

/// `gettemplates`: a template, its placeholders (`1`, `2`, … or names) and its body's text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TemplateView {
    pub name: String,
    pub language: String,
    pub status: String,
    pub category: String,
    pub parameters: Vec<String>,
    pub text: String,
}

impl From<&Template> for TemplateView {
    fn from(t: &Template) -> Self {
        Self {
            name: t.name.clone(),
            language: t.language.clone(),
            status: t.status.clone(),
            category: t.category.clone(),
            parameters: t.placeholders(),
            text: t.body.clone(),
        }
    }
}

/// `getchatinfo`: the contact and custom data, the conversation's `state` (`open` or `ended`) and
/// `assignee` (a login, `group:NAME`, or empty); `window` is when WhatsApp's 24-hour window closes,
/// empty when it is not open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChatInfoView {
    pub platformid: String,
    pub platform: &'static str,
    pub destination: String,
    pub contact: ContactView,
    /// The custom data as a JSON text (`{}` when none), as `setcontact` takes it in every door.
    pub custom: String,
    pub state: &'static str,
    pub assignee: String,
    /// What the contact left after the last end: `1`–`5`, words, the survey's answer; empty when not.
    pub rating: String,
    pub feedback: String,
    pub survey: String,
    pub window: String,
}

/// A contact's fields, `""` when not given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContactView {
    pub name: String,
    pub email: String,
    pub phone_number: String,
    pub company: String,
    pub external_customer_id: String,
}

impl From<&Contact> for ContactView {
    fn from(c: &Contact) -> Self {
        let field = |k: &str| c.fields.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_string();
        Self {
            name: field("name"),
            email: field("email"),
            phone_number: field("phone_number"),
            company: field("company"),
            external_customer_id: field("external_customer_id"),
        }
    }
}

/// `setcontact`: the contact as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContactReplyView {
    pub contact: ContactView,
    pub custom: String,
}

/// A `Reply` as the API doors show it (the `result` of a success).
pub struct ReplyView<'a>(pub &'a Reply);

#[derive(Serialize)]
struct ListOf<T> {
    list: Vec<T>,
}

#[derive(Serialize)]
struct Nothing {}

fn list<T: Serialize, S: serde::Serializer>(list: Vec<T>, s: S) -> Result<S::Ok, S::Error> {
    ListOf { list }.serialize(s)
}

impl Serialize for ReplyView<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Reply::Empty => Nothing {}.serialize(s),
            Reply::MessageId(id) => MessageIdView { messageid: id.to_string() }.serialize(s),
            Reply::Status(m) => MessageStatusView {
                messageid: m.id.to_string(),
                status: m.status.as_str(),
                reason: m.reason.clone().unwrap_or_default(),
                datetime: format_datetime(m.created_at),
            }
            .serialize(s),
            Reply::Channels(channels) => list(channels.iter().map(ChannelView::from).collect(), s),
            Reply::Messages(messages) => list(messages.iter().map(MessageView::new).collect(), s),
            Reply::Unread(messages) => {
                list(messages.iter().map(|m| MessageView::new(m).with_issent()).collect(), s)
            }
            Reply::Bulk(items) => list(
                items
                    .iter()
                    .map(|item| match item {
                        Ok(id) => BulkItemView::Sent { messageid: id.to_string() },
                        Err(e) => BulkItemView::Refused { error: e.code.as_str(), param: e.param },
                    })
                    .collect(),
                s,
            ),
            Reply::WebhookCreated { id, secret } => {
                WebhookCreatedView { webhookid: id.to_string(), secret: secret.clone() }.serialize(s)
            }
            Reply::Webhooks(hooks) => list(hooks.iter().map(WebhookView::from).collect(), s),
            Reply::Deliveries(deliveries) => list(deliveries.iter().map(DeliveryView::from).collect(), s),
            Reply::Templates(templates) => list(templates.iter().map(TemplateView::from).collect(), s),
            Reply::ChatInfo(info) => ChatInfoView {
                platformid: info.channel.id.to_string(),
                platform: info.channel.platform.as_str(),
                destination: info.destination.clone(),
                contact: ContactView::from(&info.conversation.contact),
                custom: info.conversation.contact.custom_json(),
                state: info.conversation.state(),
                assignee: info.conversation.assignee.as_ref().map(Assignee::stored).unwrap_or_default(),
                rating: info.conversation.rating.map(|r| r.to_string()).unwrap_or_default(),
                feedback: info.conversation.feedback.clone().unwrap_or_default(),
                survey: info.conversation.survey.clone().unwrap_or_default(),
                window: info.window.map(format_datetime).unwrap_or_default(),
            }
            .serialize(s),
            Reply::Contact(contact) => {
                ContactReplyView { contact: ContactView::from(contact), custom: contact.custom_json() }
                    .serialize(s)
            }
        }
    }
}
