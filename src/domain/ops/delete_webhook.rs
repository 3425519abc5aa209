//! `webhook.deletewebhook`: removes a webhook of the account with its deliveries.

use crate::domain::context::Context;
use crate::domain::error::{DomainError, DomainResult, ErrorCode};
use crate::domain::params::Params;
use crate::domain::reply::Reply;
use crate::domain::values;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteWebhook {
    pub webhook_id: i64,
}

impl DeleteWebhook {
    pub fn parse(params: &Params, _now: i64) -> DomainResult<Self> {
        params.require_all(&["webhookid"])?;
        Ok(Self { webhook_id: values::webhook_id(params, "webhookid")? })
    }

    pub async fn apply(self, ctx: &Context<'_>) -> DomainResult<Reply> {
        if ctx.store.delete_webhook(ctx.principal.account_id, self.webhook_id).await? {
            Ok(Reply::Empty)
        } else {
            Err(DomainError::param(ErrorCode::WebhookNotFound, "webhookid"))
        }
    }
}
