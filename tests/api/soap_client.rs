//! A minimal SOAP client for the tests: builds envelopes and reads responses back into the JSON shape
//! of the other doors (`{"status":…,"result":…}` or `{"status":"ERROR","error":…,"param":…}`), so
//! that results of different doors compare field by field.

use quick_xml::events::Event;
use quick_xml::reader::Reader;
use serde_json::{Map, Value};

pub const SOAP11: &str = "http://schemas.xmlsoap.org/soap/envelope/";
pub const SOAP12: &str = "http://www.w3.org/2003/05/soap-envelope";

pub fn escape(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

/// The operation element with credentials and parameters; `messages` (a JSON array) becomes repeated
/// `<message>` elements.
pub fn operation_xml(
    method: &str,
    user: Option<&str>,
    password: Option<&str>,
    params: &[(&str, &str)],
) -> String {
    let mut out = format!("<c:{method}>");
    for (name, value) in user.map(|u| ("user", u)).into_iter().chain(password.map(|p| ("password", p))) {
        out.push_str(&format!("<{name}>{}</{name}>", escape(value)));
    }
    for (name, value) in params {
        if *name == "messages"
            && let Ok(Value::Array(items)) = serde_json::from_str::<Value>(value)
        {
            for item in items {
                out.push_str("<message>");
                for (k, v) in item.as_object().into_iter().flatten() {
                    let v = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                    out.push_str(&format!("<{k}>{}</{k}>", escape(&v)));
                }
                out.push_str("</message>");
            }
            continue;
        }
        out.push_str(&format!("<{name}>{}</{name}>", escape(value)));
    }
    out.push_str(&format!("</c:{method}>"));
    out
}

pub fn envelope(ns: &str, header: &str, body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{ns}" xmlns:c="urn:chatgate:chat:1"><soap:Header>{header}</soap:Header><soap:Body>{body}</soap:Body></soap:Envelope>"#
    )
}

pub fn username_token(user: &str, password: &str) -> String {
    format!(
        r#"<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"><wsse:UsernameToken><wsse:Username>{}</wsse:Username><wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText">{}</wsse:Password></wsse:UsernameToken></wsse:Security>"#,
        escape(user),
        escape(password)
    )
}

#[derive(Debug, Default)]
struct Node {
    name: String,
    text: String,
    children: Vec<Node>,
}

fn tree(xml: &str) -> Node {
    let mut reader = Reader::from_str(xml);
    let mut stack = vec![Node::default()];
    loop {
        match reader.read_event().expect("well-formed response") {
            Event::Start(s) => {
                stack.push(Node { name: s.local_name().as_ref().to_string(), ..Node::default() })
            }
            Event::Empty(s) => stack
                .last_mut()
                .unwrap()
                .children
                .push(Node { name: s.local_name().as_ref().to_string(), ..Node::default() }),
            Event::End(_) => {
                let done = stack.pop().unwrap();
                stack.last_mut().unwrap().children.push(done);
            }
            Event::Text(t) => stack.last_mut().unwrap().text.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => {
                let s = match r.resolve_char_ref().unwrap() {
                    Some(c) => c.to_string(),
                    None => quick_xml::escape::resolve_predefined_entity(&r).unwrap().to_string(),
                };
                stack.last_mut().unwrap().text.push_str(&s);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    stack.pop().unwrap().children.pop().expect("a root element")
}

fn find<'a>(n: &'a Node, name: &str) -> Option<&'a Node> {
    if n.name == name {
        return Some(n);
    }
    n.children.iter().find_map(|c| find(c, name))
}

fn to_value(n: &Node) -> Value {
    if n.name == "list" {
        return Value::Array(n.children.iter().map(to_value).collect());
    }
    if n.children.is_empty() {
        return if n.name == "result" { Value::Object(Map::new()) } else { Value::String(n.text.clone()) };
    }
    Value::Object(n.children.iter().map(|c| (c.name.clone(), to_value(c))).collect())
}

/// A SOAP response (success or fault) in the JSON envelope shape.
pub fn as_envelope(xml: &str) -> Value {
    let root = tree(xml);
    if let Some(fault) = find(&root, "Fault") {
        let error = find(fault, "error").expect("fault detail tns:error");
        let mut out = Map::new();
        out.insert("status".into(), "ERROR".into());
        out.insert("error".into(), find(error, "code").expect("code").text.clone().into());
        if let Some(p) = find(error, "param") {
            out.insert("param".into(), p.text.clone().into());
        }
        if let Some(m) = find(error, "message") {
            out.insert("message".into(), m.text.clone().into());
        }
        if let Some(id) = find(error, "requestid") {
            out.insert("requestid".into(), id.text.clone().into());
        }
        return Value::Object(out);
    }
    let body = find(&root, "Body").expect("Body");
    let response = body.children.first().expect("response element");
    let status = find(response, "status").expect("status").text.clone();
    let result = find(response, "result").map(to_value).unwrap_or(Value::Null);
    serde_json::json!({"status": status, "result": result})
}

/// The fault's text (faultstring / Reason), to check it equals the code.
pub fn fault_reason(xml: &str) -> Option<String> {
    let root = tree(xml);
    let fault = find(&root, "Fault")?;
    find(fault, "faultstring").or_else(|| find(fault, "Text")).map(|n| n.text.clone())
}
