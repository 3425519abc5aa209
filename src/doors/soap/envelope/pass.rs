//! One pass over an envelope: each element is given its role in the request as it opens, and what
//! the door reads is gathered as elements close. No tree is built: for the benchmark's envelope the
//! tree cost 8 % of the parse (1,150 of 14,100 instructions; most of the rest is quick-xml's reading),
//! and a document held all its elements in it while it was read — 16 MiB for 50,000 elements, where
//! this holds the open ones (`hostile::many_element_soap_documents_cost_their_bodies_not_a_tree_each`).

use std::borrow::Cow;

use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::QName;
use quick_xml::reader::Reader;

use super::super::namespaces::{Namespaces, Resolved};
use super::{
    BASE64_TYPES, MAX_DEPTH, MAX_ELEMENTS, SOAP11_NS, SOAP12_NS, SoapRequest, SoapVersion, TNS, WSSE_NS,
    XSI_NS, malformed, value_of,
};
use crate::domain::{DomainError, DomainResult, Params};

/// What an open element is to the request, decided when it opens from its parent's role and its own
/// namespace and name: one pass over the document finds everything the door reads, without a tree.
/// The roles from `Header` to `Operation` go to the first element that qualifies only, as the door
/// reads the first `Body`, the first `UsernameToken`, … and ignores any later one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Envelope,
    Header,
    Security,
    Token,
    /// The token's `Username` and `Password`: their text.
    Username,
    Password,
    Body,
    /// The body's first child.
    Operation,
    /// A child of the operation: a parameter if it has no child elements, a bulk item if it is a
    /// `message`.
    Param,
    /// A child of a `message` item: one of its fields.
    Field,
    /// A child of a list parameter (`parameters`, `buttons`): an item, its text or its fields.
    Item,
    /// A child of an `Item`: one of its fields (`name`, `value`, `index`, `payload`, `text`).
    ItemField,
    /// Anything else: read for well-formedness, its content ignored.
    Other,
}

impl Role {
    fn reads_text(self) -> bool {
        matches!(
            self,
            Role::Username | Role::Password | Role::Param | Role::Field | Role::Item | Role::ItemField
        )
    }
}

/// The namespaces the door tells elements apart by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ns {
    Unbound,
    Known(&'static str),
    Other,
}

impl Ns {
    fn of(ns: Resolved<'_>) -> Self {
        const KNOWN: [&str; 4] = [SOAP11_NS, SOAP12_NS, TNS, WSSE_NS];
        match ns {
            Resolved::Bound(n) => KNOWN.iter().find(|k| n == **k).map_or(Ns::Other, |k| Ns::Known(k)),
            Resolved::Unbound => Ns::Unbound,
        }
    }
}

/// An open element.
#[derive(Debug)]
struct Frame {
    role: Role,
    /// A `Param`'s local name, a `Field`'s lower-cased (the parameter's name); empty otherwise.
    name: String,
    /// `xsi:type` says the text is base64 (section-5 clients — Perl SOAP::Lite, Apache Axis 1 — send
    /// non-ASCII strings so); other `xsi:type`s (`xsd:string`, `xsd:int`, …) are read as text.
    base64: bool,
    /// Its own text (not its children's), when its role reads it.
    text: String,
    /// An element opened inside it.
    has_children: bool,
    /// A list parameter's items, an item's fields, as they close.
    items: Vec<serde_json::Value>,
    fields: serde_json::Map<String, serde_json::Value>,
}

/// Parameters given as a list of elements in SOAP (`sendtemplate`'s `<parameters><parameter>…`), read
/// into the JSON array the other doors give.
const LIST_PARAMS: [&str; 2] = ["parameters", "buttons"];

/// What an open element's parent is, for the role of its children.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Parent {
    Message,
    List,
    Plain,
}

