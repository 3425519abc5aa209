//! Connectors: how a message reaches each platform. Telegram and WhatsApp over HTTP (through the one
//! client of `crate::net`); webchat and operator are delivered inside chatgate, where the pages read
//! them, so their "send" is immediate.

pub mod fetch;
pub mod telegram;
pub mod templates;
pub mod vcard;
pub mod whatsapp;

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::domain::model::{ChannelSettings, Platform};
use crate::domain::template_book::TemplateSource;
use crate::domain::templates::Template;
use crate::storage::DeliveryJob;

/// What a platform said to a send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// Accepted: `sent`, with the platform's id of the message and, when the platform names the
    /// recipient otherwise than we did, its own id of them (WhatsApp `contacts[0].wa_id`).
    Accepted { platform_message_id: Option<String>, recipient: Option<String> },
    /// Refused for good: `failed` with this reason (the platform and its own description).
    Refused { reason: String },
    /// Not now: retried later. `retry_after` is the platform's own wait; `channel_wide` when the
    /// platform throttles the whole bot or number (every message of the channel waits, others don't).
    Later { error: String, retry_after: Option<Duration>, channel_wide: bool },
}

impl SendOutcome {
    pub fn later(error: String) -> Self {
        SendOutcome::Later { error, retry_after: None, channel_wide: false }
    }
}

/// Connector settings of one platform. (Its defaults are the platform's, in `ConnectorSettings`; the
/// configuration is merged over them, so a file or variable may set any one field.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlatformSettings {
    /// Where the platform's API is (tests and the benchmark point it at a fake).
    pub base_url: String,
    /// Messages per second per channel (bot, phone number); 0 = no limit.
    pub per_channel_per_sec: f64,
    /// Messages per second per chat; 0 = no limit.
    pub per_chat_per_sec: f64,
    /// Messages a chat may send at once above its rate before pacing starts.
    pub per_chat_burst: u32,
    /// Requests in flight per channel, so that one hanging channel holds few of the worker's slots.
    pub per_channel_concurrency: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConnectorSettings {
    pub telegram: PlatformSettings,
    pub whatsapp: PlatformSettings,
    /// The largest file chatgate downloads to upload it itself (Telegram documents other than PDF,
    /// GIF and ZIP, which Telegram will not fetch by URL), bytes. Telegram takes up to 50 MB; each
    /// upload in flight holds its file in memory.
    pub upload_max_bytes: u64,
    /// How often every WhatsApp channel's templates are asked of Meta again, seconds (0 = only on
    /// demand and on Meta's status notices).
    pub templates_refresh_secs: u64,
}

impl Default for ConnectorSettings {
    fn default() -> Self {
        Self {
            // Telegram's FAQ: about 30 messages/s per bot, 1/s per chat with short bursts. Paced a
            // little under 30: sends reach the platform a few ms early or late, and a platform that
            // counts 30 in any second answers the 31st with a 429 that pauses the whole bot.
            telegram: PlatformSettings {
                base_url: "https://api.telegram.org".into(),
                per_channel_per_sec: 29.0,
                per_chat_per_sec: 1.0,
                per_chat_burst: 3,
                per_channel_concurrency: 16,
            },
            // Cloud API: 80 messages/s per business number by default (paced under it, as above).
            whatsapp: PlatformSettings {
                base_url: "https://graph.facebook.com/v23.0".into(),
                per_channel_per_sec: 78.0,
                per_chat_per_sec: 0.0,
                per_chat_burst: 1,
                per_channel_concurrency: 16,
            },
            upload_max_bytes: 20 * 1024 * 1024,
            templates_refresh_secs: 900,
        }
    }
}

impl ConnectorSettings {
    /// The limits of a platform; `None` for the internal ones (nothing to throttle).
    pub fn limits(&self, platform: Platform) -> Option<&PlatformSettings> {
        match platform {
            Platform::Telegram => Some(&self.telegram),
            Platform::Whatsapp => Some(&self.whatsapp),
            Platform::Webchat | Platform::Operator => None,
        }
    }
}

/// Every connector, sharing one HTTP client for the platforms and one guarded client for the files
/// customers name.
pub struct Connectors {
    pub telegram: telegram::Telegram,
    pub whatsapp: whatsapp::WhatsApp,
    files: fetch::Fetcher,
}

/// Telegram's limit on a contact's `vcard`, bytes (also the most chatgate reads of any vCard).
pub const VCARD_MAX_BYTES: u64 = 2048;

impl Connectors {
    /// `file_timeout` bounds a received file's whole download (API calls keep the client's timeout).
    pub fn new(
        client: reqwest::Client,
        files: fetch::Fetcher,
        settings: &ConnectorSettings,
        file_timeout: Duration,
    ) -> Self {
        Self {
            telegram: telegram::Telegram::new(
                client.clone(),
                &settings.telegram.base_url,
                file_timeout,
                settings.upload_max_bytes,
            ),
            whatsapp: whatsapp::WhatsApp::new(client, &settings.whatsapp.base_url, file_timeout),
            files,
        }
    }

    pub async fn send(&self, settings: &ChannelSettings, job: &DeliveryJob) -> SendOutcome {
        match job.platform {
            Platform::Telegram => self.telegram.send(settings, job, &self.files).await,
            Platform::Whatsapp => self.whatsapp.send(settings, job, &self.files).await,
            // Stored for the page, which reads it from the database: that is the delivery.
            Platform::Webchat | Platform::Operator => {
                SendOutcome::Accepted { platform_message_id: None, recipient: None }
            }
        }
    }
}

#[async_trait::async_trait]
impl TemplateSource for Connectors {
    async fn fetch_templates(&self, settings: &ChannelSettings) -> Result<Vec<Template>, String> {
        self.whatsapp.fetch_templates(settings).await
    }
}

/// The contact a message's vCard (at its `fileurl`) describes, fetched through the guarded client.
pub(crate) async fn contact_of(
    files: &fetch::Fetcher,
    platform: &str,
    url: &str,
) -> Result<(vcard::Contact, String), SendOutcome> {
    let fetched = files.fetch(platform, url, VCARD_MAX_BYTES).await?;
    let text = String::from_utf8(fetched.bytes).map_err(|_| SendOutcome::Refused {
        reason: format!("{platform}: the vCard at fileurl is not UTF-8 text"),
    })?;
    match vcard::parse(&text) {
        Some(c) if !c.phones.is_empty() => Ok((c, text)),
        _ => Err(SendOutcome::Refused {
            reason: format!("{platform}: the file at fileurl is no vCard with a phone number"),
        }),
    }
}

/// A file's name as its URL gives it: the last path segment, percent-decoded.
pub(crate) fn name_in_url(url: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.path_segments()?.next_back().map(str::to_string))
        .map(|n| percent_encoding::percent_decode_str(&n).decode_utf8_lossy().into_owned())
        .filter(|n| !n.is_empty())
}

/// `Retry-After` in seconds, if the answer has one.
pub(crate) fn retry_after_header(res: &reqwest::Response) -> Option<Duration> {
    res.headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

/// Whether an HTTP status is worth retrying: timeouts, throttling and server errors.
pub(crate) fn is_temporary(status: u16) -> bool {
    status == 408 || status == 429 || status >= 500
}
