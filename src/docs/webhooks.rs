//! The document's top-level `webhooks` (OpenAPI 3.1): one entry per event a webhook can ask for, built
//! from `EventKind::ALL` so that it stays in step with the code, with the body each event sends and the
//! Standard Webhooks headers that sign it (SPEC §6).

use serde_json::{Value, json};

use crate::domain::events::EventKind;

const SIGNED: &str = "Signed per Standard Webhooks (verify with any of its libraries and the webhook's `whsec_` \
secret): `webhook-signature` is `v1,` + base64 HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}`. \
A 2xx answer within the timeout delivers it; anything else is retried with backoff (`Retry-After` of a 429 or \
503 honoured), except 410 and redirects, which fail the delivery at once. A retry sends the same \
`webhook-id` and body.";

/// What happened, as Swagger UI shows it beside the event's name (a summary is plain text).
fn summary(kind: EventKind) -> &'static str {
    match kind {
        EventKind::ChatStart => "A chat began: its first message, or the first after an end",
        EventKind::MessageReceived => "A message was received from the platform",
        EventKind::MessageSent => "An outbound message was accepted (any door, the console)",
        EventKind::MessageStatus => "An outbound message's status changed",
        EventKind::ChatEnd => "No message in the chat for chat.idle_end_secs",
        EventKind::OperatorOnline => "An operator opened the console",
        EventKind::OperatorOffline => "An operator left the console (closed it, signed out, or went offline)",
        EventKind::OperatorAway => "An operator set their status to away",
        EventKind::OperatorBack => "An operator set their status back to online",
        EventKind::ConversationEnded => "An operator or chat.endchat ended the conversation",
        EventKind::ChatForward => "The chat was assigned to another operator or group",
        EventKind::ContactUpdated => {
            "A contact field or the custom data really changed (previous and current)"
        }
        EventKind::ChatRating => "The contact rated the ended conversation (rate, 1–5)",
        EventKind::ChatFeedback => "The contact left feedback with the rating (feedback_message)",
        EventKind::ChatSurvey => "The contact answered the channel's survey (post_survey_option)",
        EventKind::ContactCreated => "A chat's first message: a new contact (carries that message)",
        EventKind::ChatGoal => {
            "The contact opened a page matching a goal while the conversation had an assignee"
        }
        EventKind::WidgetConfig => {
            "A webchat channel's settings changed (widget: title, rating, survey, goals)"
        }
        EventKind::ChatUnread => {
            "A session ended (idle or ended) with received messages nobody read (unread_count; the oldest)"
        }
    }
}