/// One pass over a document: what the door reads from it, gathered as its elements open and close.
pub(super) struct Pass {
    pub(super) version: SoapVersion,
    stack: Vec<Frame>,
    namespaces: Namespaces,
    elements: usize,
    /// The first-only roles given so far, one bit per role.
    given: u16,
    operation: Option<String>,
    bulk: bool,
    params: Params,
    /// `user` and `password` from the operation's parameters.
    login: Option<String>,
    secret: Option<String>,
    items: Vec<serde_json::Value>,
    /// The fields of the bulk item being read.
    item: serde_json::Map<String, serde_json::Value>,
    token_login: Option<String>,
    token_secret: Option<String>,
    /// The token's password is a digest (`Type` ends in `#PasswordDigest`).
    digest: bool,
    /// The first value that could not be read (reported once the document proved well-formed).
    refused: Option<DomainError>,
}

impl Pass {
    pub(super) fn new(guess: SoapVersion) -> Self {
        Pass {
            version: guess,
            stack: Vec::with_capacity(8),
            namespaces: Namespaces::new(),
            elements: 0,
            given: 0,
            operation: None,
            bulk: false,
            params: Params::new(),
            login: None,
            secret: None,
            items: Vec::new(),
            item: serde_json::Map::new(),
            token_login: None,
            token_secret: None,
            digest: false,
            refused: None,
        }
    }

    /// Reads the document up to the end of its root element.
    pub(super) fn read(mut self, xml: &str) -> DomainResult<Self> {
        let mut reader = Reader::from_str(xml);
        loop {
            match reader.read_event().map_err(|_| malformed())? {
                Event::Start(s) => self.open(&s)?,
                Event::Empty(s) => {
                    self.open(&s)?;
                    if self.close() {
                        return Ok(self);
                    }
                }
                Event::End(_) => {
                    if self.close() {
                        return Ok(self);
                    }
                }
                Event::Text(t) => match self.stack.last_mut() {
                    Some(f) if f.role.reads_text() => append(&mut f.text, t.xml10_content()),
                    Some(_) => {}
                    None if t.xml10_content().trim().is_empty() => {}
                    None => return Err(malformed()),
                },
                Event::CData(c) => {
                    let f = self.stack.last_mut().ok_or_else(malformed)?;
                    if f.role.reads_text() {
                        append(&mut f.text, c.into_inner());
                    }
                }
                Event::GeneralRef(r) => {
                    let resolved = match r.resolve_char_ref().map_err(|_| malformed())? {
                        Some(c) => Cow::Owned(c.to_string()),
                        None => Cow::Borrowed(resolve_predefined_entity(&r).ok_or_else(malformed)?),
                    };
                    let f = self.stack.last_mut().ok_or_else(malformed)?;
                    if f.role.reads_text() {
                        append(&mut f.text, resolved);
                    }
                }
                Event::DocType(_) => return Err(malformed()),
                Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
                Event::Eof => return Err(malformed()),
            }
        }
    }

