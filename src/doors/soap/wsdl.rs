//! Serving `wsdl/chatgate.wsdl` with its `soap:address` locations pointing at this server: the
//! configured `public_url`, else the scheme and `Host` of the request itself.

use actix_web::{HttpRequest, HttpResponse, web};
use quick_xml::escape::escape;

use crate::doors::AppState;

/// The contract as checked in; tests compare it with what the code dispatches.
pub const WSDL: &str = include_str!("../../../wsdl/chatgate.wsdl");
const PLACEHOLDER: &str = "http://localhost:8080/api/soap/";

/// A `Host` header we are willing to echo into a document: a host name or address with a port.
fn plausible_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
}

pub fn soap_url(req: &HttpRequest, state: &AppState) -> String {
    if let Some(base) = &state.settings.public_url {
        return format!("{}/api/soap/", base.trim_end_matches('/'));
    }
    let host = req.headers().get("host").and_then(|h| h.to_str().ok()).filter(|h| plausible_host(h));
    let host = host.map_or_else(|| state.listen_addr.to_string(), str::to_string);
    format!("http://{host}/api/soap/")
}

/// `GET /api/soap/?wsdl` (any case); any other GET is told how to use the endpoint.
pub async fn serve(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    if !req.query_string().split('&').any(|p| p.eq_ignore_ascii_case("wsdl")) {
        return HttpResponse::BadRequest()
            .content_type("text/plain; charset=utf-8")
            .body("POST a SOAP 1.1 or 1.2 envelope here; the contract is at ?wsdl\n");
    }
    let location = escape(soap_url(&req, &state)).into_owned();
    HttpResponse::Ok().content_type("text/xml; charset=utf-8").body(WSDL.replace(PLACEHOLDER, &location))
}
