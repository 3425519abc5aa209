//! The operator console's door (SPEC §5.4): sign-in with an account's or access's login and secret
//! through the same authenticator as every door (argon2, failed-login limits, IP filters), a session
//! cookie (`HttpOnly`, `SameSite=Strict`, `Secure` behind https) whose server-side row signing out
//! deletes, a CSRF token required on every change, and the console's API: inbox, conversation, reply
//! and mark read — each a command of the command layer run as the signed-in credential — presence, and
//! an event stream of the account's chat news.

mod handling;
mod session;
mod stream;
mod templates;

use crate::domain::contacts::Assignee;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::domain::command::Command;
use crate::domain::events::EventKind;
use crate::domain::model::{Platform, Principal, Scope};
use crate::domain::operation::Operation;
use crate::domain::reply::Reply;
use crate::domain::room;
use crate::domain::{DomainError, DomainResult, ErrorCode, Params};
use crate::doors::PagesState;
use crate::doors::refused::Refused;
use crate::doors::views::MessageView;
use crate::doors::wire::{client_of, read_body};
use crate::web as pages;
use session::Signed;

/// Chats the inbox shows.
const INBOX: u32 = 200;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/operator/", web::get().to(page))
        .route(
            "/operator",
            web::get().to(|| async {
                HttpResponse::PermanentRedirect().insert_header(("Location", "/operator/")).finish()
            }),
        )
        .route("/operator/api/login", web::post().to(session::login))
        .route("/operator/api/logout", web::post().to(session::logout))
        .route("/operator/api/me", web::get().to(me))
        .route("/operator/api/chats", web::get().to(chats))
        .route("/operator/api/messages", web::get().to(messages))
        .route("/operator/api/send", web::post().to(send))
        .route("/operator/api/chatinfo", web::get().to(templates::chat_info))
        .route("/operator/api/templates", web::get().to(templates::list))
        .route("/operator/api/sendtemplate", web::post().to(templates::send))
        .route("/operator/api/read", web::post().to(read))
        .route("/operator/api/end", web::post().to(handling::end))
        .route("/operator/api/assign", web::post().to(handling::assign))
        .route("/operator/api/operators", web::get().to(handling::operators))
        .route("/operator/api/presence", web::post().to(presence))
        .route("/operator/api/events", web::get().to(stream::events));
}

async fn page() -> HttpResponse {
    pages::page(pages::CONSOLE_HTML.to_string(), "'none'")
}

/// An error as the console shows it: the spec's code (and param), with the REST-like doors' status —
/// the pages' one refusal type (`doors::refused`).
pub(super) fn failure(e: &DomainError) -> HttpResponse {
    Refused::from(e).response()
}

async fn me(signed: Signed) -> HttpResponse {
    HttpResponse::Ok()
        .json(json!({"login": signed.session.login, "csrf": signed.session.csrf, "group": signed.group}))
}

async fn chats(signed: Signed, state: web::Data<PagesState>) -> HttpResponse {
    if !signed.principal.scopes.allows(Scope::ChatRead) {
        return failure(&ErrorCode::AccessDenied.into());
    }
    match state.gateway.inbox_for(&signed.principal, &signed.session.login, INBOX).await {
        Ok(list) => {
            let list: Vec<Value> = list
                .iter()
                .map(|c| {
                    let assignee = c.assignee.as_ref().map(Assignee::stored).unwrap_or_default();
                    json!({"chat": MessageView::new(&c.last), "unread": c.unread, "assignee": assignee})
                })
                .collect();
            HttpResponse::Ok().json(json!({ "list": list }))
        }
        Err(e) => failure(&e),
    }
}

#[derive(Deserialize)]
pub(super) struct ChatQuery {
    pub platform: String,
    pub platformid: String,
    pub destination: String,
}

pub(super) fn chat_params(q: &ChatQuery) -> Params {
    [
        ("platform", q.platform.as_str()),
        ("platformid", q.platformid.as_str()),
        ("destination", q.destination.as_str()),
    ]
    .into_iter()
    .collect()
}

/// A conversation, oldest first, through `getmessages`.
async fn messages(signed: Signed, q: web::Query<ChatQuery>, state: web::Data<PagesState>) -> HttpResponse {
    // A room's conversation is its members' (SPEC §3.6).
    if let (Some(Platform::Operator), Some(room)) =
        (Platform::parse(&q.platform), room::room_of(&q.destination))
        && let Err(e) = state.gateway.check_room_open_to(&signed.principal, room, &signed.session.login).await
    {
        return failure(&e);
    }
    let mut params = chat_params(&q);
    params.set("limit", "200".into());
    match run(&state, signed.principal, Operation::GetMessages, &params).await {
        Ok(Reply::Messages(list)) => {
            let list: Vec<MessageView> = list.iter().rev().map(MessageView::new).collect();
            HttpResponse::Ok().json(json!({ "list": list }))
        }
        Ok(_) => failure(&DomainError::internal("getmessages answered no list")),
        Err(e) => failure(&e),
    }
}

#[derive(Deserialize)]
struct SendBody {
    platform: String,
    platformid: String,
    destination: String,
    message: String,
}

