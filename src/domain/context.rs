//! What an operation runs with: the store, who is calling, and the time of the call.

use super::directory::ChannelDirectory;
use super::error::{DomainError, DomainResult, ErrorCode};
use super::model::{Channel, Platform, Principal};
use super::params::Params;
use super::ports::CommandStore;
use super::template_book::TemplateBook;
use super::values;
use super::webhook_ports::UrlGuard;

pub struct Context<'a> {
    pub store: &'a dyn CommandStore,
    pub channels: &'a ChannelDirectory,
    /// WhatsApp channels' templates and fallback templates.
    pub templates: &'a TemplateBook,
    /// The SSRF rule for URLs customers give (webhook URLs).
    pub urls: &'a dyn UrlGuard,
    pub principal: Principal,
    /// Unix milliseconds.
    pub now: i64,
}

/// A channel as a caller names it: `platform` + `platformid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelRef {
    pub platform: Platform,
    pub id: i64,
}

impl ChannelRef {
    /// Reads and checks `platform` then `platformid` (both must be present already).
    pub fn parse(params: &Params) -> DomainResult<Self> {
        let platform = values::platform(params)?;
        let id = values::platform_id(params)?;
        Ok(Self { platform, id })
    }
}

impl Context<'_> {
    /// The caller's channel, or `CHANNEL_NOT_FOUND` when it is not theirs or its platform differs.
    pub async fn channel(&self, r: ChannelRef) -> DomainResult<Channel> {
        // An access bound to one channel uses that one only.
        if self.principal.channel.is_some_and(|only| only != r.id) {
            return Err(DomainError::new(ErrorCode::AccessDenied));
        }
        self.channels
            .channel(self.principal.account_id, r.id)
            .await?
            .filter(|c| c.platform == r.platform)
            .ok_or(DomainError::param(ErrorCode::ChannelNotFound, "platformid"))
    }

    /// `MESSAGE_NOT_FOUND` (naming `param`) unless `message_id` is a message of this very chat.
    pub async fn require_message_in_chat(
        &self,
        channel: &Channel,
        destination: &str,
        message_id: i64,
        param: &'static str,
    ) -> DomainResult<()> {
        let found = self.store.message(self.principal.account_id, message_id).await?;
        if found.is_some_and(|m| m.channel_id == channel.id && m.destination == destination) {
            Ok(())
        } else {
            Err(DomainError::param(ErrorCode::MessageNotFound, param))
        }
    }

    /// `MESSAGE_NOT_FOUND` (for `param`) unless the message belongs to one of the channel's chats.
    pub async fn require_message_in_channel(
        &self,
        channel: &Channel,
        message_id: i64,
        param: &'static str,
    ) -> DomainResult<()> {
        let found = self.store.message(self.principal.account_id, message_id).await?;
        if found.is_some_and(|m| m.channel_id == channel.id) {
            Ok(())
        } else {
            Err(DomainError::param(ErrorCode::MessageNotFound, param))
        }
    }

    /// `CHAT_NOT_FOUND` unless the channel has a chat with `destination`.
    pub async fn require_chat(&self, channel: &Channel, destination: &str) -> DomainResult<()> {
        if self.store.chat_exists(channel.id, destination).await? {
            Ok(())
        } else {
            Err(DomainError::param(ErrorCode::ChatNotFound, "destination"))
        }
    }
}
