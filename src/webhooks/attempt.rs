//! One attempt at one delivery: sign, send, judge the answer (SPEC §6): 2xx delivered; 3xx failed
//! (redirects are never followed); timeouts, connection errors, 408, 429 and 5xx retried with backoff
//! (`Retry-After` obeyed) until `max_age` after the event; any other answer failed at once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};

use super::signing::{key_of, sign};
use super::{WebhookSettings, now_ms};
use crate::domain::webhook_ports::{AttemptNext, AttemptRecord, PendingDelivery, WebhookTarget};
use crate::net::guard::AddressPolicy;

/// A webhook's fixed part of every request: its URL, its headers, its signing key.
pub struct Target {
    pub url: reqwest::Url,
    pub headers: HeaderMap,
    pub key: Vec<u8>,
    /// An IP-literal host the policy forbids (names are checked by the resolver at every connection).
    pub forbidden_literal: bool,
}

impl Target {
    pub fn new(t: &WebhookTarget, policy: &AddressPolicy) -> Option<Self> {
        let url = reqwest::Url::parse(&t.url).ok()?;
        let mut headers = HeaderMap::new();
        for (name, value) in &t.headers {
            // Checked when the webhook was set; a header that no longer parses is left out.
            if let (Ok(n), Ok(v)) =
                (HeaderName::try_from(name.as_str()), HeaderValue::try_from(value.as_str()))
            {
                headers.insert(n, v);
            }
        }
        Some(Self {
            forbidden_literal: policy.permits_literal(&url) == Some(false),
            url,
            headers,
            key: key_of(&t.secret),
        })
    }
}

/// Answers larger than this are not read further (the connection is then not reused).
const MAX_ANSWER_BYTES: usize = 64 * 1024;

pub async fn attempt(
    client: &reqwest::Client,
    target: Arc<Target>,
    delivery: PendingDelivery,
    settings: &WebhookSettings,
) -> AttemptRecord {
    let at = now_ms();
    let started = Instant::now();
    let (code, error, next) = send(client, &target, &delivery, settings).await;
    let next = match next {
        Next::Retry(delay) => {
            let due = at + delay.as_millis() as i64;
            if due > delivery.window_start + (settings.max_age_secs as i64) * 1000 {
                AttemptNext::Failed
            } else {
                AttemptNext::RetryAt(due)
            }
        }
        Next::Done(n) => n,
    };
    let duration_ms = started.elapsed().as_millis() as i64;
    let event = delivery.event.kind.name();
    match (&next, &error) {
        (AttemptNext::Delivered, _) => {
            tracing::debug!(delivery = delivery.id, event, code, duration_ms, "webhook delivered")
        }
        (_, error) => tracing::info!(
            delivery = delivery.id,
            event,
            code,
            duration_ms,
            error = error.as_deref().unwrap_or(""),
            outcome = ?next,
            "webhook attempt failed"
        ),
    }
    AttemptRecord { delivery_id: delivery.id, at, code, duration_ms, error, next }
}

enum Next {
    Done(AttemptNext),
    Retry(Duration),
}

async fn send(
    client: &reqwest::Client,
    target: &Target,
    delivery: &PendingDelivery,
    settings: &WebhookSettings,
) -> (Option<u16>, Option<String>, Next) {
    if target.forbidden_literal {
        return (None, Some("the URL's address may not be reached".into()), Next::Done(AttemptNext::Failed));
    }
    let backoff = || {
        let ms =
            crate::retry::backoff_ms(settings.retry_base_ms, settings.retry_max_ms, delivery.attempts + 1);
        Duration::from_millis(ms)
    };
    let body = delivery.event.body();
    let timestamp = chrono::Utc::now().timestamp();
    let Some(signature) = sign(&target.key, &delivery.event.id, timestamp, &body) else {
        return (None, Some("the secret cannot sign".into()), Next::Done(AttemptNext::Failed));
    };
    let request = client
        .post(target.url.clone())
        .headers(target.headers.clone())
        .header(CONTENT_TYPE, "application/json")
        .header("webhook-id", &delivery.event.id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body);
    let mut response = match request.send().await {
        Ok(r) => r,
        Err(e) => return (None, Some(crate::net::describe(&e)), Next::Retry(backoff())),
    };
    let status = response.status();
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| Duration::from_secs(s.min(86_400)));
    // Read (a bounded part of) the answer so that the connection can be reused.
    let mut read = 0;
    while let Ok(Some(chunk)) = response.chunk().await {
        read += chunk.len();
        if read > MAX_ANSWER_BYTES {
            break;
        }
    }
    let code = Some(status.as_u16());
    if status.is_success() {
        (code, None, Next::Done(AttemptNext::Delivered))
    } else if status.is_redirection() {
        (code, Some("redirect not followed".into()), Next::Done(AttemptNext::Failed))
    } else if status.as_u16() == 408 || status.as_u16() == 429 || status.is_server_error() {
        (code, Some(format!("HTTP {}", status.as_u16())), Next::Retry(retry_after.unwrap_or_else(backoff)))
    } else {
        (code, Some(format!("HTTP {}", status.as_u16())), Next::Done(AttemptNext::Failed))
    }
}
