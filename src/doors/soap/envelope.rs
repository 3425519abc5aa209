//! Reading a SOAP 1.1 or 1.2 request envelope with quick-xml's reader and the namespace table of
//! `namespaces`.
//!
//! The document is read in one pass (`pass`), bounded in depth and element count. A DOCTYPE is refused
//! outright (no DTDs, no entity expansion, ever); only the five predefined entities and character
//! references are resolved. Prefixes are arbitrary: elements are matched by namespace URI and local
//! name.

mod pass;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::domain::{DomainError, DomainResult, ErrorCode, Params};
use pass::Pass;

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

fn malformed() -> DomainError {
    DomainError::new(ErrorCode::MalformedRequest)
}

/// The name of a parameter the door reads (the credentials) or an operation reads, as spelled there.
fn known_param(name: &str) -> Option<&'static str> {
    match name {
        "user" => Some("user"),
        "password" => Some("password"),
        other => crate::domain::operation::param(other).map(|p| p.name),
    }
}

/// An element's value: its text, or what its base64 text encodes when `xsi:type` says so, which must
/// be UTF-8 text (`INCORRECT_PARAM` naming the parameter, if an operation reads it, otherwise). A
/// parameter no operation takes is ignored later whatever it holds, so its text is kept as it is.
fn value_of(text: String, base64: bool, param: &str) -> DomainResult<String> {
    let Some(param) = known_param(param).filter(|_| base64) else {
        return Ok(text);
    };
    // base64Binary allows whitespace between its characters (line-wrapped encoders).
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let bytes = STANDARD.decode(compact).map_err(|_| DomainError::incorrect(param))?;
    String::from_utf8(bytes).map_err(|_| DomainError::incorrect(param))
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

/// Reads an envelope. On failure, also says which version to answer the fault in: the envelope's if
/// the document is well-formed and has one, else `guess`.
pub fn parse(body: &[u8], guess: SoapVersion) -> Result<SoapRequest, (SoapVersion, DomainError)> {
    let Ok(xml) = std::str::from_utf8(body) else { return Err((guess, malformed())) };
    let pass = Pass::new(guess).read(xml).map_err(|e| (guess, e))?;
    let version = pass.version;
    pass.request().map_err(|e| (version, e))
}

#[cfg(test)]
mod tests;
