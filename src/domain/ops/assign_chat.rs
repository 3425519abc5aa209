//! `chat.assignchat`: assigns the chat to one of the account's operators (its login or an access with
//! `chat:write`) or to a group (`access create … --group`); `chat_session.forward` fires when the
//! assignee changes, naming the previous and the current one.

use crate::domain::contacts::Assignee;
use crate::domain::context::{ChannelRef, Context};
use crate::domain::error::{DomainError, DomainResult, ErrorCode};
use crate::domain::params::Params;
use crate::domain::reply::Reply;
use crate::domain::values;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignChat {
    pub channel: ChannelRef,
    pub destination: String,
    pub assignee: Assignee,
}

impl AssignChat {
    pub fn parse(params: &Params, _now: i64) -> DomainResult<Self> {
        params.require_all(&["platform", "platformid", "destination"])?;
        let channel = ChannelRef::parse(params)?;
        let destination = values::destination(params, channel.platform)?;
        let given = |k: &str| params.get(k).map(str::trim).filter(|v| !v.is_empty());
        let assignee = match (given("operator"), given("group")) {
            (Some(login), None) => Assignee::Operator(login.to_string()),
            (None, Some(group)) => Assignee::Group(group.to_string()),
            (None, None) => return Err(DomainError::missing("operator")),
            (Some(_), Some(_)) => {
                return Err(
                    DomainError::incorrect("group").because("name an operator or a group, not both".into())
                );
            }
        };
        Ok(Self { channel, destination, assignee })
    }

    pub async fn apply(self, ctx: &Context<'_>) -> DomainResult<Reply> {
        let channel = ctx.channel(self.channel).await?;
        let (operators, groups) = ctx.store.operators(ctx.principal.account_id).await?;
        let known = match &self.assignee {
            Assignee::Operator(login) => operators.contains(login),
            Assignee::Group(name) => groups.contains(name),
        };
        if !known {
            let param = if matches!(self.assignee, Assignee::Operator(_)) { "operator" } else { "group" };
            return Err(DomainError::incorrect(param).because(format!("no such {param} in this account")));
        }
        match ctx.store.assign(channel.id, &self.destination, &self.assignee, ctx.now).await? {
            Some(_) => Ok(Reply::Empty),
            None => Err(DomainError::param(ErrorCode::ChatNotFound, "destination")),
        }
    }
}
