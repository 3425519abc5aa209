//! `POST /inbound/telegram/{platformid}`: one Telegram `Update` per call, proven by the
//! `X-Telegram-Bot-Api-Secret-Token` header (the channel's `webhook_secret`).

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use super::media::MediaRef;
use super::{
    Received, Refusal, answer, body, channel_of, file_name, platform_time, same_secret, store_received,
};
use crate::domain::model::{Author, FileType, InboundEdit, Location, Platform};
use crate::domain::values::storable_received;
use crate::doors::AppState;

/// Updates are small (a message is at most 4096 characters); anything bigger is not Telegram.
const BODY_LIMIT: usize = 256 * 1024;

pub async fn receive(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let result = async {
        let channel = channel_of(&state, &path, Platform::Telegram).await?;
        let given =
            req.headers().get("x-telegram-bot-api-secret-token").map(|v| v.as_bytes()).unwrap_or_default();
        let expected = channel.settings.get("webhook_secret").ok_or(Refusal::BadProof)?;
        if !same_secret(given, expected.as_bytes()) {
            return Err(Refusal::BadProof);
        }
        let raw = body(&req, payload, BODY_LIMIT).await?;
        let update: Value = serde_json::from_slice(&raw).map_err(|_| Refusal::Unreadable)?;
        match parse_update(&update)? {
            Update::Message(received) => store_received(&state, &req, &channel, vec![*received]).await?,
            Update::Edit { dedup_key, text, edited_at } => {
                let edit = InboundEdit { channel_id: channel.channel.id, dedup_key, text, edited_at };
                if let Err(e) = state.gateway.edit_received(&edit).await {
                    tracing::error!(error = %e, "recording an edited message failed");
                    return Err(Refusal::Internal);
                }
            }
            Update::Ignored => {}
        }
        Ok(HttpResponse::Ok().finish())
    }
    .await;
    answer("telegram", result)
}

/// What an update asks chatgate to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Update {
    Message(Box<Received>),
    /// `edited_message`: the stored message (same chat and message id) gets the new text.
    Edit {
        dedup_key: String,
        text: Option<String>,
        edited_at: i64,
    },
    /// Channel posts, member changes, callbacks, polls, reactions…: acknowledged and not stored.
    Ignored,
}

/// What an update carries; `Unreadable` if it is no update.
pub fn parse_update(update: &Value) -> Result<Update, Refusal> {
    update.get("update_id").and_then(Value::as_i64).ok_or(Refusal::Unreadable)?;
    if let Some(edited) = update.get("edited_message").filter(|m| m.is_object()) {
        return Ok(edit(edited));
    }
    let Some(message) = update.get("message").filter(|m| m.is_object()) else {
        return Ok(Update::Ignored);
    };
    let Some((chat_id, key)) = identity(message) else {
        return Ok(Update::Ignored);
    };
    let mut r = Received::new(chat_id.to_string(), key, author(message), platform_time(message.get("date")));
    r.text = text_of(message);
    if let Some(location) = location_of(message) {
        r.text = Some(storable_received(&location.text()));
        r.details.location = Some(location);
    }
    if let Some((kind, reference, name)) = file_of(message) {
        r.file = Some((kind, reference));
        r.details.file_name = name;
    }
    Ok(if r.has_content() { Update::Message(Box::new(r)) } else { Update::Ignored })
}

/// The chat and the deduplication key of a message: Telegram's message ids are unique per chat, and
/// unlike update ids they are never reused (update ids restart after a week of silence).
fn identity(message: &Value) -> Option<(i64, String)> {
    let chat_id = message.pointer("/chat/id").and_then(Value::as_i64)?;
    let message_id = message.get("message_id").and_then(Value::as_i64)?;
    Some((chat_id, format!("msg:{chat_id}:{message_id}")))
}

fn text_of(message: &Value) -> Option<String> {
    message
        .get("text")
        .or_else(|| message.get("caption"))
        .and_then(Value::as_str)
        .filter(|t| !t.trim().is_empty())
        .map(storable_received)
}

fn edit(message: &Value) -> Update {
    let Some((_, dedup_key)) = identity(message) else {
        return Update::Ignored;
    };
    // A live location moving is an edit too; only a changed text or caption is recorded.
    let Some(text) = text_of(message) else {
        return Update::Ignored;
    };
    let edited_at =
        platform_time(message.get("edit_date")).unwrap_or_else(|| chrono::Utc::now().timestamp_millis());
    Update::Edit { dedup_key, text: Some(text), edited_at }
}

/// The sender: `from` (a person or bot); its name as Telegram shows it.
fn author(message: &Value) -> Option<Author> {
    let from = message.get("from")?;
    let id = from.get("id").and_then(Value::as_i64)?;
    let part = |k: &str| from.get(k).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty());
    let name = match (part("first_name"), part("last_name")) {
        (Some(first), Some(last)) => format!("{first} {last}"),
        (Some(one), None) | (None, Some(one)) => one.to_string(),
        (None, None) => part("username").unwrap_or_default().to_string(),
    };
    Some(Author { name: storable_received(&name), id: id.to_string() })
}

