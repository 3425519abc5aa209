//! Reading a SOAP 1.1 or 1.2 request envelope with quick-xml's namespace-resolving reader.
//!
//! The document is read into a small element tree, bounded in depth and element count. A DOCTYPE is
//! refused outright (no DTDs, no entity expansion, ever); only the five predefined entities and
//! character references are resolved. Prefixes are arbitrary: elements are matched by namespace URI
//! and local name.

use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

use crate::domain::{DomainError, DomainResult, ErrorCode, Params};

pub const TNS: &str = "urn:chatgate:chat:1";
pub const SOAP11_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
pub const SOAP12_NS: &str = "http://www.w3.org/2003/05/soap-envelope";
const WSSE_NS: &str = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";

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

#[derive(Debug, Default)]
struct Element {
    ns: Option<String>,
    name: String,
    /// The unqualified `Type` attribute (WS-Security's password type), the only attribute read.
    type_attr: Option<String>,
    text: String,
    children: Vec<Element>,
}

impl Element {
    fn is(&self, ns: &str, name: &str) -> bool {
        self.ns.as_deref() == Some(ns) && self.name == name
    }

    fn child(&self, ns: &str, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.is(ns, name))
    }
}

fn malformed() -> DomainError {
    DomainError::new(ErrorCode::MalformedRequest)
}

fn open(ns: ResolveResult<'_>, start: &BytesStart<'_>) -> DomainResult<Element> {
    let ns = match ns {
        ResolveResult::Bound(n) => Some(n.as_ref().to_string()),
        ResolveResult::Unbound => None,
        ResolveResult::Unknown(_) => return Err(malformed()),
    };
    let name = start.local_name().as_ref().to_string();
    // Attributes are scanned once, without duplicate checks (quadratic in their number).
    let type_attr = start
        .attributes()
        .with_checks(false)
        .flatten()
        .find(|a| a.key.as_ref() == "Type")
        .map(|a| a.value.into_owned());
    Ok(Element { ns, name, type_attr, ..Element::default() })
}

/// Parses a whole document into its root element.
fn parse_tree(xml: &str) -> DomainResult<Element> {
    let mut reader = NsReader::from_str(xml);
    let mut stack: Vec<Element> = Vec::new();
    let mut count = 0usize;
    loop {
        let (ns, event) = reader.read_resolved_event().map_err(|_| malformed())?;
        match event {
            Event::Start(ref s) | Event::Empty(ref s) => {
                count += 1;
                if stack.len() >= MAX_DEPTH || count > MAX_ELEMENTS {
                    return Err(malformed());
                }
                let element = open(ns, s)?;
                if matches!(event, Event::Empty(_)) {
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(element),
                        None => return Ok(element),
                    }
                } else {
                    stack.push(element);
                }
            }
            Event::End(_) => {
                let done = stack.pop().ok_or_else(malformed)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => return Ok(done),
                }
            }
            Event::Text(t) => {
                let text = t.xml10_content();
                match stack.last_mut() {
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
    if content_type.to_ascii_lowercase().contains("application/soap+xml") {
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
    let root = match parse_tree(xml) {
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
    let Some(operation) = root.child(ns, "Body").and_then(|b| b.children.first()) else {
        return fail(version, malformed());
    };
    // The operation belongs to our namespace; tolerate an unqualified one from hand-written clients.
    let name = match operation.ns.as_deref() {
        Some(TNS) | None => operation.name.clone(),
        Some(_) => format!("{{{}}}{}", operation.ns.as_deref().unwrap_or(""), operation.name),
    };
    let mut params = Params::new();
    let mut bulk = Vec::new();
    // In `sendmessages` every `<message>` is an item, an empty or nil one too (SPEC §2: one result per
    // item, in order), so it is never read as a plain parameter.
    let is_bulk = name == "sendmessages";
    for child in &operation.children {
        if child.children.is_empty() && !(is_bulk && child.name == "message") {
            params.insert_first(&child.name, child.text.clone());
        } else if child.name == "message" {
            let item: serde_json::Map<String, serde_json::Value> = child
                .children
                .iter()
                .map(|f| (f.name.to_ascii_lowercase(), serde_json::Value::String(f.text.clone())))
                .collect();
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
