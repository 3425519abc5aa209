//! Who is calling: credentials (argon2 + cache), accesses and their scopes, IP filters, the client
//! address, failed-login limiting.

pub mod cache;
pub mod client_addr;
pub mod ip_filter;
pub mod limiter;
pub mod password;
pub mod rate;
pub mod tokens;

use std::net::IpAddr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::domain::model::Principal;
use crate::domain::{DomainError, DomainResult, ErrorCode};
use crate::storage::watch::AccountCache;
use crate::storage::{CredentialRecord, Store};
use cache::{CacheLimits, CredentialCache};
use limiter::{FailureLimiter, FailureLimits};
use password::{Argon2Cost, HashError, PasswordHasher};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuthSettings {
    pub argon2: Argon2Cost,
    pub cache: CacheLimits,
    pub failures: FailureLimits,
    /// How often the account change log is polled (every instance sees a change within this).
    pub change_poll_ms: u64,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            argon2: Argon2Cost::default(),
            cache: CacheLimits::default(),
            failures: FailureLimits::default(),
            change_poll_ms: 250,
        }
    }
}

pub struct Authenticator {
    store: Arc<dyn Store>,
    hasher: PasswordHasher,
    cache: CredentialCache,
    limiter: FailureLimiter,
}

impl Authenticator {
    pub fn new(store: Arc<dyn Store>, settings: &AuthSettings) -> Result<Self, HashError> {
        Ok(Self {
            store,
            hasher: PasswordHasher::new(settings.argon2)?,
            cache: CredentialCache::new(settings.cache),
            limiter: FailureLimiter::new(settings.failures),
        })
    }

    pub fn hasher(&self) -> &PasswordHasher {
        &self.hasher
    }

    /// The record of `login`, from the cache or the store.
    pub async fn lookup(&self, login: &str) -> DomainResult<Option<Arc<CredentialRecord>>> {
        if let Some(r) = self.cache.record(login) {
            return Ok(Some(r));
        }
        let epoch = self.cache.epoch();
        let found = self.store.find_credential(login).await?.map(Arc::new);
        if let Some(r) = &found {
            self.cache.put_record(r.clone(), epoch);
        }
        Ok(found)
    }

    /// Login lookup → IP filters → failure limit → password (SPEC §2 check order, §4).
    pub async fn authenticate(&self, login: &str, secret: &str, client: IpAddr) -> DomainResult<Principal> {
        let record = self.lookup(login).await?;
        if let Some(r) = &record
            && !ip_filter::allows(client, &[&r.account_ip_allow, &r.ip_allow])
        {
            return Err(DomainError::new(ErrorCode::IpNotAllowed));
        }
        if let Some(r) = record.as_deref().filter(|r| r.enabled)
            && self.cache.is_verified(r, secret)
        {
            return Ok(principal(r));
        }
        if self.limiter.is_blocked(login, client) {
            return Err(DomainError::new(ErrorCode::TooManyRequests));
        }
        match record.as_deref() {
            Some(r) if r.enabled => {
                if self.hasher.verify(secret, &r.secret_hash).await {
                    self.cache.remember_verified(r, secret);
                    self.limiter.record_success(login, client);
                    return Ok(principal(r));
                }
            }
            // Unknown or disabled: the same work as a wrong password, and the same answer.
            _ => self.hasher.verify_dummy(secret).await,
        }
        self.limiter.record_failure(login, client);
        Err(DomainError::new(ErrorCode::IncorrectUserPassword))
    }
}

#[async_trait::async_trait]
impl crate::domain::ports::Authenticate for Authenticator {
    async fn authenticate(&self, login: &str, secret: &str, client: IpAddr) -> DomainResult<Principal> {
        Authenticator::authenticate(self, login, secret, client).await
    }
}

impl AccountCache for Authenticator {
    fn account_changed(&self, account_id: i64) {
        self.cache.invalidate_account(account_id);
    }

    fn everything_changed(&self) {
        self.cache.invalidate_all();
    }
}

fn principal(r: &CredentialRecord) -> Principal {
    Principal { account_id: r.account_id, credential_id: r.id, scopes: r.scopes }
}
