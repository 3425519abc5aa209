//! `chat.getchats`: the last message of each chat of a channel, most recent chat first, `limit` chats
//! at a time (default and most 1000: an Afilnet caller that sends neither sees every chat of a normal
//! account), paged with `before` (chats whose last message is older than that message).

use crate::domain::context::{ChannelRef, Context};
use crate::domain::error::DomainResult;
use crate::domain::params::Params;
use crate::domain::reply::Reply;
use crate::domain::values;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetChats {
    pub channel: ChannelRef,
    pub limit: u32,
    pub before: Option<i64>,
}

impl GetChats {
    pub fn parse(params: &Params, _now: i64) -> DomainResult<Self> {
        params.require_all(&["platform", "platformid"])?;
        Ok(Self {
            channel: ChannelRef::parse(params)?,
            limit: values::limit_or(params, values::MAX_LIMIT)?,
            before: values::before(params)?,
        })
    }

    pub async fn apply(self, ctx: &Context<'_>) -> DomainResult<Reply> {
        let channel = ctx.channel(self.channel).await?;
        // `before` must be a message of this channel: a foreign id would silently page nothing.
        if let Some(before) = self.before {
            ctx.require_message_in_channel(&channel, before, "before").await?;
        }
        let last = ctx.store.last_message_per_chat(channel.id, self.before, self.limit).await?;
        Ok(Reply::Messages(last))
    }
}
