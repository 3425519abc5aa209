//! `/inbound/whatsapp/{platformid}`: Meta's verification handshake (`GET`, the channel's
//! `verify_token`) and its notifications (`POST`, signed with the app secret in `X-Hub-Signature-256`
//! over the raw body): received messages, and status changes of the messages we sent.

use actix_web::{HttpRequest, HttpResponse, web};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::Value;
use sha2::Sha256;

use super::media::{MediaRef, vcard};
use super::{
    Received, Refusal, answer, body, channel_of, file_name, platform_time, same_secret, store_received,
};
use crate::domain::model::{Author, ChannelConfig, FileType, Location, MessageStatus, Platform};
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

/// `GET /inbound/whatsapp`: the app-wide callback's handshake, with any WhatsApp channel's `verify_token`.
pub async fn verify_for_app(
    query: Option<web::Query<Handshake>>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let result = async {
        let channels = state.gateway.channel_configs(Platform::Whatsapp).await.map_err(|e| {
            tracing::error!(error = %e, "reading the WhatsApp channels failed");
            Refusal::Internal
        })?;
        let hs = query.map(web::Query::into_inner);
        let challenge = match hs {
            Some(Handshake { mode: Some(mode), verify_token: Some(token), challenge: Some(challenge) })
                if mode == "subscribe"
                    && channels.iter().any(|c| {
                        c.settings
                            .get("verify_token")
                            .is_some_and(|t| same_secret(token.as_bytes(), t.as_bytes()))
                    }) =>
            {
                challenge
            }
            _ => {
                return Ok(HttpResponse::Forbidden().content_type("text/plain").body("verification refused"));
            }
        };
        Ok(HttpResponse::Ok().content_type("text/plain").body(challenge))
    }
    .await;
    answer("whatsapp", result)
}

/// `POST /inbound/whatsapp/{platformid}`: the channel in the path must exist and its `app_secret`
/// sign the body; each notification is then filed under the channel its number names.
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
        if !signed(app_secret.as_bytes(), &raw, signature_of(&req)) {
            return Err(Refusal::BadProof);
        }
        let notification: Value = serde_json::from_slice(&raw).map_err(|_| Refusal::Unreadable)?;
        let changes = parse_notification(&notification)?;
        file_changes(&state, &req, &raw, Some(&channel), changes).await?;
        Ok(HttpResponse::Ok().finish())
    }
    .await;
    answer("whatsapp", result)
}

/// `POST /inbound/whatsapp`: the app's one callback URL for all its numbers. Each notification is
/// filed under the channel whose `phone_number_id` it names, proven by that channel's `app_secret`.
pub async fn receive_for_app(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let result = async {
        let raw = body(&req, payload, BODY_LIMIT).await?;
        let notification: Value = serde_json::from_slice(&raw).map_err(|_| Refusal::Unreadable)?;
        let changes = parse_notification(&notification)?;
        file_changes(&state, &req, &raw, None, changes).await?;
        Ok(HttpResponse::Ok().finish())
    }
    .await;
    answer("whatsapp", result)
}

/// A template's status changed: kept for every channel of that business account whose `app_secret`
/// signs the body.
async fn template_changed(
    state: &AppState,
    req: &HttpRequest,
    raw: &[u8],
    update: &TemplateUpdate,
    all: &mut Option<Vec<ChannelConfig>>,
) -> Result<(), Refusal> {
    if all.is_none() {
        *all = Some(state.gateway.channel_configs(Platform::Whatsapp).await.map_err(|e| {
            tracing::error!(error = %e, "reading the WhatsApp channels failed");
            Refusal::Internal
        })?);
    }
    let of_account: Vec<&ChannelConfig> =
        all.iter().flatten().filter(|c| c.settings.get("waba_id") == Some(update.waba_id.as_str())).collect();
    if of_account.is_empty() {
        tracing::warn!(waba_id = %update.waba_id, "a template status for a business account no channel has: skipped");
        return Ok(());
    }
    let proven = |c: &&&ChannelConfig| {
        c.settings.get("app_secret").is_some_and(|s| signed(s.as_bytes(), raw, signature_of(req)))
    };
    if !of_account.iter().any(|c| proven(&c)) {
        return Err(Refusal::BadProof);
    }
    for channel in of_account.iter().filter(|c| proven(c)) {
        let book = state.gateway.templates();
        let changed = book.status_changed(channel.channel.id, &update.name, &update.language, &update.status);
        if let Err(e) = changed.await {
            tracing::error!(error = %e, "recording a template's status failed");
            return Err(Refusal::Internal);
        }
    }
    Ok(())
}

