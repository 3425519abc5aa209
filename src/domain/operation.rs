//! The methods a caller can name, the class they belong to, and the scope each needs.

use super::error::{DomainError, DomainResult, ErrorCode};
use super::model::Scope;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    GetChatChannels,
    SendMessage,
    SendFile,
    GetChats,
    GetMessages,
    GetUnreadMessages,
    SendMessages,
    GetMessageStatus,
    MarkRead,
    SetWebhook,
    GetWebhooks,
    DeleteWebhook,
    GetDeliveries,
    Redeliver,
}

/// The classes chatgate knows.
const CLASSES: [&str; 2] = ["chat", "webhook"];

impl Operation {
    pub const ALL: [Operation; 14] = [
        Self::GetChatChannels,
        Self::SendMessage,
        Self::SendFile,
        Self::GetChats,
        Self::GetMessages,
        Self::GetUnreadMessages,
        Self::SendMessages,
        Self::GetMessageStatus,
        Self::MarkRead,
        Self::SetWebhook,
        Self::GetWebhooks,
        Self::DeleteWebhook,
        Self::GetDeliveries,
        Self::Redeliver,
    ];

    pub fn class(self) -> &'static str {
        match self {
            Self::SetWebhook
            | Self::GetWebhooks
            | Self::DeleteWebhook
            | Self::GetDeliveries
            | Self::Redeliver => "webhook",
            _ => "chat",
        }
    }

    /// The method name on the wire (lower case, as Afilnet spells it).
    pub fn method(self) -> &'static str {
        match self {
            Self::GetChatChannels => "getchatchannels",
            Self::SendMessage => "sendmessage",
            Self::SendFile => "sendfile",
            Self::GetChats => "getchats",
            Self::GetMessages => "getmessages",
            Self::GetUnreadMessages => "getunreadmessages",
            Self::SendMessages => "sendmessages",
            Self::GetMessageStatus => "getmessagestatus",
            Self::MarkRead => "markread",
            Self::SetWebhook => "setwebhook",
            Self::GetWebhooks => "getwebhooks",
            Self::DeleteWebhook => "deletewebhook",
            Self::GetDeliveries => "getdeliveries",
            Self::Redeliver => "redeliver",
        }
    }

    /// `chat:read` for the get* methods, `chat:write` for send* and markread, `webhook:manage` for the
    /// webhook class (SPEC §3.4).
    pub fn scope(self) -> Scope {
        match self {
            Self::GetChatChannels
            | Self::GetChats
            | Self::GetMessages
            | Self::GetUnreadMessages
            | Self::GetMessageStatus => Scope::ChatRead,
            Self::SendMessage | Self::SendFile | Self::SendMessages | Self::MarkRead => Scope::ChatWrite,
            Self::SetWebhook
            | Self::GetWebhooks
            | Self::DeleteWebhook
            | Self::GetDeliveries
            | Self::Redeliver => Scope::WebhookManage,
        }
    }

    /// The operation with this method name (exact, lower case), whatever its class.
    pub fn by_method(method: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.method() == method)
    }

    /// Class and method as the caller named them (case-insensitive), checked in the spec's order.
    pub fn resolve(class: Option<&str>, method: Option<&str>) -> DomainResult<Self> {
        let class = class.filter(|c| !c.is_empty()).ok_or(ErrorCode::MissingClass)?;
        if !CLASSES.iter().any(|c| c.eq_ignore_ascii_case(class)) {
            return Err(DomainError::new(ErrorCode::IncorrectClass));
        }
        let method = method.filter(|m| !m.is_empty()).ok_or(ErrorCode::MissingMethod)?;
        Self::ALL
            .into_iter()
            .find(|op| op.class().eq_ignore_ascii_case(class) && op.method().eq_ignore_ascii_case(method))
            .ok_or(DomainError::new(ErrorCode::IncorrectMethod))
    }
}
