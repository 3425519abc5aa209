//! The pages people open: the webchat page and its launcher script, the operator console, the landing
//! page. Every asset is compiled into the binary (no CDN, no build step): plain HTML, CSS and ES
//! modules. Pages insert text only through `escape`, and their scripts only through `textContent`.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, web};

const CHAT_CSS: &str = include_str!("assets/chat.css");
const COMMON_JS: &str = include_str!("assets/common.js");
const WEBCHAT_JS: &str = include_str!("assets/webchat.js");
const CONSOLE_JS: &str = include_str!("assets/console.js");
pub const WEBCHAT_HTML: &str = include_str!("assets/webchat.html");
pub const WIDGET_JS: &str = include_str!("assets/widget.js");
pub const CONSOLE_HTML: &str = include_str!("assets/console.html");
pub const LANDING_HTML: &str = include_str!("assets/landing.html");

/// The policy of every page: only its own scripts, styles and API; images also from https (file previews).
pub const PAGE_CSP: &str =
    "default-src 'self'; img-src 'self' https: data:; object-src 'none'; base-uri 'none'; form-action 'self'";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/assets/{name}", web::get().to(asset));
}

/// HTML-escapes text for a template.
pub fn escape(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}

/// A page with the headers every page carries; `frame_ancestors` says who may embed it.
pub fn page(html: String, frame_ancestors: &str) -> HttpResponse {
    let csp = format!("{PAGE_CSP}; frame-ancestors {frame_ancestors}");
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, csp))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .insert_header((header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .body(html)
}

async fn asset(name: web::Path<String>) -> HttpResponse {
    let (body, kind) = match name.as_str() {
        "chat.css" => (CHAT_CSS, "text/css; charset=utf-8"),
        "common.js" => (COMMON_JS, "text/javascript; charset=utf-8"),
        "webchat.js" => (WEBCHAT_JS, "text/javascript; charset=utf-8"),
        "console.js" => (CONSOLE_JS, "text/javascript; charset=utf-8"),
        _ => return HttpResponse::NotFound().finish(),
    };
    HttpResponse::Ok()
        .content_type(kind)
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300")))
        .body(body)
}
