//! The plain door, `GET`/`POST /api/http/` (SPEC §3.1): credentials, class, method and parameters in
//! the query string or a form body (body values win). HTTP 200 for every command outcome; only a body
//! over the limit is answered 413, with the same envelope.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::domain::{Call, ErrorCode};
use crate::doors::AppState;
use crate::doors::wire::{
    client_of, envelope_response, frame, query_and_form, read_body, resource, run_call,
};
use crate::telemetry::Outcome;

pub fn routes(cfg: &mut web::ServiceConfig) {
    for path in ["/api/http/", "/api/http"] {
        cfg.service(resource(path, "GET, POST").route(web::get().to(handle)).route(web::post().to(handle)));
    }
}

async fn handle(req: HttpRequest, payload: web::Payload, state: web::Data<AppState>) -> HttpResponse {
    let run = async |outcome: &mut Outcome| {
        let result = async {
            let body = read_body(&req, payload, state.settings.body_limit).await?;
            let params = query_and_form(&req, &body)?;
            run_call(&state, outcome, Call::from_params(params, client_of(&req, &state.settings))).await
        };
        ((), result.await)
    };
    frame("plain", run, |(), result| {
        let status = match result {
            Err(e) if e.code == ErrorCode::RequestTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::OK,
        };
        envelope_response(&req, status, result)
    })
    .await
}
