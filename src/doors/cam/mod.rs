//! Chat&Messenger's API (SPEC §3.6), for in-house systems that notify people and chat rooms through it:
//! `/cam/{method}` with an API token in `x-cam-apiToken`. The door only translates: `sendMessage` and
//! `sendMessages` become `sendmessage` commands on the account's `operator` channel — to an operator's
//! login (`panelName` `messenger`) or to a room (any other `panelName`: the chat `#NAME`, begun by its
//! first message) — `updateChatRoom` and `getChatRooms` manage rooms and their members, and the answers
//! and refusals take Chat&Messenger's shapes.

use std::borrow::Cow;

use actix_web::http::StatusCode;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use crate::domain::command::Command;
use crate::domain::model::{Platform, Principal};
use crate::domain::ops::get_chat_channels::GetChatChannels;
use crate::domain::ops::send_message::SendMessage;
use crate::domain::ops::send_messages::{BulkItem, MAX_BULK_ITEMS, SendMessages};
use crate::domain::room::{self, Room, RoomChange};
use crate::domain::{DomainError, ErrorCode, Params, Reply};
use crate::doors::AppState;
use crate::doors::wire::{decode_form, read_body, resource_answering, token_caller};
use crate::telemetry::Outcome;

pub mod shapes;

use shapes::{CamChatRoom, CamId, CamListItem, CamMembers, CamMessage, logins};

/// The methods with a body take POST; those without take GET too, as the seed's curl lines call them.
/// Any other HTTP method is 405 with `Allow`; an unknown method name 404.
pub fn routes(cfg: &mut web::ServiceConfig) {
    for method in ["sendMessage", "sendMessages", "updateChatRoom"] {
        cfg.service(
            resource_answering(&format!("/cam/{method}"), "POST", not_allowed).route(web::post().to(call)),
        );
    }
    for method in ["getChatRooms"].into_iter().chain(NOT_SUPPORTED) {
        cfg.service(
            resource_answering(&format!("/cam/{method}"), "GET, HEAD, POST", not_allowed)
                .route(web::get().to(call))
                .route(web::post().to(call)),
        );
    }
    cfg.route("/cam/{method}", web::route().to(call));
}

fn not_allowed(allow: &'static str) -> HttpResponse {
    let refusal = Refusal::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        format!("this method is called with {allow}"),
    );
    HttpResponse::MethodNotAllowed().json(refusal.body())
}

/// Conference-room booking and web meetings: groupware, not chat.
const NOT_SUPPORTED: [&str; 4] =
    ["getConferenceRooms", "getConferenceMaster", "getConferenceRoomStatus", "createQuickCall"];

/// A refusal: `{"errors":[{"code","message","param"?}]}`.
#[derive(Clone)]
struct Refusal {
    status: StatusCode,
    code: &'static str,
    message: String,
    param: Option<String>,
    /// For the request log.
    outcome: &'static str,
}

impl Refusal {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), param: None, outcome: code }
    }

    fn invalid(param: &str, message: impl Into<String>) -> Self {
        Self {
            param: Some(param.to_string()),
            ..Self::new(StatusCode::BAD_REQUEST, "INVALID_PARAMETER", message)
        }
    }

    fn of(e: &DomainError) -> Self {
        let (status, code, default) = match e.code {
            ErrorCode::InvalidToken | ErrorCode::MissingUser | ErrorCode::IncorrectUserPassword => {
                (StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "a valid x-cam-apiToken header is needed")
            }
            ErrorCode::IpNotAllowed => (StatusCode::FORBIDDEN, "FORBIDDEN", "not allowed from this address"),
            ErrorCode::AccessDenied => {
                (StatusCode::FORBIDDEN, "FORBIDDEN", "the token's access may not do this")
            }
            ErrorCode::ChannelNotFound => {
                (StatusCode::NOT_FOUND, "NOT_FOUND", "the account has no operator channel")
            }
            ErrorCode::TooManyRequests => {
                (StatusCode::TOO_MANY_REQUESTS, "TOO_MANY_REQUESTS", "too many requests")
            }
            ErrorCode::RequestTooLarge => {
                (StatusCode::PAYLOAD_TOO_LARGE, "REQUEST_TOO_LARGE", "the body is too large")
            }
            ErrorCode::InternalError => {
                if let Some(cause) = &e.internal {
                    tracing::error!(error = %cause, "a Chat&Messenger request failed");
                }
                (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR", "the server failed; try again")
            }
            _ => (StatusCode::BAD_REQUEST, "INVALID_PARAMETER", "a value is missing or malformed"),
        };
        let message = e.message.clone().unwrap_or_else(|| default.to_string());
        let param = e.param.map(|p| if p == "destination" { "users".to_string() } else { p.to_string() });
        Self { status, code, message, param, outcome: e.code.as_str() }
    }

    fn body(&self) -> Value {
        let mut error = json!({"code": self.code, "message": self.message});
        if let Some(p) = &self.param {
            error["param"] = json!(p);
        }
        json!({"errors": [error]})
    }
}