/// The `webhooks` object, and the two body schemas it refers to (added to `components/schemas`).
pub fn add(doc: &mut Value) {
    let mut webhooks = serde_json::Map::new();
    for kind in EventKind::ALL {
        let name = kind.name();
        let operator = name.starts_with("operator.");
        let schema = if operator {
            "OperatorEvent"
        } else if name.starts_with("um_widget.") {
            "WidgetEvent"
        } else {
            "ChatEvent"
        };
        let header = |n: &str, d: &str| json!({"name": n, "in": "header", "required": true, "description": d, "schema": {"type": "string"}});
        webhooks.insert(
            name.to_string(),
            json!({"post": {
                "summary": summary(kind),
                "operationId": format!("event_{}", name.replace('.', "_")),
                "description": SIGNED,
                "security": [{}],
                "parameters": [
                    header("webhook-id", "The event's id (`msg_…`), the same on every retry"),
                    header("webhook-timestamp", "Unix seconds of this attempt"),
                    header("webhook-signature", "`v1,` + base64 HMAC-SHA256 (Standard Webhooks)"),
                ],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}},
                "responses": {
                    "200": {"description": "Delivered (any 2xx)"},
                    "410": {"description": "Gone: the delivery fails at once and is not retried"},
                    "429": {"description": "Retried after `Retry-After`"}
                }
            }}),
        );
    }
    doc["webhooks"] = Value::Object(webhooks);
    let chat_events: Vec<&str> = EventKind::ALL
        .iter()
        .map(|k| k.name())
        .filter(|n| !n.starts_with("operator.") && !n.starts_with("um_widget."))
        .collect();
    let operator_events: Vec<&str> =
        EventKind::ALL.iter().map(|k| k.name()).filter(|n| n.starts_with("operator.")).collect();
    let event_names = |names: &[&str]| -> Vec<String> {
        names.iter().map(|n| n.split_once('.').map_or(*n, |(_, e)| e).to_string()).collect()
    };
    if let Some(schemas) = doc.pointer_mut("/components/schemas").and_then(Value::as_object_mut) {
        schemas.insert(
            "ChatEvent".into(),
            json!({
                "type": "object",
                "description": "A chat event: the chat, the message it concerns (with the status it had at the event) where it has one, the contact, custom data and assignee as they are when it is sent, and the event's own fields.",
                "required": ["_type", "event", "_event", "id", "created_at", "chat", "contact", "custom", "assignee"],
                "properties": {
                    "_type": {"enum": ["chat_session", "conversation", "contact"]},
                    "event": {"enum": event_names(&chat_events)},
                    "_event": {"type": "string", "description": "`event` again (Userlike's older callbacks)"},
                    "contact": {"type": "object", "properties": {
                        "name": {"type": "string"}, "email": {"type": "string"}, "phone_number": {"type": "string"},
                        "company": {"type": "string"}, "external_customer_id": {"type": "string"}
                    }},
                    "custom": {"type": "object", "description": "The page's custom data, `{}` when none"},
                    "assignee": {"description": "`{\"operator\": LOGIN}`, `{\"group\": NAME}` or null"},
                    "changed": {"type": "object", "description": "contact.updated: `{field: {previous, current}}` for each value that changed"},
                    "operator_previous": {"description": "chat_session.forward: the assignee before, or null"},
                    "operator_current": {"description": "chat_session.forward: the new assignee"},
                    "rate": {"type": "integer", "minimum": 1, "maximum": 5, "description": "chat_session.rating"},
                    "feedback_message": {"type": "string", "description": "chat_session.feedback"},
                    "post_survey_option": {"type": "string", "description": "chat_session.survey: the chosen answer"},
                    "goal": {"type": "object", "description": "chat_session.goal: `{name}`"},
                    "unread_count": {"type": "integer", "description": "chat_session.unread: how many received messages nobody read (`message` is the oldest)"},
                    "id": {"type": "string", "description": "As `webhook-id`"},
                    "created_at": {"type": "string", "description": "`YYYY-MM-DD HH:MM:SS` UTC"},
                    "chat": {"type": "object", "required": ["platform", "platformid", "destination"], "properties": {
                        "platform": {"$ref": "#/components/schemas/Platform"},
                        "platformid": {"type": "string"},
                        "destination": {"type": "string"}
                    }},
                    "message": {"$ref": "#/components/schemas/Message"}
                }
            }),
        );
        schemas.insert(
            "WidgetEvent".into(),
            json!({
                "type": "object",
                "description": "A webchat channel's settings changed (never a secret).",
                "required": ["_type", "event", "_event", "id", "created_at", "widget"],
                "properties": {
                    "_type": {"const": "um_widget"},
                    "event": {"enum": ["config"]},
                    "_event": {"enum": ["config"]},
                    "id": {"type": "string", "description": "As `webhook-id`"},
                    "created_at": {"type": "string", "description": "`YYYY-MM-DD HH:MM:SS` UTC"},
                    "widget": {"type": "object", "properties": {
                        "platformid": {"type": "string"}, "name": {"type": "string"}, "title": {"type": "string"},
                        "rating": {"type": "boolean"},
                        "survey": {"description": "`{question, options}` or null"},
                        "goals": {"type": "array"}
                    }}
                }
            }),
        );
        schemas.insert(
            "OperatorEvent".into(),
            json!({
                "type": "object",
                "description": "An operator's presence changed in the console.",
                "required": ["_type", "event", "_event", "id", "created_at", "operator"],
                "properties": {
                    "_type": {"const": "operator"},
                    "event": {"enum": event_names(&operator_events)},
                    "_event": {"type": "string", "description": "`event` again (Userlike's older callbacks)"},
                    "id": {"type": "string", "description": "As `webhook-id`"},
                    "created_at": {"type": "string", "description": "`YYYY-MM-DD HH:MM:SS` UTC"},
                    "operator": {"type": "object", "required": ["login", "status"], "properties": {
                        "login": {"type": "string"},
                        "status": {"enum": ["online", "offline", "away"]}
                    }}
                }
            }),
        );
    }
}
