//! The store's side of secrets at rest (see `crate::secrets`): sealing on write, opening on read, and
//! at start the check that the keys given are this database's.

use crate::domain::model::ChannelSettings;
use crate::secrets::{KeyFileError, OpenError, Purpose, SealError, SecretKeys};

use super::rows::channel_settings;
use super::{StoreError, StoreResult};
use crate::domain::ports::SecretStore;

/// The `server_keys` row that holds a value sealed under the database's key: if no key given opens
/// it, the keys are the wrong ones and nothing is read or written.
pub const KEY_CHECK: &str = "secret_key_check";
const KEY_CHECK_TEXT: &[u8] = b"chatgate";

impl From<SealError> for StoreError {
    fn from(e: SealError) -> Self {
        StoreError::Backend(e.to_string())
    }
}

fn unopened(what: &str, e: OpenError) -> StoreError {
    StoreError::Backend(format!("{what}: {e}"))
}

pub fn open_settings(keys: &SecretKeys, channel_id: i64, stored: &str) -> StoreResult<ChannelSettings> {
    let text = keys
        .open_text(Purpose::ChannelSettings, stored)
        .map_err(|e| unopened(&format!("channel {channel_id} settings"), e))?;
    channel_settings(channel_id, &text)
}

pub fn seal_settings(keys: &SecretKeys, settings: &ChannelSettings) -> StoreResult<String> {
    Ok(keys.seal_text(Purpose::ChannelSettings, &settings.to_json())?)
}

pub fn open_text(keys: &SecretKeys, purpose: Purpose, what: &str, stored: &str) -> StoreResult<String> {
    keys.open_text(purpose, stored).map_err(|e| unopened(what, e))
}

pub fn open_bytes(keys: &SecretKeys, purpose: Purpose, what: &str, stored: &[u8]) -> StoreResult<Vec<u8>> {
    keys.open(purpose, stored).map_err(|e| unopened(what, e))
}

pub fn seal_bytes(keys: &SecretKeys, purpose: Purpose, plain: &[u8]) -> StoreResult<Vec<u8>> {
    Ok(keys.seal(purpose, plain)?.into_bytes())
}

/// A webhook's extra headers (a JSON object). Taken as they are when stored plainly: by a version
/// that did not seal them, still running beside this one (each start seals them, `unlock`).
pub fn open_headers(keys: &SecretKeys, webhook_id: i64, stored: &str) -> StoreResult<String> {
    match keys.open_text(Purpose::WebhookHeaders, stored) {
        Err(OpenError::NotSealed) => Ok(stored.to_string()),
        other => other.map_err(|e| unopened(&format!("webhook {webhook_id} headers"), e)),
    }
}

/// While re-sealing: a stored value's plain text. Values written before secrets were sealed are
/// taken as they are, but only in a database that has no key check yet (the first start with this
/// version); anywhere else an unsealed value is an error, not a secret to trust.
pub fn open_for_reseal(
    keys: &SecretKeys,
    purpose: Purpose,
    what: &str,
    stored: &[u8],
    legacy: bool,
) -> StoreResult<Vec<u8>> {
    match keys.open(purpose, stored) {
        Err(OpenError::NotSealed) if legacy => Ok(stored.to_vec()),
        other => other.map_err(|e| unopened(what, e)),
    }
}

/// A sealed value in the type its column is read as (`String` for text, `Vec<u8>` for bytes).
pub fn same_type<T: From<String>>(_stored: &T, sealed: String) -> T {
    T::from(sealed)
}

/// The key check's value, sealed under the newest key.
pub fn key_check(keys: &SecretKeys) -> StoreResult<Vec<u8>> {
    seal_bytes(keys, Purpose::KeyCheck, KEY_CHECK_TEXT)
}

#[derive(Debug, thiserror::Error)]
pub enum UnlockError {
    #[error(
        "the secret key file {file} does not exist, and this database's secrets are sealed under key {sealed}: \
         put the key file back or give the keys in CHATGATE_SECRET_KEY (nothing was written)"
    )]
    MissingKeyFile { file: String, sealed: String },
    #[error(
        "none of the secret keys given (ids {given}) opens this database's secrets, sealed under key {sealed}: \
         give that key (CHATGATE_SECRET_KEY, or secrets.key_file) — nothing was written"
    )]
    WrongKey { given: String, sealed: String },
    #[error("{0}")]
    KeyFile(#[from] KeyFileError),
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// At start: refuses keys that do not open the database's key check; on a database without one (new,
/// or written by a version that stored secrets plainly), writes a generated key file, then seals
/// every secret and the check.
pub async fn unlock(store: &dyn SecretStore, keys: &SecretKeys) -> Result<(), UnlockError> {
    match store.secret_key_check().await? {
        Some(check) => match keys.open(Purpose::KeyCheck, &check) {
            Ok(_) => {
                let sealed = store.seal_plain_webhook_headers().await?;
                if sealed > 0 {
                    tracing::info!(webhooks = sealed, "sealed webhook headers stored by an earlier version");
                }
                Ok(())
            }
            Err(e) => {
                let sealed = crate::secrets::key_id_of(&String::from_utf8_lossy(&check)).unwrap_or_default();
                if let (Some(file), OpenError::UnknownKey(_)) = (keys.generated_file(), &e) {
                    return Err(UnlockError::MissingKeyFile { file: file.display().to_string(), sealed });
                }
                Err(UnlockError::WrongKey { given: keys.ids().join(", "), sealed })
            }
        },
        None => {
            if let Some(file) = keys.generated_file() {
                let file = file.display().to_string();
                keys.persist_generated()?;
                tracing::warn!(
                    file,
                    key = keys.newest_id(),
                    "created a new secret key file (mode 0600); back it up: without it the database's secrets cannot be read"
                );
            }
            let report = store.reseal_secrets().await?;
            if report.total() > 0 {
                tracing::info!(?report, "sealed secrets stored by an earlier version");
            }
            Ok(())
        }
    }
}
