//! Secrets at rest (SPEC §8): what the database keeps that would let a reader act as the account —
//! channel settings (bot tokens, WhatsApp access tokens and app secrets), webhook signing secrets, the
//! access tokens' private signing keys and the server's own random keys — is stored sealed with
//! AES-256-GCM-SIV (aws-lc-rs) under the system secret key, so a copied database file or backup
//! reveals none of it.
//!
//! The keys are a list, newest first (`CHATGATE_SECRET_KEY`, or the key file): the newest seals, any
//! of them opens, so `chatgate secrets rotate` can re-seal everything under a new key while values
//! still sealed under an older one stay readable. A sealed value names its key:
//! `sealed:1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>`, and is bound to what it is (the
//! `Purpose`, as associated data), so a value copied into another column does not open.

mod key_file;

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use aws_lc_rs::aead::{AES_256_GCM_SIV, Aad, NONCE_LEN, Nonce, RandomizedNonceKey};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use key_file::{KeyFileError, generate_key, read as read_key_file, replace as replace_key_file};

const PREFIX: &str = "sealed:1:";
/// How often an unknown key id may make the key file be read again (a `secrets rotate` run by another
/// process prepends a key that this one has not seen yet).
const RELOAD_EVERY: Duration = Duration::from_secs(1);

/// What a sealed value is; bound into its seal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    ChannelSettings,
    WebhookSecret,
    WebhookHeaders,
    SigningKey,
    ServerKey,
    /// The value that tells at start whether the keys given are the database's.
    KeyCheck,
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            Purpose::ChannelSettings => b"chatgate channels.settings",
            Purpose::WebhookSecret => b"chatgate webhooks.secret",
            Purpose::WebhookHeaders => b"chatgate webhooks.headers",
            Purpose::SigningKey => b"chatgate signing_keys.private_key",
            Purpose::ServerKey => b"chatgate server_keys.value",
            Purpose::KeyCheck => b"chatgate key check",
        }
    }
}

/// `secrets.*` settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SecretSettings {
    /// One key per line, newest first; used when `secret_key` is unset, and created (mode 0600) with a
    /// new key on a database's first start.
    pub key_file: PathBuf,
}

impl Default for SecretSettings {
    fn default() -> Self {
        Self { key_file: PathBuf::from("chatgate.key") }
    }
}

/// The keys given directly (`secret_key`, i.e. `CHATGATE_SECRET_KEY`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct KeyList(pub String);

impl KeyList {
    /// The list, if it names any key (an empty `CHATGATE_SECRET_KEY` means the key file).
    pub fn given(list: Option<&KeyList>) -> Option<&KeyList> {
        list.filter(|l| !l.0.trim().is_empty())
    }
}

/// Never printed: settings are `Debug`.
impl fmt::Debug for KeyList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyList(redacted)")
    }
}

/// Sealing failed (no key, or the library refused: it does only beyond 64 GiB).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("a secret could not be sealed")]
pub struct SealError;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OpenError {
    #[error("not a sealed value")]
    NotSealed,
    #[error("sealed under key {0}, which is not among the secret keys given")]
    UnknownKey(String),
    #[error("sealed value does not open under key {0} (damaged, or moved from another place)")]
    Damaged(String),
}

struct Key {
    id: String,
    aead: RandomizedNonceKey,
}

impl Key {
    /// None only if the library refuses a 32-byte AES-256 key, which it does not.
    fn new(bytes: &[u8; 32]) -> Option<Self> {
        let digest = Sha256::new().chain_update(b"chatgate secret key id").chain_update(bytes).finalize();
        let aead = RandomizedNonceKey::new(&AES_256_GCM_SIV, bytes).ok()?;
        Some(Key { id: hex::encode(&digest[..4]), aead })
    }
}

/// The secret keys, newest first.
pub struct SecretKeys {
    keys: RwLock<Arc<Vec<Key>>>,
    /// The key file they came from, read again when a value names a key not yet known.
    file: Option<PathBuf>,
    last_read: Mutex<Option<Instant>>,
    /// A key generated at this start, to be written to `file` only once the database is known to
    /// have no secrets sealed under another key.
    generated: Mutex<Option<[u8; 32]>>,
}

