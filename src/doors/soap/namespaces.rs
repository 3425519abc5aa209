//! The namespace declarations in scope while an envelope is read (Namespaces in XML 1.0), for
//! quick-xml's plain `Reader`, which gives names as written.
//!
//! quick-xml's `NsReader` resolves the same way (these rules mirror its `NamespaceResolver`), but it
//! builds its tables from nothing for every document — allocations that grow one binding at a time —
//! and scans every start tag's attributes once more beside the door's own scan: over a third of a
//! small envelope's parse (issue 16, README's performance section). This table reserves its room once
//! per document and is fed by the door's one scan of the attributes of the elements that have any.
//!
//! Declarations are taken as written (an attribute value's entity references are not expanded), as
//! quick-xml's resolver takes them. At most `MAX_BINDINGS` may be in scope at once, which bounds the
//! scan behind every name a hostile document can make.

use quick_xml::name::{PrefixDeclaration, QName};

const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";
const XMLNS_NS: &str = "http://www.w3.org/2000/xmlns/";
/// quick-xml's default for the same bound.
const MAX_BINDINGS: usize = 128;

/// A name's namespace.
#[derive(Debug, PartialEq, Eq)]
pub enum Resolved<'n> {
    /// No prefix, and no default namespace in scope (or an attribute without a prefix).
    Unbound,
    Bound(&'n str),
}

/// A prefix that no declaration in scope binds.
#[derive(Debug, PartialEq, Eq)]
pub struct UnknownPrefix;

/// A declaration that Namespaces in XML forbids, or one over the bound.
#[derive(Debug, PartialEq, Eq)]
pub struct BadDeclaration;

#[derive(Debug)]
struct Binding {
    /// The depth of the element that declared it (the root is 1).
    depth: usize,
    /// Where its prefix (empty for the default namespace) and then its URI are in `Namespaces::text`.
    start: usize,
    prefix_len: usize,
    uri_len: usize,
}

#[derive(Debug)]
pub struct Namespaces {
    text: String,
    bindings: Vec<Binding>,
}

impl Namespaces {
    /// Room for a SOAP envelope's usual declarations without growing.
    pub fn new() -> Self {
        Namespaces { text: String::with_capacity(256), bindings: Vec::with_capacity(8) }
    }

    /// Takes a declaration (`xmlns="uri"`, `xmlns:p="uri"`) of the element opened at `depth`; it
    /// applies to that element's own name and attributes already.
    pub fn declare(
        &mut self,
        depth: usize,
        declaration: PrefixDeclaration<'_>,
        uri: &str,
    ) -> Result<(), BadDeclaration> {
        let prefix = match declaration {
            PrefixDeclaration::Default => "",
            PrefixDeclaration::Named("xml") if uri == XML_NS => return Ok(()),
            PrefixDeclaration::Named("xml" | "xmlns") => return Err(BadDeclaration),
            PrefixDeclaration::Named(_) if uri == XML_NS || uri == XMLNS_NS => return Err(BadDeclaration),
            PrefixDeclaration::Named(p) => p,
        };
        if self.bindings.len() >= MAX_BINDINGS {
            return Err(BadDeclaration);
        }
        let start = self.text.len();
        self.text.push_str(prefix);
        self.text.push_str(uri);
        self.bindings.push(Binding { depth, start, prefix_len: prefix.len(), uri_len: uri.len() });
        Ok(())
    }

    /// Ends the scope of the element closed at `depth`.
    pub fn close(&mut self, depth: usize) {
        let kept = self.bindings.iter().rposition(|b| b.depth < depth).map_or(0, |i| i + 1);
        if let Some(first_dropped) = self.bindings.get(kept) {
            self.text.truncate(first_dropped.start);
            self.bindings.truncate(kept);
        }
    }

