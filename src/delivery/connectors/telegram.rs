//! Telegram Bot API: `{base}/bot{token}/{method}` with a JSON body (SPEC §5.2, platforms.md §1). The
//! bot token is part of the URL, so no URL is ever logged or stored: errors are described by
//! `crate::net::describe`, which leaves the URL out.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use reqwest::multipart::{Form, Part};

use super::fetch::Fetcher;
use super::{SendOutcome, contact_of, is_temporary, name_in_url, retry_after_header};
use crate::domain::model::{ChannelSettings, FileType};
use crate::net::describe;
use crate::storage::DeliveryJob;

pub struct Telegram {
    client: reqwest::Client,
    base: String,
    file_timeout: Duration,
    upload_max_bytes: u64,
}

/// A send's method and body: JSON, or a form with an uploaded file.
enum Request {
    Json(&'static str, Value),
    Upload(&'static str, Form),
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

/// Whether Telegram fetches a document by URL itself: "sending by URL will currently only work for
/// GIF, PDF and ZIP files" (Bot API, Sending files). Judged by the URL's path.
fn fetched_by_telegram(url: &str) -> bool {
    let path = url::Url::parse(url).map(|u| u.path().to_ascii_lowercase()).unwrap_or_default();
    [".pdf", ".gif", ".zip"].iter().any(|ext| path.ends_with(ext))
}

/// Why a call other than a send failed (set-up and media), safe to show an operator.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TelegramError(pub String);

impl Telegram {
    pub fn new(client: reqwest::Client, base: &str, file_timeout: Duration, upload_max_bytes: u64) -> Self {
        Self { client, base: base.trim_end_matches('/').to_string(), file_timeout, upload_max_bytes }
    }

    /// The method and body of a message: text → `sendMessage`; files by URL → `sendPhoto`, …; a
    /// contact → `sendContact` from its vCard; a document Telegram will not fetch → uploaded.
    async fn request(&self, job: &DeliveryJob, files: &Fetcher) -> Result<Request, SendOutcome> {
        // A numeric chat id goes as a number, `@channelusername` as a string.
        let chat_id: Value =
            job.destination.parse::<i64>().map_or_else(|_| json!(job.destination), |n| json!(n));
        let caption = job.text.as_deref().filter(|t| !t.is_empty());
        let Some(file) = &job.attachment else {
            let text = job.text.as_deref().unwrap_or("");
            return Ok(Request::Json("sendMessage", json!({"chat_id": chat_id, "text": text})));
        };
        let (method, field) = match file.file_type {
            FileType::Image => ("sendPhoto", "photo"),
            FileType::Video => ("sendVideo", "video"),
            FileType::Audio => ("sendAudio", "audio"),
            FileType::Voice => ("sendVoice", "voice"),
            FileType::Document if fetched_by_telegram(&file.url) => ("sendDocument", "document"),
            FileType::Document => return self.upload_document(chat_id, caption, &file.url, files).await,
            FileType::Contact => {
                let (contact, card) = contact_of(files, "telegram", &file.url).await?;
                let phone = contact.phones.first().cloned().unwrap_or_default();
                let mut body = json!({"chat_id": chat_id, "phone_number": phone,
                    "first_name": contact.first_name, "vcard": card});
                if !contact.last_name.is_empty() {
                    body["last_name"] = json!(contact.last_name);
                }
                return Ok(Request::Json("sendContact", body));
            }
        };
        let mut body = json!({"chat_id": chat_id, field: file.url});
        if let Some(caption) = caption {
            body["caption"] = json!(caption);
        }
        Ok(Request::Json(method, body))
    }

    /// `sendDocument` as `multipart/form-data`, the file downloaded first (bounded by
    /// `upload_max_bytes`); its name is the URL's last path segment.
    async fn upload_document(
        &self,
        chat_id: Value,
        caption: Option<&str>,
        url: &str,
        files: &Fetcher,
    ) -> Result<Request, SendOutcome> {
        let fetched = files.fetch("telegram", url, self.upload_max_bytes).await?;
        let name = name_in_url(url).unwrap_or_else(|| "document".into());
        // No content type is passed on: Telegram detects a document's type itself.
        let part = Part::bytes(fetched.bytes).file_name(name);
        let mut form = Form::new().text("chat_id", chat_id.to_string().trim_matches('"').to_string());
        if let Some(caption) = caption {
            form = form.text("caption", caption.to_string());
        }
        Ok(Request::Upload("sendDocument", form.part("document", part)))
    }

    pub async fn send(&self, settings: &ChannelSettings, job: &DeliveryJob, files: &Fetcher) -> SendOutcome {
        let Some(token) = settings.get("bot_token") else {
            return SendOutcome::Refused { reason: "telegram: the channel has no bot_token setting".into() };
        };
        let request = match self.request(job, files).await {
            Ok(r) => r,
            Err(outcome) => return outcome,
        };
        let post = |method: &str| self.client.post(format!("{}/bot{token}/{method}", self.base));
        let sent = match request {
            Request::Json(method, body) => post(method).json(&body).send().await,
            Request::Upload(method, form) => post(method).multipart(form).send().await,
        };
        let res = match sent {
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
                recipient: None,
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
