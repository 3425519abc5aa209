//! argon2id hashing and verification, always on the blocking pool and never more at once than there are
//! cores, so that a flood of logins queues instead of starving the actix workers.

use std::sync::Arc;

use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher as _, PasswordVerifier as _, Version};
use rand::distr::{Alphanumeric, SampleString};
use tokio::sync::Semaphore;

/// OWASP's minimum for argon2id: 19 MiB, 2 passes, 1 lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Argon2Cost {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for Argon2Cost {
    fn default() -> Self {
        Self { memory_kib: 19 * 1024, iterations: 2, parallelism: 1 }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("argon2 parameters: {0}")]
    Params(String),
    #[error("hashing failed: {0}")]
    Hash(String),
}

pub struct PasswordHasher {
    argon2: Argon2<'static>,
    permits: Arc<Semaphore>,
    /// Verified against for unknown logins, so that they cost what a wrong password costs.
    dummy_hash: String,
}

impl PasswordHasher {
    pub fn new(cost: Argon2Cost) -> Result<Self, HashError> {
        let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
            .map_err(|e| HashError::Params(e.to_string()))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        let dummy_secret = Alphanumeric.sample_string(&mut rand::rng(), 24);
        let dummy_hash = argon2
            .hash_password(dummy_secret.as_bytes())
            .map_err(|e| HashError::Hash(e.to_string()))?
            .to_string();
        Ok(Self { argon2, permits: Arc::new(Semaphore::new(cores)), dummy_hash })
    }

    /// Hashes a new secret (PHC string with its own random salt).
    pub async fn hash(&self, secret: &str) -> Result<String, HashError> {
        let argon2 = self.argon2.clone();
        let secret = secret.to_string();
        self.blocking(move || {
            argon2
                .hash_password(secret.as_bytes())
                .map(|h| h.to_string())
                .map_err(|e| HashError::Hash(e.to_string()))
        })
        .await
        .unwrap_or_else(|| Err(HashError::Hash("hashing task failed".into())))
    }

    /// Whether `secret` matches `hash`; a malformed hash never matches.
    pub async fn verify(&self, secret: &str, hash: &str) -> bool {
        let argon2 = self.argon2.clone();
        let (secret, hash) = (secret.to_string(), hash.to_string());
        self.blocking(move || {
            PasswordHash::new(&hash).is_ok_and(|h| argon2.verify_password(secret.as_bytes(), &h).is_ok())
        })
        .await
        .unwrap_or(false)
    }

    /// Spends what a real verification spends, for logins that do not exist or are disabled.
    pub async fn verify_dummy(&self, secret: &str) {
        let dummy = self.dummy_hash.clone();
        self.verify(secret, &dummy).await;
    }

    async fn blocking<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
        let _permit = self.permits.acquire().await.ok()?;
        tokio::task::spawn_blocking(f).await.ok()
    }
}
