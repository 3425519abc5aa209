//! `chat.getchats`: the last message of each chat of a channel, most recent chat first.

use crate::domain::context::{ChannelRef, Context};
use crate::domain::error::DomainResult;
use crate::domain::params::Params;
use crate::domain::reply::{MessageView, Reply};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetChats {
    pub channel: ChannelRef,
}

impl GetChats {
    pub fn parse(params: &Params) -> DomainResult<Self> {
        params.require_all(&["platform", "platformid"])?;
        Ok(Self { channel: ChannelRef::parse(params)? })
    }

    pub async fn apply(self, ctx: &Context<'_>) -> DomainResult<Reply> {
        let channel = ctx.channel(self.channel).await?;
        let last = ctx.store.last_message_per_chat(channel.id).await?;
        Ok(Reply::Messages(last.iter().map(MessageView::new).collect()))
    }
}
