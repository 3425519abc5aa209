//! Telegram Bot API: `{base}/bot{token}/{method}` with a JSON body (SPEC §5.2, platforms.md §1). The
//! bot token is part of the URL, so no URL is ever logged or stored: errors are described by
//! `crate::net::describe`, which leaves the URL out.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use super::{SendOutcome, is_temporary, retry_after_header};
use crate::domain::model::{ChannelSettings, FileType};
use crate::net::describe;
use crate::storage::DeliveryJob;

pub struct Telegram {
    client: reqwest::Client,
    base: String,
    file_timeout: Duration,
}

/// Telegram's envelope: `{"ok":true,"result":…}` or `{"ok":false,"error_code":…,"description":…}`.
#[derive(Debug, Deserialize)]
struct Envelope {
    ok: bool,
    #[serde(default)]
    result: Value,
    error_code: Option<u16>,
    description: Option<String>,
    parameters: Option<Parameters>,
}

#[derive(Debug, Deserialize)]
struct Parameters {
    retry_after: Option<u64>,
}

/// Why a call other than a send failed (set-up and media), safe to show an operator.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TelegramError(pub String);

impl Telegram {
    pub fn new(client: reqwest::Client, base: &str, file_timeout: Duration) -> Self {
        Self { client, base: base.trim_end_matches('/').to_string(), file_timeout }
    }

    /// The method and body of a message: text → `sendMessage`; files by URL → `sendPhoto`, …
    fn request(job: &DeliveryJob) -> (&'static str, Value) {
        // A numeric chat id goes as a number, `@channelusername` as a string.
        let chat_id: Value =
            job.destination.parse::<i64>().map_or_else(|_| json!(job.destination), |n| json!(n));
        let Some(file) = &job.attachment else {
            return ("sendMessage", json!({"chat_id": chat_id, "text": job.text.as_deref().unwrap_or("")}));
        };
        let (method, field) = match file.file_type {
            FileType::Image => ("sendPhoto", "photo"),
            FileType::Video => ("sendVideo", "video"),
            FileType::Audio => ("sendAudio", "audio"),
            FileType::Voice => ("sendVoice", "voice"),
            // A contact is sent as its vCard file (SPEC §5.2).
            FileType::Document | FileType::Contact => ("sendDocument", "document"),
        };
        let mut body = json!({"chat_id": chat_id, field: file.url});
        if let Some(caption) = job.text.as_deref().filter(|t| !t.is_empty()) {
            body["caption"] = json!(caption);
        }
        (method, body)
    }

    pub async fn send(&self, settings: &ChannelSettings, job: &DeliveryJob) -> SendOutcome {
        let Some(token) = settings.get("bot_token") else {
            return SendOutcome::Refused { reason: "telegram: the channel has no bot_token setting".into() };
        };
        let (method, body) = Self::request(job);
        let res =
            match self.client.post(format!("{}/bot{token}/{method}", self.base)).json(&body).send().await {
                Ok(res) => res,
                Err(e) => return SendOutcome::later(format!("telegram: {}", describe(&e))),
            };
        let status = res.status().as_u16();
        let header_wait = retry_after_header(&res);
        let envelope: Option<Envelope> = res.json().await.ok();
        match envelope {
            Some(e) if e.ok => SendOutcome::Accepted {
                platform_message_id: e
                    .result
                    .get("message_id")
                    .and_then(Value::as_i64)
                    .map(|id| id.to_string()),
            },
            Some(e) => {
                let code = e.error_code.unwrap_or(status);
                let reason =
                    format!("telegram {code}: {}", e.description.as_deref().unwrap_or("no description"));
                if code == 429 {
                    let wait =
                        e.parameters.and_then(|p| p.retry_after).map(Duration::from_secs).or(header_wait);
                    SendOutcome::Later { error: reason, retry_after: wait, channel_wide: true }
                } else if is_temporary(code) || is_temporary(status) {
                    SendOutcome::Later { error: reason, retry_after: header_wait, channel_wide: false }
                } else {
                    SendOutcome::Refused { reason }
                }
            }
            None if is_temporary(status) => SendOutcome::Later {
                error: format!("telegram {status}"),
                retry_after: header_wait,
                channel_wide: status == 429,
            },
            None => SendOutcome::Refused { reason: format!("telegram {status}: unreadable answer") },
        }
    }

    /// One API call outside sending (set-up, files); the result on `ok`.
    async fn call(&self, token: &str, method: &str, body: &Value) -> Result<Value, TelegramError> {
        let res = self
            .client
            .post(format!("{}/bot{token}/{method}", self.base))
            .json(body)
            .send()
            .await
            .map_err(|e| TelegramError(format!("telegram: {}", describe(&e))))?;
        let status = res.status().as_u16();
        let e: Envelope =
            res.json().await.map_err(|_| TelegramError(format!("telegram {status}: unreadable answer")))?;
        if e.ok {
            Ok(e.result)
        } else {
            let code = e.error_code.unwrap_or(status);
            Err(TelegramError(format!("telegram {code}: {}", e.description.unwrap_or_default())))
        }
    }

    /// `setWebhook` with our inbound URL and the channel's secret token.
    pub async fn set_webhook(&self, token: &str, url: &str, secret: &str) -> Result<(), TelegramError> {
        self.call(token, "setWebhook", &json!({"url": url, "secret_token": secret})).await.map(|_| ())
    }

    /// A received file, fetched from Telegram (`getFile`, then the download URL that carries the token).
    pub async fn fetch_file(&self, token: &str, file_id: &str) -> Result<reqwest::Response, TelegramError> {
        let file = self.call(token, "getFile", &json!({"file_id": file_id})).await?;
        let path = file
            .get("file_path")
            .and_then(Value::as_str)
            .ok_or_else(|| TelegramError("telegram: the file is not available".into()))?;
        let res = self
            .client
            .get(format!("{}/file/bot{token}/{path}", self.base))
            .timeout(self.file_timeout)
            .send()
            .await
            .map_err(|e| TelegramError(format!("telegram: {}", describe(&e))))?;
        if res.status().is_success() {
            Ok(res)
        } else {
            Err(TelegramError(format!("telegram {}: file download failed", res.status().as_u16())))
        }
    }
}