/// A reply: exactly a `sendmessage` — except in an `operator` channel's chat with the operator
/// themselves, where the operator's answer is a received message of that chat (SPEC §5.4).
async fn send(
    req: HttpRequest,
    signed: Signed,
    payload: web::Payload,
    state: web::Data<PagesState>,
) -> HttpResponse {
    let body: SendBody = match parse(&req, payload, &state).await {
        Ok(b) => b,
        Err(res) => return res,
    };
    let q = ChatQuery { platform: body.platform, platformid: body.platformid, destination: body.destination };
    let to_myself =
        Platform::parse(&q.platform) == Some(Platform::Operator) && q.destination == signed.session.login;
    if to_myself {
        if !signed.principal.scopes.allows(Scope::ChatWrite) {
            return failure(&ErrorCode::AccessDenied.into());
        }
        return answer_as_operator(&signed, &q, &body.message, &state).await;
    }
    // A member's answer in a room is a received message of the room, with its author.
    if let (Some(Platform::Operator), Some(room)) =
        (Platform::parse(&q.platform), room::room_of(&q.destination))
    {
        let Ok(channel) = q.platformid.parse::<i64>() else {
            return failure(&DomainError::param(ErrorCode::ChannelNotFound, "platformid"));
        };
        let login = &signed.session.login;
        return match state
            .gateway
            .answer_in_room(&signed.principal, channel, room, login, &body.message)
            .await
        {
            Ok(id) => HttpResponse::Ok().json(json!({"messageid": id.to_string()})),
            Err(e) => failure(&e),
        };
    }
    let mut params = chat_params(&q);
    params.set("message", body.message);
    match run(&state, signed.principal, Operation::SendMessage, &params).await {
        Ok(Reply::MessageId(id)) => HttpResponse::Ok().json(json!({"messageid": id.to_string()})),
        Ok(_) => failure(&DomainError::internal("sendmessage answered no id")),
        Err(e) => failure(&e),
    }
}

async fn answer_as_operator(signed: &Signed, q: &ChatQuery, text: &str, state: &PagesState) -> HttpResponse {
    match state.gateway.answer_as_operator(&signed.principal, &q.platformid, &q.destination, text).await {
        Ok(id) => HttpResponse::Ok().json(json!({"messageid": id.to_string()})),
        Err(e) => failure(&e),
    }
}

#[derive(Deserialize)]
struct ReadBody {
    platform: String,
    platformid: String,
    destination: String,
    messageid: String,
}

async fn read(
    req: HttpRequest,
    signed: Signed,
    payload: web::Payload,
    state: web::Data<PagesState>,
) -> HttpResponse {
    let body: ReadBody = match parse(&req, payload, &state).await {
        Ok(b) => b,
        Err(res) => return res,
    };
    let q = ChatQuery { platform: body.platform, platformid: body.platformid, destination: body.destination };
    let mut params = chat_params(&q);
    params.set("messageid", body.messageid);
    match run(&state, signed.principal, Operation::MarkRead, &params).await {
        Ok(_) => HttpResponse::NoContent().finish(),
        Err(e) => failure(&e),
    }
}

#[derive(Deserialize)]
struct PresenceBody {
    status: String,
}

/// Presence by hand: `away`, or `online` (after away: `operator.back`).
async fn presence(
    req: HttpRequest,
    signed: Signed,
    payload: web::Payload,
    state: web::Data<PagesState>,
) -> HttpResponse {
    let body: PresenceBody = match parse(&req, payload, &state).await {
        Ok(b) => b,
        Err(res) => return res,
    };
    let kind = match body.status.as_str() {
        "away" => EventKind::OperatorAway,
        "online" => EventKind::OperatorBack,
        "offline" => EventKind::OperatorOffline,
        _ => return failure(&DomainError::incorrect("status")),
    };
    match state.gateway.operator_presence(signed.principal.account_id, kind, &signed.session.login).await {
        Ok(()) => HttpResponse::NoContent().finish(),
        Err(e) => failure(&e),
    }
}

/// A change's JSON body (bounded like every door's). Only `application/json`: a cross-site form cannot
/// send that without a CORS preflight, which this API never grants.
pub(super) async fn parse<T: serde::de::DeserializeOwned>(
    req: &HttpRequest,
    payload: web::Payload,
    state: &PagesState,
) -> Result<T, HttpResponse> {
    let json = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
        v.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
    });
    if !json {
        return Err(failure(&ErrorCode::MalformedRequest.into()));
    }
    let body = read_body(req, payload, state.settings.body_limit).await.map_err(|e| failure(&e))?;
    serde_json::from_slice(&body).map_err(|_| failure(&ErrorCode::MalformedRequest.into()))
}

/// One of the API's commands, built from the console's request and run as the signed-in credential.
pub(super) async fn run(
    state: &PagesState,
    principal: Principal,
    op: Operation,
    params: &Params,
) -> DomainResult<Reply> {
    let command = Command::parse(op, params, chrono::Utc::now().timestamp_millis())?;
    state.gateway.run(principal, command).await
}

/// The client address (for the authenticator's IP filters and limits).
fn client(req: &HttpRequest, state: &PagesState) -> std::net::IpAddr {
    client_of(req, &state.settings)
}
