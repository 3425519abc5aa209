//! The authorization server's HTTP side (SPEC §3.4): `POST /oauth/token` (RFC 6749), `/oauth/introspect`
//! (RFC 7662), `/oauth/revoke` (RFC 7009), `GET /oauth/jwks.json` and the RFC 8414 metadata. It parses
//! forms and client authentication; every decision is made in `auth::tokens`.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use crate::auth::tokens::grants::{ClientCredentials, OAuthError, TokenRequest};
use crate::auth::tokens::keys::Jwk;
use crate::domain::Params;
use crate::domain::model::Scope;
use crate::doors::AppState;
use crate::doors::basic::read_basic;
use crate::doors::wire::{client_of, decode_form, read_body, refusal_headers, resource_answering};
use crate::storage::CredentialRecord;
use crate::telemetry::Outcome;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(endpoint("/oauth/token", "POST").route(web::post().to(token)))
        .service(endpoint("/oauth/introspect", "POST").route(web::post().to(introspect)))
        .service(endpoint("/oauth/revoke", "POST").route(web::post().to(revoke)))
        .service(endpoint("/oauth/jwks.json", "GET").route(web::get().to(jwks)))
        .service(endpoint("/.well-known/oauth-authorization-server", "GET").route(web::get().to(metadata)));
}

/// An endpoint that answers other methods `405` with `Allow` and an RFC 6749 error body.
fn endpoint(path: &str, allow: &'static str) -> actix_web::Resource {
    resource_answering(path, allow, |allow| {
        let body =
            OAuthErrorBody { error: "invalid_request", error_description: Some(format!("use {allow}")) };
        json_no_store(StatusCode::METHOD_NOT_ALLOWED, &body, "METHOD_NOT_ALLOWED")
    })
}

/// The `/oauth/token` form (RFC 6749 §4.4, §6; §4.3 when the password grant is on).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct TokenForm {
    /// `client_credentials`, `refresh_token`, or `password` when enabled.
    grant_type: String,
    /// Space-separated subset of the credential's scopes.
    scope: Option<String>,
    refresh_token: Option<String>,
    username: Option<String>,
    password: Option<String>,
    /// `client_secret_post`; or the Authorization: Basic header.
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// The `/oauth/introspect` and `/oauth/revoke` form (RFC 7662, RFC 7009).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct TokenParamForm {
    /// An access or refresh token.
    #[schema(min_length = 1)]
    token: String,
    token_type_hint: Option<String>,
    /// `client_secret_post`; or the Authorization: Basic header.
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// RFC 6749 §5.2 error body.
#[derive(Serialize, utoipa::ToSchema)]
pub struct OAuthErrorBody {
    pub error: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}

fn json_no_store(status: StatusCode, body: &impl Serialize, outcome: &'static str) -> HttpResponse {
    let mut res = HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(body);
    res.extensions_mut().insert(Outcome { door: "oauth", code: outcome, ..Outcome::default() });
    res
}

fn error_response(e: &OAuthError) -> HttpResponse {
    let status = match e {
        OAuthError::InvalidClient => StatusCode::UNAUTHORIZED,
        OAuthError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
        OAuthError::UnauthorizedClient("IP_NOT_ALLOWED") => StatusCode::FORBIDDEN,
        OAuthError::Server(_) => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    };
    let body = OAuthErrorBody { error: e.code(), error_description: e.description().map(str::to_string) };
    let mut res = json_no_store(status, &body, e.code());
    if status == StatusCode::UNAUTHORIZED {
        res.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"chatgate\""));
    }
    if let OAuthError::TooManyRequests(throttled) = e {
        refusal_headers(&mut res, throttled.as_ref());
    }
    if let OAuthError::Server(cause) = e {
        tracing::error!(%cause, "oauth endpoint failed");
    }
    res
}

/// The refusal of a request over its client address's limit, if it is.
fn over_address_limit(state: &AppState, ip: std::net::IpAddr) -> Option<HttpResponse> {
    let throttled = state.gateway.admit(ip).err()?.throttled?;
    Some(error_response(&OAuthError::TooManyRequests(Some(throttled))))
}

