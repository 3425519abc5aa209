//! argon2id hashing and verification on a pool of its own: one thread per core, each keeping its
//! argon2 working memory (19 MiB at OWASP's cost) from one verification to the next, fed through a
//! bounded queue. So a flood of logins never runs more verifications at once than there are cores,
//! never starves the actix workers, never makes the allocator churn 19 MiB blocks (glibc kept them:
//! RSS grew to ~1 GB under failed logins), and what does not fit in the queue is refused at once
//! (`TOO_MANY_REQUESTS`) instead of waiting without bound.

use flume::{Receiver, RecvTimeoutError, Sender, TrySendError};
use std::time::Duration;

use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, PasswordHasher as _, Version};
use rand::distr::{Alphanumeric, SampleString};
use subtle::ConstantTimeEq;
use tokio::sync::oneshot;

/// OWASP's minimum for argon2id: 19 MiB, 2 passes, 1 lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Argon2Cost {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    /// Verifications waiting for a thread; more at once are refused (`TOO_MANY_REQUESTS`).
    pub queue: u32,
}

impl Default for Argon2Cost {
    fn default() -> Self {
        Self { memory_kib: 19 * 1024, iterations: 2, parallelism: 1, queue: 64 }
    }
}

/// A stored hash asking for more memory than this is not verified (it could only come from a tampered
/// database, and would make every login with it allocate that much).
const MAX_BLOCKS: usize = 256 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("argon2 parameters: {0}")]
    Params(String),
    #[error("hashing failed: {0}")]
    Hash(String),
}

/// The pool was full: the caller should come back later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

struct Job {
    secret: String,
    hash: String,
    reply: oneshot::Sender<bool>,
}

pub struct PasswordHasher {
    argon2: Argon2<'static>,
    jobs: Sender<Job>,
    /// Verified against for unknown logins, so that they cost what a wrong password costs.
    dummy_hash: String,
}

impl PasswordHasher {
    pub fn new(cost: Argon2Cost) -> Result<Self, HashError> {
        let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
            .map_err(|e| HashError::Params(e.to_string()))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let dummy_secret = Alphanumeric.sample_string(&mut rand::rng(), 24);
        let dummy_hash = argon2
            .hash_password(dummy_secret.as_bytes())
            .map_err(|e| HashError::Hash(e.to_string()))?
            .to_string();
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        let (jobs, queue) = flume::bounded::<Job>(cost.queue.max(1) as usize);
        for i in 0..cores {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || verifier(&queue))
                .map_err(|e| HashError::Hash(e.to_string()))?;
        }
        Ok(Self { argon2, jobs, dummy_hash })
    }

    /// Hashes a new secret (PHC string with its own random salt): administration, not logins.
    pub async fn hash(&self, secret: &str) -> Result<String, HashError> {
        let argon2 = self.argon2.clone();
        let secret = secret.to_string();
        tokio::task::spawn_blocking(move || {
            argon2
                .hash_password(secret.as_bytes())
                .map(|h| h.to_string())
                .map_err(|e| HashError::Hash(e.to_string()))
        })
        .await
        .unwrap_or_else(|_| Err(HashError::Hash("hashing task failed".into())))
    }

    /// Whether `secret` matches `hash` (a malformed hash never matches), or `Busy` when the queue is full.
    pub async fn verify(&self, secret: &str, hash: &str) -> Result<bool, Busy> {
        let (reply, answer) = oneshot::channel();
        let job = Job { secret: secret.to_string(), hash: hash.to_string(), reply };
        match self.jobs.try_send(job) {
            Ok(()) => Ok(answer.await.unwrap_or(false)),
            Err(TrySendError::Full(_)) => Err(Busy),
            Err(TrySendError::Disconnected(_)) => Ok(false),
        }
    }

    /// Spends what a real verification spends, for logins that do not exist or are disabled.
    pub async fn verify_dummy(&self, secret: &str) -> Result<(), Busy> {
        self.verify(secret, &self.dummy_hash).await.map(|_| ())
    }
}

/// After this long without work a pool thread gives its working memory back.
const IDLE_RELEASE: Duration = Duration::from_secs(2);

/// One pool thread: takes jobs until the hasher is dropped, reusing its working memory while busy and
/// giving it back when idle (a login storm's memory does not stay with the process).
///
/// Each thread waits on the queue with its own timeout (an MPMC channel): behind a mutex, the idle
/// thread held the lock in its wait and the one that had worked could not come back to time out, so
/// its 19 MiB stayed for good.
fn verifier(queue: &Receiver<Job>) {
    let mut memory: Vec<Block> = Vec::new();
    loop {
        let job = match queue.recv_timeout(IDLE_RELEASE) {
            Ok(job) => job,
            Err(RecvTimeoutError::Timeout) => {
                memory = Vec::new();
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => return,
        };
        let matched = matches(&mut memory, job.secret.as_bytes(), &job.hash);
        let _ = job.reply.send(matched);
    }
}

/// argon2 of `secret` with the algorithm, version, parameters and salt `phc` names, in `memory`
/// (grown once to what the parameters need), compared in constant time with `phc`'s output.
fn matches(memory: &mut Vec<Block>, secret: &[u8], phc: &str) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else { return false };
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else { return false };
    let (Ok(algorithm), Ok(params)) = (Algorithm::try_from(hash.algorithm.as_str()), Params::try_from(&hash))
    else {
        return false;
    };
    let Ok(version) = Version::try_from(hash.version.unwrap_or(0x13)) else { return false };
    let blocks = params.block_count();
    if blocks > MAX_BLOCKS {
        return false;
    }
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    let mut out = vec![0u8; expected.as_ref().len()];
    let argon2 = Argon2::new(algorithm, version, params);
    argon2.hash_password_into_with_memory(secret, salt, &mut out, &mut memory[..blocks]).is_ok()
        && bool::from(out.ct_eq(expected.as_ref()))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn cheap() -> Argon2Cost {
        Argon2Cost { memory_kib: 64, iterations: 1, parallelism: 1, queue: 4 }
    }

    #[tokio::test]
    async fn verifies_what_it_hashed_and_nothing_else() {
        let hasher = PasswordHasher::new(cheap()).unwrap();
        let hash = hasher.hash("correct horse").await.unwrap();
        assert_eq!(hasher.verify("correct horse", &hash).await, Ok(true));
        assert_eq!(hasher.verify("correct horsE", &hash).await, Ok(false));
        assert_eq!(hasher.verify("correct horse", "not a hash").await, Ok(false));
        // A hash made with other parameters (as stored by an older configuration) still verifies.
        let other = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(128, 2, 1, None).unwrap());
        let old = other.hash_password(b"s3cret").unwrap().to_string();
        assert_eq!(hasher.verify("s3cret", &old).await, Ok(true));
    }

    #[tokio::test]
    async fn a_full_queue_is_busy_at_once() {
        let slow = Argon2Cost { memory_kib: 32 * 1024, iterations: 4, parallelism: 1, queue: 1 };
        let hasher = Arc::new(PasswordHasher::new(slow).unwrap());
        let hash = hasher.hash("x").await.unwrap();
        let attempts = (0..32).map(|_| {
            let (hasher, hash) = (hasher.clone(), hash.clone());
            tokio::spawn(async move { hasher.verify("x", &hash).await })
        });
        let results = futures_util::future::join_all(attempts).await;
        let busy = results.iter().filter(|r| matches!(r, Ok(Err(Busy)))).count();
        assert!(busy > 0, "32 at once into a queue of 1 behind a thread per core");
        assert!(results.iter().any(|r| matches!(r, Ok(Ok(true)))));
    }
}
