//! Reading a SOAP 1.1 or 1.2 request envelope with quick-xml's reader and the namespace table of
//! `namespaces`.
//!
//! The document is read into a small element tree, bounded in depth and element count. A DOCTYPE is
//! refused outright (no DTDs, no entity expansion, ever); only the five predefined entities and
//! character references are resolved. Prefixes are arbitrary: elements are matched by namespace URI
//! and local name.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::QName;
use quick_xml::reader::Reader;

use super::namespaces::{Namespaces, Resolved};
use crate::domain::{DomainError, DomainResult, ErrorCode, Params};

pub const TNS: &str = "urn:chatgate:chat:1";
pub const SOAP11_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
pub const SOAP12_NS: &str = "http://www.w3.org/2003/05/soap-envelope";
const WSSE_NS: &str = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";
/// `xsi:type` values that mean "base64 of the bytes" (XML Schema's, and SOAP 1.1 section-5 encoding's).
const BASE64_TYPES: [(&str, &str); 2] = [
    ("http://www.w3.org/2001/XMLSchema", "base64Binary"),
    ("http://schemas.xmlsoap.org/soap/encoding/", "base64"),
];

const MAX_DEPTH: usize = 32;
const MAX_ELEMENTS: usize = 50_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SoapVersion {
    V11,
    V12,
}

/// A request as the door needs it: the operation's local name and its parameters, with credentials
/// from the body or from a WS-Security `UsernameToken`.
#[derive(Debug)]
pub struct SoapRequest {
    pub version: SoapVersion,
    pub operation: String,
    pub params: Params,
    pub login: Option<String>,
    pub secret: Option<String>,
}

/// An element's namespace: the ones this door reads are named without a copy of the URI per element.
#[derive(Debug, Default, PartialEq)]
enum Ns {
    #[default]
    Unbound,
    Known(&'static str),
    Other(String),
}

impl Ns {
    fn of(ns: Resolved<'_>) -> Self {
        const KNOWN: [&str; 4] = [SOAP11_NS, SOAP12_NS, TNS, WSSE_NS];
        match ns {
            Resolved::Bound(n) => match KNOWN.iter().find(|k| n == **k) {
                Some(k) => Ns::Known(k),
                None => Ns::Other(n.to_string()),
            },
            Resolved::Unbound => Ns::Unbound,
        }
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            Ns::Unbound => None,
            Ns::Known(k) => Some(k),
            Ns::Other(o) => Some(o),
        }
    }
}

#[derive(Debug, Default)]
struct Element {
    ns: Ns,
    name: String,
    /// The unqualified `Type` attribute (WS-Security's password type).
    type_attr: Option<String>,
    /// `xsi:type` says the text is base64 (section-5 clients — Perl SOAP::Lite, Apache Axis 1 — send
    /// non-ASCII strings so); other `xsi:type`s (`xsd:string`, `xsd:int`, …) are read as text.
    base64: bool,
    text: String,
    children: Vec<Element>,
}

impl Element {
    fn is(&self, ns: &str, name: &str) -> bool {
        self.ns.as_str() == Some(ns) && self.name == name
    }

    fn child(&self, ns: &str, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.is(ns, name))
    }
}

fn malformed() -> DomainError {
    DomainError::new(ErrorCode::MalformedRequest)
}

