//! Handling a conversation in the console (SPEC §5.4): `End conversation` and `Assign to` — exactly the
//! API's `endchat` and `assignchat`, run as the signed-in operator — and the operators and groups a chat
//! can be assigned to.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::session::Signed;
use super::{ChatQuery, chat_params, failure, parse, run};
use crate::domain::operation::Operation;
use crate::doors::PagesState;

/// `POST /operator/api/end` `{platform, platformid, destination}`.
pub(super) async fn end(
    req: HttpRequest,
    signed: Signed,
    payload: web::Payload,
    state: web::Data<PagesState>,
) -> HttpResponse {
    let q: ChatQuery = match parse(&req, payload, &state).await {
        Ok(b) => b,
        Err(res) => return res,
    };
    match run(&state, signed.principal, Operation::EndChat, &chat_params(&q)).await {
        Ok(_) => HttpResponse::NoContent().finish(),
        Err(e) => failure(&e),
    }
}

#[derive(Deserialize)]
pub(super) struct AssignBody {
    platform: String,
    platformid: String,
    destination: String,
    operator: Option<String>,
    group: Option<String>,
}

/// `POST /operator/api/assign` `{platform, platformid, destination, operator | group}`.
pub(super) async fn assign(
    req: HttpRequest,
    signed: Signed,
    payload: web::Payload,
    state: web::Data<PagesState>,
) -> HttpResponse {
    let body: AssignBody = match parse(&req, payload, &state).await {
        Ok(b) => b,
        Err(res) => return res,
    };
    let q = ChatQuery { platform: body.platform, platformid: body.platformid, destination: body.destination };
    let mut params = chat_params(&q);
    if let Some(operator) = body.operator {
        params.set("operator", operator);
    }
    if let Some(group) = body.group {
        params.set("group", group);
    }
    match run(&state, signed.principal, Operation::AssignChat, &params).await {
        Ok(_) => HttpResponse::NoContent().finish(),
        Err(e) => failure(&e),
    }
}

/// `GET /operator/api/operators`: `{operators: [login…], groups: [name…]}` for `Assign to`.
pub(super) async fn operators(signed: Signed, state: web::Data<PagesState>) -> HttpResponse {
    match state.gateway.assignable(&signed.principal).await {
        Ok((operators, groups)) => HttpResponse::Ok().json(json!({"operators": operators, "groups": groups})),
        Err(e) => failure(&e),
    }
}