impl SecretKeys {
    /// The keys for these settings: `secret_key` (a list, newest first) if set, else the key file;
    /// when the file does not exist, a new key that `persist_generated` writes there.
    pub fn load(list: Option<&KeyList>, file: &std::path::Path) -> Result<Self, KeyFileError> {
        if let Some(list) = KeyList::given(list) {
            return Ok(Self::from_keys(key_file::parse(&list.0, "CHATGATE_SECRET_KEY")?, None));
        }
        match key_file::read(file)? {
            Some(keys) => Ok(Self::from_keys(keys, Some(file.to_path_buf()))),
            None => {
                let key = generate_key();
                let keys = Self::from_keys(vec![key], Some(file.to_path_buf()));
                *lock(&keys.generated) = Some(key);
                Ok(keys)
            }
        }
    }

    /// Keys given directly, newest first (tests, and the key list of the environment).
    pub fn from_keys(keys: Vec<[u8; 32]>, file: Option<PathBuf>) -> Self {
        SecretKeys {
            keys: RwLock::new(Arc::new(keys.iter().filter_map(Key::new).collect())),
            file,
            last_read: Mutex::new(None),
            generated: Mutex::new(None),
        }
    }

    /// The key generated at this start, if the key file did not exist.
    pub fn generated_file(&self) -> Option<&std::path::Path> {
        lock(&self.generated).as_ref().and(self.file.as_deref())
    }

    /// Writes the generated key to the key file (mode 0600, never over an existing file). If another
    /// process created the file meanwhile, its keys are taken instead.
    pub fn persist_generated(&self) -> Result<(), KeyFileError> {
        let (Some(key), Some(file)) = (lock(&self.generated).take(), self.file.as_deref()) else {
            return Ok(());
        };
        if let Some(theirs) = key_file::create(file, &key)? {
            *write(&self.keys) = Arc::new(theirs.iter().filter_map(Key::new).collect());
        }
        Ok(())
    }

    /// The ids of the keys, newest first (for messages; an id reveals nothing of its key).
    pub fn ids(&self) -> Vec<String> {
        read(&self.keys).iter().map(|k| k.id.clone()).collect()
    }

    /// The key that seals.
    pub fn newest_id(&self) -> String {
        read(&self.keys).first().map(|k| k.id.clone()).unwrap_or_default()
    }

    pub fn seal(&self, purpose: Purpose, plain: &[u8]) -> Result<String, SealError> {
        let keys = read(&self.keys);
        let key = keys.first().ok_or(SealError)?;
        let mut data = plain.to_vec();
        let nonce = key
            .aead
            .seal_in_place_append_tag(Aad::from(purpose.label()), &mut data)
            .map_err(|_| SealError)?;
        let mut out = nonce.as_ref().to_vec();
        out.extend_from_slice(&data);
        Ok(format!("{PREFIX}{}:{}", key.id, URL_SAFE_NO_PAD.encode(out)))
    }

    pub fn seal_text(&self, purpose: Purpose, plain: &str) -> Result<String, SealError> {
        self.seal(purpose, plain.as_bytes())
    }

    pub fn open(&self, purpose: Purpose, stored: &[u8]) -> Result<Vec<u8>, OpenError> {
        let text = std::str::from_utf8(stored).map_err(|_| OpenError::NotSealed)?;
        let rest = text.strip_prefix(PREFIX).ok_or(OpenError::NotSealed)?;
        let (id, body) = rest.split_once(':').ok_or(OpenError::NotSealed)?;
        let mut data = URL_SAFE_NO_PAD.decode(body).map_err(|_| OpenError::Damaged(id.into()))?;
        if data.len() < NONCE_LEN {
            return Err(OpenError::Damaged(id.into()));
        }
        let keys = match self.find(id) {
            Some(keys) => keys,
            None => self.reread_for(id).ok_or_else(|| OpenError::UnknownKey(id.into()))?,
        };
        let key = keys.iter().find(|k| k.id == id).ok_or_else(|| OpenError::UnknownKey(id.into()))?;
        let nonce = Nonce::try_assume_unique_for_key(&data[..NONCE_LEN])
            .map_err(|_| OpenError::Damaged(id.into()))?;
        let plain = key
            .aead
            .open_in_place(nonce, Aad::from(purpose.label()), &mut data[NONCE_LEN..])
            .map_err(|_| OpenError::Damaged(id.into()))?
            .to_vec();
        Ok(plain)
    }

