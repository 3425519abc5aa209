//! `chat.getchatinfo`: what chatgate knows of a chat — its contact and custom data, whether the
//! conversation is open or ended, its assignee, and for WhatsApp until when its 24-hour window is open.

use crate::domain::context::{ChannelRef, Context};
use crate::domain::error::{DomainError, DomainResult, ErrorCode};
use crate::domain::model::Platform;
use crate::domain::params::Params;
use crate::domain::reply::{ChatInfo, Reply};
use crate::domain::values;
use crate::domain::window::Window;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetChatInfo {
    pub channel: ChannelRef,
    pub destination: String,
}

impl GetChatInfo {
    pub fn parse(params: &Params, _now: i64) -> DomainResult<Self> {
        params.require_all(&["platform", "platformid", "destination"])?;
        let channel = ChannelRef::parse(params)?;
        Ok(Self { destination: values::destination(params, channel.platform)?, channel })
    }

    pub async fn apply(self, ctx: &Context<'_>) -> DomainResult<Reply> {
        let channel = ctx.channel(self.channel).await?;
        let conversation = ctx.store.conversation(channel.id, &self.destination).await?;
        let conversation = conversation.ok_or(DomainError::param(ErrorCode::ChatNotFound, "destination"))?;
        let window = match channel.platform {
            Platform::Whatsapp => {
                let last = ctx.store.last_inbound_at(channel.id, &self.destination).await?;
                match Window::of(last, ctx.now) {
                    Window::Open(until) => Some(until),
                    Window::Closed | Window::Unknown => None,
                }
            }
            _ => None,
        };
        Ok(Reply::ChatInfo(Box::new(ChatInfo {
            channel,
            destination: self.destination,
            window,
            conversation,
        })))
    }
}
