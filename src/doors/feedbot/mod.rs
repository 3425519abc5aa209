//! Feedbot's WhatsApp API (SPEC §3.5), for callers written against it: `POST /feedbot/addnewmessages`
//! and `GET /feedbot/getmessagestatus`, with an API token in the `auth` header. The door only
//! translates: Feedbot's items become `sendmessage`/`sendfile` commands on the token's channel — checked
//! all before any is stored — and a message's status becomes Feedbot's 0 / 1 / -1.

use std::borrow::Cow;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use crate::domain::command::Command;
use crate::domain::model::{MessageStatus, Platform, Principal};
use crate::domain::ops::get_message_status::GetMessageStatus;
use crate::domain::ops::send_file::SendFile;
use crate::domain::ops::send_message::SendMessage;
use crate::domain::ops::send_messages::{BulkItem, MAX_BULK_ITEMS, SendMessages};
use crate::domain::{DomainError, ErrorCode, Params, Reply};
use crate::doors::AppState;
use crate::doors::wire::{read_body, resource, token_caller};
use crate::telemetry::Outcome;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/feedbot/addnewmessages", "POST").route(web::post().to(add_new_messages)))
        .service(resource("/feedbot/getmessagestatus", "GET, HEAD").route(web::get().to(get_message_status)));
}

/// A refusal in Feedbot's shape: `{"errorCode","success":false,"error","param"?}`.
struct Refusal {
    status: StatusCode,
    code: i64,
    error: &'static str,
    param: Option<String>,
    /// For the request log.
    outcome: &'static str,
}

impl Refusal {
    fn missing(param: impl Into<String>) -> Self {
        let param = Some(param.into());
        Self {
            status: StatusCode::BAD_REQUEST,
            code: 2,
            error: "MISSING_PARAMS",
            param,
            outcome: "INCORRECT_PARAM",
        }
    }

    fn of(e: &DomainError) -> Self {
        let (status, code, error) = match e.code {
            ErrorCode::InvalidToken | ErrorCode::MissingUser | ErrorCode::IncorrectUserPassword => {
                (StatusCode::UNAUTHORIZED, 99, "USER_NOT_AUTHORIZED")
            }
            ErrorCode::IpNotAllowed => (StatusCode::FORBIDDEN, 99, "IP_NOT_ALLOWED"),
            ErrorCode::AccessDenied | ErrorCode::ChannelNotFound => {
                (StatusCode::FORBIDDEN, 99, "ACCESS_DENIED")
            }
            ErrorCode::TooManyRequests => (StatusCode::TOO_MANY_REQUESTS, 98, "TOO_MANY_REQUESTS"),
            ErrorCode::RequestTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, 2, "REQUEST_TOO_LARGE"),
            ErrorCode::InternalError => {
                if let Some(cause) = &e.internal {
                    tracing::error!(error = %cause, "a Feedbot request failed");
                }
                (StatusCode::INTERNAL_SERVER_ERROR, 1, "INTERNAL_ERROR")
            }
            _ => (StatusCode::BAD_REQUEST, 2, "MISSING_PARAMS"),
        };
        Self { status, code, error, param: e.param.map(str::to_string), outcome: e.code.as_str() }
    }

    fn response(self, method: &'static str) -> HttpResponse {
        let mut body = json!({"errorCode": self.code, "success": false, "error": self.error});
        if let Some(p) = self.param {
            body["param"] = json!(p);
        }
        let mut res = HttpResponse::build(self.status).json(body);
        res.extensions_mut().insert(outcome(method, self.outcome));
        res
    }
}

fn outcome(method: &'static str, code: &'static str) -> Outcome {
    Outcome { door: "feedbot", method: Some(Cow::Borrowed(method)), code, ..Outcome::default() }
}

fn success(method: &'static str, mut body: Value) -> HttpResponse {
    body["errorCode"] = Value::Null;
    body["success"] = json!(true);
    let mut res = HttpResponse::Ok().json(body);
    res.extensions_mut().insert(outcome(method, "SUCCESS"));
    res
}

/// The caller of the `auth` header's token.
async fn caller(req: &HttpRequest, state: &AppState) -> Result<Principal, Refusal> {
    token_caller(req, state, "auth").await.map_err(|e| Refusal::of(&e))
}

