//! What Meta's notifications carry (platforms.md §2.6–2.7, §2.10): for each `entry[].changes[].value`
//! the number it is for, the messages received (with their authors and the platform's times), the
//! statuses of what was sent, and template status notices. Only reading: where each goes is
//! `whatsapp.rs`'s.

use serde_json::Value;

use super::media::{MediaRef, vcard};
use super::{Received, Refusal, file_name, platform_time};
use crate::domain::model::{Author, FileType, Location, MessageStatus};
use crate::domain::values::storable_received;

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
