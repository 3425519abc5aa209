//! `webhook.getwebhooks`: the account's webhooks (never their secrets).

use crate::domain::context::Context;
use crate::domain::error::DomainResult;
use crate::domain::reply::{Reply, WebhookView};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetWebhooks;

impl GetWebhooks {
    pub async fn apply(self, ctx: &Context<'_>) -> DomainResult<Reply> {
        let list = ctx.store.webhooks(ctx.principal.account_id).await?;
        Ok(Reply::Webhooks(
            list.into_iter()
                .map(|w| WebhookView { webhookid: w.id.to_string(), url: w.url, events: w.events.to_list() })
                .collect(),
        ))
    }
}
