//! `webhook.getdeliveries`: the delivery log, newest first, of the account or of one webhook.

use crate::domain::context::Context;
use crate::domain::error::{DomainError, DomainResult, ErrorCode};
use crate::domain::params::Params;
use crate::domain::reply::Reply;
use crate::domain::values;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetDeliveries {
    pub webhook_id: Option<i64>,
    pub limit: u32,
}

impl GetDeliveries {
    pub fn parse(params: &Params, _now: i64) -> DomainResult<Self> {
        Ok(Self {
            webhook_id: match params.get("webhookid") {
                Some(_) => Some(values::webhook_id(params, "webhookid")?),
                None => None,
            },
            limit: values::limit(params)?,
        })
    }

    pub async fn apply(self, ctx: &Context<'_>) -> DomainResult<Reply> {
        let account = ctx.principal.account_id;
        if let Some(id) = self.webhook_id
            && !ctx.store.webhooks(account).await?.iter().any(|w| w.id == id)
        {
            return Err(DomainError::param(ErrorCode::WebhookNotFound, "webhookid"));
        }
        let list = ctx.store.deliveries(account, self.webhook_id, self.limit).await?;
        Ok(Reply::Deliveries(list))
    }
}
