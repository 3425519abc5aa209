//! The JSON door, `POST /api/json/{class}/{method}` with `Authorization: Bearer` (SPEC §3.4): a JSON
//! object of parameters in, the plain door's envelope out, with HTTP statuses that say what happened
//! and RFC 6750 challenges.

pub mod schema;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use crate::domain::operation::Operation;
use crate::domain::{DomainError, DomainResult, ErrorCode, Params};
use crate::doors::AppState;
use crate::doors::wire::{client_of, json_response, read_body};
use crate::telemetry::Outcome;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/json/{class}/{method}", web::post().to(handle));
}

/// A JSON object's members as parameters: strings as they are, numbers and booleans as text, arrays and
/// objects (the bulk `messages`) as JSON text; `null` counts as absent. An empty body is `{}`.
fn json_params(body: &[u8]) -> DomainResult<Params> {
    let mut params = Params::new();
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(params);
    }
    let object: serde_json::Map<String, Value> =
        serde_json::from_slice(body).map_err(|_| DomainError::new(ErrorCode::MalformedRequest))?;
    for (name, value) in object {
        let text = match value {
            Value::Null => continue,
            Value::String(s) => s,
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            other => other.to_string(),
        };
        params.insert_first(&name, text);
    }
    Ok(params)
}

fn is_json(req: &HttpRequest) -> bool {
    let ct = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn bearer(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

/// The HTTP status of an outcome on this door.
pub fn status_of(code: Option<ErrorCode>) -> StatusCode {
    use ErrorCode::*;
    match code {
        None => StatusCode::OK,
        Some(InvalidToken | MissingUser | MissingPassword | IncorrectUserPassword) => {
            StatusCode::UNAUTHORIZED
        }
        Some(AccessDenied | IpNotAllowed) => StatusCode::FORBIDDEN,
        Some(
            ChannelNotFound | ChatNotFound | MessageNotFound | WebhookNotFound | DeliveryNotFound
            | IncorrectClass | IncorrectMethod,
        ) => StatusCode::NOT_FOUND,
        Some(RequestTooLarge) => StatusCode::PAYLOAD_TOO_LARGE,
        Some(TooManyRequests) => StatusCode::TOO_MANY_REQUESTS,
        Some(InternalError) => StatusCode::INTERNAL_SERVER_ERROR,
        Some(_) => StatusCode::BAD_REQUEST,
    }
}

async fn handle(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let (class, method) = path.into_inner();
    let outcome = Outcome {
        door: "json",
        class: Some(class.clone()),
        method: Some(method.clone()),
        ..Outcome::default()
    };
    let mut unsupported_media = false;
    let result = async {
        let body = read_body(&req, payload, state.settings.body_limit).await?;
        if !body.is_empty() && !is_json(&req) {
            unsupported_media = true;
            return Err(ErrorCode::MalformedRequest.into());
        }
        let params = json_params(&body)?;
        let client = client_of(&req, &state);
        state.gateway.admit(client)?;
        let token = bearer(&req).ok_or(ErrorCode::InvalidToken)?;
        let principal = state.tokens.authenticate(token, client).await?;
        state.gateway.execute(principal, Some(&class), Some(&method), &params).await
    }
    .await;
    let code = result.as_ref().err().map(|e| e.code);
    let status = if unsupported_media { StatusCode::UNSUPPORTED_MEDIA_TYPE } else { status_of(code) };
    let mut res = json_response(&req, status, outcome, &result);
    let challenge = match code {
        Some(ErrorCode::InvalidToken) => {
            Some("Bearer realm=\"chatgate\", error=\"invalid_token\"".to_string())
        }
        Some(ErrorCode::AccessDenied) => {
            let scope =
                Operation::resolve(Some(&class), Some(&method)).map(|op| op.scope().as_str()).unwrap_or("");
            Some(format!("Bearer realm=\"chatgate\", error=\"insufficient_scope\", scope=\"{scope}\""))
        }
        _ => None,
    };
    if let Some(v) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
        res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    if code == Some(ErrorCode::TooManyRequests) && !res.headers().contains_key(header::RETRY_AFTER) {
        res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
    }
    res
}
