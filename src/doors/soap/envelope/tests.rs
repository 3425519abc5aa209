//! The envelope reader against the element-tree reader it replaced (kept here as `before`, verbatim
//! but for its imports): both must read every document alike — the same request, or the same fault in
//! the same version. `documents()` are the cases whose order and "first one wins" rules a one-pass
//! reader could get wrong; `envelopes()` puts such pieces together at random.

use proptest::prelude::*;

use super::*;
use crate::domain::operation::Operation;

mod before {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use quick_xml::escape::resolve_predefined_entity;
    use quick_xml::events::{BytesStart, Event};
    use quick_xml::name::QName;
    use quick_xml::reader::Reader;

    use super::super::{
        BASE64_TYPES, MAX_DEPTH, MAX_ELEMENTS, SOAP11_NS, SOAP12_NS, SoapRequest, SoapVersion, TNS, WSSE_NS,
        XSI_NS, known_param, malformed,
    };
    use crate::domain::{DomainError, DomainResult, Params};
    use crate::doors::soap::namespaces::{Namespaces, Resolved};

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

    /// An element's value: its text, or what its base64 text encodes when `xsi:type` says so, which must
    /// be UTF-8 text (`INCORRECT_PARAM` naming the parameter otherwise). A parameter no operation takes is
    /// ignored later whatever it holds, so its text is kept as it is.
    fn value_of(e: &mut Element, param: &str) -> DomainResult<String> {
        let text = std::mem::take(&mut e.text);
        let Some(param) = known_param(param).filter(|_| e.base64) else {
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
}

const S11: &str = "http://schemas.xmlsoap.org/soap/envelope/";
const S12: &str = "http://www.w3.org/2003/05/soap-envelope";
const WSSE: &str = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
const XSI: &str =
    "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\"";

fn env(ns: &str, header: &str, body: &str) -> String {
    format!("<s:Envelope xmlns:s=\"{ns}\">{header}<s:Body>{body}</s:Body></s:Envelope>")
}

fn op(name: &str, inner: &str) -> String {
    format!("<c:{name} xmlns:c=\"urn:chatgate:chat:1\">{inner}</c:{name}>")
}

fn token(user: &str, password: &str) -> String {
    format!(
        "<s:Header><w:Security xmlns:w=\"{WSSE}\"><w:UsernameToken><w:Username>{user}</w:Username>\
         {password}</w:UsernameToken></w:Security></s:Header>"
    )
}

/// Documents whose reading depends on order, on "the first one wins", on where an error sits.
fn documents() -> Vec<String> {
    let creds = "<user>demo</user><password>pw</password>";
    let pw = "<w:Password>pw</w:Password>";
    let digest = "<w:Password Type=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest\">x</w:Password>";
    let b64 = |name: &str, value: &str| format!("<{name} xsi:type=\"xsd:base64Binary\">{value}</{name}>");
    let mut docs = vec![
        env(S11, "", &op("getchatchannels", creds)),
        env(S12, "", &op("getchatchannels", creds)),
        env(S11, "", &format!("<getchatchannels>{creds}</getchatchannels>")),
        env(S11, "", &format!("<getchatchannels xmlns=\"urn:chatgate:chat:1\">{creds}</getchatchannels>")),
        env(S11, "", &format!("<o:getchatchannels xmlns:o=\"urn:other\">{creds}</o:getchatchannels>")),
        env(
            S11,
            "",
            &op(
                "getchatchannels",
                "<User>a</User><user>b</user><PASSWORD>c</PASSWORD><password>d</password>",
            ),
        ),
        env(
            S11,
            "",
            &op(
                "getmessages",
                "<user>u</user><user>v</user><limit>5</limit><Limit>6</Limit><extra>x</extra>",
            ),
        ),
        env(S11, &token("tok", pw), &op("getchatchannels", "")),
        env(S11, &token("tok", pw), &op("getchatchannels", creds)),
        env(S11, &token("", ""), &op("getchatchannels", "")),
        env(S11, &token("tok", digest), &op("getchatchannels", "")),
        env(S12, &token("tok", &format!("{pw}{digest}")), &op("getchatchannels", "")),
        env(S11, &token("tok", &format!("{digest}{pw}")), &op("getchatchannels", "")),
        env(S11, &format!("{}{}", token("first", pw), token("second", pw)), &op("getchatchannels", "")),
        env(
            S11,
            &token("<x>in</x>tok&amp;en", "<w:Password>p<![CDATA[<w>]]>&#65;</w:Password>"),
            &op("getchatchannels", ""),
        ),
        // A header with the wrong envelope namespace, a token outside `Security`.
        env(
            S11,
            &format!(
                "<h:Header xmlns:h=\"{S12}\"><w:Security xmlns:w=\"{WSSE}\"><w:UsernameToken><w:Username>x</w:Username></w:UsernameToken></w:Security></h:Header>"
            ),
            &op("getchatchannels", ""),
        ),
        env(
            S11,
            &format!(
                "<s:Header><w:UsernameToken xmlns:w=\"{WSSE}\"><w:Username>x</w:Username></w:UsernameToken></s:Header>"
            ),
            &op("getchatchannels", ""),
        ),
        // Header after the body; two bodies; an empty body; a body with text only.
        format!(
            "<s:Envelope xmlns:s=\"{S11}\"><s:Body>{}</s:Body>{}</s:Envelope>",
            op("getchatchannels", ""),
            token("late", pw)
        ),
        format!(
            "<s:Envelope xmlns:s=\"{S11}\"><s:Body/><s:Body>{}</s:Body></s:Envelope>",
            op("getchatchannels", creds)
        ),
        format!(
            "<s:Envelope xmlns:s=\"{S11}\"><s:Body>{}{}</s:Body></s:Envelope>",
            op("first", creds),
            op("second", "<user>x</user>")
        ),
        env(S11, "", ""),
        env(S11, "", "text only"),
        format!("<s:Envelope xmlns:s=\"{S11}\"/>"),
        format!("<s:Envelope xmlns:s=\"{S11}\"></s:Envelope>"),
        format!("<s:Envelope xmlns:s=\"{S12}\"><s:Header/></s:Envelope>"),
        // Not an envelope, or an envelope of another version's namespace name.
        format!("<s:Envelop xmlns:s=\"{S11}\"><s:Body>{}</s:Body></s:Envelop>", op("getchatchannels", creds)),
        format!("<Envelope><Body>{}</Body></Envelope>", op("getchatchannels", creds)),
        // Bulk: empty, nil and filled items in order, field names in any case, a plain `message` elsewhere.
        env(
            S11,
            "",
            &op(
                "sendmessages",
                &format!(
                    "{creds}<platform>webchat</platform><message/><message xsi:nil=\"true\" {XSI}/><message><Destination>d</Destination><MESSAGE>hi</MESSAGE><message>dup</message></message><message>text</message>"
                ),
            ),
        ),
        env(
            S11,
            "",
            &op("sendmessage", &format!("{creds}<message>plain</message><message>second</message>")),
        ),
        env(
            S11,
            "",
            &op(
                "sendmessage",
                &format!("{creds}<message><destination>d</destination></message><message>plain</message>"),
            ),
        ),
        env(S11, "", &op("sendmessage", &format!("{creds}<destination><inner>x</inner>text</destination>"))),
        env(
            S11,
            "",
            &op(
                "sendmessages",
                "<message><a><b>deep</b>text</a></message><message>t</message><messages>raw</messages>",
            ),
        ),
        // base64: decoded, refused, not UTF-8, on a parameter no operation takes, an unknown type prefix.
        env(
            S11,
            "",
            &op(
                "sendmessage",
                &format!(
                    "<x {XSI}>{}{}{}</x>",
                    b64("message", "aMOpbGxv"),
                    b64("destination", " ZG Vz\n dA== "),
                    b64("unknown", "!!")
                ),
            ),
        ),
        env(
            S11,
            "",
            &format!(
                "<c:sendmessage xmlns:c=\"urn:chatgate:chat:1\" {XSI}>{}</c:sendmessage>",
                b64("message", "aMOpbGxv")
            ),
        ),
        env(
            S11,
            "",
            &format!(
                "<c:sendmessage xmlns:c=\"urn:chatgate:chat:1\" {XSI}>{}{}</c:sendmessage>",
                b64("message", "!!"),
                b64("destination", "!!")
            ),
        ),
        env(
            S11,
            "",
            &format!(
                "<c:sendmessage xmlns:c=\"urn:chatgate:chat:1\" {XSI}>{}</c:sendmessage>",
                b64("message", "/w==")
            ),
        ),
        env(
            S11,
            "",
            &format!(
                "<c:sendmessage xmlns:c=\"urn:chatgate:chat:1\" {XSI}>{}<user>u</user></c:sendmessage>",
                b64("unknown", "!!")
            ),
        ),
        env(
            S11,
            "",
            &format!(
                "<c:sendmessage xmlns:c=\"urn:chatgate:chat:1\" {XSI}><message xsi:type=\"q:base64\">aGk=</message></c:sendmessage>"
            ),
        ),
        env(
            S11,
            "",
            "<c:sendmessage xmlns:c=\"urn:chatgate:chat:1\"><message xsi:type=\"e:base64\" xmlns:e=\"http://schemas.xmlsoap.org/soap/encoding/\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">aGk=</message></c:sendmessage>",
        ),
        env(
            S11,
            "",
            &format!(
                "<c:sendmessage xmlns:c=\"urn:chatgate:chat:1\" {XSI}><message xsi:type=\"xsd:base64Binary\" xsi:type=\"xsd:string\">aGk=</message></c:sendmessage>"
            ),
        ),
        env(S11, "", &op("sendmessages", &format!("<message {XSI}>{}</message>", b64("Message", "!!")))),
        env(
            S11,
            &token("tok", digest),
            &format!(
                "<c:sendmessage xmlns:c=\"urn:chatgate:chat:1\" {XSI}>{}</c:sendmessage>",
                b64("message", "!!")
            ),
        ),
        // A refused value, then a document that is not well-formed: the malformed document wins.
        format!(
            "<s:Envelope xmlns:s=\"{S11}\"><s:Body><c:sendmessage xmlns:c=\"urn:chatgate:chat:1\" {XSI}>{}</c:sendmessage></s:Body><bad></s:Envelope>",
            b64("message", "!!")
        ),
        // Text: entities, character references, CDATA, line ends, split texts.
        env(
            S11,
            "",
            &op(
                "sendmessage",
                "<message>a&lt;b&#x1F600;&#10;<![CDATA[<raw>&amp;]]>c\r\nd</message><destination>one<!-- c -->two<?pi x?>three</destination>",
            ),
        ),
        env(S11, "", &op("sendmessage", "<message>&unknown;</message>")),
        env(S11, "", &op("sendmessage", "<ignored><deep>&unknown;</deep></ignored>")),
        env(S11, "", &op("sendmessage", "<ignored><deep>&#xD800;</deep></ignored>")),
        // Around the root: declarations, comments, whitespace, text, trailing content, a DOCTYPE.
        format!("<?xml version=\"1.0\"?>\n<!-- hi -->\n{}\n", env(S11, "", &op("getchatchannels", creds))),
        format!("stray{}", env(S11, "", &op("getchatchannels", creds))),
        format!("{}trailing <garbage", env(S11, "", &op("getchatchannels", creds))),
        format!("<!DOCTYPE x>{}", env(S11, "", &op("getchatchannels", creds))),
        format!("<![CDATA[x]]>{}", env(S11, "", &op("getchatchannels", creds))),
        format!("&amp;{}", env(S11, "", &op("getchatchannels", creds))),
        env(S11, "", &op("getchatchannels", creds)).replace("</s:Body>", ""),
        env(S11, "", &op("getchatchannels", creds)).replace("</c:getchatchannels>", "</c:getchatchannel>"),
        env(S11, "", &op("getchatchannels", creds))[..60].to_string(),
        // Namespaces: unbound prefixes (also in ignored elements), undeclaring, redeclaring, forbidden ones.
        env(S11, "", &op("getchatchannels", "<q:x>1</q:x>")),
        env(S11, "<s:Header><q:x/></s:Header>", &op("getchatchannels", creds)),
        env(
            S11,
            "",
            "<c:getchatchannels xmlns:c=\"urn:chatgate:chat:1\"><c:user xmlns:c=\"\">u</c:user></c:getchatchannels>",
        ),
        env(
            S11,
            "",
            "<c:getchatchannels xmlns:c=\"urn:chatgate:chat:1\"><user xmlns:c=\"urn:other\">u</user></c:getchatchannels>",
        ),
        env(
            S11,
            "",
            "<c:getchatchannels xmlns:c=\"urn:chatgate:chat:1\"><user xmlns:xmlns=\"urn:x\">u</user></c:getchatchannels>",
        ),
        env(
            S11,
            "",
            "<x:getchatchannels xmlns:x=\"urn:other\"><x:user xmlns:x=\"urn:chatgate:chat:1\">u</x:user></x:getchatchannels>",
        ),
        format!(
            "<s:Envelope xmlns:s=\"{S11}\"><t:Body xmlns:t=\"{S11}\">{}</t:Body></s:Envelope>",
            op("getchatchannels", creds)
        ),
        format!(
            "<Envelope xmlns=\"{S12}\"><Body><getchatchannels xmlns=\"urn:chatgate:chat:1\"><user>u</user></getchatchannels></Body></Envelope>"
        ),
        // Attributes: not well-formed ones, a declaration after a type, plain attributes everywhere.
        env(
            S11,
            "",
            "<c:getchatchannels xmlns:c=\"urn:chatgate:chat:1\" a=\"1\" b='2'><user id=\"x\" Type=\"t\">u</user></c:getchatchannels>",
        ),
        env(
            S11,
            "",
            &format!(
                "<c:sendmessage xmlns:c=\"urn:chatgate:chat:1\"><message xsi:type=\"xsd:base64Binary\" {XSI}>aGk=</message></c:sendmessage>"
            ),
        ),
        env(
            S11,
            "",
            &format!(
                "<c:sendmessage xmlns:c=\"urn:chatgate:chat:1\"><message bad xsi:type=\"xsd:base64Binary\" {XSI}>aGk=</message></c:sendmessage>"
            ),
        ),
        env(
            S11,
            "",
            "<c:sendmessage xmlns:c=\"urn:chatgate:chat:1\"><message a=\"1\" a=\"2\">x</message></c:sendmessage>",
        ),
    ];
    // Depth: at the bound and past it, inside an ignored element.
    for depth in [29, 30, 31] {
        let inner = format!("{}{}", "<d>".repeat(depth), "</d>".repeat(depth));
        docs.push(env(S11, "", &op("getchatchannels", &inner)));
    }
    docs
}

/// A reading as a line: the request, or the fault and its version.
fn outcome(result: Result<SoapRequest, (SoapVersion, DomainError)>) -> String {
    match result {
        Ok(r) => {
            let registered = Operation::ALL.into_iter().flat_map(|op| op.spec().params).map(|p| p.name);
            let mut names: Vec<&str> = vec!["user", "password"];
            for n in registered.chain(["extra", "x", "unknown", "q:x"]) {
                if !names.contains(&n) {
                    names.push(n);
                }
            }
            let params: Vec<String> =
                names.iter().filter_map(|n| r.params.raw(n).map(|v| format!("{n}={v:?}"))).collect();
            format!(
                "{:?} {} [{}] of {} login={:?} secret={:?}",
                r.version,
                r.operation,
                params.join(" "),
                r.params.len(),
                r.login,
                r.secret
            )
        }
        Err((version, e)) => format!("{version:?} fault {:?} {:?}", e.code, e.param),
    }
}

#[test]
fn reads_every_document_as_the_tree_reader_did() {
    for doc in documents() {
        for guess in [SoapVersion::V11, SoapVersion::V12] {
            let now = outcome(parse(doc.as_bytes(), guess));
            let then = outcome(before::parse(doc.as_bytes(), guess));
            assert_eq!(now, then, "{doc}");
        }
    }
}

#[test]
fn the_documents_cover_requests_and_faults() {
    let outcomes: Vec<String> =
        documents().iter().map(|d| outcome(parse(d.as_bytes(), SoapVersion::V11))).collect();
    let seen = |needle: &str| outcomes.iter().filter(|o| o.contains(needle)).count();
    assert!(seen("fault MalformedRequest") >= 10, "{outcomes:#?}");
    assert!(seen("fault IncorrectParam") >= 4, "{outcomes:#?}");
    assert!(seen("V12 fault") >= 1 && seen("V12 getchatchannels") >= 1, "{outcomes:#?}");
    assert!(seen("messages=") >= 3 && seen("login=Some(\"tok\")") >= 2, "{outcomes:#?}");
    let bench = &outcomes[0];
    assert_eq!(bench, "V11 getchatchannels [] of 0 login=Some(\"demo\") secret=Some(\"pw\")");
}

/// Envelopes put together from pieces that the reader tells apart: either version, a token or other
/// headers before or after the body, any operation, and its children in any order.
fn envelopes() -> impl Strategy<Value = String> {
    use prop::sample::select;
    let digest = "<w:Password Type=\"x#PasswordDigest\">d</w:Password>";
    let headers = select(vec![
        String::new(),
        token("tok", "<w:Password>pw</w:Password>"),
        token("", digest),
        "<s:Header/>".to_string(),
        "<s:Header><q:a/></s:Header>".to_string(),
        format!("<s:Header><w:Security xmlns:w=\"{WSSE}\"/></s:Header>"),
    ]);
    let operations = select(vec!["c:sendmessages", "c:sendmessage", "getchatchannels", "o:getchatchannels"]);
    let pieces = select(vec![
        "<user>u</user>",
        "<User>U</User>",
        "<password>p</password>",
        "<message>m</message>",
        "<message/>",
        "<message xsi:nil=\"true\"/>",
        "<message><destination>d</destination><Message>x</Message></message>",
        "<message><destination xsi:type=\"xsd:base64Binary\">!!</destination></message>",
        "<message xsi:type=\"xsd:base64Binary\">aGk=</message>",
        "<message xsi:type=\"xsd:base64Binary\">!!</message>",
        "<destination><x>1</x>t</destination>",
        "<limit>5</limit>",
        "&amp;",
        "text",
        "<!-- c -->",
        "<![CDATA[c]]>",
        "<q:x>1</q:x>",
        "<x xmlns:c=\"\"><c:y/></x>",
        "&bogus;",
        "</x>",
        "<",
    ]);
    let versions = select(vec![S11, S12]);
    (versions, headers, any::<bool>(), operations, prop::collection::vec(pieces, 0..8)).prop_map(
        |(version, header, header_last, operation, children)| {
            let body = format!("<s:Body><{operation}>{}</{operation}></s:Body>", children.concat());
            let (first, second) = if header_last { (body, header) } else { (header, body) };
            format!(
                "<s:Envelope xmlns:s=\"{version}\" xmlns:c=\"urn:chatgate:chat:1\" xmlns:o=\"urn:other\" {XSI}>\
                 {first}{second}</s:Envelope>"
            )
        },
    )
}

proptest! {
    #[test]
    fn reads_generated_envelopes_as_the_tree_reader_did(doc in envelopes()) {
        let now = outcome(parse(doc.as_bytes(), SoapVersion::V12));
        let then = outcome(before::parse(doc.as_bytes(), SoapVersion::V12));
        prop_assert_eq!(now, then, "{}", doc);
    }
}

/// `sendtemplate`'s lists: repeated `<parameter>` elements (texts, or `name`/`value` pairs) and
/// `<button>` elements become the JSON arrays the other doors give.
#[test]
fn list_parameters_are_read_as_json_arrays() {
    let doc = |inner: &str| {
        format!(
            "<s:Envelope xmlns:s=\"{SOAP11_NS}\" xmlns:c=\"{TNS}\"><s:Body><c:sendtemplate>\
             <template>t</template>{inner}</c:sendtemplate></s:Body></s:Envelope>"
        )
    };
    let positional = parse(
        doc("<parameters><parameter>Ann &amp; Bo</parameter><parameter>#42</parameter></parameters>")
            .as_bytes(),
        SoapVersion::V11,
    )
    .unwrap();
    assert_eq!(positional.params.get("parameters"), Some(r##"["Ann & Bo","#42"]"##));
    let named = parse(
        doc("<parameters><parameter><name>first_name</name><value>Ann</value></parameter></parameters>\
             <buttons><button><index>1</index><text>ord-42</text></button></buttons>")
        .as_bytes(),
        SoapVersion::V11,
    )
    .unwrap();
    assert_eq!(named.params.get("parameters"), Some(r#"[{"name":"first_name","value":"Ann"}]"#));
    assert_eq!(named.params.get("buttons"), Some(r#"[{"index":"1","text":"ord-42"}]"#));
    assert_eq!(named.params.get("template"), Some("t"));
}
