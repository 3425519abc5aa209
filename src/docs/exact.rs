//! What utoipa's derive cannot say about the request bodies, added to the generated document so that it
//! matches what the domain accepts — no more, no less (schemathesis checks both directions: a request
//! the document allows must not be refused as invalid, one it forbids must be refused):
//!
//! - the JSON types each parameter takes besides a string (ids and `limit` as integers, `markread` as a
//!   boolean; the JSON door refuses any other), and that an empty string counts as not given;
//! - lengths and characters (`destination`, `message`, `idempotencykey`, URLs, webhook headers);
//! - the recipient's form per platform (JSON Schema `if`/`then` on `platform`);
//! - event names, and bodies that may be left out when every field is optional.
//!
//! The rules themselves live in `domain::values` and the operations; the constants are shared.

use serde_json::{Value, json};

use crate::domain::events::EventKind;
use crate::domain::ops::send_template::MAX_TEMPLATE_NAME_CHARS;
use crate::domain::ops::set_webhook::{MAX_HEADER_NAME, MAX_HEADER_VALUE, MAX_HEADERS};
use crate::domain::values::{
    MAX_DESTINATION_CHARS, MAX_IDEMPOTENCY_KEY_CHARS, MAX_LIMIT, MAX_MESSAGE_CHARS, MAX_URL_CHARS,
};

/// No C0/C1 control character (Rust's `char::is_control`).
const NO_CONTROL: &str = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$";
/// An absolute http(s) URL the domain accepts (a subset of what it accepts: hosts of dotted labels, the
/// last one starting with a letter so that it is never read as an IPv4 address).
const HTTP_URL: &str = "^https?://([a-z0-9]+\\.)*[a-z][a-z0-9]*(:[1-9][0-9]{0,3})?(/[A-Za-z0-9._~/-]*)?$";

/// Adds the rules to every request schema of `doc` (an OpenAPI document as JSON).
pub fn refine(doc: &mut Value) {
    if let Some(schemas) = doc.pointer_mut("/components/schemas").and_then(Value::as_object_mut) {
        for (name, schema) in schemas.iter_mut() {
            if name.ends_with("Request") || name == "BulkMessage" {
                refine_request(name, schema);
            }
        }
    }
    // Bodies whose every field is optional may be left out (the plain and Basic doors also take their
    // parameters from the query string alone).
    for path in [
        "/api/json/chat/getchatchannels",
        "/api/json/webhook/getwebhooks",
        "/api/json/webhook/getdeliveries",
        "/api/http/",
        "/api/basic/",
    ] {
        let pointer = format!("/paths/{}/post/requestBody/required", path.replace('/', "~1"));
        if let Some(required) = doc.pointer_mut(&pointer) {
            *required = json!(false);
        }
    }
}

fn refine_request(name: &str, schema: &mut Value) {
    let required: Vec<String> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    let has_destination = schema.pointer("/properties/destination").is_some();
    let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) else { return };
    for (prop, s) in props.iter_mut() {
        let is_required = required.contains(prop);
        if let Some(rule) = rule(name, prop, is_required) {
            // Keep the description; the rule replaces the derived type.
            let description = s.get("description").cloned();
            *s = rule;
            if let Some(d) = description {
                s["description"] = d;
            }
        }
    }
    if has_destination {
        schema["allOf"] = Value::Array(destination_per_platform());
    }
}

/// A type list, with `null` when the parameter is optional (`null`, like `""`, = not given).
fn min_len(required: bool) -> usize {
    usize::from(required)
}

fn types(list: &[&str], required: bool) -> Value {
    let mut t: Vec<&str> = list.to_vec();
    if !required {
        t.push("null");
    }
    json!(t)
}

