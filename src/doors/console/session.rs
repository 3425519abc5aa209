//! Console sessions: sign-in through the authenticator every door uses, a random token in an
//! `HttpOnly; SameSite=Strict` cookie (only its SHA-256 is stored), a CSRF token every change must
//! send back in `X-CSRF-Token`, and `Signed`, the extractor that admits a request only while its
//! session row exists, its credential is still enabled and unchanged, and the client address passes the
//! credential's IP filters.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{client, failure, parse};
use crate::auth::ip_filter;
use crate::domain::console_ports::ConsoleSession;
use crate::domain::events::EventKind;
use crate::domain::model::Principal;
use crate::domain::ports::CredentialRecord;
use crate::domain::{DomainError, ErrorCode};
use crate::doors::PagesState;

pub const COOKIE: &str = "chatgate_console";
/// How long a session lasts without signing in again.
const SESSION_SECS: i64 = 12 * 3600;

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn random_token(bytes: usize) -> String {
    let raw: Vec<u8> = (0..bytes).map(|_| rand::random::<u8>()).collect();
    URL_SAFE_NO_PAD.encode(raw)
}

fn cookie(state: &PagesState, value: String, max_age_secs: i64) -> Cookie<'static> {
    let secure = state.settings.public_url.as_deref().is_some_and(|u| u.starts_with("https://"));
    Cookie::build(COOKIE, value)
        .path("/operator")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .max_age(actix_web::cookie::time::Duration::seconds(max_age_secs))
        .finish()
}

#[derive(Deserialize)]
struct LoginBody {
    login: String,
    password: String,
}

pub async fn login(req: HttpRequest, payload: web::Payload, state: web::Data<PagesState>) -> HttpResponse {
    let body: LoginBody = match parse(&req, payload, &state).await {
        Ok(b) => b,
        Err(res) => return res,
    };
    let client = client(&req, &state);
    let principal = match state.gateway.operator_sign_in(&body.login, &body.password, client).await {
        Ok(p) => p,
        Err(e) => return failure(&e),
    };
    let token = random_token(32);
    let session = ConsoleSession {
        token_hash: hash(&token),
        credential_id: principal.credential_id,
        account_id: principal.account_id,
        login: body.login.clone(),
        csrf: random_token(18),
        expires_at: chrono::Utc::now().timestamp_millis() + SESSION_SECS * 1000,
    };
    if let Err(e) = state.gateway.open_session(&session).await {
        return failure(&e);
    }
    HttpResponse::Ok()
        .cookie(cookie(&state, token, SESSION_SECS))
        .json(json!({"login": session.login, "csrf": session.csrf}))
}

pub async fn logout(signed: Signed, state: web::Data<PagesState>) -> HttpResponse {
    if let Err(e) = state.gateway.end_session(&signed.session.token_hash).await {
        return failure(&e);
    }
    let _ = state
        .gateway
        .operator_presence(signed.principal.account_id, EventKind::OperatorOffline, &signed.session.login)
        .await;
    HttpResponse::NoContent().cookie(cookie(&state, String::new(), 0)).finish()
}

/// A request of a signed-in console.
pub struct Signed {
    pub session: ConsoleSession,
    pub principal: Principal,
    /// The credential's operators' group, if it has one.
    pub group: Option<String>,
}

impl FromRequest for Signed {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let refuse =
                |e: DomainError| actix_web::error::InternalError::from_response("", failure(&e)).into();
            let state = req
                .app_data::<web::Data<PagesState>>()
                .cloned()
                .ok_or_else(|| refuse(DomainError::internal("no state")))?;
            signed(&req, &state).await.map_err(refuse)
        })
    }
}

/// The session's credential, if it is still enabled and the same one as at the sign-in (a changed
/// password or secret deletes the session's row, which `signed` reads first).
async fn credential_of(
    state: &PagesState,
    session: &ConsoleSession,
) -> Result<CredentialRecord, DomainError> {
    let record = state.gateway.credential(&session.login).await?;
    record
        .filter(|r| r.enabled && r.id == session.credential_id)
        .ok_or(DomainError::new(ErrorCode::InvalidToken))
}

/// Whether a session that was signed in still holds: its row is there (signing out and a changed
/// secret delete it) and its credential still admits it.
pub async fn still_holds(state: &PagesState, session: &ConsoleSession) -> bool {
    let now = chrono::Utc::now().timestamp_millis();
    matches!(state.gateway.session(&session.token_hash, now).await, Ok(Some(_)))
        && credential_of(state, session).await.is_ok()
}

async fn signed(req: &HttpRequest, state: &PagesState) -> Result<Signed, DomainError> {
    let token = req.cookie(COOKIE).map(|c| c.value().to_string()).filter(|t| !t.is_empty());
    let token = token.ok_or(DomainError::new(ErrorCode::InvalidToken))?;
    let now = chrono::Utc::now().timestamp_millis();
    let session =
        state.gateway.session(&hash(&token), now).await?.ok_or(DomainError::new(ErrorCode::InvalidToken))?;
    if req.method() != Method::GET {
        let sent = req.headers().get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or("");
        if !bool::from(sent.as_bytes().ct_eq(session.csrf.as_bytes())) {
            return Err(DomainError::param(ErrorCode::AccessDenied, "csrf"));
        }
    }
    let record = credential_of(state, &session).await?;
    if !ip_filter::allows(client(req, state), &[&record.ip_allow, &record.account_ip_allow]) {
        return Err(DomainError::new(ErrorCode::IpNotAllowed));
    }
    let principal = Principal {
        account_id: record.account_id,
        credential_id: record.id,
        scopes: record.scopes,
        channel: record.channel_id,
    };
    Ok(Signed { session, principal, group: record.group.clone() })
}