    /// An element opens. Its namespace declarations go into `namespaces` first: they apply to its own
    /// name and attributes already.
    fn open(&mut self, start: &BytesStart<'_>) -> DomainResult<()> {
        self.elements += 1;
        let depth = self.stack.len() + 1;
        if depth > MAX_DEPTH || self.elements > MAX_ELEMENTS {
            return Err(malformed());
        }
        let mut digest = false;
        // `p:type` attributes wait for the declarations, which may follow them.
        let mut types = Vec::new();
        // Most elements have no attributes; the rest are scanned once, without duplicate checks
        // (quadratic in their number). One that is not well-formed ends the scan, as it ends quick-xml's.
        if !start.attributes_raw().trim_ascii().is_empty() {
            for a in start.attributes().with_checks(false) {
                let Ok(a) = a else { break };
                if let Some(declaration) = a.key.as_namespace_binding() {
                    self.namespaces.declare(depth, declaration, &a.value).map_err(|_| malformed())?;
                } else if a.key.as_ref() == "Type" {
                    // chatgate keeps argon2 hashes, so it cannot check a digest of the password.
                    digest = a.value.ends_with("#PasswordDigest");
                } else if a.key.as_ref().ends_with(":type") {
                    types.push(a);
                }
            }
        }
        let (ns, name) = self.namespaces.element(start.name()).map_err(|_| malformed())?;
        let ns = Ns::of(ns);
        let parent = self.stack.last_mut().map(|p| {
            p.has_children = true;
            let kind = match p.name.as_str() {
                "message" => Parent::Message,
                n if p.role == Role::Param && LIST_PARAMS.contains(&n) => Parent::List,
                _ => Parent::Plain,
            };
            (p.role, kind)
        });
        let role = match parent {
            None => {
                self.version = match (ns, name) {
                    (Ns::Known(SOAP11_NS), "Envelope") => SoapVersion::V11,
                    (Ns::Known(SOAP12_NS), "Envelope") => SoapVersion::V12,
                    _ => return Err(malformed()),
                };
                Role::Envelope
            }
            Some((parent, kind)) => self.role_of(parent, kind, ns, name),
        };
        let mut frame = Frame {
            role,
            name: String::new(),
            base64: false,
            text: String::new(),
            has_children: false,
            items: Vec::new(),
            fields: serde_json::Map::new(),
        };
        match role {
            Role::Password => self.digest = digest,
            Role::Operation => self.operation(start)?,
            Role::Param => frame.name = name.to_string(),
            Role::Field | Role::ItemField => frame.name = name.to_ascii_lowercase(),
            _ => {}
        }
        if matches!(role, Role::Param | Role::Field | Role::Item | Role::ItemField) {
            for a in types {
                let Ok((Resolved::Bound(XSI_NS), "type")) = self.namespaces.attribute(a.key) else {
                    continue;
                };
                // A type whose prefix is unknown is no base64 type (the text is read as it is).
                if let Ok((Resolved::Bound(value_ns), value)) =
                    self.namespaces.element(QName(a.value.trim_ascii()))
                {
                    frame.base64 = BASE64_TYPES.iter().any(|(ns, name)| value_ns == *ns && value == *name);
                }
            }
        }
        self.stack.push(frame);
        Ok(())
    }

    fn role_of(&mut self, parent: Role, kind: Parent, ns: Ns, name: &str) -> Role {
        let envelope = match self.version {
            SoapVersion::V11 => SOAP11_NS,
            SoapVersion::V12 => SOAP12_NS,
        };
        let is = |want_ns: &'static str, want: &str| ns == Ns::Known(want_ns) && name == want;
        let role = match parent {
            Role::Envelope if is(envelope, "Header") => Role::Header,
            Role::Envelope if is(envelope, "Body") => Role::Body,
            Role::Header if is(WSSE_NS, "Security") => Role::Security,
            Role::Security if is(WSSE_NS, "UsernameToken") => Role::Token,
            Role::Token if is(WSSE_NS, "Username") => Role::Username,
            Role::Token if is(WSSE_NS, "Password") => Role::Password,
            Role::Body => Role::Operation,
            Role::Operation => return Role::Param,
            Role::Param if kind == Parent::Message => return Role::Field,
            Role::Param if kind == Parent::List => return Role::Item,
            Role::Item => return Role::ItemField,
            _ => return Role::Other,
        };
        let bit = 1 << role as u16;
        if self.given & bit != 0 {
            return Role::Other;
        }
        self.given |= bit;
        role
    }

    /// The operation's name: its local name in the service's namespace (or none, as hand-written
    /// clients send it), else qualified with its namespace so that it matches no operation.
    fn operation(&mut self, start: &BytesStart<'_>) -> DomainResult<()> {
        let (ns, name) = self.namespaces.element(start.name()).map_err(|_| malformed())?;
        let operation = match ns {
            Resolved::Bound(TNS) | Resolved::Unbound => name.to_string(),
            Resolved::Bound(ns) => format!("{{{ns}}}{name}"),
        };
        // In `sendmessages` every `<message>` is an item, an empty or nil one too (SPEC §2: one result
        // per item, in order), so it is never read as a plain parameter.
        self.bulk = operation == "sendmessages";
        self.operation = Some(operation);
        Ok(())
    }

