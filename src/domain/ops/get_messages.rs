//! `chat.getmessages`: a chat's messages, newest first, `limit` at a time, paged with `before`.

use crate::domain::context::{ChannelRef, Context};
use crate::domain::error::DomainResult;
use crate::domain::params::Params;
use crate::domain::reply::Reply;
use crate::domain::values;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetMessages {
    pub channel: ChannelRef,
    pub destination: String,
    pub limit: u32,
    pub before: Option<i64>,
}

impl GetMessages {
    pub fn parse(params: &Params, _now: i64) -> DomainResult<Self> {
        params.require_all(&["platform", "platformid", "destination"])?;
        let channel = ChannelRef::parse(params)?;
        Ok(Self {
            destination: values::destination(params, channel.platform)?,
            limit: values::limit(params)?,
            before: values::before(params)?,
            channel,
        })
    }

    pub async fn apply(self, ctx: &Context<'_>) -> DomainResult<Reply> {
        let channel = ctx.channel(self.channel).await?;
        ctx.require_chat(&channel, &self.destination).await?;
        // `before` must be a message of this very chat: a foreign id would silently page nothing.
        if let Some(before) = self.before {
            ctx.require_message_in_chat(&channel, &self.destination, before, "before").await?;
        }
        let list = ctx.store.messages(channel.id, &self.destination, self.before, self.limit).await?;
        Ok(Reply::Messages(list))
    }
}
