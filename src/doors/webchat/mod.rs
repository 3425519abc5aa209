//! The webchat door (SPEC §5.4): the chat page and its launcher script, and the visitor's API under
//! `/webchat/{platformid}/api/` — session, history, send, seen, and a Server-Sent Events stream. A
//! visitor's message is a received message of the chat whose `destination` is the visitor's id, stored
//! through the gateway like any platform's; what the business sends through any door is pushed to the
//! open page, which marks it `delivered`, and `read` once shown.

mod after;
pub mod stream;
pub mod visitor;

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use crate::auth::client_addr::address_key;
pub use crate::auth::rate::RateLimit;
use crate::config::WebchatSettings;
use crate::domain::ErrorCode;
use crate::domain::error::Throttled;
use crate::domain::model::{ChannelConfig, InboundMessage, MessageStatus, Platform};
use crate::domain::values;
use crate::doors::PagesState;
use crate::doors::refused::Refused;
use crate::doors::views::MessageView;
use crate::doors::wire::{client_of, read_body};
use crate::web as pages;

/// The counters of those limits (at most 100,000 keys each). Addresses are counted by
/// `address_key` (an IPv6 address by its /64).
pub struct WebchatLimits {
    pub per_visitor: RateLimit,
    pub per_address: RateLimit,
    pub sessions: RateLimit,
    pub reads_per_visitor: RateLimit,
    pub reads_per_address: RateLimit,
}

impl WebchatLimits {
    pub fn new(s: &WebchatSettings) -> Self {
        Self {
            per_visitor: RateLimit::per_minute("visitor", s.messages_per_visitor_per_minute, 100_000),
            per_address: RateLimit::per_minute("address", s.messages_per_address_per_minute, 100_000),
            sessions: RateLimit::per_minute("sessions", s.sessions_per_address_per_minute, 100_000),
            reads_per_visitor: RateLimit::per_minute("visitor", s.reads_per_visitor_per_minute, 100_000),
            reads_per_address: RateLimit::per_minute("address", s.reads_per_address_per_minute, 100_000),
        }
    }

    /// Charges a visitor's call to the visitor, then (only if the visitor was within its own limit,
    /// so that one visitor's excess does not use up its neighbours' budget) to its address.
    fn charge(
        per_visitor: &RateLimit,
        per_address: &RateLimit,
        visitor: &str,
        address: &str,
    ) -> Result<(), Throttled> {
        per_visitor.hit(visitor).and_then(|()| per_address.hit(address))
    }
}

/// The key a client address is counted by.
fn address_of(req: &HttpRequest, state: &PagesState) -> String {
    address_key(client_of(req, &state.settings)).to_string()
}

/// How many messages a page shows when it opens.
const HISTORY: u32 = 100;

/// One scope per channel: its pattern is the one regex a webchat request runs (actix tries a path against
/// each pattern in turn with a regex, and every page view sends `visit`); the paths in it are static.
pub fn routes(cfg: &mut actix_web::web::ServiceConfig) {
    use actix_web::web::{get, method, post};
    cfg.service(
        actix_web::web::scope("/webchat/{pid}")
            .route("/", get().to(page))
            .route("/widget.js", get().to(widget))
            .route("/api/session", post().to(session))
            .route("/api/messages", get().to(history))
            .route("/api/messages", post().to(send))
            .route("/api/seen", post().to(seen))
            .route("/api/contact", post().to(after::contact))
            .route("/api/rating", post().to(after::rating))
            .route("/api/survey", post().to(after::survey))
            .route("/api/visit", post().to(after::visit))
            .route("/api/events", get().to(stream::events))
            .route("/api/{rest:.*}", method(actix_web::http::Method::OPTIONS).to(preflight)),
    );
}

/// A visitor call's body, bounded like every door's (`body_limit`): 413 past it.
async fn body_of(
    req: &HttpRequest,
    payload: actix_web::web::Payload,
    state: &PagesState,
) -> Result<actix_web::web::Bytes, Refused> {
    read_body(req, payload, state.settings.body_limit).await.map_err(|e| match e.code {
        ErrorCode::RequestTooLarge => Refused::new(StatusCode::PAYLOAD_TOO_LARGE, e.code.as_str()),
        _ => Refused::new(StatusCode::BAD_REQUEST, "MALFORMED_REQUEST"),
    })
}