fn logged(mut res: HttpResponse, method: &str, code: &'static str) -> HttpResponse {
    // Only the methods this door knows are named in the log and the metrics.
    let method = KNOWN.iter().find(|m| **m == method).map(|m| Cow::Borrowed(*m));
    res.extensions_mut().insert(Outcome { door: "cam", method, code, ..Outcome::default() });
    res
}

const KNOWN: [&str; 8] = [
    "sendMessage",
    "sendMessages",
    "updateChatRoom",
    "getChatRooms",
    "getConferenceRooms",
    "getConferenceMaster",
    "getConferenceRoomStatus",
    "createQuickCall",
];

async fn call(req: HttpRequest, payload: web::Payload, state: web::Data<AppState>) -> HttpResponse {
    // The last segment names the method (each known one has its own resource, the rest `{method}`).
    let method = req.path().rsplit('/').next().unwrap_or_default().to_string();
    let result = async {
        let principal = caller(&req, &state).await?;
        if NOT_SUPPORTED.contains(&method.as_str()) {
            return Err(Refusal::new(
                StatusCode::NOT_IMPLEMENTED,
                "NOT_SUPPORTED",
                "conference rooms and quick calls are groupware, not chat: chatgate does not offer them",
            ));
        }
        let body = read_body(&req, payload, state.settings.body_limit).await.map_err(|e| Refusal::of(&e))?;
        match method.as_str() {
            "sendMessage" => {
                let m: CamMessage = typed(argument(&req, &body, "message")?, "message")?;
                let channel = operator_channel(&state, principal).await?;
                let ids = send(&state, principal, channel, &m.message, m.users(), m.room()).await?;
                Ok(json!({"messageIds": ids}))
            }
            "sendMessages" => {
                let items: Vec<CamListItem> = typed(argument(&req, &body, "message")?, "message")?;
                if items.is_empty() || items.len() > MAX_BULK_ITEMS {
                    return Err(Refusal::invalid("message", format!("1 to {MAX_BULK_ITEMS} messages")));
                }
                // The operator channel is looked up once for the whole list (each item is still
                // answered in its place, a missing channel too).
                let channel = operator_channel(&state, principal).await;
                let mut results = Vec::with_capacity(items.len());
                for item in &items {
                    let sent = match &channel {
                        Ok(channel) => {
                            let room = item.send.as_deref();
                            send(&state, principal, *channel, &item.message, item.users(), room).await
                        }
                        Err(r) => Err(r.clone()),
                    };
                    results.push(match sent {
                        Ok(ids) => json!({"messageIds": ids}),
                        Err(r) if r.status.is_client_error() => r.body(),
                        Err(r) => return Err(r),
                    });
                }
                Ok(json!({"results": results}))
            }
            "updateChatRoom" => {
                let room: CamChatRoom = typed(argument(&req, &body, "chatRoom")?, "chatRoom")?;
                let saved = state
                    .gateway
                    .save_room(&principal, &room_change(room)?)
                    .await
                    .map_err(|e| Refusal::of(&e))?;
                Ok(json!({"chatRoom": room_view(&saved)}))
            }
            "getChatRooms" => {
                let list = state.gateway.rooms(&principal).await.map_err(|e| Refusal::of(&e))?;
                Ok(json!({"chatRooms": list.iter().map(room_view).collect::<Vec<_>>()}))
            }
            other => Err(Refusal::new(StatusCode::NOT_FOUND, "NOT_FOUND", format!("no method {other:?}"))),
        }
    }
    .await;
    match result {
        Ok(body) => logged(HttpResponse::Ok().json(body), &method, "SUCCESS"),
        Err(r) => logged(HttpResponse::build(r.status).json(r.body()), &method, r.outcome),
    }
}

/// `chatRoom={"id"?,"name","isPublic","memberUids","adminUserId"}` as a change: what is named.
fn room_change(room: CamChatRoom) -> Result<RoomChange, Refusal> {
    let id = match room.id {
        None => None,
        Some(CamId::Number(n)) => Some(n),
        Some(CamId::Text(s)) => Some(s.parse().map_err(|_| Refusal::invalid("id", "id is malformed"))?),
    };
    let members = room.member_uids.map(|m| match m {
        CamMembers::List(list) => list,
        CamMembers::Text(text) => logins(&text),
    });
    Ok(RoomChange { id, name: room.name, is_public: room.is_public, members, admin: room.admin_user_id })
}

