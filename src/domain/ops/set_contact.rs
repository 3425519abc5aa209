//! `chat.setcontact`: the chat's contact fields and custom data, as the business's systems know them.
//! `contact.updated` fires only for values that really changed.

use crate::domain::contacts::{self, ContactChange, FIELDS};
use crate::domain::context::{ChannelRef, Context};
use crate::domain::error::{DomainError, DomainResult, ErrorCode};
use crate::domain::params::Params;
use crate::domain::reply::Reply;
use crate::domain::values;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetContact {
    pub channel: ChannelRef,
    pub destination: String,
    pub change: ContactChange,
}

impl SetContact {
    pub fn parse(params: &Params, _now: i64) -> DomainResult<Self> {
        params.require_all(&["platform", "platformid", "destination"])?;
        let channel = ChannelRef::parse(params)?;
        let destination = values::destination(params, channel.platform)?;
        let mut change = ContactChange::default();
        for field in FIELDS {
            if let Some(value) = params.get(field) {
                change.fields.push((field, contacts::check_field(field, value)?));
            }
        }
        if let Some(custom) = params.get("custom").filter(|c| !c.is_empty()) {
            change.custom = Some(contacts::check_custom(custom)?);
        }
        Ok(Self { channel, destination, change })
    }

    pub async fn apply(self, ctx: &Context<'_>) -> DomainResult<Reply> {
        let channel = ctx.channel(self.channel).await?;
        let contact =
            ctx.store.update_contact(channel.id, &self.destination, &self.change, false, ctx.now).await?;
        let contact = contact.ok_or(DomainError::param(ErrorCode::ChatNotFound, "destination"))?;
        Ok(Reply::Contact(contact))
    }
}
