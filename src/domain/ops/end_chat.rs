//! `chat.endchat`: ends the conversation (`conversation.ended`); the chat's next message opens it again.
//! Ending an ended conversation changes nothing and fires nothing.

use crate::domain::context::{ChannelRef, Context};
use crate::domain::error::{DomainError, DomainResult, ErrorCode};
use crate::domain::params::Params;
use crate::domain::reply::Reply;
use crate::domain::values;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndChat {
    pub channel: ChannelRef,
    pub destination: String,
}

impl EndChat {
    pub fn parse(params: &Params, _now: i64) -> DomainResult<Self> {
        params.require_all(&["platform", "platformid", "destination"])?;
        let channel = ChannelRef::parse(params)?;
        Ok(Self { destination: values::destination(params, channel.platform)?, channel })
    }

    pub async fn apply(self, ctx: &Context<'_>) -> DomainResult<Reply> {
        let channel = ctx.channel(self.channel).await?;
        match ctx.store.end_conversation(channel.id, &self.destination, ctx.now).await? {
            Some(_) => Ok(Reply::Empty),
            None => Err(DomainError::param(ErrorCode::ChatNotFound, "destination")),
        }
    }
}