    pub fn open_text(&self, purpose: Purpose, stored: &str) -> Result<String, OpenError> {
        let bytes = self.open(purpose, stored.as_bytes())?;
        String::from_utf8(bytes).map_err(|_| OpenError::Damaged(key_id_of(stored).unwrap_or_default()))
    }

    /// Whether `stored` is sealed under the newest key (then re-sealing it changes nothing).
    pub fn is_sealed_under_newest(&self, stored: &[u8]) -> bool {
        std::str::from_utf8(stored).ok().and_then(key_id_of).is_some_and(|id| id == self.newest_id())
    }

    fn find(&self, id: &str) -> Option<Arc<Vec<Key>>> {
        let keys = read(&self.keys);
        keys.iter().any(|k| k.id == id).then(|| keys.clone())
    }

    /// Reads the key file again (at most once a second) and answers the keys if `id` is among them.
    fn reread_for(&self, id: &str) -> Option<Arc<Vec<Key>>> {
        let file = self.file.as_deref()?;
        {
            let mut last = lock(&self.last_read);
            if last.is_some_and(|at| at.elapsed() < RELOAD_EVERY) {
                return None;
            }
            *last = Some(Instant::now());
        }
        let keys = key_file::read(file).ok().flatten()?;
        let keys: Arc<Vec<Key>> = Arc::new(keys.iter().filter_map(Key::new).collect());
        if !keys.iter().any(|k| k.id == id) {
            return None;
        }
        tracing::info!(file = %file.display(), keys = keys.len(), "read the secret key file again: a value was sealed under a newer key");
        *write(&self.keys) = keys.clone();
        Some(keys)
    }
}

/// The key id a sealed value names.
pub fn key_id_of(stored: &str) -> Option<String> {
    stored.strip_prefix(PREFIX)?.split_once(':').map(|(id, _)| id.to_string())
}

/// A key as the key file and `CHATGATE_SECRET_KEY` write it.
pub fn encode_key(key: &[u8; 32]) -> String {
    STANDARD.encode(key)
}

fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|e| e.into_inner())
}

fn lock<T>(l: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    l.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_under_their_purpose_and_any_listed_key() {
        let old = generate_key();
        let keys = SecretKeys::from_keys(vec![old], None);
        let sealed = keys.seal_text(Purpose::WebhookSecret, "whsec_abc").unwrap();
        assert!(!sealed.contains("whsec_abc"));
        assert_eq!(keys.open_text(Purpose::WebhookSecret, &sealed).unwrap(), "whsec_abc");
        assert!(matches!(keys.open_text(Purpose::ChannelSettings, &sealed), Err(OpenError::Damaged(_))));
        assert_eq!(keys.open_text(Purpose::WebhookSecret, "whsec_abc"), Err(OpenError::NotSealed));

        let rotated = SecretKeys::from_keys(vec![generate_key(), old], None);
        assert_eq!(rotated.open_text(Purpose::WebhookSecret, &sealed).unwrap(), "whsec_abc");
        assert!(!rotated.is_sealed_under_newest(sealed.as_bytes()));
        let resealed = rotated.seal_text(Purpose::WebhookSecret, "whsec_abc").unwrap();
        assert!(rotated.is_sealed_under_newest(resealed.as_bytes()));
        let other = SecretKeys::from_keys(vec![generate_key()], None);
        assert!(matches!(other.open_text(Purpose::WebhookSecret, &sealed), Err(OpenError::UnknownKey(_))));
    }
}
