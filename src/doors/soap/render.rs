//! Writing SOAP responses and faults. A result is written from the same serde form the JSON doors
//! use: objects become elements in field order, arrays become `<item>` elements, so the XML follows
//! the WSDL's sequences without a second description of every type.

use quick_xml::escape::escape;
use serde_json::Value;

use super::envelope::{SOAP11_NS, SOAP12_NS, SoapVersion, TNS};
use crate::domain::{DomainError, Reply};

pub fn content_type(v: SoapVersion) -> &'static str {
    match v {
        SoapVersion::V11 => "text/xml; charset=utf-8",
        SoapVersion::V12 => "application/soap+xml; charset=utf-8",
    }
}

fn envelope(v: SoapVersion, body: &str) -> String {
    let ns = match v {
        SoapVersion::V11 => SOAP11_NS,
        SoapVersion::V12 => SOAP12_NS,
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<soap:Envelope xmlns:soap=\"{ns}\" xmlns:tns=\"{TNS}\">\
         <soap:Body>{body}</soap:Body></soap:Envelope>"
    )
}

fn write_value(out: &mut String, name: &str, value: &Value) {
    match value {
        Value::Null => {}
        Value::Object(fields) => {
            out.push('<');
            out.push_str(name);
            out.push('>');
            for (k, v) in fields {
                write_value(out, k, v);
            }
            out.push_str("</");
            out.push_str(name);
            out.push('>');
        }
        Value::Array(items) => {
            out.push('<');
            out.push_str(name);
            out.push('>');
            for item in items {
                write_value(out, "item", item);
            }
            out.push_str("</");
            out.push_str(name);
            out.push('>');
        }
        Value::String(s) => leaf(out, name, s),
        Value::Number(n) => leaf(out, name, &n.to_string()),
        Value::Bool(b) => leaf(out, name, if *b { "true" } else { "false" }),
    }
}

fn leaf(out: &mut String, name: &str, text: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    out.push_str(&escape(text));
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// `<tns:{operation}Response><status>SUCCESS</status><result>…</result></tns:{operation}Response>`.
pub fn success(v: SoapVersion, operation: &str, reply: &Reply) -> String {
    let mut body = format!("<tns:{operation}Response><status>SUCCESS</status>");
    match serde_json::to_value(reply) {
        Ok(result) => write_value(&mut body, "result", &result),
        Err(_) => body.push_str("<result/>"),
    }
    body.push_str(&format!("</tns:{operation}Response>"));
    envelope(v, &body)
}

/// A fault whose reason is the error code, with `<tns:error><code/><param/></tns:error>` as detail.
pub fn fault(v: SoapVersion, e: &DomainError, request_id: Option<&str>) -> String {
    let code = e.code.as_str();
    let mut detail = format!("<tns:error><code>{code}</code>");
    if let Some(p) = e.param {
        detail.push_str(&format!("<param>{p}</param>"));
    }
    if let (false, Some(id)) = (e.code.is_caller_error(), request_id) {
        detail.push_str(&format!("<requestid>{}</requestid>", escape(id)));
    }
    detail.push_str("</tns:error>");
    let body = match v {
        SoapVersion::V11 => {
            let who = if e.code.is_caller_error() { "Client" } else { "Server" };
            format!(
                "<soap:Fault><faultcode>soap:{who}</faultcode><faultstring>{code}</faultstring>\
                 <detail>{detail}</detail></soap:Fault>"
            )
        }
        SoapVersion::V12 => {
            let who = if e.code.is_caller_error() { "Sender" } else { "Receiver" };
            format!(
                "<soap:Fault><soap:Code><soap:Value>soap:{who}</soap:Value></soap:Code>\
                 <soap:Reason><soap:Text xml:lang=\"en\">{code}</soap:Text></soap:Reason>\
                 <soap:Detail>{detail}</soap:Detail></soap:Fault>"
            )
        }
    };
    envelope(v, &body)
}