fn signature_of(req: &HttpRequest) -> &str {
    req.headers().get("x-hub-signature-256").and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// Files each change under its channel: the one whose `phone_number_id` the change names (its
/// `app_secret` must sign the body), or the path's channel when the change names no number. A number
/// no channel has is logged and skipped — Meta would retry a refusal for days.
async fn file_changes(
    state: &AppState,
    req: &HttpRequest,
    raw: &[u8],
    path_channel: Option<&ChannelConfig>,
    changes: Vec<Change>,
) -> Result<(), Refusal> {
    let mut all: Option<Vec<ChannelConfig>> = None;
    for change in changes {
        if let Some(update) = &change.template {
            template_changed(state, req, raw, update, &mut all).await?;
            continue;
        }
        let named = change.phone_number_id.as_deref();
        let channel = match (named, path_channel) {
            (None, Some(c)) => c.clone(),
            (Some(id), Some(c)) if c.settings.get("phone_number_id") == Some(id) => c.clone(),
            (None, None) => {
                tracing::warn!(
                    "a WhatsApp notification without a phone_number_id came to the app URL: skipped"
                );
                continue;
            }
            (Some(id), _) => {
                if all.is_none() {
                    all = Some(state.gateway.channel_configs(Platform::Whatsapp).await.map_err(|e| {
                        tracing::error!(error = %e, "reading the WhatsApp channels failed");
                        Refusal::Internal
                    })?);
                }
                let numbered: Vec<&ChannelConfig> =
                    all.iter().flatten().filter(|c| c.settings.get("phone_number_id") == Some(id)).collect();
                if numbered.is_empty() {
                    tracing::warn!(
                        phone_number_id = id,
                        "a WhatsApp notification for a number no channel has: skipped"
                    );
                    continue;
                }
                let proven = numbered.into_iter().find(|c| {
                    c.settings.get("app_secret").is_some_and(|s| signed(s.as_bytes(), raw, signature_of(req)))
                });
                proven.cloned().ok_or(Refusal::BadProof)?
            }
        };
        store_received(state, req, &channel, change.received).await?;
        for s in change.statuses {
            let reason = s.reason.as_deref();
            if let Err(e) = state.gateway.platform_status(channel.channel.id, &s.id, s.status, reason).await {
                tracing::error!(error = %e, "recording a WhatsApp status failed");
                return Err(Refusal::Internal);
            }
        }
    }
    Ok(())
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

/// One `entry[].changes[].value`: the number it is for, what was received, status changes, and (for
/// `message_template_status_update`, filed by the business account `entry[].id`) a template's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub phone_number_id: Option<String>,
    pub received: Vec<Received>,
    pub statuses: Vec<StatusChange>,
    pub template: Option<TemplateUpdate>,
}

/// A template's new status, as Meta reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateUpdate {
    pub waba_id: String,
    pub name: String,
    pub language: String,
    pub status: String,
}

/// Every `entry[].changes[].value` of a notification; `Unreadable` if it is no notification.
pub fn parse_notification(n: &Value) -> Result<Vec<Change>, Refusal> {
    let entries = n.get("entry").and_then(Value::as_array).ok_or(Refusal::Unreadable)?;
    let changes_of = |e: &'_ Value| {
        let waba = e.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
        let list = e.get("changes").and_then(Value::as_array).cloned().unwrap_or_default();
        list.into_iter().map(move |c| (waba.clone(), c))
    };
    let mut changes = Vec::new();
    for (waba_id, change) in entries.iter().flat_map(changes_of) {
        let Some(value) = change.get("value") else { continue };
        if change.get("field").and_then(Value::as_str) == Some("message_template_status_update") {
            let s = |k: &str| value.get(k).and_then(Value::as_str).map(str::to_string);
            let template = match (s("message_template_name"), s("message_template_language"), s("event")) {
                (Some(name), Some(language), Some(status)) => {
                    Some(TemplateUpdate { waba_id, name, language, status })
                }
                _ => None,
            };
            changes.push(Change {
                phone_number_id: None,
                received: Vec::new(),
                statuses: Vec::new(),
                template,
            });
            continue;
        }
        let list = |k: &str| value.get(k).and_then(Value::as_array).cloned().unwrap_or_default();
        let contacts = list("contacts");
        changes.push(Change {
            phone_number_id: value
                .pointer("/metadata/phone_number_id")
                .and_then(Value::as_str)
                .map(str::to_string),
            received: list("messages").iter().flat_map(|m| message(m, &contacts)).collect(),
            statuses: list("statuses").iter().filter_map(status).collect(),
            template: None,
        });
    }
    Ok(changes)
}

/// The author of a message: its `from` and the profile name `contacts[]` gives for that `wa_id`.
fn author(from: &str, contacts: &[Value]) -> Author {
    let name = contacts
        .iter()
        .find(|c| c.get("wa_id").and_then(Value::as_str) == Some(from))
        .or_else(|| contacts.first().filter(|_| contacts.len() == 1))
        .and_then(|c| c.pointer("/profile/name"))
        .and_then(Value::as_str)
        .map(storable_received)
        .unwrap_or_default();
    Author { name, id: from.to_string() }
}

