//! The authorization server's decisions (RFC 6749 token endpoint, RFC 7662 introspection, RFC 7009
//! revocation), independent of HTTP: the OAuth door parses forms into these requests and renders the
//! outcomes.

use std::net::IpAddr;
use std::sync::Arc;

use serde::Serialize;

use super::{TokenService, hash_token};
use crate::domain::error::Throttled;
use crate::domain::model::{Principal, Scopes};
use crate::domain::{DomainError, ErrorCode};
use crate::storage::{CredentialRecord, RefreshUse};

/// RFC 6749 §5.2 errors (plus the two conditions chatgate adds: address and rate).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OAuthError {
    InvalidRequest(&'static str),
    InvalidClient,
    InvalidGrant(&'static str),
    UnauthorizedClient(&'static str),
    UnsupportedGrantType,
    InvalidScope,
    /// Over a limit (its window, for the headers), or no argon2 thread free (`None`).
    TooManyRequests(Option<Throttled>),
    Server(String),
}

impl OAuthError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "invalid_request",
            Self::InvalidClient | Self::TooManyRequests(_) => "invalid_client",
            Self::InvalidGrant(_) => "invalid_grant",
            Self::UnauthorizedClient(_) => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::Server(_) => "server_error",
        }
    }

    pub fn description(&self) -> Option<&str> {
        match self {
            Self::InvalidRequest(d) | Self::InvalidGrant(d) | Self::UnauthorizedClient(d) => Some(d),
            Self::TooManyRequests(_) => Some("TOO_MANY_REQUESTS"),
            Self::InvalidClient => Some("INCORRECT_USER_PASSWORD"),
            _ => None,
        }
    }
}

impl From<DomainError> for OAuthError {
    fn from(e: DomainError) -> Self {
        match e.code {
            ErrorCode::IncorrectUserPassword | ErrorCode::MissingUser | ErrorCode::MissingPassword => {
                Self::InvalidClient
            }
            ErrorCode::IpNotAllowed => Self::UnauthorizedClient("IP_NOT_ALLOWED"),
            ErrorCode::TooManyRequests => Self::TooManyRequests(e.throttled),
            _ => Self::Server(e.internal.unwrap_or_else(|| e.code.to_string())),
        }
    }
}

/// A client's id and secret; from Basic also their form-decoded reading when it differs (RFC 6749
/// §2.3.1 asks clients to form-encode them; most do not, so both are accepted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCredentials {
    pub id: String,
    pub secret: String,
    pub decoded: Option<(String, String)>,
}

impl ClientCredentials {
    /// Credentials with one reading only (a form body).
    pub fn plain(id: String, secret: String) -> Self {
        Self { id, secret, decoded: None }
    }
}

/// A token request as the door hands it over.
#[derive(Debug, Default, Clone)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    /// Client id and secret, from Basic or from the body.
    pub client: Option<ClientCredentials>,
    pub scope: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub refresh_token: Option<String>,
}

/// RFC 6749 §5.1.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    pub expires_in: u64,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// RFC 7662 §2.2; only `active` when the token is not valid (or not the caller's).
#[derive(Debug, Clone, Serialize, PartialEq, Eq, Default, utoipa::ToSchema)]
pub struct Introspection {
    pub active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

/// The requested scopes, which must be a subset of what the credential has; none asked = all of them.
fn narrow(requested: Option<&str>, available: Scopes) -> Result<Scopes, OAuthError> {
    let Some(list) = requested.filter(|s| !s.trim().is_empty()) else { return Ok(available) };
    let asked = Scopes::parse(list).map_err(|_| OAuthError::InvalidScope)?;
    if asked.iter().all(|s| available.allows(s)) { Ok(asked) } else { Err(OAuthError::InvalidScope) }
}

impl TokenService {
    /// A client's id and secret → its principal and record (IP filter and failure limits included).
    pub async fn authenticate_client(
        &self,
        client: Option<&ClientCredentials>,
        ip: IpAddr,
    ) -> Result<(Principal, Arc<CredentialRecord>), OAuthError> {
        let c = client.ok_or(OAuthError::InvalidClient)?;
        if c.id.is_empty() || c.secret.is_empty() {
            return Err(OAuthError::InvalidClient);
        }
        let decoded = c.decoded.as_ref().map(|(i, s)| (i.as_str(), s.as_str()));
        let principal = self.auth.authenticate_either((&c.id, &c.secret), decoded, ip).await?;
        // The reading that matched names the credential.
        let mut record = self.auth.lookup(&c.id).await?;
        if let Some((id, _)) = decoded
            && record.as_ref().is_none_or(|r| r.id != principal.credential_id)
        {
            record = self.auth.lookup(id).await?;
        }
        let record = record.ok_or(OAuthError::InvalidClient)?;
        Ok((principal, record))
    }

