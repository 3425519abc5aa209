//! `webhook.getwebhooks`: the account's webhooks (never their secrets).

use crate::domain::context::Context;
use crate::domain::error::DomainResult;
use crate::domain::params::Params;
use crate::domain::reply::Reply;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetWebhooks;

impl GetWebhooks {
    pub fn parse(_params: &Params, _now: i64) -> DomainResult<Self> {
        Ok(Self)
    }

    pub async fn apply(self, ctx: &Context<'_>) -> DomainResult<Reply> {
        let list = ctx.store.webhooks(ctx.principal.account_id).await?;
        Ok(Reply::Webhooks(list))
    }
}
