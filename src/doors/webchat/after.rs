//! The visitor's API beyond messages (SPEC §5.4): `POST …/api/contact` (the host page's contact and
//! custom data), `POST …/api/visit` (`{url}`: the host page shown, for goals), and after the end `POST …/api/rating` (`{rate, feedback?}`) and `POST …/api/survey`
//! (`{option}`), each taken once per end — otherwise 409 with why, nothing stored.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Caller, answer, body_of};
use crate::domain::contacts::Refusal;
use crate::domain::model::ChannelConfig;
use crate::domain::visitor;
use crate::doors::PagesState;
use crate::doors::refused::Refused;
use crate::doors::views::ContactView;

/// What the page is asked now (`visitor::asked`), for the history and the stream. A visitor with no
/// message yet has no conversation to end: nothing is read then.
pub async fn asked_of(
    state: &PagesState,
    c: &ChannelConfig,
    who: &str,
    has_messages: bool,
) -> Result<Value, Refused> {
    if !has_messages {
        return Ok(visitor::asked(c, None));
    }
    let conversation = state
        .gateway
        .visitor_conversation(c.channel.id, who)
        .await
        .map_err(|e| Refused::internal("reading a visitor's conversation", e))?;
    Ok(visitor::asked(c, conversation.as_ref()))
}

fn now() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn json_body<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, Refused> {
    serde_json::from_slice(body).map_err(|_| Refused::new(StatusCode::BAD_REQUEST, "MALFORMED_REQUEST"))
}

/// A refusal of what is not asked now: 409 with its reason.
fn not_now(refusal: Refusal) -> Refused {
    Refused::new(StatusCode::CONFLICT, refusal.code())
}

pub async fn contact(
    req: HttpRequest,
    caller: Caller,
    payload: web::Payload,
    state: web::Data<PagesState>,
) -> HttpResponse {
    let Caller { channel: c, visitor: who, origin } = caller;
    let result = async {
        super::charge_write(&req, &state, c.channel.id, &who)?;
        let body: serde_json::Map<String, Value> = json_body(&body_of(&req, payload, &state).await?)?;
        let change = visitor::contact_change(&body).map_err(|e| Refused::from(&e))?;
        let contact =
            state.gateway.visitor_contact(&c, &who, &change, now()).await.map_err(|e| Refused::from(&e))?;
        Ok(HttpResponse::Ok().json(json!({"contact": ContactView::from(&contact), "custom": contact.custom})))
    };
    answer(origin, result.await)
}

#[derive(Deserialize)]
struct RatingBody {
    rate: i64,
    feedback: Option<String>,
}

#[derive(Deserialize)]
struct SurveyBody {
    option: String,
}

/// What the visitor leaves after the end.
enum AfterEnd {
    Rating,
    Survey,
}

pub async fn rating(
    req: HttpRequest,
    caller: Caller,
    payload: web::Payload,
    state: web::Data<PagesState>,
) -> HttpResponse {
    after_end(req, caller, payload, state, AfterEnd::Rating).await
}

pub async fn survey(
    req: HttpRequest,
    caller: Caller,
    payload: web::Payload,
    state: web::Data<PagesState>,
) -> HttpResponse {
    after_end(req, caller, payload, state, AfterEnd::Survey).await
}

/// A rating or a survey's answer: 204 when taken, 409 with why when it is not asked now.
async fn after_end(
    req: HttpRequest,
    caller: Caller,
    payload: web::Payload,
    state: web::Data<PagesState>,
    what: AfterEnd,
) -> HttpResponse {
    let Caller { channel: c, visitor: who, origin } = caller;
    let result = async {
        super::charge_write(&req, &state, c.channel.id, &who)?;
        let body = body_of(&req, payload, &state).await?;
        let taken = match what {
            AfterEnd::Rating => {
                let b: RatingBody = json_body(&body)?;
                state.gateway.visitor_rating(&c, &who, b.rate, b.feedback.as_deref(), now()).await
            }
            AfterEnd::Survey => {
                let b: SurveyBody = json_body(&body)?;
                state.gateway.visitor_survey(&c, &who, &b.option, now()).await
            }
        };
        taken.map_err(|e| Refused::from(&e))?.map_err(not_now)?;
        Ok(HttpResponse::NoContent().finish())
    };
    answer(origin, result.await)
}

#[derive(Deserialize)]
struct VisitBody {
    url: String,
}

/// `visit`'s answer: how many goals the view reached (a struct, not a `json!` map: every page view
/// sends one).
#[derive(serde::Serialize)]
struct Reached {
    goals: usize,
}

/// `POST …/api/visit` `{url}`: the host page the visitor is on; goals it matches are reached. Charged as
/// a read (every page view sends one).
pub async fn visit(
    req: HttpRequest,
    caller: Caller,
    payload: web::Payload,
    state: web::Data<PagesState>,
) -> HttpResponse {
    let Caller { channel: c, visitor: who, origin } = caller;
    let result = async {
        super::charge_read(&req, &state, c.channel.id, &who)?;
        let body: VisitBody = json_body(&body_of(&req, payload, &state).await?)?;
        let reached =
            state.gateway.visitor_visit(&c, &who, &body.url, now()).await.map_err(|e| Refused::from(&e))?;
        Ok(HttpResponse::Ok().json(Reached { goals: reached }))
    };
    answer(origin, result.await)
}
