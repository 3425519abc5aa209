//! `chat.markread`: every received message of a chat up to and including `messageid` becomes `read`.

use crate::domain::context::{ChannelRef, Context};
use crate::domain::error::DomainResult;
use crate::domain::params::Params;
use crate::domain::reply::Reply;
use crate::domain::values;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkRead {
    pub channel: ChannelRef,
    pub destination: String,
    pub up_to: i64,
}

impl MarkRead {
    pub fn parse(params: &Params, _now: i64) -> DomainResult<Self> {
        params.require_all(&["platform", "platformid", "destination", "messageid"])?;
        let channel = ChannelRef::parse(params)?;
        Ok(Self {
            destination: values::destination(params, channel.platform)?,
            up_to: values::message_id(params, "messageid")?,
            channel,
        })
    }

    pub async fn apply(self, ctx: &Context<'_>) -> DomainResult<Reply> {
        let channel = ctx.channel(self.channel).await?;
        ctx.require_chat(&channel, &self.destination).await?;
        ctx.require_message_in_chat(&channel, &self.destination, self.up_to, "messageid").await?;
        ctx.store.mark_read(channel.id, &self.destination, self.up_to).await?;
        Ok(Reply::Empty)
    }
}
