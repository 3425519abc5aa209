//! Three caches in front of the credential store, all bounded in size and time:
//! - records: login → its stored record (scopes, IP lists, hash, version), dropped per account as soon
//!   as the change log reports a change to that account (by any instance or the CLI);
//! - tokens: an API token's SHA-256 → its access's record, dropped alike (a disabled access or a new
//!   token is seen by every instance with the change log's next reading);
//! - proofs: HMAC(process key, login, secret) → (credential id, version) of a successful verification.
//!   Only successes are kept; a proof counts only while the record still has that id and version, so a
//!   changed secret, a disabled access or new scopes void it at once. The HMAC key never leaves the
//!   process, so the cache holds nothing from which a secret could be recovered.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::domain::ttl_cache::TtlCache;
use crate::storage::CredentialRecord;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CacheLimits {
    pub max_entries: u64,
    pub ttl_secs: u64,
}

impl Default for CacheLimits {
    fn default() -> Self {
        Self { max_entries: 100_000, ttl_secs: 600 }
    }
}

pub type Proof = [u8; 32];

/// A cached verification, for `is_verified`'s caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    No,
    Yes,
    /// Yes, and past three quarters of its time: verify it again in the background now, so that it
    /// never expires while in use (no request then waits for argon2 when it would have).
    Ageing,
}

pub struct CredentialCache {
    /// Every authenticated request reads both.
    records: TtlCache<String, Arc<CredentialRecord>>,
    /// Token hash → record; only tokens that were found are kept (a wrong token always reaches the
    /// failure limits).
    tokens: TtlCache<String, Arc<CredentialRecord>>,
    /// (credential id, version); put in when verified.
    proofs: TtlCache<Proof, (i64, i64)>,
    /// After this long a proof in use is verified again (three quarters of its time to live).
    refresh_after: Duration,
    /// HMAC-SHA256 keyed with a per-process random key, cloned for each proof.
    keyed_mac: Hmac<Sha256>,
    /// Bumped on every invalidation, so that a record read from the store before a change is not
    /// cached after it.
    epoch: AtomicU64,
}

impl CredentialCache {
    pub fn new(limits: CacheLimits) -> Self {
        let ttl = Duration::from_secs(limits.ttl_secs.max(1));
        Self {
            records: TtlCache::new(limits.max_entries, ttl),
            tokens: TtlCache::new(limits.max_entries, ttl),
            proofs: TtlCache::new(limits.max_entries, ttl),
            refresh_after: ttl * 3 / 4,
            keyed_mac: <Hmac<Sha256> as Mac>::new_from_slice(&rand::random::<[u8; 32]>())
                .expect("HMAC accepts keys of any length"),
            epoch: AtomicU64::new(0),
        }
    }

    pub fn record(&self, login: &str) -> Option<Arc<CredentialRecord>> {
        self.records.get(login)
    }

    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Caches a record read from the store, unless an invalidation happened since `epoch_before`.
    pub fn put_record(&self, record: Arc<CredentialRecord>, epoch_before: u64) {
        if self.epoch() == epoch_before {
            self.records.insert(record.login.clone(), record);
        }
    }

    /// The record of the token whose hash this is, if it was found lately.
    pub fn token(&self, token_hash: &str) -> Option<Arc<CredentialRecord>> {
        self.tokens.get(token_hash)
    }

    /// Caches a token's record read from the store, unless an invalidation happened since `epoch_before`.
    pub fn put_token(&self, token_hash: String, record: Arc<CredentialRecord>, epoch_before: u64) {
        if self.epoch() == epoch_before {
            self.tokens.insert(token_hash, record);
        }
    }

    pub fn invalidate_account(&self, account_id: i64) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.records.retain(|_, r| r.account_id != account_id);
        self.tokens.retain(|_, r| r.account_id != account_id);
    }

    pub fn invalidate_all(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.records.clear();
        self.tokens.clear();
    }

    /// The keyed hash of a login and secret (nothing of the secret can be recovered from it).
    pub fn proof(&self, login: &str, secret: &str) -> Proof {
        // Length-prefix the login so that ("ab","c") and ("a","bc") differ.
        let mut mac = self.keyed_mac.clone();
        mac.update(&(login.len() as u64).to_le_bytes());
        mac.update(login.as_bytes());
        mac.update(secret.as_bytes());
        mac.finalize().into_bytes().into()
    }

    pub fn is_verified(&self, record: &CredentialRecord, secret: &str) -> Verified {
        match self.proofs.get_with_time(&self.proof(&record.login, secret)) {
            Some(((id, version), at)) if (id, version) == (record.id, record.version) => {
                if at.elapsed() >= self.refresh_after { Verified::Ageing } else { Verified::Yes }
            }
            _ => Verified::No,
        }
    }

    pub fn remember_verified(&self, record: &CredentialRecord, secret: &str) {
        self.proofs.insert(self.proof(&record.login, secret), (record.id, record.version));
    }
}
