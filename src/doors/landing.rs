//! `GET /`: a small page for a person (SPEC §8): what this server is, and links to the API
//! documentation, the WSDL, the operator console and (with `--demo`) the demo's webchat page.

use actix_web::{HttpResponse, web};

use crate::doors::AppState;
use crate::web as pages;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(landing));
}

async fn landing(state: web::Data<AppState>) -> HttpResponse {
    let demo = match state.settings.demo_webchat {
        Some(id) => format!(
            "<a href=\"/webchat/{id}/\"><strong>Demo webchat</strong>The demo account's chat page, as a visitor sees it</a>"
        ),
        None => String::new(),
    };
    pages::page(pages::LANDING_HTML.replace("{{DEMO}}", &demo), "'none'")
}
