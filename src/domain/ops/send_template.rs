//! `chat.sendtemplate`: a WhatsApp template, checked against the channel's templates before anything
//! is stored (SPEC §5.2), then stored and delivered like any message — its text the filled-in body.

use serde_json::Value;

use crate::domain::context::{ChannelRef, Context};
use crate::domain::error::{DomainError, DomainResult};
use crate::domain::model::{MessageDetails, OutboundMessage, Platform};
use crate::domain::params::Params;
use crate::domain::reply::Reply;
use crate::domain::templates::{self, ButtonArg, ButtonValue, Parameters, TemplateArgs};
use crate::domain::values;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendTemplate {
    pub channel: ChannelRef,
    pub destination: String,
    pub template: String,
    pub language: String,
    pub args: TemplateArgs,
    pub expires_at: Option<i64>,
    pub idempotency_key: Option<String>,
}

/// A template's name or language: a short line.
pub const MAX_TEMPLATE_NAME_CHARS: usize = 512;

impl SendTemplate {
    pub fn parse(params: &Params, now: i64) -> DomainResult<Self> {
        params.require_all(&["platform", "platformid", "destination", "template", "language"])?;
        let channel = whatsapp_channel(params)?;
        Ok(Self {
            destination: values::destination(params, channel.platform)?,
            template: short_line(params, "template")?,
            language: short_line(params, "language")?,
            args: TemplateArgs {
                parameters: parameters(params.get("parameters"))?,
                header: params.get("header").filter(|h| !h.is_empty()).map(str::to_string),
                buttons: buttons(params.get("buttons"))?,
            },
            expires_at: values::invalidation_time(params, now)?,
            idempotency_key: values::idempotency_key(params)?,
            channel,
        })
    }

    pub async fn apply(self, ctx: &Context<'_>) -> DomainResult<Reply> {
        let channel = ctx.channel(self.channel).await?;
        let book = ctx.templates.find_or_refresh(channel.id, &self.template, &self.language).await?;
        let template = templates::find(&book.templates, &self.template, &self.language)?;
        let (call, text) = template.fill(&self.args)?;
        let message = OutboundMessage {
            account_id: ctx.principal.account_id,
            channel_id: channel.id,
            destination: self.destination,
            text: Some(text),
            attachment: None,
            expires_at: self.expires_at,
            idempotency_key: self.idempotency_key,
            needs_delivery: true,
            details: MessageDetails { template: Some(call), ..MessageDetails::default() },
            now: ctx.now,
        };
        Ok(Reply::MessageId(ctx.store.send_message(&message).await?))
    }
}

/// `platform` and `platformid` of a method only WhatsApp has.
pub(crate) fn whatsapp_channel(params: &Params) -> DomainResult<ChannelRef> {
    let channel = ChannelRef::parse(params)?;
    if channel.platform != Platform::Whatsapp {
        return Err(DomainError::incorrect("platform").because("templates are WhatsApp's".into()));
    }
    Ok(channel)
}

fn short_line(params: &Params, name: &'static str) -> DomainResult<String> {
    let v = params.required(name)?.trim();
    if v.is_empty() || v.chars().count() > MAX_TEMPLATE_NAME_CHARS || v.chars().any(char::is_control) {
        return Err(DomainError::incorrect(name));
    }
    Ok(v.to_string())
}

/// `parameters`: a JSON array of texts (`{{1}}`, `{{2}}`, …), a JSON object of named texts, or (as
/// the SOAP door gives them) an array of `{name, value}` (named) or of `{value}` (in order).
fn parameters(given: Option<&str>) -> DomainResult<Parameters> {
    let bad = || DomainError::incorrect("parameters");
    let Some(text) = given.filter(|t| !t.trim().is_empty()) else { return Ok(Parameters::None) };
    // The common form, read without building a JSON tree first.
    if let Ok(list) = serde_json::from_str::<Vec<String>>(text) {
        return Ok(Parameters::Positional(list));
    }
    let as_text = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    match serde_json::from_str::<Value>(text).map_err(|_| bad())? {
        // `{name, value}` items are named parameters; `{value}` items (SOAP's positional ones) are not.
        Value::Array(items) if items.iter().all(|i| i.get("name").is_some()) && !items.is_empty() => items
            .iter()
            .map(|i| Some((as_text(i.get("name")?)?, as_text(i.get("value")?)?)))
            .collect::<Option<Vec<_>>>()
            .map(Parameters::Named)
            .ok_or_else(bad),
        Value::Array(items) if items.iter().all(Value::is_object) => items
            .iter()
            .map(|i| as_text(i.get("value")?))
            .collect::<Option<Vec<_>>>()
            .map(Parameters::Positional)
            .ok_or_else(bad),
        Value::Array(items) => {
            items.iter().map(as_text).collect::<Option<Vec<_>>>().map(Parameters::Positional).ok_or_else(bad)
        }
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| Some((k.clone(), as_text(v)?)))
            .collect::<Option<Vec<_>>>()
            .map(Parameters::Named)
            .ok_or_else(bad),
        _ => Err(bad()),
    }
}

/// `buttons`: a JSON array of `{index, payload}` (quick replies) or `{index, text}` (URL suffixes).
fn buttons(given: Option<&str>) -> DomainResult<Vec<ButtonArg>> {
    let bad = || DomainError::incorrect("buttons");
    let Some(text) = given.filter(|t| !t.trim().is_empty()) else { return Ok(Vec::new()) };
    let Value::Array(items) = serde_json::from_str::<Value>(text).map_err(|_| bad())? else {
        return Err(bad());
    };
    items
        .iter()
        .map(|item| {
            let index = match item.get("index") {
                Some(Value::Number(n)) => n.as_u64(),
                Some(Value::String(s)) => s.trim().parse().ok(),
                _ => None,
            };
            let index = index.and_then(|i| u32::try_from(i).ok()).ok_or_else(bad)?;
            let text = |k: &str| item.get(k).and_then(Value::as_str).map(str::to_string);
            let value = match (text("payload"), text("text")) {
                (Some(p), None) => ButtonValue::Payload(p),
                (None, Some(t)) => ButtonValue::Text(t),
                _ => return Err(bad()),
            };
            Ok(ButtonArg { index, value })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_in_every_form_a_door_gives() {
        assert_eq!(parameters(None), Ok(Parameters::None));
        assert_eq!(
            parameters(Some(r#"["Ann", 42]"#)),
            Ok(Parameters::Positional(vec!["Ann".into(), "42".into()]))
        );
        let named = Parameters::Named(vec![("first_name".into(), "Ann".into())]);
        assert_eq!(parameters(Some(r#"{"first_name": "Ann"}"#)), Ok(named.clone()));
        assert_eq!(parameters(Some(r#"[{"name": "first_name", "value": "Ann"}]"#)), Ok(named));
        assert_eq!(parameters(Some(r#"[{"value": "Ann"}]"#)), Ok(Parameters::Positional(vec!["Ann".into()])));
        assert_eq!(parameters(Some("Ann")).unwrap_err().param, Some("parameters"));
        assert_eq!(parameters(Some("[[1]]")).unwrap_err().param, Some("parameters"));
        let b =
            buttons(Some(r#"[{"index": 0, "payload": "STOP"}, {"index": "1", "text": "ord-42"}]"#)).unwrap();
        assert_eq!(b[1], ButtonArg { index: 1, value: ButtonValue::Text("ord-42".into()) });
        assert_eq!(buttons(Some(r#"[{"index": 0}]"#)).unwrap_err().param, Some("buttons"));
    }
}
