//! `chat.getchatchannels`: the caller's channels.

use crate::domain::context::Context;
use crate::domain::error::DomainResult;
use crate::domain::reply::Reply;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetChatChannels;

impl GetChatChannels {
    pub async fn apply(self, ctx: &Context<'_>) -> DomainResult<Reply> {
        let channels = ctx.channels.channels(ctx.principal.account_id).await?;
        Ok(Reply::Channels(channels))
    }
}