/// The form body (`application/x-www-form-urlencoded` only) and the client's credentials, from
/// `client_secret_basic` (id and secret as sent, or form-encoded per RFC 6749 §2.3.1) or
/// `client_secret_post`.
async fn read_form(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> Result<(Params, Option<ClientCredentials>), OAuthError> {
    let body = read_body(req, payload, state.settings.body_limit)
        .await
        .map_err(|_| OAuthError::InvalidRequest("body too large or unreadable"))?;
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !content_type.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded") {
        return Err(OAuthError::InvalidRequest("the body must be application/x-www-form-urlencoded"));
    }
    let mut params = Params::new();
    decode_form(&body, &mut params).map_err(|_| OAuthError::InvalidRequest("malformed form body"))?;
    let from_header = match req.headers().get(header::AUTHORIZATION) {
        Some(v) => Some(read_basic(v.to_str().unwrap_or("")).ok_or(OAuthError::InvalidClient)?),
        None => None,
    };
    // A `client_id` alone names a public client (password and refresh grants); it authenticates nothing.
    let from_body = match (params.take("client_id"), params.take("client_secret")) {
        (Some(id), Some(secret)) => Some(ClientCredentials::plain(id, secret)),
        (None, Some(_)) => return Err(OAuthError::InvalidClient),
        (Some(_), None) | (None, None) => None,
    };
    if from_header.is_some() && from_body.is_some() {
        return Err(OAuthError::InvalidRequest("use one client authentication method"));
    }
    Ok((params, from_header.or(from_body)))
}

#[utoipa::path(post, path = "/oauth/token", tag = "oauth", summary = "Issue an access token (RFC 6749)",
    security((), ("basic" = [])),
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded", description = "grant_type=client_credentials (client by Basic or client_id/client_secret), optional scope; grant_type=refresh_token with refresh_token; grant_type=password with username/password when enabled"),
    responses(
        (status = 200, description = "An access token (RFC 6749 §5.1)", body = crate::auth::tokens::grants::TokenResponse),
        (status = 400, description = "invalid_request, invalid_grant, invalid_scope, unsupported_grant_type", body = OAuthErrorBody),
        (status = 401, description = "invalid_client", body = OAuthErrorBody),
        (status = 403, description = "unauthorized_client: IP_NOT_ALLOWED", body = OAuthErrorBody),
        (status = 429, description = "too many failed logins, or over a request limit (Retry-After; RateLimit and RateLimit-Policy for a request limit)", body = OAuthErrorBody)))]
pub async fn token(req: HttpRequest, payload: web::Payload, state: web::Data<AppState>) -> HttpResponse {
    let ip = client_of(&req, &state.settings);
    if let Some(refusal) = over_address_limit(&state, ip) {
        return refusal;
    }
    let outcome = async {
        let (mut params, client) = read_form(&req, payload, &state).await?;
        let request = TokenRequest {
            grant_type: params.take("grant_type"),
            client,
            scope: params.take("scope"),
            username: params.take("username"),
            password: params.take("password"),
            refresh_token: params.take("refresh_token"),
        };
        state.tokens.token(request, ip).await
    }
    .await;
    match outcome {
        Ok(token) => json_no_store(StatusCode::OK, &token, "SUCCESS"),
        Err(e) => error_response(&e),
    }
}

/// Client-authenticated calls: the caller's credential and the `token` parameter.
async fn client_and_token(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> Result<(Arc<CredentialRecord>, String), OAuthError> {
    let (mut params, client) = read_form(req, payload, state).await?;
    let (_, caller) =
        state.tokens.authenticate_client(client.as_ref(), client_of(req, &state.settings)).await?;
    let token = params.take("token").ok_or(OAuthError::InvalidRequest("token is missing"))?;
    Ok((caller, token))
}

#[utoipa::path(post, path = "/oauth/introspect", tag = "oauth", summary = "Introspect a token (RFC 7662)",
    security((), ("basic" = [])),
    request_body(content = TokenParamForm, content_type = "application/x-www-form-urlencoded", description = "token (an access or refresh token); client authentication as for /oauth/token"),
    responses((status = 200, description = "RFC 7662: {\"active\":false} for anything not valid now or not of the caller's account", body = crate::auth::tokens::grants::Introspection),
              (status = 400, description = "invalid_request: the body is not a form, or token is missing", body = OAuthErrorBody),
              (status = 401, description = "invalid_client", body = OAuthErrorBody),
              (status = 403, description = "unauthorized_client: IP_NOT_ALLOWED", body = OAuthErrorBody),
              (status = 429, description = "too many failed logins, or over a request limit (Retry-After; RateLimit and RateLimit-Policy for a request limit)", body = OAuthErrorBody)))]
