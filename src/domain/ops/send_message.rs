//! `chat.sendmessage`: store a text message as `pending` with its outbox entry; starts the chat if new.

use crate::domain::context::{ChannelRef, Context};
use crate::domain::error::DomainResult;
use crate::domain::model::{MessageDetails, OutboundMessage};
use crate::domain::params::Params;
use crate::domain::reply::Reply;
use crate::domain::{values, window};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendMessage {
    pub channel: ChannelRef,
    pub destination: String,
    pub text: String,
    pub expires_at: Option<i64>,
    pub idempotency_key: Option<String>,
}

impl SendMessage {
    pub fn parse(params: &Params, now: i64) -> DomainResult<Self> {
        params.require_all(&["platform", "platformid", "destination", "message"])?;
        let channel = ChannelRef::parse(params)?;
        Ok(Self {
            destination: values::destination(params, channel.platform)?,
            text: values::text(params.required("message")?)?,
            expires_at: values::invalidation_time(params, now)?,
            idempotency_key: values::idempotency_key(params)?,
            channel,
        })
    }

    /// The message to store: its channel checked for this account.
    pub async fn outbound(self, ctx: &Context<'_>) -> DomainResult<OutboundMessage> {
        let channel = ctx.channel(self.channel).await?;
        let template = window::fallback_for(ctx, &channel, &self.destination, Some(&self.text), None).await?;
        Ok(OutboundMessage {
            account_id: ctx.principal.account_id,
            channel_id: channel.id,
            destination: self.destination,
            text: Some(self.text),
            attachment: None,
            expires_at: self.expires_at,
            idempotency_key: self.idempotency_key,
            needs_delivery: !channel.platform.is_internal(),
            details: MessageDetails { template, ..MessageDetails::default() },
            now: ctx.now,
        })
    }

    pub async fn apply(self, ctx: &Context<'_>) -> DomainResult<Reply> {
        let id = ctx.store.send_message(&self.outbound(ctx).await?).await?;
        Ok(Reply::MessageId(id))
    }
}