/// What one message is stored as: most give one message; a share of several contacts one per contact.
fn message(m: &Value, contacts: &[Value]) -> Vec<Received> {
    let s = |v: &Value, p: &str| v.pointer(p).and_then(Value::as_str).map(storable_received);
    let (Some(from), Some(id)) = (s(m, "/from"), s(m, "/id")) else {
        return Vec::new();
    };
    let kind = s(m, "/type").unwrap_or_default();
    let mut r = Received::new(
        from.clone(),
        format!("wamid:{id}"),
        Some(author(&from, contacts)),
        platform_time(m.get("timestamp")),
    );
    let media = |field: &str| s(m, &format!("/{field}/id")).map(MediaRef::WhatsApp);
    let caption = |field: &str| s(m, &format!("/{field}/caption")).filter(|c| !c.trim().is_empty());
    match kind.as_str() {
        "text" => r.text = s(m, "/text/body").filter(|t| !t.trim().is_empty()),
        "image" | "video" | "document" | "sticker" => {
            let file_type = match kind.as_str() {
                "video" => FileType::Video,
                "document" => FileType::Document,
                _ => FileType::Image,
            };
            r.text = caption(&kind);
            r.file = media(&kind).map(|reference| (file_type, reference));
            r.details.file_name = file_name(m.pointer(&format!("/{kind}/filename")));
        }
        "audio" => {
            let voice = m.pointer("/audio/voice").and_then(Value::as_bool).unwrap_or(false);
            r.file = media("audio")
                .map(|reference| (if voice { FileType::Voice } else { FileType::Audio }, reference));
        }
        "location" => {
            let at = |k: &str| m.pointer(&format!("/location/{k}")).and_then(Value::as_f64);
            let text = |k: &str| s(m, &format!("/location/{k}")).filter(|t| !t.is_empty());
            if let Some(location) = Location::new(
                at("latitude").unwrap_or(f64::NAN),
                at("longitude").unwrap_or(f64::NAN),
                text("name"),
                text("address"),
            ) {
                r.text = Some(storable_received(&location.text()));
                r.details.location = Some(location);
            }
        }
        // A tap on a template's quick-reply button.
        "button" => {
            r.text = s(m, "/button/text");
            r.details.reply = s(m, "/button/payload");
        }
        // A reply button or a list row of an interactive message.
        "interactive" => {
            let reply =
                m.pointer("/interactive/button_reply").or_else(|| m.pointer("/interactive/list_reply"));
            r.text = reply.and_then(|v| s(v, "/title"));
            r.details.reply = reply.and_then(|v| s(v, "/id"));
        }
        "order" => r.text = m.get("order").map(order_text),
        "contacts" => {
            let cards: Vec<&Value> =
                m.get("contacts").and_then(Value::as_array).map(|c| c.iter().collect()).unwrap_or_default();
            return cards
                .into_iter()
                .enumerate()
                .map(|(i, c)| {
                    let name = s(c, "/name/formatted_name").unwrap_or_default();
                    let phones: Vec<String> = c
                        .get("phones")
                        .and_then(Value::as_array)
                        .map(|p| p.iter().filter_map(|p| s(p, "/phone").or_else(|| s(p, "/wa_id"))).collect())
                        .unwrap_or_default();
                    let phones: Vec<&str> = phones.iter().map(String::as_str).collect();
                    let mut card = r.clone();
                    // The first keeps the message's own key, so what was stored before stays deduplicated.
                    if i > 0 {
                        card.dedup_key = format!("wamid:{id}#{}", i + 1);
                    }
                    card.file = Some((FileType::Contact, MediaRef::VCard(vcard(&name, &phones))));
                    card
                })
                .collect();
        }
        // Reactions, polls, system notices, unsupported…: not stored.
        _ => {}
    }
    if r.has_content() { vec![r] } else { Vec::new() }
}

/// A catalog cart as text: one line per item, then the buyer's note.
fn order_text(order: &Value) -> String {
    let s = |v: &Value, k: &str| match v.get(k) {
        Some(Value::String(t)) => storable_received(t),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let mut text = String::from("Order");
    let catalog = s(order, "catalog_id");
    if !catalog.is_empty() {
        text.push_str(&format!(" from catalog {catalog}"));
    }
    text.push(':');
    for item in order.get("product_items").and_then(Value::as_array).into_iter().flatten() {
        text.push_str(&format!(
            "\n{} × {} at {} {}",
            s(item, "quantity"),
            s(item, "product_retailer_id"),
            s(item, "item_price"),
            s(item, "currency")
        ));
    }
    let note = s(order, "text");
    if !note.trim().is_empty() {
        text.push_str(&format!("\n{note}"));
    }
    text
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
        let changes = parse_notification(&n).unwrap();
        let (received, statuses) = (&changes[0].received, &changes[0].statuses);
        assert_eq!(received.len(), 2, "a location without coordinates is nothing to store");
        assert_eq!(received[1].file, Some((FileType::Image, MediaRef::WhatsApp("m1".into()))));
        assert_eq!(statuses[0].status, MessageStatus::Read);
        assert_eq!(statuses[1].reason.as_deref(), Some("whatsapp 131047: Re-engagement message"));
        assert_eq!(parse_notification(&json!({"x": 1})), Err(Refusal::Unreadable));
    }
}
