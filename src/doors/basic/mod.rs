//! The Basic door, `GET`/`POST /api/basic/` (SPEC §3.2): the plain door with credentials taken only from
//! `Authorization: Basic` (UTF-8; the secret may contain `:`). Credential errors are HTTP 401 with a
//! `WWW-Authenticate` challenge; everything else is answered as the plain door answers it.

use actix_web::http::StatusCode;
use actix_web::http::header::{AUTHORIZATION, HeaderValue, WWW_AUTHENTICATE};
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::auth::tokens::grants::ClientCredentials;
use crate::domain::{Call, DomainResult, ErrorCode};
use crate::doors::AppState;
use crate::doors::wire::{
    client_of, decode_component, envelope_response, frame, query_and_form, read_body, resource, run_call,
};
use crate::telemetry::Outcome;

pub fn routes(cfg: &mut web::ServiceConfig) {
    for path in ["/api/basic/", "/api/basic"] {
        cfg.service(resource(path, "GET, POST").route(web::get().to(handle)).route(web::post().to(handle)));
    }
}

/// The header's credentials, `None` when absent; an undecodable header is malformed.
pub(crate) fn basic_header(req: &HttpRequest) -> DomainResult<Option<ClientCredentials>> {
    let Some(value) = req.headers().get(AUTHORIZATION) else { return Ok(None) };
    let value = value.to_str().map_err(|_| ErrorCode::MalformedRequest)?;
    read_basic(value).map(Some).ok_or_else(|| ErrorCode::MalformedRequest.into())
}

/// Credentials from `Authorization: Basic`: as sent, and their form-decoded reading when it differs.
/// RFC 6749 §2.3.1 tells OAuth clients to form-encode the id and secret before base64; most clients
/// (curl -u, requests, authlib) do not. Every endpoint that takes Basic accepts both (SPEC §4).
pub(crate) fn read_basic(value: &str) -> Option<ClientCredentials> {
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let text = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (login, secret) = text.split_once(':')?;
    let decoded = match (decode_component(login.as_bytes()), decode_component(secret.as_bytes())) {
        (Ok(l), Ok(s)) if (l.as_str(), s.as_str()) != (login, secret) => Some((l, s)),
        _ => None,
    };
    Some(ClientCredentials { id: login.to_string(), secret: secret.to_string(), decoded })
}

async fn handle(req: HttpRequest, payload: web::Payload, state: web::Data<AppState>) -> HttpResponse {
    let run = async |outcome: &mut Outcome| {
        let mut bad_header = false;
        let result = async {
            let body = read_body(&req, payload, state.settings.body_limit).await?;
            let params = query_and_form(&req, &body)?;
            let basic = basic_header(&req).inspect_err(|_| bad_header = true)?;
            let mut call = Call::from_params(params, client_of(&req, &state.settings));
            // Credentials in parameters are ignored here: they belong in the header.
            (call.login, call.secret, call.decoded) = match basic {
                Some(b) => (Some(b.id), Some(b.secret), b.decoded),
                None => (None, None, None),
            };
            run_call(&state, outcome, call).await
        }
        .await;
        (bad_header, result)
    };
    frame("basic", run, |bad_header, result| {
        let status = match result.as_ref().err().map(|e| e.code) {
            _ if bad_header => StatusCode::UNAUTHORIZED,
            Some(ErrorCode::MissingUser | ErrorCode::MissingPassword | ErrorCode::IncorrectUserPassword) => {
                StatusCode::UNAUTHORIZED
            }
            Some(ErrorCode::RequestTooLarge) => StatusCode::PAYLOAD_TOO_LARGE,
            Some(ErrorCode::TooManyRequests) => StatusCode::TOO_MANY_REQUESTS,
            _ => StatusCode::OK,
        };
        let mut res = envelope_response(&req, status, result);
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"chatgate\""));
        }
        res
    })
    .await
}