/// An element just opened at `depth`. Its namespace declarations go into `namespaces` first: they
/// apply to its own name and attributes already.
fn open(start: &BytesStart<'_>, depth: usize, namespaces: &mut Namespaces) -> DomainResult<Element> {
    let mut type_attr = None;
    // `p:type` attributes wait for the declarations, which may follow them.
    let mut types = Vec::new();
    // Most elements have no attributes; the rest are scanned once, without duplicate checks
    // (quadratic in their number). One that is not well-formed ends the scan, as it ends quick-xml's.
    if !start.attributes_raw().trim_ascii().is_empty() {
        for a in start.attributes().with_checks(false) {
            let Ok(a) = a else { break };
            if let Some(declaration) = a.key.as_namespace_binding() {
                namespaces.declare(depth, declaration, &a.value).map_err(|_| malformed())?;
            } else if a.key.as_ref() == "Type" {
                type_attr = Some(a.value.into_owned());
            } else if a.key.as_ref().ends_with(":type") {
                types.push(a);
            }
        }
    }
    let (ns, name) = namespaces.element(start.name()).map_err(|_| malformed())?;
    let mut element = Element { ns: Ns::of(ns), name: name.to_string(), type_attr, ..Element::default() };
    for a in types {
        let Ok((Resolved::Bound(XSI_NS), "type")) = namespaces.attribute(a.key) else { continue };
        // A type whose prefix is unknown is no base64 type (the text is read as it is).
        if let Ok((Resolved::Bound(value_ns), value)) = namespaces.element(QName(a.value.trim_ascii())) {
            element.base64 = BASE64_TYPES.iter().any(|(ns, name)| value_ns == *ns && value == *name);
        }
    }
    Ok(element)
}

/// The request parameters of the WSDL's operations (bulk items' fields included): the names an error
/// can point at.
const PARAMS: [&str; 19] = [
    "user",
    "password",
    "platform",
    "platformid",
    "destination",
    "message",
    "fileurl",
    "thumburl",
    "type",
    "messageid",
    "idempotencykey",
    "invalidationtime",
    "markread",
    "limit",
    "before",
    "url",
    "events",
    "headers",
    "webhookid",
];

/// An element's value: its text, or what its base64 text encodes when `xsi:type` says so, which must
/// be UTF-8 text (`INCORRECT_PARAM` naming the parameter otherwise). A parameter no operation takes is
/// ignored later whatever it holds, so its text is kept as it is.
fn value_of(e: &mut Element, param: &str) -> DomainResult<String> {
    let text = std::mem::take(&mut e.text);
    let Some(param) = PARAMS.iter().find(|p| **p == param).copied().filter(|_| e.base64) else {
        return Ok(text);
    };
    // base64Binary allows whitespace between its characters (line-wrapped encoders).
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let bytes = STANDARD.decode(compact).map_err(|_| DomainError::incorrect(param))?;
    String::from_utf8(bytes).map_err(|_| DomainError::incorrect(param))
}

/// Parses a whole document into its root element.
fn parse_tree(xml: &str) -> DomainResult<Element> {
    let mut reader = Reader::from_str(xml);
    let mut namespaces = Namespaces::new();
    let mut stack: Vec<Element> = Vec::with_capacity(8);
    let mut count = 0usize;
    loop {
        let event = reader.read_event().map_err(|_| malformed())?;
        match event {
            Event::Start(ref s) | Event::Empty(ref s) => {
                count += 1;
                let depth = stack.len() + 1;
                if depth > MAX_DEPTH || count > MAX_ELEMENTS {
                    return Err(malformed());
                }
                let element = open(s, depth, &mut namespaces)?;
                if matches!(event, Event::Empty(_)) {
                    namespaces.close(depth);
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(element),
                        None => return Ok(element),
                    }
                } else {
                    stack.push(element);
                }
            }
            Event::End(_) => {
                namespaces.close(stack.len());
                let done = stack.pop().ok_or_else(malformed)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => return Ok(done),
                }
            }
            Event::Text(t) => {
                let text = t.xml10_content();
                match stack.last_mut() {
                    // Most elements have one text: take it whole rather than grow an empty string.
                    Some(e) if e.text.is_empty() => e.text = text.into_owned(),
                    Some(e) => e.text.push_str(&text),
                    None if text.trim().is_empty() => {}
                    None => return Err(malformed()),
                }
            }
            Event::CData(c) => {
                stack.last_mut().ok_or_else(malformed)?.text.push_str(&c.into_inner());
            }
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref().map_err(|_| malformed())? {
                    Some(c) => c.to_string(),
                    None => resolve_predefined_entity(&r).ok_or_else(malformed)?.to_string(),
                };
                stack.last_mut().ok_or_else(malformed)?.text.push_str(&resolved);
            }
            Event::DocType(_) => return Err(malformed()),
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
            Event::Eof => return Err(malformed()),
        }
    }
}