/// `POST /feedbot/addnewmessages`: `{"messages":[{"message","phone","invalidationTime","imagePath"}]}`,
/// all or nothing.
async fn add_new_messages(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let result = async {
        let principal = caller(&req, &state).await?;
        let channel = principal.channel.ok_or_else(|| Refusal::of(&ErrorCode::AccessDenied.into()))?;
        let body = read_body(&req, payload, state.settings.body_limit).await.map_err(|e| Refusal::of(&e))?;
        let body: Value = serde_json::from_slice(&body).map_err(|_| Refusal::missing("messages"))?;
        let list =
            body.get("messages").and_then(Value::as_array).ok_or_else(|| Refusal::missing("messages"))?;
        if list.is_empty() || list.len() > MAX_BULK_ITEMS {
            return Err(Refusal::missing("messages"));
        }
        let now = chrono::Utc::now().timestamp_millis();
        let items = list
            .iter()
            .enumerate()
            .map(|(i, item)| command_of(item, channel, now).map_err(|e| item_refusal(i, &e)))
            .collect::<Result<Vec<BulkItem>, Refusal>>()?;
        let command = Command::SendMessages(SendMessages { items: items.into_iter().map(Ok).collect() });
        let reply = state.gateway.run(principal, command).await.map_err(|e| Refusal::of(&e))?;
        let Reply::Bulk(results) = reply else {
            return Err(Refusal::of(&DomainError::internal("sendmessages answered no list")));
        };
        let ids = results
            .into_iter()
            .enumerate()
            .map(|(i, r)| r.map(|id| id.to_string()).map_err(|e| item_refusal(i, &e)))
            .collect::<Result<Vec<String>, Refusal>>()?;
        Ok(success("addnewmessages", json!({"ids": ids})))
    }
    .await;
    result.unwrap_or_else(|r| r.response("addnewmessages"))
}

/// An item as the command it is: text, or (with `imagePath`) an image with `message` as its caption.
fn command_of(item: &Value, channel: i64, now: i64) -> Result<BulkItem, DomainError> {
    // Texts are JSON strings (as Feedbot's API documents them); `invalidationTime` may be a number too.
    let text = |k: &'static str| match item.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) if k == "invalidationTime" => Ok(Some(n.to_string())),
        Some(_) => Err(DomainError::incorrect(k)),
    };
    let mut params: Params =
        [("platform", "whatsapp".to_string()), ("platformid", channel.to_string())].into_iter().collect();
    // Feedbot's `phone` is digits with a country code; `+`, spaces and dashes are the command's to drop.
    params.set("destination", text("phone")?.ok_or(DomainError::missing("phone"))?);
    let message = text("message")?.ok_or(DomainError::missing("message"))?;
    params.set("message", message);
    if let Some(at) = text("invalidationTime")? {
        params.set("invalidationtime", at);
    }
    match text("imagePath")? {
        Some(url) => {
            params.set("type", "image".into());
            params.set("fileurl", url);
            let mut file = SendFile::parse(&params, now)?;
            file.may_start_chat = true;
            Ok(BulkItem::File(file))
        }
        None => Ok(BulkItem::Text(SendMessage::parse(&params, now)?)),
    }
}

/// An item's refusal, naming it as Feedbot's callers wrote it: `messages[3].phone`.
fn item_refusal(index: usize, e: &DomainError) -> Refusal {
    let field = match e.param {
        Some("destination") => "phone",
        Some("invalidationtime") => "invalidationTime",
        Some("fileurl" | "type") => "imagePath",
        Some(other) => other,
        None => return Refusal::of(e),
    };
    let mut refusal = Refusal::of(e);
    if refusal.status == StatusCode::BAD_REQUEST {
        refusal.param = Some(format!("messages[{index}].{field}"));
    }
    refusal
}

#[derive(serde::Deserialize)]
struct StatusQuery {
    id: Option<String>,
}

/// `GET /feedbot/getmessagestatus?id=`: 0 while pending, 1 once sent (delivered, read), -1 when
/// failed or expired, with the reason.
async fn get_message_status(
    req: HttpRequest,
    query: Option<web::Query<StatusQuery>>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let result = async {
        let principal = caller(&req, &state).await?;
        let id = query
            .and_then(|q| q.into_inner().id)
            .filter(|i| !i.is_empty())
            .ok_or_else(|| Refusal::missing("id"))?;
        let params: Params = [("messageid", id)].into_iter().collect();
        let command = GetMessageStatus::parse(&params, 0).map_err(|_| Refusal::missing("id"))?;
        let reply = state.gateway.run(principal, Command::GetMessageStatus(command)).await;
        let message = match reply {
            Ok(Reply::Status(m)) => m,
            Err(e) if e.code == ErrorCode::MessageNotFound => {
                return Err(Refusal { status: StatusCode::NOT_FOUND, ..Refusal::missing("id") });
            }
            Err(e) => return Err(Refusal::of(&e)),
            Ok(_) => return Err(Refusal::of(&DomainError::internal("getmessagestatus answered no status"))),
        };
        // A token bound to a channel sees that channel's messages only.
        if principal.channel.is_some_and(|c| c != message.channel_id)
            || message.platform != Platform::Whatsapp
        {
            return Err(Refusal { status: StatusCode::NOT_FOUND, ..Refusal::missing("id") });
        }
        let status = match message.status {
            MessageStatus::Pending => 0,
            MessageStatus::Failed | MessageStatus::Expired => -1,
            _ => 1,
        };
        let reason = message.reason.clone().filter(|_| status == -1);
        Ok(success("getmessagestatus", json!({"status": status, "reason": reason})))
    }
    .await;
    result.unwrap_or_else(|r| r.response("getmessagestatus"))
}
