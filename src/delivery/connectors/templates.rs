//! WhatsApp templates on Graph's wire (platforms.md §2.10): the listing of a business account's
//! templates (`GET {base}/{waba_id}/message_templates`, every page) read into the command layer's
//! [`Template`], and a [`TemplateCall`] written as the `template` object of a send.

use serde_json::{Value, json};

use crate::domain::templates::{
    BodyValue, Button, ButtonKind, ButtonValue, Header, HeaderValue, Template, TemplateCall,
};

/// Pages followed at most (100 templates each): a loop in `paging.next` must end.
pub const MAX_PAGES: usize = 100;

/// The fields asked of the listing.
pub const FIELDS: &str = "name,language,status,category,components,parameter_format";

/// One page of the listing: its templates (lenient: a template this cannot read is left out) and the
/// next page's URL.
pub fn read_page(page: &Value) -> (Vec<Template>, Option<String>) {
    let templates = page
        .get("data")
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(read_template).collect())
        .unwrap_or_default();
    let next = page.pointer("/paging/next").and_then(Value::as_str).map(str::to_string);
    (templates, next)
}

fn read_template(t: &Value) -> Option<Template> {
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let components = t.get("components").and_then(Value::as_array).cloned().unwrap_or_default();
    let of_type =
        |kind: &str| components.iter().find(|c| s(c, "type").is_some_and(|t| t.eq_ignore_ascii_case(kind)));
    let header = of_type("HEADER").and_then(|h| match s(h, "format")?.to_ascii_uppercase().as_str() {
        "TEXT" => Some(Header::Text(s(h, "text").unwrap_or_default())),
        "IMAGE" => Some(Header::Image),
        "VIDEO" => Some(Header::Video),
        "DOCUMENT" => Some(Header::Document),
        "LOCATION" => Some(Header::Location),
        _ => None,
    });
    let buttons = of_type("BUTTONS")
        .and_then(|b| b.get("buttons"))
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|b| {
                    let kind = match s(b, "type").unwrap_or_default().to_ascii_uppercase().as_str() {
                        "QUICK_REPLY" => ButtonKind::QuickReply,
                        "URL" => ButtonKind::Url { dynamic: s(b, "url").is_some_and(|u| u.contains("{{")) },
                        _ => ButtonKind::Other,
                    };
                    Button { kind, text: s(b, "text").unwrap_or_default() }
                })
                .collect()
        })
        .unwrap_or_default();
    Some(Template {
        name: s(t, "name")?,
        language: s(t, "language")?,
        status: s(t, "status").unwrap_or_default().to_ascii_uppercase(),
        category: s(t, "category").unwrap_or_default().to_ascii_uppercase(),
        named: s(t, "parameter_format").is_some_and(|f| f.eq_ignore_ascii_case("NAMED")),
        header,
        body: of_type("BODY").and_then(|b| s(b, "text")).unwrap_or_default(),
        buttons,
    })
}

/// The `template` object of a send.
pub fn template_object(call: &TemplateCall) -> Value {
    let mut components = Vec::new();
    if let Some(header) = &call.header {
        let parameter = match header {
            HeaderValue::Text(text) => json!({"type": "text", "text": text}),
            HeaderValue::Image(link) => json!({"type": "image", "image": {"link": link}}),
            HeaderValue::Video(link) => json!({"type": "video", "video": {"link": link}}),
            HeaderValue::Document(link) => json!({"type": "document", "document": {"link": link}}),
        };
        components.push(json!({"type": "header", "parameters": [parameter]}));
    }
    if !call.body.is_empty() {
        let parameters: Vec<Value> = call.body.iter().map(body_parameter).collect();
        components.push(json!({"type": "body", "parameters": parameters}));
    }
    for b in &call.buttons {
        let (sub_type, parameter) = match &b.value {
            ButtonValue::Payload(p) => ("quick_reply", json!({"type": "payload", "payload": p})),
            ButtonValue::Text(t) => ("url", json!({"type": "text", "text": t})),
        };
        components.push(json!({"type": "button", "sub_type": sub_type, "index": b.index.to_string(),
            "parameters": [parameter]}));
    }
    let mut template =
        json!({"name": call.name, "language": {"code": call.language, "policy": "deterministic"}});
    if !components.is_empty() {
        template["components"] = Value::Array(components);
    }
    template
}

fn body_parameter(v: &BodyValue) -> Value {
    let mut p = json!({"type": "text", "text": v.text});
    if let Some(name) = &v.name {
        p["parameter_name"] = json!(name);
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::templates::ButtonArg;

    #[test]
    fn a_listing_page_as_meta_writes_it() {
        // Shaped as Meta's Cloud API OpenAPI document v23.0 (`/{WABA-ID}/message_templates`).
        let page = json!({"data": [
            {"name": "order_update", "language": "en_US", "status": "APPROVED", "category": "UTILITY",
             "parameter_format": "POSITIONAL", "id": "1",
             "components": [{"type": "HEADER", "format": "IMAGE"},
                            {"type": "BODY", "text": "Hi {{1}}, order {{2}} is on its way."},
                            {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Stop"},
                                                            {"type": "URL", "text": "Track", "url": "https://t.example/{{1}}"}]}]},
            {"name": "broken"}
        ], "paging": {"cursors": {"before": "a", "after": "b"}, "next": "https://graph.facebook.com/v23.0/1/message_templates?after=b"}});
        let (templates, next) = read_page(&page);
        assert_eq!(templates.len(), 1);
        assert_eq!(templates[0].header, Some(Header::Image));
        assert_eq!(templates[0].buttons[1].kind, ButtonKind::Url { dynamic: true });
        assert!(next.unwrap().ends_with("after=b"));
    }

    #[test]
    fn a_call_as_graph_takes_it() {
        let call = TemplateCall {
            name: "order_update".into(),
            language: "en_US".into(),
            header: Some(HeaderValue::Image("https://e.com/p.png".into())),
            body: vec![BodyValue { name: Some("first_name".into()), text: "Ann".into() }],
            buttons: vec![ButtonArg { index: 1, value: ButtonValue::Text("ord-42".into()) }],
        };
        assert_eq!(
            template_object(&call),
            json!({"name": "order_update", "language": {"code": "en_US", "policy": "deterministic"}, "components": [
                {"type": "header", "parameters": [{"type": "image", "image": {"link": "https://e.com/p.png"}}]},
                {"type": "body", "parameters": [{"type": "text", "text": "Ann", "parameter_name": "first_name"}]},
                {"type": "button", "sub_type": "url", "index": "1", "parameters": [{"type": "text", "text": "ord-42"}]}]})
        );
    }
}
