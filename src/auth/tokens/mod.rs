//! OAuth 2.0 tokens: RFC 9068 access tokens (JWT, EdDSA, `typ: at+jwt`), rotating refresh tokens, and
//! their revocation.
//!
//! A verified token is cached (bounded, never past its `exp`), so a known token costs no signature
//! check. The cache holds only the signature's verdict: every request still checks, from in-memory state,
//! that the `jti` is not revoked and that the credential is enabled with the version the token was
//! issued for (a changed secret, disabled access or new scopes bump it), and applies the IP filters.
//! Revocations and key rotations reach every instance through the store, polled like credential changes.

pub mod grants;
pub mod keys;

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, Header, Validation};
use moka::sync::Cache;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Authenticator, ip_filter};
use crate::domain::model::{Principal, Scopes};
use crate::domain::ttl_cache::TtlCache;
use crate::domain::{DomainError, DomainResult, ErrorCode};
use crate::storage::{CredentialRecord, OAuthStore, RefreshToken, StoreError};
use keys::KeyRing;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OAuthSettings {
    /// Access-token lifetime.
    pub access_token_ttl_secs: u64,
    /// Refresh-token lifetime (password grant only).
    pub refresh_token_ttl_secs: u64,
    /// The legacy `password` grant; off unless enabled.
    pub password_grant: bool,
    /// The `iss` of tokens; default: `public_url`, else `http://` + the listening address.
    pub issuer: Option<String>,
    /// Verified tokens kept in memory.
    pub token_cache_entries: u64,
}

impl Default for OAuthSettings {
    fn default() -> Self {
        Self {
            access_token_ttl_secs: 3600,
            refresh_token_ttl_secs: 30 * 24 * 3600,
            password_grant: false,
            issuer: None,
            token_cache_entries: 100_000,
        }
    }
}

/// The claims of an access token. `cid`/`ver` tie it to the credential version it was issued for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub client_id: String,
    pub scope: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    pub cid: i64,
    pub ver: i64,
}

pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";

/// What a verified signature established, with the scopes parsed once.
#[derive(Debug)]
pub struct Verified {
    pub claims: AccessClaims,
    pub scopes: Scopes,
}

fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

