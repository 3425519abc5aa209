//! `POST /inbound/telegram/{platformid}`: one Telegram `Update` per call, proven by the
//! `X-Telegram-Bot-Api-Secret-Token` header (the channel's `webhook_secret`).

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use super::media::MediaRef;
use super::{Received, Refusal, answer, body, channel_of, same_secret, store_received};
use crate::domain::model::{FileType, Platform};
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
        let received = parse_update(&update)?;
        store_received(&state, &req, &channel, received.into_iter().collect()).await?;
        Ok(HttpResponse::Ok().finish())
    }
    .await;
    answer("telegram", result)
}

/// The message an update carries, if it is one chatgate stores; `Unreadable` if it is no update.
pub fn parse_update(update: &Value) -> Result<Option<Received>, Refusal> {
    let update_id = update.get("update_id").and_then(Value::as_i64).ok_or(Refusal::Unreadable)?;
    // Edits, channel posts, member changes, callbacks…: acknowledged and ignored.
    let Some(message) = update.get("message").filter(|m| m.is_object()) else {
        return Ok(None);
    };
    let Some(chat_id) = message.pointer("/chat/id").and_then(Value::as_i64) else {
        return Ok(None);
    };
    let text = message
        .get("text")
        .or_else(|| message.get("caption"))
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(storable_received);
    let file = file_of(message);
    if text.is_none() && file.is_none() {
        return Ok(None);
    }
    Ok(Some(Received {
        destination: chat_id.to_string(),
        text,
        file,
        dedup_key: format!("update:{update_id}"),
    }))
}

fn file_of(message: &Value) -> Option<(FileType, MediaRef)> {
    let file_id =
        |v: &Value| v.get("file_id").and_then(Value::as_str).map(|id| MediaRef::Telegram(id.to_string()));
    // A photo comes in several sizes; the largest is the last.
    if let Some(photo) = message.get("photo").and_then(Value::as_array).and_then(|sizes| sizes.last()) {
        return file_id(photo).map(|r| (FileType::Image, r));
    }
    for (field, kind) in [
        ("video", FileType::Video),
        ("audio", FileType::Audio),
        ("voice", FileType::Voice),
        ("document", FileType::Document),
    ] {
        if let Some(f) = message.get(field) {
            return file_id(f).map(|r| (kind, r));
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
    Some((FileType::Contact, MediaRef::VCard(vcard)))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn text_photo_and_ignored_updates() {
        let text = json!({"update_id": 7, "message": {"message_id": 1, "chat": {"id": 42, "type": "private"}, "text": "hi"}});
        let r = parse_update(&text).unwrap().unwrap();
        assert_eq!(
            (r.destination.as_str(), r.text.as_deref(), r.dedup_key.as_str()),
            ("42", Some("hi"), "update:7")
        );
        let photo = json!({"update_id": 8, "message": {"chat": {"id": -5}, "caption": "look",
            "photo": [{"file_id": "small"}, {"file_id": "big"}]}});
        let r = parse_update(&photo).unwrap().unwrap();
        assert_eq!(r.file, Some((FileType::Image, MediaRef::Telegram("big".into()))));
        assert_eq!(parse_update(&json!({"update_id": 9, "edited_message": {}})).unwrap(), None);
        assert_eq!(
            parse_update(&json!({"update_id": 10, "message": {"chat": {"id": 1}, "sticker": {}}})).unwrap(),
            None
        );
        assert_eq!(parse_update(&json!({"message": {}})), Err(Refusal::Unreadable));
        assert_eq!(parse_update(&json!([1, 2])), Err(Refusal::Unreadable));
    }
}