    /// An element's namespace and local name: without a prefix, the default namespace applies.
    pub fn element<'q>(&self, name: QName<'q>) -> Result<(Resolved<'_>, &'q str), UnknownPrefix> {
        self.resolve(name, true)
    }

    /// An attribute's namespace and local name: without a prefix, it has none.
    pub fn attribute<'q>(&self, name: QName<'q>) -> Result<(Resolved<'_>, &'q str), UnknownPrefix> {
        self.resolve(name, false)
    }

    fn resolve<'q>(
        &self,
        name: QName<'q>,
        use_default: bool,
    ) -> Result<(Resolved<'_>, &'q str), UnknownPrefix> {
        let (prefix, local) = match name.0.split_once(':') {
            Some((prefix, local)) => (Some(prefix), local),
            None => (None, name.0),
        };
        let resolved = match prefix {
            None if !use_default => Resolved::Unbound,
            None => match self.innermost("") {
                Some("") | None => Resolved::Unbound,
                Some(uri) => Resolved::Bound(uri),
            },
            Some("xml") => Resolved::Bound(XML_NS),
            Some("xmlns") => Resolved::Bound(XMLNS_NS),
            // `xmlns:p=""` undeclares `p` (XML 1.1; an error in 1.0, where it cannot be used either).
            Some(p) => match self.innermost(p) {
                Some("") | None => return Err(UnknownPrefix),
                Some(uri) => Resolved::Bound(uri),
            },
        };
        Ok((resolved, local))
    }

    fn innermost(&self, prefix: &str) -> Option<&str> {
        self.bindings.iter().rev().find_map(|b| {
            let declared = &self.text[b.start..b.start + b.prefix_len];
            (declared == prefix)
                .then(|| &self.text[b.start + b.prefix_len..b.start + b.prefix_len + b.uri_len])
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quick_xml::events::BytesStart;

    /// Declares what an element's attributes declare, as the envelope's reader does.
    fn declare(ns: &mut Namespaces, depth: usize, tag: &str) -> Result<(), BadDeclaration> {
        let start = BytesStart::from_content(tag, tag.find(' ').unwrap_or(tag.len()));
        for a in start.attributes().with_checks(false) {
            let a = a.unwrap();
            if let Some(declaration) = a.key.as_namespace_binding() {
                ns.declare(depth, declaration, &a.value)?;
            }
        }
        Ok(())
    }

    fn element<'n>(
        ns: &'n Namespaces,
        name: &'static str,
    ) -> Result<(Resolved<'n>, &'static str), UnknownPrefix> {
        ns.element(QName(name))
    }

    #[test]
    fn prefixes_and_the_default_namespace_resolve_to_the_innermost_declaration() {
        let mut ns = Namespaces::new();
        declare(&mut ns, 1, r#"a:Envelope xmlns:a="urn:one" xmlns="urn:default""#).unwrap();
        assert_eq!(element(&ns, "a:Envelope"), Ok((Resolved::Bound("urn:one"), "Envelope")));
        assert_eq!(element(&ns, "Body"), Ok((Resolved::Bound("urn:default"), "Body")));
        declare(&mut ns, 2, r#"a:Body xmlns:a="urn:two" xmlns="""#).unwrap();
        assert_eq!(element(&ns, "a:Body"), Ok((Resolved::Bound("urn:two"), "Body")));
        assert_eq!(
            element(&ns, "user"),
            Ok((Resolved::Unbound, "user")),
            "xmlns=\"\" undeclares the default"
        );
        ns.close(2);
        assert_eq!(element(&ns, "a:x"), Ok((Resolved::Bound("urn:one"), "x")), "the outer binding is back");
        assert_eq!(element(&ns, "x"), Ok((Resolved::Bound("urn:default"), "x")));
        ns.close(1);
        assert_eq!(element(&ns, "a:x"), Err(UnknownPrefix));
        assert_eq!(element(&ns, "x"), Ok((Resolved::Unbound, "x")));
    }

    #[test]
    fn attributes_without_a_prefix_have_no_namespace_and_xml_is_always_bound() {
        let mut ns = Namespaces::new();
        declare(&mut ns, 1, r#"e xmlns="urn:default" xmlns:i="urn:i""#).unwrap();
        assert_eq!(ns.attribute(QName("Type")), Ok((Resolved::Unbound, "Type")));
        assert_eq!(ns.attribute(QName("i:type")), Ok((Resolved::Bound("urn:i"), "type")));
        assert_eq!(ns.attribute(QName("xml:lang")), Ok((Resolved::Bound(XML_NS), "lang")));
        assert_eq!(ns.attribute(QName("j:type")), Err(UnknownPrefix));
    }

    #[test]
    fn forbidden_declarations_are_refused_and_an_undeclared_prefix_is_unknown() {
        for tag in [
            r#"e xmlns:xml="urn:other""#,
            r#"e xmlns:xmlns="urn:other""#,
            r#"e xmlns:p="http://www.w3.org/XML/1998/namespace""#,
            r#"e xmlns:p="http://www.w3.org/2000/xmlns/""#,
        ] {
            assert_eq!(declare(&mut Namespaces::new(), 1, tag), Err(BadDeclaration), "{tag}");
        }
        let mut ns = Namespaces::new();
        declare(&mut ns, 1, r#"e xmlns:xml="http://www.w3.org/XML/1998/namespace" xmlns:p="""#).unwrap();
        assert_eq!(element(&ns, "p:e"), Err(UnknownPrefix));
    }

    #[test]
    fn declarations_in_scope_are_bounded() {
        let mut ns = Namespaces::new();
        let many: String = (0..MAX_BINDINGS).map(|i| format!(" xmlns:p{i}=\"urn:{i}\"")).collect();
        let tag = format!("e{many}");
        declare(&mut ns, 1, &tag).unwrap();
        assert_eq!(declare(&mut ns, 2, r#"f xmlns:q="urn:q""#), Err(BadDeclaration));
        ns.close(1);
        assert_eq!(declare(&mut ns, 1, r#"f xmlns:q="urn:q""#), Ok(()), "closing frees the room");
    }
}