pub async fn introspect(req: HttpRequest, payload: web::Payload, state: web::Data<AppState>) -> HttpResponse {
    if let Some(refusal) = over_address_limit(&state, client_of(&req, &state.settings)) {
        return refusal;
    }
    let outcome = async {
        let (caller, token) = client_and_token(&req, payload, &state).await?;
        state.tokens.introspect(&caller, &token).await
    }
    .await;
    match outcome {
        Ok(answer) => json_no_store(StatusCode::OK, &answer, "SUCCESS"),
        Err(e) => error_response(&e),
    }
}

#[utoipa::path(post, path = "/oauth/revoke", tag = "oauth", summary = "Revoke a token (RFC 7009)",
    security((), ("basic" = [])),
    request_body(content = TokenParamForm, content_type = "application/x-www-form-urlencoded", description = "token (an access or refresh token); client authentication as for /oauth/token"),
    responses((status = 200, description = "RFC 7009: revoked, or never valid"),
              (status = 400, description = "invalid_request: the body is not a form, or token is missing", body = OAuthErrorBody),
              (status = 401, description = "invalid_client", body = OAuthErrorBody),
              (status = 403, description = "unauthorized_client: IP_NOT_ALLOWED", body = OAuthErrorBody),
              (status = 429, description = "too many failed logins, or over a request limit (Retry-After; RateLimit and RateLimit-Policy for a request limit)", body = OAuthErrorBody)))]
pub async fn revoke(req: HttpRequest, payload: web::Payload, state: web::Data<AppState>) -> HttpResponse {
    if let Some(refusal) = over_address_limit(&state, client_of(&req, &state.settings)) {
        return refusal;
    }
    let outcome = async {
        let (caller, token) = client_and_token(&req, payload, &state).await?;
        state.tokens.revoke(&caller, &token).await
    }
    .await;
    match outcome {
        Ok(()) => json_no_store(StatusCode::OK, &serde_json::json!({}), "SUCCESS"),
        Err(e) => error_response(&e),
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

#[utoipa::path(get, path = "/oauth/jwks.json", tag = "oauth", summary = "The token signing keys (JWKS)",
    security(()),
    responses((status = 200, description = "The Ed25519 keys that sign access tokens", body = JwkSet)))]
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "max-age=300"))
        .json(JwkSet { keys: state.tokens.jwks() })
}

/// RFC 8414 authorization server metadata: only what is actually supported.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ServerMetadata {
    pub issuer: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    pub introspection_endpoint: String,
    pub revocation_endpoint: String,
    pub grant_types_supported: Vec<&'static str>,
    pub response_types_supported: Vec<&'static str>,
    pub scopes_supported: Vec<&'static str>,
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    pub introspection_endpoint_auth_methods_supported: Vec<&'static str>,
    pub revocation_endpoint_auth_methods_supported: Vec<&'static str>,
    pub service_documentation: String,
}

#[utoipa::path(get, path = "/.well-known/oauth-authorization-server", tag = "oauth",
    summary = "Authorization server metadata (RFC 8414)", security(()),
    responses((status = 200, description = "RFC 8414 metadata", body = ServerMetadata)))]
pub async fn metadata(state: web::Data<AppState>) -> HttpResponse {
    let iss = state.tokens.issuer().to_string();
    let methods = vec!["client_secret_basic", "client_secret_post"];
    // Only what this configuration grants: refresh tokens come with the password grant alone
    // (client credentials issue none).
    let mut grants = vec!["client_credentials"];
    if state.tokens.settings().password_grant {
        grants.extend(["password", "refresh_token"]);
    }
    HttpResponse::Ok().json(ServerMetadata {
        token_endpoint: format!("{iss}/oauth/token"),
        jwks_uri: format!("{iss}/oauth/jwks.json"),
        introspection_endpoint: format!("{iss}/oauth/introspect"),
        revocation_endpoint: format!("{iss}/oauth/revoke"),
        service_documentation: format!("{iss}/docs/"),
        grant_types_supported: grants,
        response_types_supported: Vec::new(),
        scopes_supported: Scope::ALL.iter().map(|s| s.as_str()).collect(),
        token_endpoint_auth_methods_supported: methods.clone(),
        introspection_endpoint_auth_methods_supported: methods.clone(),
        revocation_endpoint_auth_methods_supported: methods,
        issuer: iss,
    })
}