fn rule(schema: &str, prop: &str, required: bool) -> Option<Value> {
    Some(match prop {
        // Ids: any non-empty text (text that cannot be an id of ours is simply not found) or an integer.
        "platformid" | "messageid" | "before" | "webhookid" | "deliveryid" => {
            json!({"type": types(&["string", "integer"], required), "minLength": min_len(required)})
        }
        "destination" => json!({
            "type": types(&["string", "integer"], required),
            "minLength": 1,
            "maxLength": MAX_DESTINATION_CHARS,
            "pattern": NO_CONTROL,
        }),
        "message" => {
            let min = if schema == "SendMessageRequest" { 1 } else { 0 };
            json!({
                "type": types(&["string"], required),
                "minLength": min,
                "maxLength": MAX_MESSAGE_CHARS,
                "pattern": "^[^\\u0000]*$",
            })
        }
        "limit" => json!({
            "type": types(&["integer", "string"], required),
            "minimum": 1,
            "maximum": MAX_LIMIT,
            "pattern": format!("^({}[1-9][0-9]{{0,2}}|{MAX_LIMIT})$", if required { "" } else { "|" }),
        }),
        // A union of typed alternatives rather than one mixed enum, which code generators refuse.
        // Contact fields: one line each; `""` clears one.
        "name" | "email" | "phone_number" | "company" | "external_customer_id" | "operator" | "group" => {
            json!({
                "type": types(&["string"], required),
                "maxLength": 256,
                "pattern": NO_CONTROL,
            })
        }
        "markread" | "refresh" => json!({"anyOf": [
            {"type": "boolean"},
            {"type": "string", "enum": ["0", "1", "true", "false", ""]},
            {"type": "null"},
        ]}),
        "idempotencykey" => json!({
            "type": types(&["string"], required),
            "maxLength": MAX_IDEMPOTENCY_KEY_CHARS,
            "pattern": NO_CONTROL,
        }),
        "fileurl" | "thumburl" | "url" => json!({
            "type": types(&["string"], required),
            "maxLength": MAX_URL_CHARS,
            "pattern": if required { HTTP_URL.to_string() } else { format!("^$|{HTTP_URL}") },
        }),
        "template" | "language" => json!({
            "type": types(&["string"], required),
            "minLength": min_len(required),
            "maxLength": MAX_TEMPLATE_NAME_CHARS,
            "pattern": NO_CONTROL,
        }),
        // Texts by position or by name; SOAP's `{name, value}` / `{value}` items are taken too.
        "parameters" => json!({"anyOf": [
            {"type": "array", "items": {"anyOf": [
                {"type": ["string", "number"]},
                {"type": "object", "properties": {"name": {"type": ["string", "number"]}, "value": {"type": ["string", "number"]}}, "required": ["value"]},
            ]}},
            {"type": "object", "additionalProperties": {"type": ["string", "number"]}},
            {"type": "null"},
        ]}),
        "buttons" => json!({"anyOf": [
            {"type": "array", "items": {"type": "object", "properties": {
                "index": {"type": ["integer", "string"]},
                "payload": {"type": "string"},
                "text": {"type": "string"},
            }, "required": ["index"]}},
            {"type": "null"},
        ]}),
        "events" => events(),
        "headers" => headers(required),
        // Each item is checked on its own and answered in its place, whatever it holds.
        "messages" if schema == "SendMessagesRequest" => json!({
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_LIMIT,
            "items": {"description": "A BulkMessage; an item that is not one is answered with its error in its place"},
        }),
        _ => return None,
    })
}

/// The recipient per platform (SPEC §2): WhatsApp a phone number in international form, Telegram a
/// chat id or an `@username`, webchat and operator any text that is not blank.
fn destination_per_platform() -> Vec<Value> {
    let when = |platforms: &[&str], destination: Value| {
        json!({
            "if": {"properties": {"platform": {"enum": platforms}}, "required": ["platform"]},
            "then": {"properties": {"destination": destination}},
        })
    };
    vec![
        when(
            &["whatsapp"],
            json!({"pattern": "^\\+?[0-9]{6,15}$", "minimum": 100000, "maximum": 999_999_999_999_999_i64}),
        ),
        when(
            &["telegram"],
            json!({
                "pattern": "^(@[A-Za-z0-9_]{1,64}|[+-]?[0-9]{1,18})$",
                "minimum": i64::MIN,
                "maximum": i64::MAX,
            }),
        ),
        when(
            &["webchat", "operator"],
            json!({"pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$"}),
        ),
    ]
}

/// `*`, a comma list of event names, or a JSON array of them.
fn events() -> Value {
    let names: Vec<&str> = EventKind::ALL.iter().map(|k| k.name()).collect();
    let one = names.iter().map(|n| n.replace('.', "\\.")).collect::<Vec<_>>().join("|");
    json!({
        "oneOf": [
            {"type": "string", "pattern": format!("^(\\*|({one})(,({one}))*)$")},
            {"type": "array", "minItems": 1, "items": {"enum": names}},
        ],
        "description": "`*`, a comma list of event names, or a JSON array of them",
    })
}

/// Extra request headers for a webhook: HTTP token names (not the reserved ones), printable values.
fn headers(required: bool) -> Value {
    let reserved = "webhook-id|webhook-timestamp|webhook-signature|content-type|content-length|host|transfer-encoding|connection|te";
    // The string form is only `""` (= not given).
    json!({
        "type": types(&["object", "string"], required),
        "maxLength": 0,
        "maxProperties": MAX_HEADERS,
        "propertyNames": {
            // Names are compared in lower case; the reserved ones are listed as such.
            "pattern": format!("^(?!({reserved})$)[!#$%&'*+.^_`|~0-9A-Za-z-]{{1,{MAX_HEADER_NAME}}}$"),
        },
        "additionalProperties": {"type": "string", "maxLength": MAX_HEADER_VALUE, "pattern": "^[^\\u0000-\\u0008\\u000a-\\u001f\\u007f-\\u009f]*$"},
    })
}
