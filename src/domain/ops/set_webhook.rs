//! `webhook.setwebhook`: a callback URL for some events, with extra headers; answers the signing secret,
//! which is shown this once.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use crate::domain::context::Context;
use crate::domain::error::{DomainError, DomainResult, ErrorCode};
use crate::domain::events::EventSet;
use crate::domain::params::Params;
use crate::domain::reply::Reply;
use crate::domain::values::is_absolute_http_url;
use crate::domain::webhook_ports::NewWebhook;

/// Webhooks per account: every event is written once per webhook that wants it.
pub const MAX_WEBHOOKS_PER_ACCOUNT: i64 = 10;
pub const MAX_HEADERS: usize = 16;
pub const MAX_HEADER_NAME: usize = 64;
pub const MAX_HEADER_VALUE: usize = 1024;

/// Headers chatgate sets itself (the signature and its inputs, the body's type) or that belong to the
/// connection; a webhook may not name them.
const RESERVED_HEADERS: [&str; 9] = [
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "content-type",
    "content-length",
    "host",
    "transfer-encoding",
    "connection",
    "te",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetWebhook {
    pub url: String,
    pub events: EventSet,
    pub headers: Vec<(String, String)>,
}

impl SetWebhook {
    pub fn parse(params: &Params, _now: i64) -> DomainResult<Self> {
        params.require_all(&["url", "events"])?;
        let url = params.required("url")?;
        if !is_absolute_http_url(url) {
            return Err(DomainError::param(ErrorCode::IncorrectUrl, "url"));
        }
        Ok(Self {
            url: url.to_string(),
            events: events(params.required("events")?)?,
            headers: match params.get("headers") {
                Some(h) => headers(h)?,
                None => Vec::new(),
            },
        })
    }

    pub async fn apply(self, ctx: &Context<'_>) -> DomainResult<Reply> {
        if ctx.urls.check(&self.url).await.is_err() {
            return Err(DomainError::param(ErrorCode::IncorrectUrl, "url"));
        }
        let secret = format!("whsec_{}", STANDARD.encode(rand::random::<[u8; 32]>()));
        let new = NewWebhook {
            account_id: ctx.principal.account_id,
            url: self.url,
            events: self.events,
            headers: self.headers,
            secret: secret.clone(),
            now: ctx.now,
        };
        let id = ctx
            .store
            .create_webhook(&new, MAX_WEBHOOKS_PER_ACCOUNT)
            .await?
            .ok_or(DomainError::param(ErrorCode::IncorrectParam, "url"))?;
        Ok(Reply::WebhookCreated { id, secret })
    }
}

/// A comma list of event names or `*`; the JSON door may pass a JSON array of names.
fn events(text: &str) -> DomainResult<EventSet> {
    let bad = || DomainError::incorrect("events");
    let set = if text.trim_start().starts_with('[') {
        let names: Vec<String> = serde_json::from_str(text).map_err(|_| bad())?;
        EventSet::parse(names.iter().map(String::as_str))
    } else {
        EventSet::parse(text.split(','))
    };
    set.ok_or_else(bad)
}

/// A JSON object of header names to string values: names are HTTP tokens and not reserved, values
/// hold no control characters, and both are bounded.
fn headers(text: &str) -> DomainResult<Vec<(String, String)>> {
    let bad = || DomainError::incorrect("headers");
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(text) else { return Err(bad()) };
    if map.len() > MAX_HEADERS {
        return Err(bad());
    }
    let mut out: Vec<(String, String)> = Vec::with_capacity(map.len());
    for (name, value) in map {
        let Value::String(value) = value else { return Err(bad()) };
        let name = name.to_ascii_lowercase();
        let token = !name.is_empty()
            && name.len() <= MAX_HEADER_NAME
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        let printable =
            value.len() <= MAX_HEADER_VALUE && value.chars().all(|c| c == '\t' || !c.is_control());
        if !token
            || !printable
            || RESERVED_HEADERS.contains(&name.as_str())
            || out.iter().any(|(n, _)| *n == name)
        {
            return Err(bad());
        }
        out.push((name, value));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_must_be_an_object_of_strings_naming_no_reserved_header() {
        assert_eq!(headers(r#"{"X-Api-Key":"k"}"#).unwrap(), vec![("x-api-key".into(), "k".into())]);
        for bad in [
            "[]",
            "nope",
            r#"{"x":1}"#,
            r#"{"Webhook-Signature":"v1,x"}"#,
            r#"{"content-type":"text/plain"}"#,
            r#"{"bad name":"v"}"#,
            r#"{"x":"a\r\nInjected: 1"}"#,
        ] {
            assert!(headers(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn events_are_a_comma_list_or_a_json_array() {
        assert!(events("chat_session.start,chat_session.end").is_ok());
        assert!(events(r#"["chat_session.start"]"#).is_ok());
        assert!(events("chat_session.start,bogus").is_err());
        assert!(events(r#"[1]"#).is_err());
    }
}