/// The webchat channel `pid` names, or 404.
async fn channel(state: &PagesState, pid: &str) -> Result<Arc<ChannelConfig>, Refused> {
    let not_found = || Refused::new(StatusCode::NOT_FOUND, "CHANNEL_NOT_FOUND");
    let id: i64 = pid.parse().map_err(|_| not_found())?;
    match state.gateway.channel_config(id).await {
        Ok(Some(c)) if c.channel.platform == Platform::Webchat => Ok(c),
        Ok(_) => Err(not_found()),
        Err(e) => Err(Refused::internal("reading a webchat channel", e)),
    }
}

/// The channel's `allowed_origins` setting: origins (`https://shop.example`) separated by commas or spaces.
fn allowed_origins(c: &ChannelConfig) -> Vec<String> {
    let list = c.settings.get("allowed_origins").unwrap_or("");
    crate::domain::channel_rules::allowed_origins(list).map(str::to_string).collect()
}

/// CORS: a request from another origin is served only if the channel lists it (then its answer names
/// it in `Access-Control-Allow-Origin`); the page's own requests carry no foreign origin.
fn origin_check(req: &HttpRequest, c: &ChannelConfig) -> Result<Option<HeaderValue>, Refused> {
    let Some(origin) = req.headers().get(header::ORIGIN).and_then(|o| o.to_str().ok()) else {
        return Ok(None);
    };
    let own = req.headers().get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    if origin.split_once("://").is_some_and(|(_, host)| host == own) {
        return Ok(None);
    }
    if allowed_origins(c).iter().any(|o| o == origin) {
        return Ok(HeaderValue::from_str(origin).ok());
    }
    Err(Refused::new(StatusCode::FORBIDDEN, "ORIGIN_NOT_ALLOWED"))
}

/// The channel of an API request and the origin its answer names (see `origin_check`).
async fn api_channel(
    req: &HttpRequest,
    pid: &str,
    state: &PagesState,
) -> Result<(Arc<ChannelConfig>, Option<HeaderValue>), Refused> {
    let c = channel(state, pid).await?;
    let origin = origin_check(req, &c)?;
    Ok((c, origin))
}

/// An API call's answer, or its refusal, naming the caller's origin when CORS allowed it.
fn answer(origin: Option<HeaderValue>, result: Result<HttpResponse, Refused>) -> HttpResponse {
    with_cors(result.unwrap_or_else(|refused| refused.response()), origin)
}

fn with_cors(mut res: HttpResponse, origin: Option<HeaderValue>) -> HttpResponse {
    if let Some(o) = origin {
        res.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, o);
        res.headers_mut().insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    res
}

async fn preflight(
    req: HttpRequest,
    path: actix_web::web::Path<(String, String)>,
    state: actix_web::web::Data<PagesState>,
) -> HttpResponse {
    match api_channel(&req, &path.0, &state).await {
        Ok((_, origin)) => {
            let res = HttpResponse::NoContent()
                .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "GET, POST"))
                .insert_header((
                    header::ACCESS_CONTROL_ALLOW_HEADERS,
                    "content-type, x-visitor-id, x-visitor-token",
                ))
                .insert_header((header::ACCESS_CONTROL_MAX_AGE, "600"))
                .finish();
            with_cors(res, origin)
        }
        Err(refused) => refused.response(),
    }
}

async fn page(path: actix_web::web::Path<String>, state: actix_web::web::Data<PagesState>) -> HttpResponse {
    let c = match channel(&state, &path).await {
        Ok(c) => c,
        Err(refused) => return refused.response(),
    };
    let origins = allowed_origins(&c);
    let ancestors =
        if origins.is_empty() { "*".to_string() } else { format!("'self' {}", origins.join(" ")) };
    let name = pages::escape(&c.channel.name);
    let initial = pages::escape(&c.channel.name.chars().next().unwrap_or('C').to_uppercase().to_string());
    let html = pages::WEBCHAT_HTML
        .replace("{{NAME}}", &name)
        .replace("{{INITIAL}}", &initial)
        .replace("{{PLATFORMID}}", &c.channel.id.to_string());
    pages::page(html, &ancestors)
}

async fn widget(path: actix_web::web::Path<String>, state: actix_web::web::Data<PagesState>) -> HttpResponse {
    if let Err(refused) = channel(&state, &path).await {
        return refused.response();
    }
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(pages::WIDGET_JS)
}

