//! Who is calling: credentials (argon2 + cache), accesses and their scopes, IP filters, the client
//! address, failed-login limiting.

pub mod api_token;
pub mod cache;
pub mod client_addr;
pub mod ip_filter;
pub mod limiter;
pub mod password;
pub mod rate;
pub mod tokens;

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;

use crate::domain::model::Principal;
use crate::domain::ports::CredentialStore;
use crate::domain::{DomainError, DomainResult, ErrorCode};
use crate::storage::CredentialRecord;
use crate::storage::watch::AccountCache;
use cache::{CacheLimits, CredentialCache, Proof, Verified};
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
    store: Arc<dyn CredentialStore>,
    hasher: Arc<PasswordHasher>,
    cache: Arc<CredentialCache>,
    /// Proofs being verified again in the background (`Verified::Ageing`), one at a time each.
    refreshing: Arc<Mutex<HashSet<Proof>>>,
    limiter: FailureLimiter,
    /// Verifications under way, by the keyed hash of their login and secret.
    flights: Mutex<HashMap<Proof, Arc<OnceCell<DomainResult<Principal>>>>>,
}

impl Authenticator {
    pub fn new(store: Arc<dyn CredentialStore>, settings: &AuthSettings) -> Result<Self, HashError> {
        Ok(Self {
            store,
            hasher: Arc::new(PasswordHasher::new(settings.argon2)?),
            cache: Arc::new(CredentialCache::new(settings.cache)),
            refreshing: Arc::default(),
            limiter: FailureLimiter::new(settings.failures),
            flights: Mutex::default(),
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
        self.authenticate_secrets(login, &[secret], client).await
    }

    /// Basic credentials read as sent and form-decoded (SPEC §4, RFC 6749 §2.3.1): the reading as sent
    /// first, the decoded one only when it differs. When the logins differ, the one that names a
    /// credential is meant (no argon2 for the other); when only the secrets differ, both are checked
    /// within one attempt — a second argon2 run only when the first secret is wrong.
    pub async fn authenticate_either(
        &self,
        first: (&str, &str),
        second: Option<(&str, &str)>,
        client: IpAddr,
    ) -> DomainResult<Principal> {
        let Some(second) = second.filter(|s| *s != first) else {
            return self.authenticate(first.0, first.1, client).await;
        };
        if first.0 == second.0 {
            return self.authenticate_secrets(first.0, &[first.1, second.1], client).await;
        }
        if self.lookup(first.0).await?.is_none() && self.lookup(second.0).await?.is_some() {
            return self.authenticate(second.0, second.1, client).await;
        }
        self.authenticate(first.0, first.1, client).await
    }

    /// `login` with the first of `secrets` that is right.
    async fn authenticate_secrets(
        &self,
        login: &str,
        secrets: &[&str],
        client: IpAddr,
    ) -> DomainResult<Principal> {
        let Some(&first) = secrets.first() else { return Err(ErrorCode::MissingPassword.into()) };
        let record = self.lookup(login).await?;
        if let Some(r) = &record
            && !ip_filter::allows(client, &[&r.account_ip_allow, &r.ip_allow])
        {
            return Err(DomainError::new(ErrorCode::IpNotAllowed));
        }
        if let Some(r) = record.as_deref().filter(|r| r.enabled) {
            for secret in secrets {
                match self.cache.is_verified(r, secret) {
                    Verified::No => {}
                    Verified::Yes => return Ok(principal(r)),
                    Verified::Ageing => {
                        self.refresh(r, secret);
                        return Ok(principal(r));
                    }
                }
            }
        }
        // One verification per login and secret at a time: requests that arrive while it runs (a client's
        // cold start on 64 connections) wait for its result instead of each running argon2 — and each
        // taking a place in the failure counts.
        // (The other secrets, if any, are a function of the first: the flight is keyed by it.)
        let key = self.cache.proof(login, first);
        let flight = match self.flights.lock() {
            Ok(mut flights) => Some(flights.entry(key).or_default().clone()),
            Err(_) => None,
        };
        let Some(flight) = flight else {
            return self.verify(login, secrets, client, record.as_deref()).await;
        };
        let result =
            flight.get_or_init(|| self.verify(login, secrets, client, record.as_deref())).await.clone();
        self.land(&key, &flight);
        result
    }

    /// An API token (SPEC §1) → the caller. No argon2 (a token is as random as a key); a wrong one is a
    /// failed login of its address, so guessing runs into the same limits as passwords. IP filters as
    /// for any credential; a disabled access's token is refused like an unknown one. A token found
    /// lately is served from the cache (dropped with any change to its account), without the store or
    /// a place in the failure counts — as a cached password login is.
    pub async fn authenticate_token(&self, token: &str, client: IpAddr) -> DomainResult<Principal> {
        let hash = api_token::well_formed(token).then(|| api_token::hash(token));
        if let Some(record) = hash.as_deref().and_then(|h| self.cache.token(h)).filter(|r| r.enabled) {
            if !ip_filter::allows(client, &[&record.account_ip_allow, &record.ip_allow]) {
                return Err(DomainError::new(ErrorCode::IpNotAllowed));
            }
            return Ok(principal(&record));
        }
        let attempt = self.limiter.admit(TOKEN_LOGIN, client)?;
        let epoch = self.cache.epoch();
        let record = match hash {
            Some(hash) => {
                let found = self.store.find_token(&hash).await?.map(Arc::new);
                if let Some(r) = &found {
                    self.cache.put_token(hash, r.clone(), epoch);
                }
                found
            }
            None => None,
        };
        let Some(record) = record.filter(|r| r.enabled) else {
            // The attempt keeps its place in the counts.
            return Err(DomainError::new(ErrorCode::InvalidToken));
        };
        if !ip_filter::allows(client, &[&record.account_ip_allow, &record.ip_allow]) {
            attempt.withdrawn();
            return Err(DomainError::new(ErrorCode::IpNotAllowed));
        }
        attempt.succeeded();
        Ok(principal(&record))
    }

    /// Verifies a cached login again in the background, before its proof expires: a login in use never
    /// makes its callers wait for argon2 again (nor a burst of them each start one). Not a failed
    /// attempt if wrong (the secret was right when cached; a change of it voids the proof anyway).
    fn refresh(&self, record: &CredentialRecord, secret: &str) {
        let key = self.cache.proof(&record.login, secret);
        let claimed = self.refreshing.lock().map(|mut set| set.insert(key)).unwrap_or(false);
        if !claimed {
            return;
        }
        let (hasher, cache, refreshing) = (self.hasher.clone(), self.cache.clone(), self.refreshing.clone());
        let (record, secret) = (record.clone(), secret.to_string());
        tokio::spawn(async move {
            if hasher.verify(&secret, &record.secret_hash).await == Ok(true) {
                cache.remember_verified(&record, &secret);
            }
            if let Ok(mut set) = refreshing.lock() {
                set.remove(&key);
            }
        });
    }

    /// Forgets a finished verification (whichever of its waiters gets here first).
    fn land(&self, key: &Proof, flight: &Arc<OnceCell<DomainResult<Principal>>>) {
        if let Ok(mut flights) = self.flights.lock()
            && flights.get(key).is_some_and(|f| Arc::ptr_eq(f, flight))
        {
            flights.remove(key);
        }
    }

    /// The failure limit, then argon2: the attempt takes its place in the counts before argon2 runs, and a
    /// success gives it back.
    async fn verify(
        &self,
        login: &str,
        secrets: &[&str],
        client: IpAddr,
        record: Option<&CredentialRecord>,
    ) -> DomainResult<Principal> {
        let attempt = self.limiter.admit(login, client)?;
        // An access that has only an API token has no password that could be right.
        let live = record.filter(|r| r.enabled && !r.secret_hash.is_empty());
        let mut verified = Ok(false);
        let mut right = "";
        for secret in secrets {
            verified = match live {
                Some(r) => self.hasher.verify(secret, &r.secret_hash).await,
                // Unknown or disabled: the same work as a wrong password, and the same answer (once).
                None => self.hasher.verify_dummy(secret).await.map(|()| false),
            };
            if !matches!(verified, Ok(false)) || live.is_none() {
                right = secret;
                break;
            }
        }
        match (verified, live) {
            (Ok(true), Some(r)) => {
                self.cache.remember_verified(r, right);
                attempt.succeeded();
                Ok(principal(r))
            }
            // No argon2 thread free, nor room in its queue: refused at once, and not a failure.
            (Err(_busy), _) => {
                attempt.withdrawn();
                Err(DomainError::new(ErrorCode::TooManyRequests))
            }
            // A wrong password: the attempt keeps its place in the counts.
            _ => Err(DomainError::new(ErrorCode::IncorrectUserPassword)),
        }
    }
}

#[async_trait::async_trait]
impl crate::domain::ports::Authenticate for Authenticator {
    async fn authenticate(&self, login: &str, secret: &str, client: IpAddr) -> DomainResult<Principal> {
        Authenticator::authenticate(self, login, secret, client).await
    }

    async fn authenticate_either(
        &self,
        first: (&str, &str),
        second: Option<(&str, &str)>,
        client: IpAddr,
    ) -> DomainResult<Principal> {
        Authenticator::authenticate_either(self, first, second, client).await
    }

    async fn authenticate_token(&self, token: &str, client: IpAddr) -> DomainResult<Principal> {
        Authenticator::authenticate_token(self, token, client).await
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

/// The failure counts' "login" for API tokens: every wrong token of an address counts together.
const TOKEN_LOGIN: &str = "#api-token";

fn principal(r: &CredentialRecord) -> Principal {
    Principal { account_id: r.account_id, credential_id: r.id, scopes: r.scopes, channel: r.channel_id }
}
