//! `chat.gettemplates`: a WhatsApp channel's templates as chatgate knows them, or (`refresh=1`) as
//! Meta lists them now.

use crate::domain::context::{ChannelRef, Context};
use crate::domain::error::DomainResult;
use crate::domain::params::Params;
use crate::domain::reply::Reply;
use crate::domain::values;

use super::send_template::whatsapp_channel;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetTemplates {
    pub channel: ChannelRef,
    pub refresh: bool,
}

impl GetTemplates {
    pub fn parse(params: &Params, _now: i64) -> DomainResult<Self> {
        params.require_all(&["platform", "platformid"])?;
        Ok(Self { channel: whatsapp_channel(params)?, refresh: values::flag(params, "refresh", false)? })
    }

    pub async fn apply(self, ctx: &Context<'_>) -> DomainResult<Reply> {
        let channel = ctx.channel(self.channel).await?;
        let book = if self.refresh {
            ctx.templates.refresh(channel.id).await?
        } else {
            ctx.templates.listed(channel.id).await?
        };
        Ok(Reply::Templates(book.templates.clone()))
    }
}
