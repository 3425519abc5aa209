//! `/inbound/whatsapp/{platformid}`: Meta's verification handshake (`GET`, the channel's
//! `verify_token`) and its notifications (`POST`, signed with the app secret in `X-Hub-Signature-256`
//! over the raw body): received messages, and status changes of the messages we sent.

use actix_web::{HttpRequest, HttpResponse, web};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::Value;
use sha2::Sha256;

use super::media::{MediaRef, vcard};
use super::{Received, Refusal, answer, body, channel_of, same_secret, store_received};
use crate::domain::model::{FileType, MessageStatus, Platform};
use crate::domain::values::storable_received;
use crate::doors::AppState;

/// Meta sends up to 3 MB per notification.
const BODY_LIMIT: usize = 4 * 1024 * 1024;

#[derive(Deserialize)]
pub struct Handshake {
    #[serde(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    verify_token: Option<String>,
    #[serde(rename = "hub.challenge")]
    challenge: Option<String>,
}

pub async fn verify(
    path: web::Path<String>,
    query: Option<web::Query<Handshake>>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let result = async {
        let channel = channel_of(&state, &path, Platform::Whatsapp).await?;
        let hs = query.map(web::Query::into_inner);
        let expected = channel.settings.get("verify_token");
        match (hs, expected) {
            (
                Some(Handshake { mode: Some(mode), verify_token: Some(token), challenge: Some(challenge) }),
                Some(expected),
            ) if mode == "subscribe" && same_secret(token.as_bytes(), expected.as_bytes()) => {
                Ok(HttpResponse::Ok().content_type("text/plain").body(challenge))
            }
            _ => Ok(HttpResponse::Forbidden().content_type("text/plain").body("verification refused")),
        }
    }
    .await;
    answer("whatsapp", result)
}

pub async fn receive(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let result = async {
        let channel = channel_of(&state, &path, Platform::Whatsapp).await?;
        let app_secret = channel.settings.get("app_secret").ok_or(Refusal::BadProof)?;
        let raw = body(&req, payload, BODY_LIMIT).await?;
        let signature = req.headers().get("x-hub-signature-256").and_then(|v| v.to_str().ok()).unwrap_or("");
        if !signed(app_secret.as_bytes(), &raw, signature) {
            return Err(Refusal::BadProof);
        }
        let notification: Value = serde_json::from_slice(&raw).map_err(|_| Refusal::Unreadable)?;
        let (received, statuses) = parse_notification(&notification)?;
        store_received(&state, &req, &channel, received).await?;
        for s in statuses {
            let reason = s.reason.as_deref();
            if let Err(e) = state.gateway.platform_status(channel.channel.id, &s.id, s.status, reason).await {
                tracing::error!(error = %e, "recording a WhatsApp status failed");
                return Err(Refusal::Internal);
            }
        }
        Ok(HttpResponse::Ok().finish())
    }
    .await;
    answer("whatsapp", result)
}

/// `sha256=` + hex HMAC-SHA256(app secret, raw body), checked in constant time.
fn signed(app_secret: &[u8], raw: &[u8], header: &str) -> bool {
    let Some(given) = header.strip_prefix("sha256=").and_then(|h| hex::decode(h.trim()).ok()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(app_secret) else {
        return false;
    };
    mac.update(raw);
    mac.verify_slice(&given).is_ok()
}

/// A status change of a message we sent, by its WhatsApp id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    pub id: String,
    pub status: MessageStatus,
    pub reason: Option<String>,
}

/// Every `entry[].changes[].value`'s messages and statuses; `Unreadable` if it is no notification.
pub fn parse_notification(n: &Value) -> Result<(Vec<Received>, Vec<StatusChange>), Refusal> {
    let entries = n.get("entry").and_then(Value::as_array).ok_or(Refusal::Unreadable)?;
    let values = entries
        .iter()
        .filter_map(|e| e.get("changes").and_then(Value::as_array))
        .flatten()
        .filter_map(|c| c.get("value"));
    let (mut received, mut statuses) = (Vec::new(), Vec::new());
    for value in values {
        let list = |k: &str| value.get(k).and_then(Value::as_array).cloned().unwrap_or_default();
        received.extend(list("messages").iter().filter_map(message));
        statuses.extend(list("statuses").iter().filter_map(status));
    }
    Ok((received, statuses))
}

