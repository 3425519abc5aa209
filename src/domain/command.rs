//! `Command`: one parsed, validated request of any door, and the single place it is applied.

use super::context::Context;
use super::error::DomainResult;
use super::operation::Operation;
use super::ops::{
    delete_webhook::DeleteWebhook, get_deliveries::GetDeliveries, get_webhooks::GetWebhooks,
    redeliver::Redeliver, set_webhook::SetWebhook,
};
use super::ops::{
    get_chat_channels::GetChatChannels, get_chats::GetChats, get_message_status::GetMessageStatus,
    get_messages::GetMessages, get_unread_messages::GetUnreadMessages, mark_read::MarkRead,
    send_file::SendFile, send_message::SendMessage, send_messages::SendMessages,
};
use super::params::Params;
use super::reply::Reply;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    GetChatChannels(GetChatChannels),
    SendMessage(SendMessage),
    SendFile(SendFile),
    GetChats(GetChats),
    GetMessages(GetMessages),
    GetUnreadMessages(GetUnreadMessages),
    SendMessages(SendMessages),
    GetMessageStatus(GetMessageStatus),
    MarkRead(MarkRead),
    SetWebhook(SetWebhook),
    GetWebhooks(GetWebhooks),
    DeleteWebhook(DeleteWebhook),
    GetDeliveries(GetDeliveries),
    Redeliver(Redeliver),
}

impl Command {
    /// Parses the parameters of `op`: the first missing compulsory one, then the values.
    /// `now` (Unix ms) is needed to judge `invalidationtime`.
    pub fn parse(op: Operation, params: &Params, now: i64) -> DomainResult<Self> {
        Ok(match op {
            Operation::GetChatChannels => Self::GetChatChannels(GetChatChannels),
            Operation::SendMessage => Self::SendMessage(SendMessage::parse(params, now)?),
            Operation::SendFile => Self::SendFile(SendFile::parse(params, now)?),
            Operation::GetChats => Self::GetChats(GetChats::parse(params)?),
            Operation::GetMessages => Self::GetMessages(GetMessages::parse(params)?),
            Operation::GetUnreadMessages => Self::GetUnreadMessages(GetUnreadMessages::parse(params)?),
            Operation::SendMessages => Self::SendMessages(SendMessages::parse(params, now)?),
            Operation::GetMessageStatus => Self::GetMessageStatus(GetMessageStatus::parse(params)?),
            Operation::MarkRead => Self::MarkRead(MarkRead::parse(params)?),
            Operation::SetWebhook => Self::SetWebhook(SetWebhook::parse(params)?),
            Operation::GetWebhooks => Self::GetWebhooks(GetWebhooks),
            Operation::DeleteWebhook => Self::DeleteWebhook(DeleteWebhook::parse(params)?),
            Operation::GetDeliveries => Self::GetDeliveries(GetDeliveries::parse(params)?),
            Operation::Redeliver => Self::Redeliver(Redeliver::parse(params)?),
        })
    }

    /// The operation this command is (its scope among what the registration says).
    pub fn operation(&self) -> Operation {
        match self {
            Self::GetChatChannels(_) => Operation::GetChatChannels,
            Self::SendMessage(_) => Operation::SendMessage,
            Self::SendFile(_) => Operation::SendFile,
            Self::GetChats(_) => Operation::GetChats,
            Self::GetMessages(_) => Operation::GetMessages,
            Self::GetUnreadMessages(_) => Operation::GetUnreadMessages,
            Self::SendMessages(_) => Operation::SendMessages,
            Self::GetMessageStatus(_) => Operation::GetMessageStatus,
            Self::MarkRead(_) => Operation::MarkRead,
            Self::SetWebhook(_) => Operation::SetWebhook,
            Self::GetWebhooks(_) => Operation::GetWebhooks,
            Self::DeleteWebhook(_) => Operation::DeleteWebhook,
            Self::GetDeliveries(_) => Operation::GetDeliveries,
            Self::Redeliver(_) => Operation::Redeliver,
        }
    }

    pub async fn apply(self, ctx: &Context<'_>) -> DomainResult<Reply> {
        match self {
            Self::GetChatChannels(c) => c.apply(ctx).await,
            Self::SendMessage(c) => c.apply(ctx).await,
            Self::SendFile(c) => c.apply(ctx).await,
            Self::GetChats(c) => c.apply(ctx).await,
            Self::GetMessages(c) => c.apply(ctx).await,
            Self::GetUnreadMessages(c) => c.apply(ctx).await,
            Self::SendMessages(c) => c.apply(ctx).await,
            Self::GetMessageStatus(c) => c.apply(ctx).await,
            Self::MarkRead(c) => c.apply(ctx).await,
            Self::SetWebhook(c) => c.apply(ctx).await,
            Self::GetWebhooks(c) => c.apply(ctx).await,
            Self::DeleteWebhook(c) => c.apply(ctx).await,
            Self::GetDeliveries(c) => c.apply(ctx).await,
            Self::Redeliver(c) => c.apply(ctx).await,
        }
    }
}