#[derive(Deserialize, Default)]
struct SessionBody {
    visitor: Option<String>,
    token: Option<String>,
}

/// Starts a visitor (no body, or `{}`) or resumes one (`{visitor, token}`, 401 if the token is wrong).
async fn session(
    req: HttpRequest,
    path: actix_web::web::Path<String>,
    payload: actix_web::web::Payload,
    state: actix_web::web::Data<PagesState>,
) -> HttpResponse {
    let (c, origin) = match api_channel(&req, &path, &state).await {
        Ok(v) => v,
        Err(refused) => return refused.response(),
    };
    answer(origin, start_or_resume(&req, payload, &state, c.channel.id).await)
}

async fn start_or_resume(
    req: &HttpRequest,
    payload: actix_web::web::Payload,
    state: &PagesState,
    channel_id: i64,
) -> Result<HttpResponse, Refused> {
    let asked: SessionBody = serde_json::from_slice(&body_of(req, payload, state).await?).unwrap_or_default();
    match (asked.visitor, asked.token) {
        (Some(v), Some(t)) if state.visitors.check(channel_id, &v, &t) => {
            Ok(HttpResponse::Ok().json(json!({"visitor": v, "token": t})))
        }
        (Some(_), _) | (_, Some(_)) => Err(Refused::new(StatusCode::UNAUTHORIZED, "INVALID_TOKEN")),
        (None, None) => {
            state.webchat_limits.sessions.hit(&address_of(req, state)).map_err(Refused::too_many)?;
            let v = visitor::VisitorKeys::new_visitor();
            let t = state.visitors.token(channel_id, &v);
            Ok(HttpResponse::Ok().json(json!({"visitor": v, "token": t})))
        }
    }
}

/// A visitor API call's caller, known before its handler runs: the channel, the visitor (checked
/// against its token) and the CORS origin to answer with. A call refused here gets no CORS headers.
pub struct Caller {
    pub channel: Arc<ChannelConfig>,
    pub visitor: String,
    pub origin: Option<HeaderValue>,
}

impl actix_web::FromRequest for Caller {
    type Error = Refused;
    type Future = futures_util::future::LocalBoxFuture<'static, Result<Self, Refused>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let Some(state) = req.app_data::<actix_web::web::Data<PagesState>>() else {
                return Err(Refused::internal("a visitor's call", "the pages' state is missing"));
            };
            let pid = req.match_info().get("pid").unwrap_or_default();
            let (channel, origin) = api_channel(&req, pid, state).await?;
            let header_of =
                |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
            let (visitor, token) = (header_of("x-visitor-id"), header_of("x-visitor-token"));
            if !state.visitors.check(channel.channel.id, &visitor, &token) {
                return Err(Refused::new(StatusCode::UNAUTHORIZED, "INVALID_TOKEN"));
            }
            Ok(Caller { channel, visitor, origin })
        })
    }
}

/// The visitor's last messages, oldest first, the business's ones shown as `delivered` (the page is
/// receiving them), and the newest of those still to be recorded as delivered (see `mark_delivered`).
pub async fn recent(
    state: &PagesState,
    channel_id: i64,
    visitor: &str,
) -> Result<(Vec<MessageView>, Option<i64>), Refused> {
    let mut list = state
        .gateway
        .conversation(channel_id, visitor, HISTORY)
        .await
        .map_err(|e| Refused::internal("reading a webchat conversation", e))?;
    list.reverse();
    let arriving = list.iter().filter(|m| m.sent && m.status == MessageStatus::Sent).map(|m| m.id).max();
    for m in list.iter_mut().filter(|m| m.sent && m.status == MessageStatus::Sent) {
        m.status = MessageStatus::Delivered;
    }
    Ok((list.iter().map(MessageView::new).collect(), arriving))
}

/// Records that the page received the business's messages up to `up_to`.
pub async fn mark_delivered(state: &PagesState, channel_id: i64, visitor: &str, up_to: i64) {
    if let Err(e) = state.gateway.page_saw(channel_id, visitor, up_to, MessageStatus::Delivered).await {
        tracing::warn!(error = %e, "recording webchat deliveries failed");
    }
}

