//! WhatsApp Cloud API: `POST {base}/{phone_number_id}/messages` with `Authorization: Bearer` (SPEC §5.2,
//! platforms.md §2). Errors are classified by `error.code`, not by HTTP status: Meta's throttling
//! codes arrive as HTTP 400.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use super::fetch::Fetcher;
use super::templates::{FIELDS, MAX_PAGES, read_page, template_object};
use super::vcard::Contact;
use super::{SendOutcome, contact_of, is_temporary, name_in_url, retry_after_header};
use crate::domain::model::{ChannelSettings, FileType};
use crate::domain::templates::Template;
use crate::domain::window::{CLOSED_REASON, Window};
use crate::net::describe;
use crate::storage::DeliveryJob;

pub struct WhatsApp {
    client: reqwest::Client,
    base: String,
    file_timeout: Duration,
}

#[derive(Debug, Deserialize)]
struct ErrorEnvelope {
    error: GraphError,
}

#[derive(Debug, Deserialize)]
struct GraphError {
    code: Option<i64>,
    message: Option<String>,
}

/// Throughput limits of the whole number (or app): every message of the channel waits.
const CHANNEL_THROTTLING: [i64; 3] = [4, 80007, 130429];
/// Temporary: the pair rate limit (one recipient) and Meta's own transient errors.
const TEMPORARY: [i64; 3] = [131056, 131000, 131016];

