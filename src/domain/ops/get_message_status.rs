//! `chat.getmessagestatus`: where one of the caller's messages is.

use crate::domain::context::Context;
use crate::domain::error::{DomainError, DomainResult, ErrorCode};
use crate::domain::params::Params;
use crate::domain::reply::Reply;
use crate::domain::values;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetMessageStatus {
    pub message_id: i64,
}

impl GetMessageStatus {
    pub fn parse(params: &Params, _now: i64) -> DomainResult<Self> {
        params.require_all(&["messageid"])?;
        Ok(Self { message_id: values::message_id(params, "messageid")? })
    }

    pub async fn apply(self, ctx: &Context<'_>) -> DomainResult<Reply> {
        let m = ctx
            .store
            .message(ctx.principal.account_id, self.message_id)
            .await?
            .ok_or(DomainError::param(ErrorCode::MessageNotFound, "messageid"))?;
        Ok(Reply::Status(Box::new(m)))
    }
}
