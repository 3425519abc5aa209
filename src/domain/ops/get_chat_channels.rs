//! `chat.getchatchannels`: the caller's channels.

use crate::domain::context::Context;
use crate::domain::error::DomainResult;
use crate::domain::params::Params;
use crate::domain::reply::Reply;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetChatChannels;

impl GetChatChannels {
    pub fn parse(_params: &Params, _now: i64) -> DomainResult<Self> {
        Ok(Self)
    }

    pub async fn apply(self, ctx: &Context<'_>) -> DomainResult<Reply> {
        let channels = ctx.channels.channels(ctx.principal.account_id).await?;
        Ok(Reply::Channels(channels))
    }
}
