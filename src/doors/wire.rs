//! Pieces every door shares: reading a bounded body, decoding forms strictly, the JSON envelope, the
//! client address, and recording the outcome for the request log.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr};

use actix_web::http::StatusCode;
use actix_web::http::header::{
    ALLOW, CONTENT_LENGTH, CONTENT_TYPE, HeaderName, HeaderValue, RETRY_AFTER, TRANSFER_ENCODING,
};
use actix_web::web::{self, Bytes, Payload};
use actix_web::{HttpMessage, HttpRequest, HttpResponse};
use percent_encoding::percent_decode;
use serde::Serialize;

use crate::auth::client_addr::client_address;
use crate::domain::error::Throttled;
use crate::domain::operation::Operation;
use crate::domain::{Call, DomainError, DomainResult, ErrorCode, Params, Reply};
use crate::doors::AppState;
use crate::doors::views::ReplyView;
use crate::telemetry::{Outcome, RequestId};

/// A resource at `path` that answers `405 Method Not Allowed` with `Allow: allow` for every method it
/// has no route for (rather than 404, which would say the path does not exist).
pub fn resource(path: &str, allow: &'static str) -> actix_web::Resource {
    resource_answering(path, allow, |_| HttpResponse::MethodNotAllowed().finish())
}

/// `resource`, with the 405 answer's body made by `not_allowed` (given `allow`).
pub fn resource_answering(
    path: &str,
    allow: &'static str,
    not_allowed: fn(&'static str) -> HttpResponse,
) -> actix_web::Resource {
    web::resource(path).default_service(web::to(move || async move {
        let mut res = not_allowed(allow);
        res.headers_mut().insert(ALLOW, HeaderValue::from_static(allow));
        res
    }))
}

/// The caller of the API token in `header` (the Feedbot and Chat&Messenger doors), from its client
/// address.
pub async fn token_caller(
    req: &HttpRequest,
    state: &AppState,
    header: &str,
) -> crate::domain::DomainResult<crate::domain::model::Principal> {
    let token = req.headers().get(header).and_then(|v| v.to_str().ok()).unwrap_or("").trim();
    state.gateway.authenticate_token(token, client_of(req, &state.settings)).await
}

/// The client address by the trusted-proxy rules of the configuration.
pub fn client_of(req: &HttpRequest, settings: &crate::config::Settings) -> IpAddr {
    let peer = req.peer_addr().map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
    client_address(peer, &settings.trusted_proxies, |name| {
        req.headers().get(name).and_then(|v| v.to_str().ok())
    })
}

/// The body, refused with `REQUEST_TOO_LARGE` past `limit` bytes (announced or actual).
pub async fn read_body(req: &HttpRequest, payload: Payload, limit: usize) -> DomainResult<Bytes> {
    // A request without Content-Length or Transfer-Encoding has no body (RFC 9112 §6.3).
    if !req.headers().contains_key(CONTENT_LENGTH) && !req.headers().contains_key(TRANSFER_ENCODING) {
        return Ok(Bytes::new());
    }
    let announced =
        req.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > limit as u64) {
        return Err(ErrorCode::RequestTooLarge.into());
    }
    match payload.to_bytes_limited(limit).await {
        Ok(Ok(body)) => Ok(body),
        Ok(Err(_)) => Err(ErrorCode::MalformedRequest.into()),
        Err(_) => Err(ErrorCode::RequestTooLarge.into()),
    }
}

/// Decodes `application/x-www-form-urlencoded` text (`+` is a space) into `params`; text that is not
/// UTF-8 once decoded is `MALFORMED_REQUEST` rather than silently mangled.
pub fn decode_form(input: &[u8], params: &mut Params) -> DomainResult<()> {
    for pair in input.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
        let (name, value) = match pair.iter().position(|b| *b == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &b""[..]),
        };
        params.insert_first(decode_component(name)?, decode_component(value)?);
    }
    Ok(())
}

