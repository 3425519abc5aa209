//! `webhook.redeliver`: sends a delivery's event again (same `webhook-id`) from a fresh attempt count.

use crate::domain::context::Context;
use crate::domain::error::{DomainError, DomainResult, ErrorCode};
use crate::domain::params::Params;
use crate::domain::reply::Reply;
use crate::domain::values;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redeliver {
    pub delivery_id: i64,
}

impl Redeliver {
    pub fn parse(params: &Params, _now: i64) -> DomainResult<Self> {
        params.require_all(&["deliveryid"])?;
        Ok(Self { delivery_id: values::delivery_id(params, "deliveryid")? })
    }

    pub async fn apply(self, ctx: &Context<'_>) -> DomainResult<Reply> {
        if ctx.store.redeliver(ctx.principal.account_id, self.delivery_id, ctx.now).await? {
            Ok(Reply::Empty)
        } else {
            Err(DomainError::param(ErrorCode::DeliveryNotFound, "deliveryid"))
        }
    }
}