fn room_view(r: &Room) -> Value {
    json!({"id": r.id.to_string(), "name": r.name, "isPublic": r.is_public, "memberUids": r.members,
        "adminUserId": r.admin})
}

/// The caller of the `x-cam-apiToken` header's token.
async fn caller(req: &HttpRequest, state: &AppState) -> Result<Principal, Refusal> {
    token_caller(req, state, "x-cam-apitoken").await.map_err(|e| Refusal::of(&e))
}

/// A method's argument: the form field `name` holding JSON (as the seed's curl sends it), or the JSON
/// body itself.
fn argument(req: &HttpRequest, body: &[u8], name: &str) -> Result<Value, Refusal> {
    let form = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    let text = if form {
        let mut fields = Params::new();
        decode_form(body, &mut fields).map_err(|e| Refusal::of(&e))?;
        // Form names are read case-insensitively (as by every door): `chatRoom` is `chatroom` here.
        let field = fields.get(&name.to_ascii_lowercase()).map(str::to_string);
        field.ok_or_else(|| Refusal::invalid(name, format!("no {name} field")))?
    } else {
        String::from_utf8(body.to_vec()).map_err(|_| Refusal::invalid(name, "the body is not UTF-8"))?
    };
    serde_json::from_str(&text).map_err(|_| Refusal::invalid(name, format!("{name} is not JSON")))
}

/// An argument as its type; a value of another type is refused whole, saying which.
fn typed<T: serde::de::DeserializeOwned>(value: Value, name: &str) -> Result<T, Refusal> {
    serde_json::from_value(value).map_err(|e| Refusal::invalid(name, format!("{name}: {e}")))
}

/// One message on the operator `channel`: to each listed operator, or (`room` named) to that room;
/// the new messages' ids.
async fn send(
    state: &AppState,
    principal: Principal,
    channel: i64,
    text: &str,
    users: &str,
    room: Option<&str>,
) -> Result<Vec<String>, Refusal> {
    let destinations: Vec<String> = match room {
        Some(name) if !name.trim().is_empty() => {
            // The room of that name, created on first use with the listed users as its members.
            let room =
                state.gateway.room(&principal, name, &logins(users)).await.map_err(|e| Refusal::of(&e))?;
            vec![room::chat_of(&room.name)]
        }
        Some(_) => return Err(Refusal::invalid("panelName", "a room needs a name")),
        None => logins(users),
    };
    if destinations.is_empty() {
        return Err(Refusal::invalid("users", "name at least one user (an operator login) or a room"));
    }
    let now = chrono::Utc::now().timestamp_millis();
    let mut items = Vec::with_capacity(destinations.len());
    for destination in destinations {
        let params: Params = [
            ("platform", "operator".to_string()),
            ("platformid", channel.to_string()),
            ("destination", destination),
            ("message", text.to_string()),
        ]
        .into_iter()
        .collect();
        items.push(SendMessage::parse(&params, now).map_err(|e| Refusal::of(&e))?);
    }
    // One message (a room, one user) is a `sendmessage`, which shares its commit with other callers';
    // several are one `sendmessages`.
    let command = match items.len() {
        1 => Command::SendMessage(items.remove(0)),
        _ => Command::SendMessages(SendMessages {
            items: items.into_iter().map(|m| Ok(BulkItem::Text(m))).collect(),
        }),
    };
    match state.gateway.run(principal, command).await.map_err(|e| Refusal::of(&e))? {
        Reply::MessageId(id) => Ok(vec![id.to_string()]),
        Reply::Bulk(results) => {
            results.into_iter().map(|r| r.map(|id| id.to_string()).map_err(|e| Refusal::of(&e))).collect()
        }
        _ => Err(Refusal::of(&DomainError::internal("sendmessage answered no id"))),
    }
}

/// The account's `operator` channel: the token's own when it is bound to one, else the first.
async fn operator_channel(state: &AppState, principal: Principal) -> Result<i64, Refusal> {
    let reply = state.gateway.run(principal, Command::GetChatChannels(GetChatChannels)).await;
    let Reply::Channels(channels) = reply.map_err(|e| Refusal::of(&e))? else {
        return Err(Refusal::of(&DomainError::internal("getchatchannels answered no list")));
    };
    channels
        .iter()
        .find(|c| c.platform == Platform::Operator)
        .map(|c| c.id)
        .ok_or_else(|| Refusal::of(&ErrorCode::ChannelNotFound.into()))
}
