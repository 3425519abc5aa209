//! The Basic door, `GET`/`POST /api/basic/` (SPEC §3.2): the plain door with credentials taken only from
//! `Authorization: Basic` (UTF-8; the secret may contain `:`). Credential errors are HTTP 401 with a
//! `WWW-Authenticate` challenge; everything else is answered as the plain door answers it.

use actix_web::http::StatusCode;
use actix_web::http::header::{AUTHORIZATION, HeaderValue, WWW_AUTHENTICATE};
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::domain::{Call, DomainResult, ErrorCode};
use crate::doors::AppState;
use crate::doors::wire::{client_of, json_response, query_and_form, read_body, resource};
use crate::telemetry::Outcome;

pub fn routes(cfg: &mut web::ServiceConfig) {
    for path in ["/api/basic/", "/api/basic"] {
        cfg.service(resource(path, "GET, POST").route(web::get().to(handle)).route(web::post().to(handle)));
    }
}

/// (login, secret) from the header; `None` parts when absent. An undecodable header is malformed.
pub(crate) fn basic_credentials(req: &HttpRequest) -> DomainResult<(Option<String>, Option<String>)> {
    let Some(value) = req.headers().get(AUTHORIZATION) else { return Ok((None, None)) };
    let malformed = || ErrorCode::MalformedRequest.into();
    let value = value.to_str().map_err(|_| malformed())?;
    let (scheme, encoded) = value.trim().split_once(' ').ok_or_else(malformed)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(malformed());
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| malformed())?;
    let text = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (login, secret) = text.split_once(':').ok_or_else(malformed)?;
    Ok((Some(login.to_string()), Some(secret.to_string())))
}

async fn handle(req: HttpRequest, payload: web::Payload, state: web::Data<AppState>) -> HttpResponse {
    let mut outcome = Outcome { door: "basic", ..Outcome::default() };
    let mut bad_header = false;
    let result = async {
        let body = read_body(&req, payload, state.settings.body_limit).await?;
        let params = query_and_form(&req, &body)?;
        let (login, secret) = basic_credentials(&req).inspect_err(|_| bad_header = true)?;
        let mut call = Call::from_params(params, client_of(&req, &state));
        // Credentials in parameters are ignored here: they belong in the header.
        (call.login, call.secret) = (login, secret);
        outcome.class.clone_from(&call.class);
        outcome.method.clone_from(&call.method);
        state.gateway.call(call).await
    }
    .await;
    let status = match result.as_ref().err().map(|e| e.code) {
        _ if bad_header => StatusCode::UNAUTHORIZED,
        Some(ErrorCode::MissingUser | ErrorCode::MissingPassword | ErrorCode::IncorrectUserPassword) => {
            StatusCode::UNAUTHORIZED
        }
        Some(ErrorCode::RequestTooLarge) => StatusCode::PAYLOAD_TOO_LARGE,
        Some(ErrorCode::TooManyRequests) => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::OK,
    };
    let mut res = json_response(&req, status, outcome, &result);
    if status == StatusCode::UNAUTHORIZED {
        res.headers_mut().insert(WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"chatgate\""));
    }
    res
}