    /// The innermost open element closes; says whether it was the root (what follows is not read).
    fn close(&mut self) -> bool {
        self.namespaces.close(self.stack.len());
        if let Some(frame) = self.stack.pop() {
            self.gather(frame);
        }
        self.stack.is_empty()
    }

    /// What a closed element gives the request.
    fn gather(&mut self, frame: Frame) {
        match frame.role {
            Role::Param if frame.has_children && LIST_PARAMS.contains(&frame.name.as_str()) => {
                let list = serde_json::Value::Array(frame.items).to_string();
                self.params.insert_first(frame.name, list);
            }
            Role::Item => {
                let item = if frame.has_children {
                    serde_json::Value::Object(frame.fields)
                } else {
                    let list = self.list_name(1);
                    let Some(value) = self.value(frame.text, frame.base64, &list) else { return };
                    serde_json::Value::String(value)
                };
                if let Some(list) = self.stack.last_mut() {
                    list.items.push(item);
                }
            }
            Role::ItemField => {
                let list = self.list_name(2);
                let Some(value) = self.value(frame.text, frame.base64, &list) else { return };
                if let Some(item) = self.stack.last_mut() {
                    item.fields.insert(frame.name, serde_json::Value::String(value));
                }
            }
            Role::Param if !(frame.has_children || self.bulk && frame.name == "message") => {
                let Some(value) = self.value(frame.text, frame.base64, &frame.name) else { return };
                let slot = if frame.name.eq_ignore_ascii_case("user") {
                    &mut self.login
                } else if frame.name.eq_ignore_ascii_case("password") {
                    &mut self.secret
                } else {
                    return self.params.insert_first(frame.name, value);
                };
                // The first value of a parameter wins, as with every other parameter.
                slot.get_or_insert(value);
            }
            Role::Param if frame.name == "message" => {
                let item = std::mem::take(&mut self.item);
                self.items.push(serde_json::Value::Object(item));
            }
            Role::Field => {
                if let Some(value) = self.value(frame.text, frame.base64, &frame.name) {
                    self.item.insert(frame.name, serde_json::Value::String(value));
                }
            }
            Role::Username => self.token_login = Some(frame.text),
            Role::Password => self.token_secret = Some(frame.text),
            _ => {}
        }
    }

    /// The name of the list parameter `up` levels above the element that just closed (its values are
    /// decoded, and refused, as that parameter's).
    fn list_name(&self, up: usize) -> String {
        self.stack
            .len()
            .checked_sub(up)
            .and_then(|i| self.stack.get(i))
            .map(|f| f.name.clone())
            .unwrap_or_default()
    }

    /// A parameter's value (`value_of`); a refusal is kept for when the whole document has been read.
    fn value(&mut self, text: String, base64: bool, param: &str) -> Option<String> {
        match value_of(text, base64, param) {
            Ok(value) => Some(value),
            Err(e) => {
                self.refused.get_or_insert(e);
                None
            }
        }
    }

    /// The request, once the document has been read to its end.
    pub(super) fn request(mut self) -> DomainResult<SoapRequest> {
        let operation = self.operation.ok_or_else(malformed)?;
        if let Some(e) = self.refused {
            return Err(e);
        }
        if self.digest {
            return Err(DomainError::incorrect("Password"));
        }
        if !self.items.is_empty() {
            self.params.set("messages", serde_json::Value::Array(self.items).to_string());
        }
        let present = |t: &String| !t.is_empty();
        Ok(SoapRequest {
            version: self.version,
            operation,
            params: self.params,
            login: self.login.or(self.token_login.filter(present)),
            secret: self.secret.or(self.token_secret.filter(present)),
        })
    }
}

/// Adds text to an element's; most elements have one text, taken whole rather than copied.
fn append(to: &mut String, text: Cow<'_, str>) {
    if to.is_empty() {
        *to = text.into_owned();
    } else {
        to.push_str(&text);
    }
}