/// One form-encoded component (`+` is a space), strictly UTF-8. Most components (names, logins,
/// ids) need no decoding and are copied once.
pub fn decode_component(raw: &[u8]) -> DomainResult<String> {
    let malformed = |_| DomainError::new(ErrorCode::MalformedRequest);
    if !raw.iter().any(|b| matches!(b, b'+' | b'%')) {
        return std::str::from_utf8(raw).map(str::to_owned).map_err(malformed);
    }
    let spaced: Vec<u8> = raw.iter().map(|b| if *b == b'+' { b' ' } else { *b }).collect();
    percent_decode(&spaced).decode_utf8().map(|s| s.into_owned()).map_err(malformed)
}

/// Parameters of a GET/POST door: the query string, overridden by a form body.
pub fn query_and_form(req: &HttpRequest, body: &[u8]) -> DomainResult<Params> {
    let mut params = Params::new();
    decode_form(req.query_string().as_bytes(), &mut params)?;
    if !body.is_empty() {
        let content_type = req.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let essence = content_type.split(';').next().unwrap_or("").trim();
        if !(essence.is_empty() || essence.eq_ignore_ascii_case("application/x-www-form-urlencoded")) {
            return Err(ErrorCode::MalformedRequest.into());
        }
        let mut form = Params::new();
        decode_form(body, &mut form)?;
        params.merge_over(form);
    }
    Ok(params)
}

#[derive(Serialize)]
struct Success<'a> {
    status: &'static str,
    result: ReplyView<'a>,
}

#[derive(Serialize)]
struct Failure<'a> {
    status: &'static str,
    error: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    param: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    requestid: Option<&'a str>,
}

/// The `{"status":"SUCCESS","result":…}` / `{"status":"ERROR","error":…,"param":…}` envelope. The
/// request id is asked for (and copied) only for an internal error, the one answer that carries it.
pub fn envelope(result: &DomainResult<Reply>, request_id: impl FnOnce() -> Option<String>) -> Vec<u8> {
    // Sized for a typical answer, so that writing it does not grow the buffer step by step.
    let mut body = Vec::with_capacity(512);
    let written = match result {
        Ok(reply) => {
            serde_json::to_writer(&mut body, &Success { status: "SUCCESS", result: ReplyView(reply) })
        }
        Err(e) => {
            let id = (e.code == ErrorCode::InternalError).then(request_id).flatten();
            serde_json::to_writer(
                &mut body,
                &Failure {
                    status: "ERROR",
                    error: e.code.as_str(),
                    param: e.param,
                    message: e.message.as_deref(),
                    requestid: id.as_deref(),
                },
            )
        }
    };
    // Serializing these plain structs cannot fail; keep a valid envelope even if it somehow did.
    match written {
        Ok(()) => body,
        Err(_) => br#"{"status":"ERROR","error":"INTERNAL_ERROR"}"#.to_vec(),
    }
}

/// `Retry-After` and the IETF rate-limit headers (draft-ietf-httpapi-ratelimit-headers) for a request
/// a limit refused: the policy (quota `q` per window `w` seconds) and what is left of it (`r` = 0,
/// `t` = seconds until the window ends).
pub fn throttle_headers(res: &mut HttpResponse, t: &Throttled) {
    let values = [
        (RETRY_AFTER, t.retry_after_secs.to_string()),
        (
            HeaderName::from_static("ratelimit-policy"),
            format!("\"{}\";q={};w={}", t.policy, t.quota, t.window_secs),
        ),
        (HeaderName::from_static("ratelimit"), format!("\"{}\";r=0;t={}", t.policy, t.retry_after_secs)),
    ];
    for (name, value) in values {
        if let Ok(v) = HeaderValue::from_str(&value) {
            res.headers_mut().insert(name, v);
        }
    }
}

/// The headers of a `TOO_MANY_REQUESTS`: a limit's own (`throttle_headers`), or — refused because no
/// argon2 thread was free — `Retry-After: 1`, as that is worth trying again in a moment.
pub fn refusal_headers(res: &mut HttpResponse, throttled: Option<&Throttled>) {
    match throttled {
        Some(t) => throttle_headers(res, t),
        None => {
            res.headers_mut().insert(RETRY_AFTER, HeaderValue::from_static("1"));
        }
    }
}

