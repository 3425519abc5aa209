//! The events a webhook can ask for (SPEC §6), named as Userlike names them, and the JSON body a
//! receiver gets. Events are written by the store in the transaction of their cause; this module only
//! names them and says what their body looks like.

use serde::Serialize;

use super::contacts::Conversation;
use super::model::{Author, Location, Message, MessageStatus};
use super::values::format_datetime;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// The first message of a chat (either direction), or the first after an `end`.
    ChatStart,
    MessageReceived,
    /// An outbound message was accepted (any door, the console).
    MessageSent,
    /// Every status change of an outbound message.
    MessageStatus,
    /// No message in the chat for `chat.idle_end_secs`.
    ChatEnd,
    OperatorOnline,
    OperatorOffline,
    OperatorAway,
    OperatorBack,
    /// An operator or `chat.endchat` ended the conversation.
    ConversationEnded,
    /// The chat was assigned to another operator or group.
    ChatForward,
    /// A contact field or the custom data really changed.
    ContactUpdated,
    /// The contact rated the ended conversation (1–5).
    ChatRating,
    /// The contact left words with the rating.
    ChatFeedback,
    /// The contact answered the channel's survey.
    ChatSurvey,
    /// A session ended (idle or ended) with received messages nobody read.
    ChatUnread,
    /// A webchat channel's settings changed.
    WidgetConfig,
    /// The contact opened a page matching one of the channel's goals.
    ChatGoal,
    /// A chat's first message (either direction): a new contact.
    ContactCreated,
}

impl EventKind {
    /// In the order of their bits (stored in webhooks' event sets: new kinds go at the end).
    pub const ALL: [EventKind; 19] = [
        Self::ChatStart,
        Self::MessageReceived,
        Self::MessageSent,
        Self::MessageStatus,
        Self::ChatEnd,
        Self::OperatorOnline,
        Self::OperatorOffline,
        Self::OperatorAway,
        Self::OperatorBack,
        Self::ConversationEnded,
        Self::ChatForward,
        Self::ContactUpdated,
        Self::ChatRating,
        Self::ChatFeedback,
        Self::ChatSurvey,
        Self::ChatUnread,
        Self::WidgetConfig,
        Self::ChatGoal,
        Self::ContactCreated,
    ];

    /// `_type.event`, e.g. `chat_session.message_sent`.
    pub fn name(self) -> &'static str {
        match self {
            Self::ChatStart => "chat_session.start",
            Self::MessageReceived => "chat_session.message_received",
            Self::MessageSent => "chat_session.message_sent",
            Self::MessageStatus => "chat_session.message_status",
            Self::ChatEnd => "chat_session.end",
            Self::OperatorOnline => "operator.online",
            Self::OperatorOffline => "operator.offline",
            Self::OperatorAway => "operator.away",
            Self::OperatorBack => "operator.back",
            Self::ConversationEnded => "conversation.ended",
            Self::ChatForward => "chat_session.forward",
            Self::ContactUpdated => "contact.updated",
            Self::ChatRating => "chat_session.rating",
            Self::ChatFeedback => "chat_session.feedback",
            Self::ChatSurvey => "chat_session.survey",
            Self::ChatUnread => "chat_session.unread",
            Self::WidgetConfig => "um_widget.config",
            Self::ChatGoal => "chat_session.goal",
            Self::ContactCreated => "contact.created",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name().eq_ignore_ascii_case(name))
    }

    /// This kind's bit in an [`EventSet`] (stored, so never renumber).
    pub fn bit(self) -> i64 {
        1 << Self::ALL.iter().position(|k| *k == self).unwrap_or(0)
    }

    fn split(self) -> (&'static str, &'static str) {
        self.name().split_once('.').unwrap_or(("", self.name()))
    }
}

/// The events a webhook wants, as a bit set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventSet(pub i64);

impl EventSet {
    pub const ALL: EventSet = EventSet((1 << EventKind::ALL.len()) - 1);

    /// A comma list of names, or `*`; `None` when a name is unknown or nothing is named.
    pub fn parse<'a>(names: impl IntoIterator<Item = &'a str>) -> Option<Self> {
        let mut bits = 0;
        for name in names.into_iter().map(str::trim).filter(|n| !n.is_empty()) {
            bits |= if name == "*" { Self::ALL.0 } else { EventKind::parse(name)?.bit() };
        }
        (bits != 0).then_some(EventSet(bits))
    }

    pub fn contains(self, kind: EventKind) -> bool {
        self.0 & kind.bit() != 0
    }

    /// `*` for every event, else the names joined by commas.
    pub fn to_list(self) -> String {
        if self.0 & Self::ALL.0 == Self::ALL.0 {
            return "*".into();
        }
        EventKind::ALL
            .into_iter()
            .filter(|k| self.contains(*k))
            .map(EventKind::name)
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// One event as a receiver sees it, ready to be serialized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub id: String,
    pub kind: EventKind,
    /// Unix ms.
    pub created_at: i64,
    pub subject: EventSubject,
    /// The chat's person and conversation as they are when the event is sent (chat events only).
    pub conversation: Option<Conversation>,
    /// The event's own fields (`changed`, `operator_current`, …), merged into the body.
    pub extra: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventSubject {
    /// A chat event: the message (with the status it had when the event happened).
    Message(Box<Message>),
    Operator {
        login: String,
        status: String,
    },
    /// A chat event that names no message.
    Chat {
        platform: super::model::Platform,
        channel_id: i64,
        destination: String,
    },
    /// The message was deleted since (its chat's channel removed): the event still says what it was.
    Gone,
}

#[derive(Serialize)]
struct ChatView<'a> {
    platform: &'static str,
    platformid: String,
    destination: &'a str,
}