/// Charges a history read or a `seen` mark (`webchat.reads_per_*`).
fn charge_read(req: &HttpRequest, state: &PagesState, channel_id: i64, visitor: &str) -> Result<(), Refused> {
    let limits = &state.webchat_limits;
    let who = format!("{channel_id}:{visitor}");
    WebchatLimits::charge(&limits.reads_per_visitor, &limits.reads_per_address, &who, &address_of(req, state))
        .map_err(Refused::too_many)
}

/// Charges a visitor's message or another write (contact, rating, survey): per visitor, then per
/// address (`webchat.messages_per_*`).
fn charge_write(
    req: &HttpRequest,
    state: &PagesState,
    channel_id: i64,
    visitor: &str,
) -> Result<(), Refused> {
    let limits = &state.webchat_limits;
    let who = format!("{channel_id}:{visitor}");
    WebchatLimits::charge(&limits.per_visitor, &limits.per_address, &who, &address_of(req, state))
        .map_err(Refused::too_many)
}

async fn history(req: HttpRequest, caller: Caller, state: actix_web::web::Data<PagesState>) -> HttpResponse {
    let Caller { channel: c, visitor, origin } = caller;
    let result = async {
        charge_read(&req, &state, c.channel.id, &visitor)?;
        let (list, arriving) = recent(&state, c.channel.id, &visitor).await?;
        if let Some(up_to) = arriving {
            mark_delivered(&state, c.channel.id, &visitor, up_to).await;
        }
        let asked = after::asked_of(&state, &c, &visitor, !list.is_empty()).await?;
        Ok(HttpResponse::Ok().json(json!({ "list": list, "conversation": asked })))
    };
    answer(origin, result.await)
}

#[derive(Deserialize)]
struct SendBody {
    message: Option<String>,
}

async fn send(
    req: HttpRequest,
    caller: Caller,
    payload: actix_web::web::Payload,
    state: actix_web::web::Data<PagesState>,
) -> HttpResponse {
    let Caller { channel: c, visitor, origin } = caller;
    answer(origin, receive(&req, payload, &state, &c, visitor).await)
}

/// The visitor's message: checked, charged to the visitor then its address, stored as received.
async fn receive(
    req: &HttpRequest,
    payload: actix_web::web::Payload,
    state: &PagesState,
    c: &ChannelConfig,
    visitor: String,
) -> Result<HttpResponse, Refused> {
    let body = body_of(req, payload, state).await?;
    let SendBody { message } = serde_json::from_slice(&body)
        .map_err(|_| Refused::new(StatusCode::BAD_REQUEST, "MALFORMED_REQUEST"))?;
    let text = values::typed_text(&message.unwrap_or_default()).map_err(|_| Refused::incorrect("message"))?;
    charge_write(req, state, c.channel.id, &visitor)?;
    let m = InboundMessage::typed(c.channel.id, visitor, text, chrono::Utc::now().timestamp_millis());
    let id =
        state.gateway.receive(&m).await.map_err(|e| Refused::internal("storing a visitor's message", e))?;
    match state.gateway.message(c.channel.account_id, id).await {
        Ok(Some(m)) => Ok(HttpResponse::Ok().json(MessageView::new(&m))),
        Ok(None) => Err(Refused::internal("reading a visitor's message", "not found")),
        Err(e) => Err(Refused::internal("reading a visitor's message", e)),
    }
}

#[derive(Deserialize)]
struct SeenBody {
    messageid: String,
}

/// The page showed the business's messages up to `messageid`: they become `read`.
async fn seen(
    req: HttpRequest,
    caller: Caller,
    payload: actix_web::web::Payload,
    state: actix_web::web::Data<PagesState>,
) -> HttpResponse {
    let Caller { channel: c, visitor, origin } = caller;
    let result = async {
        charge_read(&req, &state, c.channel.id, &visitor)?;
        let body = body_of(&req, payload, &state).await?;
        let up_to = serde_json::from_slice::<SeenBody>(&body)
            .ok()
            .and_then(|b| b.messageid.parse::<i64>().ok())
            .ok_or(Refused::incorrect("messageid"))?;
        state
            .gateway
            .page_saw(c.channel.id, &visitor, up_to, MessageStatus::Read)
            .await
            .map_err(|e| Refused::internal("marking webchat messages read", e))?;
        Ok(HttpResponse::NoContent().finish())
    };
    answer(origin, result.await)
}
