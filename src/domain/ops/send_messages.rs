//! `chat.sendmessages` (bulk): up to 1000 `sendmessage`/`sendfile` items; each is parsed and applied on
//! its own, so one bad item is reported in its place and does not stop the others.

use std::collections::HashSet;

use serde_json::Value;

use super::{send_file::SendFile, send_message::SendMessage};
use crate::domain::context::Context;
use crate::domain::error::{DomainError, DomainResult};
use crate::domain::params::Params;
use crate::domain::reply::Reply;

pub const MAX_BULK_ITEMS: usize = 1000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BulkItem {
    Text(SendMessage),
    File(SendFile),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendMessages {
    pub items: Vec<DomainResult<BulkItem>>,
}

impl SendMessages {
    /// `messages` is a JSON array of objects (the doors hand it over as JSON text).
    pub fn parse(params: &Params, now: i64) -> DomainResult<Self> {
        params.require_all(&["messages"])?;
        let bad = || DomainError::incorrect("messages");
        let list: Vec<Value> = serde_json::from_str(params.required("messages")?).map_err(|_| bad())?;
        if list.is_empty() || list.len() > MAX_BULK_ITEMS {
            return Err(bad());
        }
        let items = list.iter().map(|v| parse_item(v, now)).collect();
        Ok(Self { items })
    }

    /// Each item is checked in the list's order; the valid ones are then stored together — in one
    /// group-commit batch, numbered in the list's order — instead of each waiting for a commit of its
    /// own (on PostgreSQL a list of 1,000 took 1,000 commits).
    pub async fn apply(self, ctx: &Context<'_>) -> DomainResult<Reply> {
        let mut starting = HashSet::new();
        let (mut valid, mut refused) = (Vec::new(), Vec::with_capacity(self.items.len()));
        for item in self.items {
            let outcome = match item {
                Ok(BulkItem::Text(m)) => m.outbound(ctx).await,
                Ok(BulkItem::File(f)) => f.outbound(ctx, &starting).await,
                Err(e) => Err(e),
            };
            match outcome {
                Ok(m) => {
                    starting.insert((m.channel_id, m.destination.clone()));
                    valid.push(m);
                    refused.push(None);
                }
                // A storage failure is not the item's fault: stop and report it as the whole call's.
                Err(e) if !e.code.is_caller_error() => return Err(e),
                Err(e) => refused.push(Some(e)),
            }
        }
        let mut ids = ctx.store.send_messages(valid).await.into_iter();
        let mut out = Vec::with_capacity(refused.len());
        for refusal in refused {
            out.push(match refusal {
                Some(e) => Err(e),
                None => match ids.next() {
                    Some(Ok(id)) => Ok(id),
                    Some(Err(e)) => match DomainError::from(e) {
                        e if e.code.is_caller_error() => Err(e),
                        e => return Err(e),
                    },
                    None => return Err(DomainError::internal("the store answered fewer ids than messages")),
                },
            });
        }
        Ok(Reply::Bulk(out))
    }
}

/// An item with a `type` or `fileurl` is a file; any other is a text message.
fn parse_item(value: &Value, now: i64) -> DomainResult<BulkItem> {
    let Value::Object(fields) = value else { return Err(DomainError::incorrect("messages")) };
    let mut params = Params::new();
    for (name, v) in fields {
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => if *b { "1" } else { "0" }.to_string(),
            Value::Null => continue,
            Value::Array(_) | Value::Object(_) => return Err(DomainError::incorrect("messages")),
        };
        params.insert_first(name, text);
    }
    if params.get("type").is_some() || params.get("fileurl").is_some() {
        SendFile::parse(&params, now).map(BulkItem::File)
    } else {
        SendMessage::parse(&params, now).map(BulkItem::Text)
    }
}