#[derive(Serialize)]
struct OperatorView<'a> {
    login: &'a str,
    status: &'a str,
}

#[derive(Serialize)]
struct Body<'a> {
    #[serde(rename = "_type")]
    kind: &'static str,
    event: &'static str,
    /// `event` again, for receivers written against Userlike's older callbacks.
    #[serde(rename = "_event")]
    old_event: &'static str,
    id: &'a str,
    created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    chat: Option<ChatView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<MessageView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    operator: Option<OperatorView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    contact: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    custom: Option<serde_json::Value>,
    /// `{"operator"}` or `{"group"}`, or null; chat events only.
    #[serde(skip_serializing_if = "Option::is_none")]
    assignee: Option<serde_json::Value>,
}

impl Event {
    /// The JSON body: `{"_type","event","id","created_at","chat","message"}` or, for operator events,
    /// `{…,"operator":{"login","status"}}`. The same event always gives the same bytes.
    pub fn body(&self) -> Vec<u8> {
        let (kind, event) = self.kind.split();
        let mut body = Body {
            kind,
            event,
            old_event: event,
            id: &self.id,
            created_at: format_datetime(self.created_at),
            chat: None,
            message: None,
            operator: None,
            contact: None,
            custom: None,
            assignee: None,
        };
        match &self.subject {
            EventSubject::Message(m) => {
                body.chat = Some(ChatView {
                    platform: m.platform.as_str(),
                    platformid: m.channel_id.to_string(),
                    destination: &m.destination,
                });
                body.message = Some(MessageView::new(m));
            }
            EventSubject::Chat { platform, channel_id, destination } => {
                body.chat = Some(ChatView {
                    platform: platform.as_str(),
                    platformid: channel_id.to_string(),
                    destination,
                });
            }
            EventSubject::Operator { login, status } => {
                body.operator = Some(OperatorView { login, status });
            }
            EventSubject::Gone => {}
        }
        if body.chat.is_some() {
            let c = self.conversation.clone().unwrap_or_default();
            body.contact = Some(c.contact.view());
            body.custom = Some(serde_json::Value::Object(c.contact.custom));
            body.assignee = Some(c.assignee.as_ref().map_or(serde_json::Value::Null, |a| a.view()));
        }
        // Plain structs of strings and JSON values: serializing cannot fail.
        let mut value = serde_json::to_value(&body).unwrap_or_default();
        if let (Some(extra), serde_json::Value::Object(out)) = (&self.extra, &mut value) {
            for (k, v) in extra {
                out.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        serde_json::to_vec(&value).unwrap_or_default()
    }
}

/// The status an operator event reports.
pub fn operator_status(kind: EventKind) -> &'static str {
    match kind {
        EventKind::OperatorOffline => "offline",
        EventKind::OperatorAway => "away",
        _ => "online",
    }
}

/// The status a message had at an event, when the event recorded one.
pub fn status_at_event(m: &mut Message, status: Option<MessageStatus>, reason: Option<String>) {
    if let Some(s) = status {
        m.status = s;
        m.reason = reason;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_lists_parse_and_print() {
        let set = EventSet::parse("chat_session.start, Chat_Session.END".split(',')).unwrap();
        assert!(set.contains(EventKind::ChatStart) && set.contains(EventKind::ChatEnd));
        assert!(!set.contains(EventKind::MessageSent));
        assert_eq!(set.to_list(), "chat_session.start,chat_session.end");
        assert_eq!(EventSet::parse(["*"]), Some(EventSet::ALL));
        assert_eq!(EventSet::ALL.to_list(), "*");
        assert_eq!(EventSet::parse(["chat_session.nope"]), None);
        assert_eq!(EventSet::parse([" ", ""]), None);
    }
}

/// A message as events carry it, and as the API's lists show it (`doors::views`): Afilnet's field
/// names. `issent` is Afilnet's name for `sent` in `getunreadmessages` only.
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
    /// Who wrote a received message (name and platform id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<Author>,
    /// A button or list reply's payload or id (the title is `message`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// A received file's own name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// When the sender last edited it, `YYYY-MM-DD HH:MM:SS` UTC.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edited: Option<String>,
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
            // A location is a message type of its own, with no file.
            file_type: att
                .map(|a| a.file_type.as_str())
                .or_else(|| m.details.location.as_ref().map(|_| "location")),
            fileurl: att.map(|a| a.url.clone()),
            thumburl: att.and_then(|a| a.thumb_url.clone()),
            reason: m.reason.clone(),
            author: m.details.author.clone(),
            reply: m.details.reply.clone(),
            location: m.details.location.clone(),
            filename: m.details.file_name.clone(),
            edited: m.details.edited_at.map(format_datetime),
        }
    }

    pub fn with_issent(mut self) -> Self {
        self.issent = Some(self.sent);
        self
    }
}