/// The refusal headers of a result that is `TOO_MANY_REQUESTS`.
pub fn throttle_headers_of(res: &mut HttpResponse, result: &DomainResult<Reply>) {
    if let Err(e) = result
        && e.code == ErrorCode::TooManyRequests
    {
        refusal_headers(res, e.throttled.as_ref());
    }
}

pub fn request_id(req: &HttpRequest) -> Option<String> {
    req.extensions().get::<RequestId>().map(|r| r.0.clone())
}

/// The log's name for what a caller sent: the operation's own (static) name when it is spelled so,
/// else a copy — most calls name an operation exactly, and need no copy.
pub fn log_name(sent: Option<&str>, own: impl Fn(Operation) -> &'static str) -> Option<Cow<'static, str>> {
    let sent = sent?;
    Some(match Operation::ALL.into_iter().map(own).find(|name| *name == sent) {
        Some(name) => Cow::Borrowed(name),
        None => Cow::Owned(sent.to_string()),
    })
}

/// Leaves the outcome of `result` (its code, and the hidden cause of an internal error) in the
/// response, for the request log.
pub fn attach_outcome(res: &mut HttpResponse, mut outcome: Outcome, result: &DomainResult<Reply>) {
    outcome.code = match result {
        Ok(_) => "SUCCESS",
        Err(e) => e.code.as_str(),
    };
    outcome.internal = result.as_ref().err().and_then(|e| e.internal.clone());
    res.extensions_mut().insert(outcome);
}

/// The frame every API door's handler is (plain, Basic, SOAP, JSON): the door reads its wire and runs
/// the command (`run`, which also names the class and method for the request log, and keeps what
/// answering needs), then answers in its wire (`render`: status and body); the outcome for the log and
/// the rate-limit headers are added to every answer alike.
pub async fn frame<C>(
    door: &'static str,
    run: impl AsyncFnOnce(&mut Outcome) -> (C, DomainResult<Reply>),
    render: impl FnOnce(C, &DomainResult<Reply>) -> HttpResponse,
) -> HttpResponse {
    let mut outcome = Outcome { door, ..Outcome::default() };
    let (kept, result) = run(&mut outcome).await;
    let mut res = render(kept, &result);
    attach_outcome(&mut res, outcome, &result);
    throttle_headers_of(&mut res, &result);
    res
}

/// A password door's call through the gateway, its class and method named for the request log.
pub async fn run_call(state: &AppState, outcome: &mut Outcome, call: Call) -> DomainResult<Reply> {
    outcome.class = log_name(call.class.as_deref(), Operation::class);
    outcome.method = log_name(call.method.as_deref(), Operation::method);
    state.gateway.call(call).await
}

/// The JSON envelope with `status` (plain, Basic and JSON doors).
pub fn envelope_response(
    req: &HttpRequest,
    status: StatusCode,
    result: &DomainResult<Reply>,
) -> HttpResponse {
    let body = envelope(result, || request_id(req));
    HttpResponse::build(status).content_type("application/json").body(body)
}

/// What actix's extractors of query strings and paths answer when they cannot give a handler its
/// input: the JSON error shape of the pages' APIs (400 `MALFORMED_REQUEST`), never actix's plain text.
pub fn extractor_errors(cfg: &mut web::ServiceConfig) {
    fn malformed(err: impl Into<actix_web::Error>) -> actix_web::Error {
        let res = HttpResponse::BadRequest().json(serde_json::json!({"error": "MALFORMED_REQUEST"}));
        actix_web::error::InternalError::from_response(err.into(), res).into()
    }
    cfg.app_data(web::QueryConfig::default().error_handler(|err, _| malformed(err)))
        .app_data(web::PathConfig::default().error_handler(|err, _| malformed(err)));
}

/// The HTTP status of an outcome at the doors that answer with HTTP statuses (the JSON door, the
/// console): one table for all of them.
pub fn rest_status(code: Option<ErrorCode>) -> StatusCode {
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