    pub async fn token(&self, req: TokenRequest, ip: IpAddr) -> Result<TokenResponse, OAuthError> {
        match req.grant_type.as_deref() {
            None | Some("") => Err(OAuthError::InvalidRequest("grant_type is missing")),
            Some("client_credentials") => {
                let (_, record) = self.authenticate_client(req.client.as_ref(), ip).await?;
                let scopes = narrow(req.scope.as_deref(), record.scopes)?;
                self.respond(&record, scopes, None).await
            }
            Some("password") if self.settings.password_grant => {
                let (Some(user), Some(pw)) = (req.username.as_ref(), req.password.as_ref()) else {
                    return Err(OAuthError::InvalidRequest("username and password are required"));
                };
                if let Some(c) = req.client.as_ref() {
                    self.authenticate_client(Some(c), ip).await?;
                }
                let owner = ClientCredentials::plain(user.clone(), pw.clone());
                let record = match self.authenticate_client(Some(&owner), ip).await {
                    Err(OAuthError::InvalidClient) => {
                        return Err(OAuthError::InvalidGrant("INCORRECT_USER_PASSWORD"));
                    }
                    other => other?.1,
                };
                let scopes = narrow(req.scope.as_deref(), record.scopes)?;
                self.respond(&record, scopes, Some(None)).await
            }
            Some("refresh_token") => self.refresh(req, ip).await,
            Some(_) => Err(OAuthError::UnsupportedGrantType),
        }
    }

    async fn refresh(&self, req: TokenRequest, ip: IpAddr) -> Result<TokenResponse, OAuthError> {
        let token = req.refresh_token.as_deref().filter(|t| !t.is_empty());
        let token = token.ok_or(OAuthError::InvalidRequest("refresh_token is missing"))?;
        let client = match req.client.as_ref() {
            Some(c) => Some(self.authenticate_client(Some(c), ip).await?.1),
            None => None,
        };
        let now = chrono::Utc::now().timestamp_millis();
        let row =
            match self.store.use_refresh_token(&hash_token(token), now).await.map_err(DomainError::from)? {
                RefreshUse::Fresh(row) => row,
                RefreshUse::Reused => {
                    return Err(OAuthError::InvalidGrant("refresh token reused; its chain is revoked"));
                }
                RefreshUse::Invalid => {
                    return Err(OAuthError::InvalidGrant("refresh token invalid or expired"));
                }
            };
        if client.is_some_and(|c| c.id != row.credential_id) {
            return Err(OAuthError::InvalidGrant("refresh token of another client"));
        }
        let record = self.auth.lookup(&row.login).await?;
        let record = record
            .filter(|r| r.enabled && r.id == row.credential_id && r.version == row.cred_version)
            .ok_or(OAuthError::InvalidGrant("the credential changed since the token was issued"))?;
        if !super::ip_filter::allows(ip, &[&record.account_ip_allow, &record.ip_allow]) {
            return Err(OAuthError::UnauthorizedClient("IP_NOT_ALLOWED"));
        }
        let granted = Scopes::parse(&row.scope).unwrap_or(Scopes::NONE);
        let scopes = narrow(req.scope.as_deref(), granted)?;
        self.respond(&record, scopes, Some(Some(row.chain))).await
    }

    /// `refresh`: `None` = no refresh token; `Some(chain)` = one in that chain (new when `None`).
    async fn respond(
        &self,
        record: &CredentialRecord,
        scopes: Scopes,
        refresh: Option<Option<String>>,
    ) -> Result<TokenResponse, OAuthError> {
        let (access_token, expires_in) = self.issue_access(record, scopes)?;
        let refresh_token = match refresh {
            Some(chain) => Some(self.issue_refresh(record, scopes, chain).await?),
            None => None,
        };
        Ok(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in,
            scope: scopes.to_string(),
            refresh_token,
        })
    }

    /// RFC 7662: what a token is, told only to a client of the same account.
    pub async fn introspect(
        &self,
        caller: &CredentialRecord,
        token: &str,
    ) -> Result<Introspection, OAuthError> {
        if let Some((verified, record)) = self.active(token).await?
            && caller.manages(&record)
        {
            let claims = &verified.claims;
            return Ok(Introspection {
                active: true,
                scope: Some(claims.scope.clone()),
                client_id: Some(claims.client_id.clone()),
                sub: Some(claims.sub.clone()),
                token_type: Some("Bearer"),
                exp: Some(claims.exp),
                iat: Some(claims.iat),
                iss: Some(claims.iss.clone()),
                aud: Some(claims.aud.clone()),
                jti: Some(claims.jti.clone()),
            });
        }
        let now = chrono::Utc::now().timestamp_millis();
        if let Some(row) =
            self.store.find_refresh_token(&hash_token(token), now).await.map_err(DomainError::from)?
            && let Some(record) = self.auth.lookup(&row.login).await?
            && caller.manages(&record)
            && record.id == row.credential_id
            && record.version == row.cred_version
            && record.enabled
        {
            return Ok(Introspection {
                active: true,
                scope: Some(row.scope),
                client_id: Some(row.login.clone()),
                sub: Some(row.login),
                exp: Some(row.expires_at / 1000),
                ..Introspection::default()
            });
        }
        Ok(Introspection::default())
    }

    /// RFC 7009: revokes an access or refresh token issued to the caller (or, for the account's own login,
    /// to any of its accesses); another's token, or an unknown one, is answered the same and left alone.
    pub async fn revoke(&self, caller: &CredentialRecord, token: &str) -> Result<(), OAuthError> {
        if let Some((verified, record)) = self.active(token).await?
            && caller.manages(&record)
        {
            self.revoke_access(&verified.claims).await?;
            return Ok(());
        }
        let now = chrono::Utc::now().timestamp_millis();
        if let Some(row) =
            self.store.find_refresh_token(&hash_token(token), now).await.map_err(DomainError::from)?
            && let Some(record) = self.auth.lookup(&row.login).await?
            && record.id == row.credential_id
            && caller.manages(&record)
        {
            self.store.revoke_refresh_chain(&row.chain).await.map_err(DomainError::from)?;
        }
        Ok(())
    }
}