/// `venue` (a named place) or `location`.
fn location_of(message: &Value) -> Option<Location> {
    let venue = message.get("venue");
    let at = venue.and_then(|v| v.get("location")).or_else(|| message.get("location"))?;
    let coordinate = |k: &str| at.get(k).and_then(Value::as_f64);
    let text = |k: &str| {
        venue.and_then(|v| v.get(k)).and_then(Value::as_str).filter(|s| !s.is_empty()).map(storable_received)
    };
    Location::new(coordinate("latitude")?, coordinate("longitude")?, text("title"), text("address"))
}

fn file_of(message: &Value) -> Option<(FileType, MediaRef, Option<String>)> {
    let file_id =
        |v: &Value| v.get("file_id").and_then(Value::as_str).map(|id| MediaRef::Telegram(id.to_string()));
    // A photo comes in several sizes; the largest is the last.
    if let Some(photo) = message.get("photo").and_then(Value::as_array).and_then(|sizes| sizes.last()) {
        return file_id(photo).map(|r| (FileType::Image, r, None));
    }
    if let Some(sticker) = message.get("sticker") {
        let moving = sticker.get("is_video").and_then(Value::as_bool).unwrap_or(false);
        let kind = if moving { FileType::Video } else { FileType::Image };
        return file_id(sticker).map(|r| (kind, r, None));
    }
    // An animation (a GIF) also comes as `document`: it is shown as the video it is.
    for (field, kind) in [
        ("animation", FileType::Video),
        ("video", FileType::Video),
        ("video_note", FileType::Video),
        ("audio", FileType::Audio),
        ("voice", FileType::Voice),
        ("document", FileType::Document),
    ] {
        if let Some(f) = message.get(field) {
            return file_id(f).map(|r| (kind, r, file_name(f.get("file_name"))));
        }
    }
    let contact = message.get("contact")?;
    let field = |k: &str| contact.get(k).and_then(Value::as_str).unwrap_or("");
    let vcard = match contact.get("vcard").and_then(Value::as_str) {
        Some(v) if !v.is_empty() => v.to_string(),
        _ => super::media::vcard(
            &format!("{} {}", field("first_name"), field("last_name")),
            &[field("phone_number")],
        ),
    };
    Some((FileType::Contact, MediaRef::VCard(vcard), None))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn message(update: Value) -> Received {
        match parse_update(&update).unwrap() {
            Update::Message(r) => *r,
            other => panic!("not a message: {other:?}"),
        }
    }

    #[test]
    fn text_photo_and_ignored_updates() {
        let text = json!({"update_id": 7, "message": {"message_id": 1, "date": 1_441_645_532,
            "from": {"id": 5, "is_bot": false, "first_name": "Ann", "last_name": "Lee"},
            "chat": {"id": 42, "type": "private"}, "text": "hi"}});
        let r = message(text);
        assert_eq!(
            (r.destination.as_str(), r.text.as_deref(), r.dedup_key.as_str()),
            ("42", Some("hi"), "msg:42:1")
        );
        assert_eq!(r.details.author, Some(Author { name: "Ann Lee".into(), id: "5".into() }));
        assert_eq!(r.written_at, Some(1_441_645_532_000));
        let photo = json!({"update_id": 8, "message": {"message_id": 2, "chat": {"id": -5}, "caption": "look",
            "photo": [{"file_id": "small"}, {"file_id": "big"}]}});
        assert_eq!(message(photo).file, Some((FileType::Image, MediaRef::Telegram("big".into()))));
        let venue = json!({"update_id": 9, "message": {"message_id": 3, "chat": {"id": 1},
            "location": {"latitude": 40.4, "longitude": -3.7},
            "venue": {"location": {"latitude": 40.4, "longitude": -3.7}, "title": "Prado", "address": "Paseo 1"}}});
        let r = message(venue);
        assert_eq!(r.text.as_deref(), Some("Location: Prado, Paseo 1 (40.4, -3.7)"));
        let sticker = json!({"update_id": 10, "message": {"message_id": 4, "chat": {"id": 1},
            "sticker": {"file_id": "s", "is_video": true}}});
        assert_eq!(message(sticker).file, Some((FileType::Video, MediaRef::Telegram("s".into()))));
        let edited = json!({"update_id": 11, "edited_message": {"message_id": 1, "chat": {"id": 42},
            "date": 1, "edit_date": 2, "text": "hi!"}});
        assert_eq!(
            parse_update(&edited).unwrap(),
            Update::Edit { dedup_key: "msg:42:1".into(), text: Some("hi!".into()), edited_at: 2000 }
        );
        let poll = json!({"update_id": 12, "message": {"message_id": 5, "chat": {"id": 1}, "poll": {}}});
        assert_eq!(parse_update(&poll).unwrap(), Update::Ignored);
        assert_eq!(parse_update(&json!({"update_id": 13, "channel_post": {}})).unwrap(), Update::Ignored);
        assert_eq!(parse_update(&json!({"message": {}})), Err(Refusal::Unreadable));
        assert_eq!(parse_update(&json!([1, 2])), Err(Refusal::Unreadable));
    }
}
