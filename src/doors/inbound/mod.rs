//! Platform webhooks (SPEC §5.3): Telegram and WhatsApp call these with what users wrote and, for
//! WhatsApp, with status changes of what we sent. The door checks the platform's proof (a secret
//! header, a signature over the raw body), translates the payload into received messages and status
//! updates, and hands them to the gateway. Answers: 404 unknown channel, 401 bad proof, 413 too large,
//! 400 unreadable, otherwise 200 — also for update kinds chatgate ignores, since the platforms retry
//! anything else for days.

pub mod media;
pub(crate) mod telegram;
pub(crate) mod whatsapp;
pub(crate) mod whatsapp_payload;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::domain::model::{Author, ChannelConfig, FileType, MessageDetails, Platform};
use crate::doors::AppState;
use crate::telemetry::Outcome;
use media::MediaRef;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/inbound/telegram/{platformid}", web::post().to(telegram::receive))
        .route("/inbound/whatsapp", web::get().to(whatsapp::verify_for_app))
        .route("/inbound/whatsapp", web::post().to(whatsapp::receive_for_app))
        .route("/inbound/whatsapp/{platformid}", web::get().to(whatsapp::verify))
        .route("/inbound/whatsapp/{platformid}", web::post().to(whatsapp::receive))
        .route("/media/{token}", web::get().to(media::serve));
}

/// A message a platform reported, before it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub destination: String,
    pub text: Option<String>,
    pub file: Option<(FileType, MediaRef)>,
    pub dedup_key: String,
    /// Author, reply, location, file name.
    pub details: MessageDetails,
    /// The platform's own time of the message (Unix ms).
    pub written_at: Option<i64>,
}

impl Received {
    /// A message with only text and who wrote it; the parsers add the rest.
    fn new(destination: String, dedup_key: String, author: Option<Author>, written_at: Option<i64>) -> Self {
        Self {
            destination,
            text: None,
            file: None,
            dedup_key,
            details: MessageDetails { author, ..MessageDetails::default() },
            written_at,
        }
    }

    /// Whether there is anything to store.
    fn has_content(&self) -> bool {
        self.text.is_some() || self.file.is_some()
    }
}

/// Why an inbound call is refused, as the HTTP status the platform sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    UnknownChannel,
    BadProof,
    TooLarge,
    Unreadable,
    Internal,
}

impl Refusal {
    fn status(self) -> StatusCode {
        match self {
            Refusal::UnknownChannel => StatusCode::NOT_FOUND,
            Refusal::BadProof => StatusCode::UNAUTHORIZED,
            Refusal::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Refusal::Unreadable => StatusCode::BAD_REQUEST,
            Refusal::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(self) -> &'static str {
        match self {
            Refusal::UnknownChannel => "CHANNEL_NOT_FOUND",
            Refusal::BadProof => "INVALID_TOKEN",
            Refusal::TooLarge => "REQUEST_TOO_LARGE",
            Refusal::Unreadable => "MALFORMED_REQUEST",
            Refusal::Internal => "INTERNAL_ERROR",
        }
    }
}

/// The answer to an inbound call, with its outcome for the request log.
fn answer(what: &'static str, result: Result<HttpResponse, Refusal>) -> HttpResponse {
    let (mut res, code) = match result {
        Ok(res) => (res, "SUCCESS"),
        Err(r) => (HttpResponse::build(r.status()).content_type("text/plain").body(r.code()), r.code()),
    };
    let method = Some(std::borrow::Cow::Owned(what.to_string()));
    res.extensions_mut().insert(Outcome { door: "inbound", method, code, ..Outcome::default() });
    res
}

/// The channel a webhook path names, if it exists and is of `platform`.
async fn channel_of(
    state: &AppState,
    platform_id: &str,
    platform: Platform,
) -> Result<std::sync::Arc<ChannelConfig>, Refusal> {
    let id: i64 = platform_id.parse().map_err(|_| Refusal::UnknownChannel)?;
    match state.gateway.channel_config(id).await {
        Ok(Some(c)) if c.channel.platform == platform => Ok(c),
        Ok(_) => Err(Refusal::UnknownChannel),
        Err(e) => {
            tracing::error!(error = %e, "reading a channel for an inbound call failed");
            Err(Refusal::Internal)
        }
    }
}

/// Reads the raw body up to `limit` bytes.
async fn body(req: &HttpRequest, payload: web::Payload, limit: usize) -> Result<web::Bytes, Refusal> {
    crate::doors::wire::read_body(req, payload, limit).await.map_err(|e| {
        if e.code == crate::domain::ErrorCode::RequestTooLarge {
            Refusal::TooLarge
        } else {
            Refusal::Unreadable
        }
    })
}

/// Stores what a platform reported on `channel`; the files get URLs of our media route.
async fn store_received(
    state: &AppState,
    req: &HttpRequest,
    channel: &ChannelConfig,
    received: Vec<Received>,
) -> Result<(), Refusal> {
    let base = media::public_base(req, state);
    for r in received {
        let name = r.details.file_name.as_deref();
        let attachment = r.file.map(|(file_type, reference)| crate::domain::model::Attachment {
            file_type,
            url: state.media.url(&base, channel.channel.id, &reference, name),
            thumb_url: None,
        });
        // In a one-to-one chat the author is the chat's person; their name is the contact's.
        let contact_name =
            r.details.author.as_ref().filter(|a| a.id == r.destination.trim_start_matches('+'));
        let contact_name = contact_name.map(|a| a.name.clone()).filter(|n| !n.is_empty());
        let message = crate::domain::model::InboundMessage {
            contact_name,
            channel_id: channel.channel.id,
            destination: r.destination,
            text: r.text,
            attachment,
            dedup_key: Some(r.dedup_key),
            details: r.details,
            written_at: r.written_at,
            now: chrono::Utc::now().timestamp_millis(),
        };
        if let Err(e) = state.gateway.receive(&message).await {
            tracing::error!(error = %e, "storing a received message failed");
            return Err(Refusal::Internal);
        }
    }
    Ok(())
}

/// Unix seconds as a platform sends them (a number, or a string of digits) → Unix ms. A time more
/// than a day ahead of ours is not believed.
fn platform_time(v: Option<&serde_json::Value>) -> Option<i64> {
    let secs = match v? {
        serde_json::Value::Number(n) => n.as_i64()?,
        serde_json::Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    let ms = secs.checked_mul(1000).filter(|ms| *ms > 0)?;
    (ms <= chrono::Utc::now().timestamp_millis() + 86_400_000).then_some(ms)
}

/// A file name as a sender's device gave it, made safe to show and to put in a header: no path, no
/// control characters or quotes, at most 255 characters.
fn file_name(v: Option<&serde_json::Value>) -> Option<String> {
    let raw = v?.as_str()?;
    let base = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let clean: String =
        base.chars().filter(|c| !c.is_control() && !matches!(c, '"' | '\\')).take(255).collect();
    let clean = clean.trim().to_string();
    (!clean.is_empty() && clean != "." && clean != "..").then_some(clean)
}

/// Equal in constant time (the length is not secret).
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    given.len() == expected.len() && bool::from(given.ct_eq(expected))
}
