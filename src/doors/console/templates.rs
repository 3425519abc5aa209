//! The console's WhatsApp templates: whether a chat's 24-hour window is open, the channel's templates,
//! and a template sent to the chat — each exactly the API's command, run as the signed-in operator.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::session::Signed;
use super::{ChatQuery, chat_params, failure, parse, run};
use crate::domain::operation::Operation;
use crate::domain::reply::Reply;
use crate::domain::{DomainError, Params};
use crate::doors::PagesState;
use crate::doors::views::ReplyView;

/// `getchatinfo`: whether a WhatsApp chat's 24-hour window is open (`window`, empty when it is not).
pub(super) async fn chat_info(
    signed: Signed,
    q: web::Query<ChatQuery>,
    state: web::Data<PagesState>,
) -> HttpResponse {
    match run(&state, signed.principal, Operation::GetChatInfo, &chat_params(&q)).await {
        Ok(reply @ Reply::ChatInfo(_)) => HttpResponse::Ok().json(ReplyView(&reply)),
        Ok(_) => failure(&DomainError::internal("getchatinfo answered no info")),
        Err(e) => failure(&e),
    }
}

#[derive(Deserialize)]
pub(super) struct ChannelQuery {
    platform: String,
    platformid: String,
}

/// `gettemplates`: the channel's templates, for a chat whose window is closed.
pub(super) async fn list(
    signed: Signed,
    q: web::Query<ChannelQuery>,
    state: web::Data<PagesState>,
) -> HttpResponse {
    let params: Params =
        [("platform", q.platform.as_str()), ("platformid", q.platformid.as_str())].into_iter().collect();
    match run(&state, signed.principal, Operation::GetTemplates, &params).await {
        Ok(reply @ Reply::Templates(_)) => HttpResponse::Ok().json(ReplyView(&reply)),
        Ok(_) => failure(&DomainError::internal("gettemplates answered no list")),
        Err(e) => failure(&e),
    }
}

#[derive(Deserialize)]
pub(super) struct TemplateBody {
    platform: String,
    platformid: String,
    destination: String,
    template: String,
    language: String,
    #[serde(default)]
    parameters: Option<Value>,
}

/// A template to a chat: exactly a `sendtemplate`.
pub(super) async fn send(
    req: HttpRequest,
    signed: Signed,
    payload: web::Payload,
    state: web::Data<PagesState>,
) -> HttpResponse {
    let body: TemplateBody = match parse(&req, payload, &state).await {
        Ok(b) => b,
        Err(res) => return res,
    };
    let q = ChatQuery { platform: body.platform, platformid: body.platformid, destination: body.destination };
    let mut params = chat_params(&q);
    params.set("template", body.template);
    params.set("language", body.language);
    if let Some(p) = body.parameters.filter(|p| !p.is_null()) {
        params.set("parameters", p.to_string());
    }
    match run(&state, signed.principal, Operation::SendTemplate, &params).await {
        Ok(Reply::MessageId(id)) => HttpResponse::Ok().json(json!({"messageid": id.to_string()})),
        Ok(_) => failure(&DomainError::internal("sendtemplate answered no id")),
        Err(e) => failure(&e),
    }
}