fn message(m: &Value) -> Option<Received> {
    let s = |v: &Value, p: &str| v.pointer(p).and_then(Value::as_str).map(storable_received);
    let from = s(m, "/from")?;
    let id = s(m, "/id")?;
    let kind = s(m, "/type").unwrap_or_default();
    let media = |field: &str| s(m, &format!("/{field}/id")).map(MediaRef::WhatsApp);
    let caption = |field: &str| s(m, &format!("/{field}/caption")).filter(|c| !c.is_empty());
    let (text, file) = match kind.as_str() {
        "text" => (s(m, "/text/body"), None),
        "image" => (caption("image"), media("image").map(|r| (FileType::Image, r))),
        "video" => (caption("video"), media("video").map(|r| (FileType::Video, r))),
        "document" => (caption("document"), media("document").map(|r| (FileType::Document, r))),
        "audio" => {
            let voice = m.pointer("/audio/voice").and_then(Value::as_bool).unwrap_or(false);
            (None, media("audio").map(|r| (if voice { FileType::Voice } else { FileType::Audio }, r)))
        }
        "contacts" => {
            let c = m.pointer("/contacts/0")?;
            let name = s(c, "/name/formatted_name").unwrap_or_default();
            let phones: Vec<String> = c
                .get("phones")
                .and_then(Value::as_array)
                .map(|p| p.iter().filter_map(|p| s(p, "/phone")).collect())
                .unwrap_or_default();
            let phones: Vec<&str> = phones.iter().map(String::as_str).collect();
            (None, Some((FileType::Contact, MediaRef::VCard(vcard(&name, &phones)))))
        }
        // Locations, stickers, reactions, unsupported…: not stored.
        _ => return None,
    };
    if text.is_none() && file.is_none() {
        return None;
    }
    Some(Received { destination: from, text, file, dedup_key: format!("wamid:{id}") })
}

fn status(v: &Value) -> Option<StatusChange> {
    let id = v.get("id").and_then(Value::as_str)?.to_string();
    let status = match v.get("status").and_then(Value::as_str)? {
        "sent" => MessageStatus::Sent,
        "delivered" => MessageStatus::Delivered,
        "read" => MessageStatus::Read,
        "failed" => MessageStatus::Failed,
        _ => return None,
    };
    let reason = (status == MessageStatus::Failed).then(|| {
        let e = v.pointer("/errors/0");
        let code =
            e.and_then(|e| e.get("code")).and_then(Value::as_i64).map_or("?".into(), |c| c.to_string());
        let title = e
            .and_then(|e| e.get("title").or_else(|| e.get("message")))
            .and_then(Value::as_str)
            .unwrap_or("failed");
        format!("whatsapp {code}: {title}")
    });
    Some(StatusChange { id, status, reason })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn signature_is_hmac_of_the_raw_body() {
        let mut mac = Hmac::<Sha256>::new_from_slice(b"secret").unwrap();
        mac.update(b"{}");
        let good = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        assert!(signed(b"secret", b"{}", &good));
        assert!(!signed(b"other", b"{}", &good));
        assert!(!signed(b"secret", b"{ }", &good));
        assert!(!signed(b"secret", b"{}", "sha256=zz"));
        assert!(!signed(b"secret", b"{}", ""));
    }

    #[test]
    fn messages_and_statuses() {
        let n = json!({"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", "value": {
        "messages": [
            {"from": "16505551234", "id": "wamid.A", "type": "text", "text": {"body": "hi"}},
            {"from": "16505551234", "id": "wamid.B", "type": "image", "image": {"id": "m1", "caption": "c"}},
            {"from": "16505551234", "id": "wamid.C", "type": "location", "location": {}}
        ],
        "statuses": [
            {"id": "wamid.X", "status": "read", "timestamp": "1", "recipient_id": "1"},
            {"id": "wamid.Y", "status": "failed", "errors": [{"code": 131047, "title": "Re-engagement message"}]}
        ]}}]}]});
        let (received, statuses) = parse_notification(&n).unwrap();
        assert_eq!(received.len(), 2);
        assert_eq!(received[1].file, Some((FileType::Image, MediaRef::WhatsApp("m1".into()))));
        assert_eq!(statuses[0].status, MessageStatus::Read);
        assert_eq!(statuses[1].reason.as_deref(), Some("whatsapp 131047: Re-engagement message"));
        assert_eq!(parse_notification(&json!({"x": 1})), Err(Refusal::Unreadable));
    }
}
