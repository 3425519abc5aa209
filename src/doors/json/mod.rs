//! The JSON door, `POST /api/json/{class}/{method}` with `Authorization: Bearer` (SPEC §3.4): a JSON
//! object of parameters in, the plain door's envelope out, with HTTP statuses that say what happened
//! and RFC 6750 challenges.

pub mod schema;

use std::borrow::Cow;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use crate::domain::operation::{self, Operation, ParamKind};
use crate::domain::{DomainError, DomainResult, ErrorCode, Params};
use crate::doors::AppState;
use crate::doors::wire::{client_of, envelope_response, frame, read_body, resource, rest_status};
use crate::telemetry::Outcome;

/// The pattern every call matches; each operation's own path is registered ahead of it, as a static
/// path is matched by comparing it and a pattern by running a regex (0.4 µs of every request). Other
/// spellings (`/api/json/CHAT/GetChats`, unknown names) still reach the pattern.
const PATTERN: &str = "/api/json/{class}/{method}";

pub fn routes(cfg: &mut web::ServiceConfig) {
    for op in Operation::ALL {
        let (class, method) = (op.class(), op.method());
        let named = move |req, payload, state| handle(req, class.into(), method.into(), payload, state);
        cfg.service(resource(&format!("/api/json/{class}/{method}"), "POST").route(web::post().to(named)));
    }
    cfg.service(resource(PATTERN, "POST").route(web::post().to(handle_pattern)));
}

async fn handle_pattern(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let (class, method) = path.into_inner();
    handle(req, class.into(), method.into(), payload, state).await
}

/// A JSON object's members as parameters: strings as they are, numbers and booleans as text, arrays and
/// objects (the bulk `messages`) as JSON text; `null` counts as absent. An empty body is `{}`.
pub(crate) fn json_params(body: &[u8]) -> DomainResult<Params> {
    let mut params = Params::new();
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(params);
    }
    let object: serde_json::Map<String, Value> =
        serde_json::from_slice(body).map_err(|_| DomainError::new(ErrorCode::MalformedRequest))?;
    for (name, value) in object {
        if let Some(text) = param_text(&name, value)? {
            params.insert_first(name, text);
        }
    }
    Ok(params)
}

/// A JSON value as the parameter text the domain reads; a known parameter given a JSON type it does
/// not take (an object as `destination`, `true` as `limit`, 1.5 as an id) is `INCORRECT_PARAM`, not
/// silently turned into text. Unknown names are ignored whatever they hold.
fn param_text(name: &str, value: Value) -> DomainResult<Option<String>> {
    let lower = name.to_ascii_lowercase();
    let known = operation::param(&lower);
    let kind = known.map(|p| p.kind);
    let text = match value {
        Value::Null => return Ok(None),
        Value::String(s) => return Ok(Some(s)),
        Value::Number(n) if kind == Some(ParamKind::Integer) => integer_text(&n),
        Value::Bool(b) if kind == Some(ParamKind::Boolean) => Some(b.to_string()),
        v @ Value::Array(_) if kind == Some(ParamKind::Array) => Some(v.to_string()),
        v @ Value::Object(_) if kind == Some(ParamKind::Object) => Some(v.to_string()),
        v @ (Value::Array(_) | Value::Object(_)) if kind == Some(ParamKind::Json) => Some(v.to_string()),
        _ => None,
    };
    match (text, known) {
        (Some(t), _) => Ok(Some(t)),
        (None, Some(param)) => Err(DomainError::incorrect(param.name)),
        (None, None) => Ok(None),
    }
}

/// An integral JSON number as digits (`944.0` is the integer 944, as JSON Schema counts it; one too
/// large for an id is then simply not found).
fn integer_text(n: &serde_json::Number) -> Option<String> {
    if n.is_i64() || n.is_u64() {
        return Some(n.to_string());
    }
    let f = n.as_f64()?;
    (f.is_finite() && f.fract() == 0.0).then(|| format!("{f:.0}"))
}

fn is_json(req: &HttpRequest) -> bool {
    let ct = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = ct.split(';').next().unwrap_or("").trim();
    let (kind, subtype) = essence.split_once('/').unwrap_or((essence, ""));
    kind.eq_ignore_ascii_case("application")
        && (subtype.eq_ignore_ascii_case("json")
            || subtype.len() >= 5 && subtype.as_bytes()[subtype.len() - 5..].eq_ignore_ascii_case(b"+json"))
}

fn bearer(req: &HttpRequest) -> Option<&str> {
    // `from_utf8` rather than `HeaderValue::to_str`, whose byte-by-byte check of visible ASCII was a
    // twentieth of a JSON request (a token is ~400 bytes): a token with any other character is not
    // one this server signed, and fails verification as INVALID_TOKEN all the same.
    let value = std::str::from_utf8(req.headers().get(header::AUTHORIZATION)?.as_bytes()).ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

async fn handle(
    req: HttpRequest,
    class: Cow<'static, str>,
    method: Cow<'static, str>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let run = async |outcome: &mut Outcome| {
        (outcome.class, outcome.method) = (Some(class.clone()), Some(method.clone()));
        let mut unsupported_media = false;
        let result = async {
            let body = read_body(&req, payload, state.settings.body_limit).await?;
            if !body.is_empty() && !is_json(&req) {
                unsupported_media = true;
                return Err(ErrorCode::MalformedRequest.into());
            }
            let params = json_params(&body)?;
            let client = client_of(&req, &state.settings);
            state.gateway.admit(client)?;
            let token = bearer(&req).ok_or(ErrorCode::InvalidToken)?;
            let principal = state.tokens.authenticate(token, client).await?;
            state.gateway.execute(principal, Some(&class), Some(&method), &params).await
        }
        .await;
        (unsupported_media, result)
    };
    frame("json", run, |unsupported_media, result| {
        let code = result.as_ref().err().map(|e| e.code);
        let status = if unsupported_media { StatusCode::UNSUPPORTED_MEDIA_TYPE } else { rest_status(code) };
        let mut res = envelope_response(&req, status, result);
        if let Some(v) = challenge(code, &class, &method).and_then(|c| HeaderValue::from_str(&c).ok()) {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        res
    })
    .await
}

/// RFC 6750's challenge for a refused bearer token or a missing scope.
fn challenge(code: Option<ErrorCode>, class: &str, method: &str) -> Option<String> {
    match code {
        Some(ErrorCode::InvalidToken) => {
            Some("Bearer realm=\"chatgate\", error=\"invalid_token\"".to_string())
        }
        Some(ErrorCode::AccessDenied) => {
            let scope =
                Operation::resolve(Some(class), Some(method)).map(|op| op.scope().as_str()).unwrap_or("");
            Some(format!("Bearer realm=\"chatgate\", error=\"insufficient_scope\", scope=\"{scope}\""))
        }
        _ => None,
    }
}
