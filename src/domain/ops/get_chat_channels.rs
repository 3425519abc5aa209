//! `chat.getchatchannels`: the caller's channels (an access bound to one channel sees that one).

use std::sync::Arc;

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
        Ok(Reply::Channels(match ctx.principal.channel {
            Some(only) => Arc::new(channels.iter().filter(|c| c.id == only).cloned().collect()),
            None => channels,
        }))
    }
}
