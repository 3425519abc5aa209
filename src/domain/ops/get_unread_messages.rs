//! `chat.getunreadmessages`: the oldest received messages still unread, oldest first, `limit` at a time
//! (default and most 1000); those returned become `read` in the same transaction unless `markread=0`,
//! so calling again gives the next ones. Items show their status after the call.

use crate::domain::context::{ChannelRef, Context};
use crate::domain::error::DomainResult;
use crate::domain::params::Params;
use crate::domain::reply::Reply;
use crate::domain::values;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetUnreadMessages {
    pub channel: ChannelRef,
    pub destination: String,
    pub mark_read: bool,
    pub limit: u32,
}

impl GetUnreadMessages {
    pub fn parse(params: &Params, _now: i64) -> DomainResult<Self> {
        params.require_all(&["platform", "platformid", "destination"])?;
        let channel = ChannelRef::parse(params)?;
        Ok(Self {
            destination: values::destination(params, channel.platform)?,
            mark_read: values::flag(params, "markread", true)?,
            limit: values::limit_or(params, values::MAX_LIMIT)?,
            channel,
        })
    }

    pub async fn apply(self, ctx: &Context<'_>) -> DomainResult<Reply> {
        let channel = ctx.channel(self.channel).await?;
        ctx.require_chat(&channel, &self.destination).await?;
        let list =
            ctx.store.unread_messages(channel.id, &self.destination, self.mark_read, self.limit).await?;
        Ok(Reply::Unread(list))
    }
}