fn random_token(bytes: usize) -> String {
    let raw: Vec<u8> = (0..bytes).map(|_| rand::random::<u8>()).collect();
    URL_SAFE_NO_PAD.encode(raw)
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[derive(Debug, thiserror::Error)]
pub enum TokenStartError {
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    #[error("key generation: {0}")]
    Key(String),
}

pub struct TokenService {
    auth: Arc<Authenticator>,
    store: Arc<dyn OAuthStore>,
    settings: OAuthSettings,
    issuer: String,
    audience: String,
    keys: RwLock<Arc<KeyRing>>,
    /// Token → its verified claims (read by every bearer request).
    verified: TtlCache<String, Arc<Verified>>,
    revoked: Cache<String, (), foldhash::fast::RandomState>,
    /// Set before the first revocation is recorded: until then no bearer request looks one up.
    any_revoked: AtomicBool,
}

impl TokenService {
    /// Loads the signing keys, creating the first one on a new database.
    pub async fn start(
        auth: Arc<Authenticator>,
        store: Arc<dyn OAuthStore>,
        settings: OAuthSettings,
        issuer: String,
    ) -> Result<Arc<Self>, TokenStartError> {
        if store.signing_keys().await?.is_empty() {
            let key = keys::generate(chrono::Utc::now().timestamp_millis()).map_err(TokenStartError::Key)?;
            store.rotate_signing_key(&key).await?;
        }
        let ttl = Duration::from_secs(settings.access_token_ttl_secs.max(1));
        let service = Arc::new(Self {
            audience: format!("{}/api/json", issuer.trim_end_matches('/')),
            issuer: issuer.trim_end_matches('/').to_string(),
            verified: TtlCache::new(settings.token_cache_entries, ttl),
            revoked: Cache::builder()
                .max_capacity(1_000_000)
                .time_to_live(ttl)
                .build_with_hasher(foldhash::fast::RandomState::default()),
            any_revoked: AtomicBool::new(false),
            keys: RwLock::new(Arc::new(KeyRing::new(&[], 0, 0))),
            auth,
            store,
            settings,
        });
        service.reload_keys().await?;
        for r in service.store.revocations_since(0, chrono::Utc::now().timestamp_millis()).await? {
            service.mark_revoked(r.jti);
        }
        Ok(service)
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn settings(&self) -> &OAuthSettings {
        &self.settings
    }

    pub fn auth(&self) -> &Arc<Authenticator> {
        &self.auth
    }

    fn ring(&self) -> Arc<KeyRing> {
        self.keys.read().map(|k| k.clone()).unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    pub fn jwks(&self) -> Vec<keys::Jwk> {
        self.ring().jwks.clone()
    }

    async fn reload_keys(&self) -> Result<(), StoreError> {
        let all = self.store.signing_keys().await?;
        let ttl_ms = self.settings.access_token_ttl_secs as i64 * 1000;
        let ring = Arc::new(KeyRing::new(&all, chrono::Utc::now().timestamp_millis(), ttl_ms));
        match self.keys.write() {
            Ok(mut k) => *k = ring,
            Err(poisoned) => *poisoned.into_inner() = ring,
        }
        Ok(())
    }

    /// Signs an access token for `record` with `scopes`; returns it with its lifetime in seconds.
    pub fn issue_access(&self, record: &CredentialRecord, scopes: Scopes) -> DomainResult<(String, u64)> {
        let ring = self.ring();
        let signer = ring.signing.as_ref().ok_or_else(|| DomainError::internal("no signing key"))?;
        let iat = now_secs();
        let ttl = self.settings.access_token_ttl_secs;
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            sub: record.login.clone(),
            aud: self.audience.clone(),
            client_id: record.login.clone(),
            scope: scopes.to_string(),
            iat,
            exp: iat + ttl as i64,
            jti: random_token(16),
            cid: record.id,
            ver: record.version,
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.typ = Some(ACCESS_TOKEN_TYPE.into());
        header.kid = Some(signer.kid.clone());
        let token = signer.sign(&header, &claims).map_err(DomainError::internal)?;
        Ok((token, ttl))
    }

    /// The claims of a well-signed, unexpired token of ours (cached), ignoring revocation.
    fn signed_claims(&self, token: &str) -> Option<Arc<Verified>> {
        if let Some(v) = self.verified.get(token) {
            return (v.claims.exp > now_secs()).then_some(v);
        }
        let header = jsonwebtoken::decode_header(token).ok()?;
        if header.alg != Algorithm::EdDSA || header.typ.as_deref() != Some(ACCESS_TOKEN_TYPE) {
            return None;
        }
        let ring = self.ring();
        let key = ring.verifying.get(header.kid.as_deref()?)?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = 0;
        let data = jsonwebtoken::decode::<AccessClaims>(token, key, &validation).ok()?;
        if data.claims.iat > now_secs() + 60 {
            return None; // issued in the future: not ours, or a clock gone wrong
        }
        let scopes = Scopes::parse(&data.claims.scope).unwrap_or(Scopes::NONE);
        let verified = Arc::new(Verified { claims: data.claims, scopes });
        self.verified.insert(token.to_string(), verified.clone());
        Some(verified)
    }

    fn mark_revoked(&self, jti: String) {
        self.any_revoked.store(true, Ordering::Release);
        self.revoked.insert(jti, ());
    }

    /// The claims and current credential record of a token that is valid right now.
    pub async fn active(&self, token: &str) -> DomainResult<Option<(Arc<Verified>, Arc<CredentialRecord>)>> {
        let Some(v) = self.signed_claims(token) else { return Ok(None) };
        if self.any_revoked.load(Ordering::Acquire) && self.revoked.contains_key(&v.claims.jti) {
            return Ok(None);
        }
        let record = self.auth.lookup(&v.claims.client_id).await?;
        Ok(record.filter(|r| r.enabled && r.id == v.claims.cid && r.version == v.claims.ver).map(|r| (v, r)))
    }

    /// A bearer token → the caller, or `INVALID_TOKEN` / `IP_NOT_ALLOWED`.
    pub async fn authenticate(&self, token: &str, client: IpAddr) -> DomainResult<Principal> {
        let (verified, record) = self.active(token).await?.ok_or(ErrorCode::InvalidToken)?;
        if !ip_filter::allows(client, &[&record.account_ip_allow, &record.ip_allow]) {
            return Err(DomainError::new(ErrorCode::IpNotAllowed));
        }
        let scopes = Scopes::ALL.iter().filter(|s| verified.scopes.allows(*s) && record.scopes.allows(*s));
        Ok(Principal {
            account_id: record.account_id,
            credential_id: record.id,
            scopes: scopes.fold(Scopes::NONE, Scopes::with),
            channel: record.channel_id,
        })
    }

    /// Revokes an access token everywhere (here at once, elsewhere through the store).
    pub async fn revoke_access(&self, claims: &AccessClaims) -> DomainResult<()> {
        self.mark_revoked(claims.jti.clone());
        self.store.revoke_access_token(&claims.jti, claims.exp * 1000).await?;
        Ok(())
    }

    /// A new refresh token in `chain` (a new chain when `None`).
    pub async fn issue_refresh(
        &self,
        record: &CredentialRecord,
        scopes: Scopes,
        chain: Option<String>,
    ) -> DomainResult<String> {
        let token = random_token(32);
        let now = chrono::Utc::now().timestamp_millis();
        let row = RefreshToken {
            token_hash: hash_token(&token),
            chain: chain.unwrap_or_else(|| random_token(12)),
            credential_id: record.id,
            login: record.login.clone(),
            cred_version: record.version,
            scope: scopes.to_string(),
            expires_at: now + self.settings.refresh_token_ttl_secs as i64 * 1000,
        };
        self.store.insert_refresh_token(&row, now).await?;
        Ok(token)
    }

    /// Polls revocations and signing keys until the service is dropped.
    pub fn watch(self: &Arc<Self>, every: Duration) {
        let weak: Weak<Self> = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut seen = 0i64;
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                let Some(service) = weak.upgrade() else { return };
                let now = chrono::Utc::now().timestamp_millis();
                match service.store.revocations_since(seen, now).await {
                    Ok(list) => {
                        for r in list {
                            seen = seen.max(r.id);
                            service.mark_revoked(r.jti);
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "token revocations unreadable"),
                }
                let generation = service.ring().generation;
                match service.store.signing_key_count().await {
                    Ok(count) if usize::try_from(count).ok() != Some(generation) => {
                        if let Err(e) = service.reload_keys().await {
                            tracing::warn!(error = %e, "signing keys unreadable");
                        }
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "signing keys unreadable"),
                }
            }
        });
    }
}
