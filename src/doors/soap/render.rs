//! Writing SOAP responses and faults. A result is written from the same serde form the JSON doors
//! use (`xml_value`): structs become elements in field order, sequences `<item>` elements, so the XML
//! follows the WSDL's sequences without a second description of every type.

use quick_xml::escape::escape;

use super::envelope::{SOAP11_NS, SOAP12_NS, SoapVersion, TNS};
use super::xml_value::write_element;
use crate::domain::{DomainError, Reply};
use crate::doors::views::ReplyView;

pub fn content_type(v: SoapVersion) -> &'static str {
    match v {
        SoapVersion::V11 => "text/xml; charset=utf-8",
        SoapVersion::V12 => "application/soap+xml; charset=utf-8",
    }
}

fn envelope_ns(v: SoapVersion) -> &'static str {
    match v {
        SoapVersion::V11 => SOAP11_NS,
        SoapVersion::V12 => SOAP12_NS,
    }
}

/// The envelope up to the body's content, into a string with room for a small answer.
fn open_envelope(v: SoapVersion) -> String {
    let mut out = String::with_capacity(512);
    out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<soap:Envelope xmlns:soap=\"");
    out.push_str(envelope_ns(v));
    out.push_str("\" xmlns:tns=\"");
    out.push_str(TNS);
    out.push_str("\"><soap:Body>");
    out
}

fn close_envelope(out: &mut String) {
    out.push_str("</soap:Body></soap:Envelope>");
}

fn envelope(v: SoapVersion, body: &str) -> String {
    let mut out = open_envelope(v);
    out.push_str(body);
    close_envelope(&mut out);
    out
}

/// `<tns:{operation}Response><status>SUCCESS</status><result>…</result></tns:{operation}Response>`.
pub fn success(v: SoapVersion, operation: &str, reply: &Reply) -> String {
    let mut out = open_envelope(v);
    out.push_str("<tns:");
    out.push_str(operation);
    out.push_str("Response><status>SUCCESS</status>");
    let before_result = out.len();
    if write_element(&mut out, "result", &ReplyView(reply)).is_err() {
        out.truncate(before_result);
        out.push_str("<result/>");
    }
    out.push_str("</tns:");
    out.push_str(operation);
    out.push_str("Response>");
    close_envelope(&mut out);
    out
}

/// A fault whose reason is the error code, with `<tns:error><code/><param/></tns:error>` as detail.
pub fn fault(v: SoapVersion, e: &DomainError, request_id: impl FnOnce() -> Option<String>) -> String {
    let code = e.code.as_str();
    let mut detail = format!("<tns:error><code>{code}</code>");
    if let Some(p) = e.param {
        detail.push_str(&format!("<param>{p}</param>"));
    }
    if let Some(m) = &e.message {
        detail.push_str(&format!("<message>{}</message>", escape(m)));
    }
    if let Some(id) = (!e.code.is_caller_error()).then(request_id).flatten() {
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