/// A `contacts` message's contact (Cloud API `Contact` object): name, phones, e-mails.
fn contact_message(c: &Contact) -> Value {
    let mut name = json!({"formatted_name": c.formatted_name});
    if !c.first_name.is_empty() {
        name["first_name"] = json!(c.first_name);
    }
    if !c.last_name.is_empty() {
        name["last_name"] = json!(c.last_name);
    }
    let phones: Vec<Value> = c.phones.iter().map(|p| json!({"phone": p, "type": "CELL"})).collect();
    let mut contact = json!({"name": name, "phones": phones});
    if !c.emails.is_empty() {
        contact["emails"] = c.emails.iter().map(|e| json!({"email": e, "type": "WORK"})).collect();
    }
    contact
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct WhatsAppError(pub String);

impl WhatsApp {
    pub fn new(client: reqwest::Client, base: &str, file_timeout: Duration) -> Self {
        Self { client, base: base.trim_end_matches('/').to_string(), file_timeout }
    }

    async fn body(job: &DeliveryJob, files: &Fetcher) -> Result<Value, SendOutcome> {
        let mut body =
            json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": job.destination});
        if let Some(call) = &job.template {
            body["type"] = json!("template");
            body["template"] = template_object(call);
            return Ok(body);
        }
        // Free text to a person who wrote more than 24 hours ago is sure to fail (131047).
        if Window::of(job.last_inbound_at, chrono::Utc::now().timestamp_millis()) == Window::Closed {
            return Err(SendOutcome::Refused { reason: CLOSED_REASON.into() });
        }
        let caption = job.text.as_deref().filter(|t| !t.is_empty());
        let Some(file) = &job.attachment else {
            body["type"] = json!("text");
            body["text"] = json!({"body": job.text.as_deref().unwrap_or("")});
            return Ok(body);
        };
        let kind = match file.file_type {
            FileType::Image => "image",
            FileType::Video => "video",
            FileType::Audio | FileType::Voice => "audio",
            FileType::Document => "document",
            FileType::Contact => {
                let (contact, _) = contact_of(files, "whatsapp", &file.url).await?;
                body["type"] = json!("contacts");
                body["contacts"] = json!([contact_message(&contact)]);
                return Ok(body);
            }
        };
        let mut media = json!({"link": file.url});
        // Audio takes no caption (a caption is refused when the message is sent: `caption_allowed`).
        match file.file_type {
            FileType::Voice => media["voice"] = json!(true),
            FileType::Audio => {}
            _ => {
                if let Some(c) = caption {
                    media["caption"] = json!(c);
                }
            }
        }
        if let (FileType::Document, Some(name)) = (file.file_type, name_in_url(&file.url)) {
            media["filename"] = json!(name);
        }
        body["type"] = json!(kind);
        body[kind] = media;
        Ok(body)
    }

    pub async fn send(&self, settings: &ChannelSettings, job: &DeliveryJob, files: &Fetcher) -> SendOutcome {
        let (Some(number), Some(token)) = (settings.get("phone_number_id"), settings.get("access_token"))
        else {
            return SendOutcome::Refused {
                reason: "whatsapp: the channel needs the phone_number_id and access_token settings".into(),
            };
        };
        let body = match Self::body(job, files).await {
            Ok(body) => body,
            Err(outcome) => return outcome,
        };
        let res = match self
            .client
            .post(format!("{}/{number}/messages", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
        {
            Ok(res) => res,
            Err(e) => return SendOutcome::later(format!("whatsapp: {}", describe(&e))),
        };
        let status = res.status().as_u16();
        let wait = retry_after_header(&res);
        let Ok(text) = res.bytes().await else {
            return SendOutcome::later(format!("whatsapp {status}: answer cut off"));
        };
        if (200..300).contains(&status) {
            let answer = serde_json::from_slice::<Value>(&text).unwrap_or_default();
            let id = answer["messages"][0]["id"].as_str().map(str::to_string);
            let wa_id = answer["contacts"][0]["wa_id"].as_str().filter(|w| *w != job.destination);
            return SendOutcome::Accepted { platform_message_id: id, recipient: wa_id.map(str::to_string) };
        }
        let error = serde_json::from_slice::<ErrorEnvelope>(&text).ok().map(|e| e.error);
        let code = error.as_ref().and_then(|e| e.code);
        let reason = match &error {
            Some(e) => format!(
                "whatsapp {}: {}",
                code.map_or(status.to_string(), |c| c.to_string()),
                e.message.as_deref().unwrap_or("no message")
            ),
            None => format!("whatsapp {status}: unreadable answer"),
        };
        match code {
            Some(c) if CHANNEL_THROTTLING.contains(&c) => {
                SendOutcome::Later { error: reason, retry_after: wait, channel_wide: true }
            }
            Some(c) if TEMPORARY.contains(&c) => {
                SendOutcome::Later { error: reason, retry_after: wait, channel_wide: false }
            }
            _ if is_temporary(status) => {
                SendOutcome::Later { error: reason, retry_after: wait, channel_wide: status == 429 }
            }
            _ => SendOutcome::Refused { reason },
        }
    }

    /// Every template of the channel's business account (`waba_id`), following `paging.next` — only
    /// while it stays on the Graph host the connector talks to, since the access token goes with it.
    pub async fn fetch_templates(&self, settings: &ChannelSettings) -> Result<Vec<Template>, String> {
        let (Some(waba), Some(token)) = (settings.get("waba_id"), settings.get("access_token")) else {
            return Err("whatsapp: the channel needs the waba_id and access_token settings".into());
        };
        let origin = |u: &str| url::Url::parse(u).ok().map(|u| u.origin());
        let mut url = format!("{}/{waba}/message_templates?fields={FIELDS}&limit=100", self.base);
        let mut all = Vec::new();
        for _ in 0..MAX_PAGES {
            let res = self
                .client
                .get(&url)
                .bearer_auth(token)
                .send()
                .await
                .map_err(|e| format!("whatsapp: {}", describe(&e)))?;
            let status = res.status().as_u16();
            let page: Value =
                res.json().await.map_err(|_| format!("whatsapp {status}: unreadable answer"))?;
            if !(200..300).contains(&status) {
                let message = page.pointer("/error/message").and_then(Value::as_str).unwrap_or("no message");
                return Err(format!("whatsapp {status}: {message}"));
            }
            let (templates, next) = read_page(&page);
            all.extend(templates);
            match next {
                Some(next) if origin(&next).is_some() && origin(&next) == origin(&self.base) => url = next,
                _ => return Ok(all),
            }
        }
        Ok(all)
    }

    /// A received file: the media's URL from `GET {base}/{media_id}`, then the file with the same token.
    pub async fn fetch_media(&self, token: &str, media_id: &str) -> Result<reqwest::Response, WhatsAppError> {
        let fail = |e: reqwest::Error| WhatsAppError(format!("whatsapp: {}", describe(&e)));
        let meta = self
            .client
            .get(format!("{}/{media_id}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .map_err(fail)?;
        if !meta.status().is_success() {
            return Err(WhatsAppError(format!("whatsapp {}: media not available", meta.status().as_u16())));
        }
        let meta: Value = meta.json().await.map_err(fail)?;
        let url = meta["url"].as_str().ok_or_else(|| WhatsAppError("whatsapp: media has no url".into()))?;
        let res =
            self.client.get(url).bearer_auth(token).timeout(self.file_timeout).send().await.map_err(fail)?;
        if res.status().is_success() {
            Ok(res)
        } else {
            Err(WhatsAppError(format!("whatsapp {}: media download failed", res.status().as_u16())))
        }
    }
}