/// The SOAP version a content type announces, for answering requests too broken to tell.
pub fn version_of_content_type(content_type: &str) -> SoapVersion {
    const SOAP12: &[u8] = b"application/soap+xml";
    if content_type.as_bytes().windows(SOAP12.len()).any(|w| w.eq_ignore_ascii_case(SOAP12)) {
        SoapVersion::V12
    } else {
        SoapVersion::V11
    }
}

/// Reads an envelope. On failure, also says which version to answer the fault in (the envelope's, if
/// it got that far, else `guess`).
pub fn parse(body: &[u8], guess: SoapVersion) -> Result<SoapRequest, (SoapVersion, DomainError)> {
    let fail = |v, e| Err((v, e));
    let Ok(xml) = std::str::from_utf8(body) else { return fail(guess, malformed()) };
    let mut root = match parse_tree(xml) {
        Ok(r) => r,
        Err(e) => return fail(guess, e),
    };
    let (version, ns) = if root.is(SOAP11_NS, "Envelope") {
        (SoapVersion::V11, SOAP11_NS)
    } else if root.is(SOAP12_NS, "Envelope") {
        (SoapVersion::V12, SOAP12_NS)
    } else {
        return fail(guess, malformed());
    };
    let body = root.children.iter_mut().find(|c| c.is(ns, "Body"));
    // Taken out of the tree: its names and texts move into the parameters without a copy.
    let Some(operation) = body.and_then(|b| b.children.first_mut()).map(std::mem::take) else {
        return fail(version, malformed());
    };
    // The operation belongs to our namespace; tolerate an unqualified one from hand-written clients.
    let name = match operation.ns.as_str() {
        Some(TNS) | None => operation.name,
        Some(ns) => format!("{{{ns}}}{}", operation.name),
    };
    let mut params = Params::new();
    let mut bulk = Vec::new();
    // In `sendmessages` every `<message>` is an item, an empty or nil one too (SPEC §2: one result per
    // item, in order), so it is never read as a plain parameter.
    let is_bulk = name == "sendmessages";
    for mut child in operation.children {
        if child.children.is_empty() && !(is_bulk && child.name == "message") {
            let name = std::mem::take(&mut child.name);
            match value_of(&mut child, &name) {
                Ok(v) => params.insert_first(name, v),
                Err(e) => return fail(version, e),
            }
        } else if child.name == "message" {
            let mut item = serde_json::Map::new();
            for mut f in child.children {
                let name = f.name.to_ascii_lowercase();
                match value_of(&mut f, &name) {
                    Ok(v) => item.insert(name, serde_json::Value::String(v)),
                    Err(e) => return fail(version, e),
                };
            }
            bulk.push(serde_json::Value::Object(item));
        }
    }
    if !bulk.is_empty() {
        params.set("messages", serde_json::Value::Array(bulk).to_string());
    }
    let (mut login, mut secret) = (params.take("user"), params.take("password"));
    if let Some(token) = root
        .child(ns, "Header")
        .and_then(|h| h.child(WSSE_NS, "Security"))
        .and_then(|s| s.child(WSSE_NS, "UsernameToken"))
    {
        // chatgate keeps argon2 hashes, so it cannot check a digest of the password: say so.
        let digest = token.child(WSSE_NS, "Password").and_then(|p| p.type_attr.as_deref());
        if digest.is_some_and(|t| t.ends_with("#PasswordDigest")) {
            return fail(version, DomainError::incorrect("Password"));
        }
        let field = |n| token.child(WSSE_NS, n).map(|e| e.text.clone()).filter(|t| !t.is_empty());
        login = login.or_else(|| field("Username"));
        secret = secret.or_else(|| field("Password"));
    }
    Ok(SoapRequest { version, operation: name, params, login, secret })
}
