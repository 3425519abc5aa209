//! `chat.sendfile`: like `sendmessage` with a file; Afilnet requires the chat to exist already.

use std::collections::HashSet;

use crate::domain::context::{ChannelRef, Context};
use crate::domain::error::DomainResult;
use crate::domain::model::{Attachment, MessageDetails, OutboundMessage};
use crate::domain::params::Params;
use crate::domain::reply::Reply;
use crate::domain::{values, window};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendFile {
    pub channel: ChannelRef,
    pub destination: String,
    pub attachment: Attachment,
    pub caption: Option<String>,
    pub expires_at: Option<i64>,
    pub idempotency_key: Option<String>,
    /// Whether the file may begin a chat. Afilnet's `sendfile` needs an existing one; Feedbot's door
    /// sends an image with its caption to any number.
    pub may_start_chat: bool,
}

impl SendFile {
    pub fn parse(params: &Params, now: i64) -> DomainResult<Self> {
        params.require_all(&["platform", "platformid", "destination", "type", "fileurl"])?;
        let channel = ChannelRef::parse(params)?;
        let destination = values::destination(params, channel.platform)?;
        let attachment = values::attachment(params)?;
        let caption = values::caption(params)?;
        values::caption_allowed(channel.platform, attachment.file_type, caption.as_deref())?;
        Ok(Self {
            destination,
            attachment,
            caption,
            expires_at: values::invalidation_time(params, now)?,
            idempotency_key: values::idempotency_key(params)?,
            may_start_chat: false,
            channel,
        })
    }

    /// The message to store: its channel checked for this account, and its chat — a file goes only to
    /// a chat that exists or that an earlier item of the same bulk call begins (`starting`).
    pub async fn outbound(
        self,
        ctx: &Context<'_>,
        starting: &HashSet<(i64, String)>,
    ) -> DomainResult<OutboundMessage> {
        let channel = ctx.channel(self.channel).await?;
        if !self.may_start_chat && !starting.contains(&(channel.id, self.destination.clone())) {
            ctx.require_chat(&channel, &self.destination).await?;
        }
        let caption = self.caption.as_deref();
        let file = Some(&self.attachment);
        let template = window::fallback_for(ctx, &channel, &self.destination, caption, file).await?;
        Ok(OutboundMessage {
            account_id: ctx.principal.account_id,
            channel_id: channel.id,
            destination: self.destination,
            text: self.caption,
            attachment: Some(self.attachment),
            expires_at: self.expires_at,
            idempotency_key: self.idempotency_key,
            needs_delivery: !channel.platform.is_internal(),
            details: MessageDetails { template, ..MessageDetails::default() },
            now: ctx.now,
        })
    }

    pub async fn apply(self, ctx: &Context<'_>) -> DomainResult<Reply> {
        let id = ctx.store.send_message(&self.outbound(ctx, &HashSet::new()).await?).await?;
        Ok(Reply::MessageId(id))
    }
}
