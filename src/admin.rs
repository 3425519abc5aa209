//! Administration: accounts, accesses, IP filters, channels, demo data. Used by the CLI, and by the
//! tests to set up their fixtures through the same code path.

use std::sync::Arc;

use rand::distr::{Alphanumeric, SampleString};

use crate::auth::ip_filter::parse_cidr;
use crate::auth::password::{HashError, PasswordHasher};
use crate::delivery::connectors::telegram::Telegram;
use crate::domain::channel_rules;
use crate::domain::model::{ChannelSettings, Platform, Scopes};
use crate::storage::{NewAccess, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Hash(#[from] HashError),
}

pub type AdminResult<T> = Result<T, AdminError>;

/// A new access as the CLI takes it.
#[derive(Debug, Clone)]
pub struct AccessSpec {
    pub account_login: String,
    pub login: String,
    /// Its password; `None` for an access that has only an API token.
    pub secret: Option<String>,
    /// Give it an API token (shown once, by `create_access`'s answer).
    pub token: bool,
    /// The one channel it may use.
    pub channel: Option<i64>,
    /// The operator group it belongs to (offered by the console's `Assign to`).
    pub group: Option<String>,
    pub name: Option<String>,
    /// Default: `chat:read chat:write`.
    pub scopes: Option<String>,
    pub allow_ip: Vec<String>,
}

pub struct Admin<'a> {
    pub store: &'a Arc<dyn Store>,
    pub hasher: &'a PasswordHasher,
}

/// Logins are what callers type into URLs and headers: no spaces, no control characters, and no `:`
/// (it would split HTTP Basic credentials).
fn check_login(login: &str) -> AdminResult<()> {
    let ok = !login.is_empty()
        && login.chars().count() <= 255
        && !login.chars().any(|c| c.is_whitespace() || c.is_control() || c == ':');
    if ok { Ok(()) } else { Err(AdminError::Invalid(format!("invalid login: {login:?}"))) }
}

fn check_secret(secret: &str) -> AdminResult<()> {
    if secret.is_empty() || secret.len() > 1024 {
        return Err(AdminError::Invalid("a password or secret must have 1 to 1024 bytes".into()));
    }
    Ok(())
}

/// `KEY=VALUE` pairs; an empty value is `None` (remove the key).
fn parse_settings(pairs: &[String]) -> AdminResult<Vec<(String, Option<String>)>> {
    pairs
        .iter()
        .map(|pair| {
            let (k, v) = pair
                .split_once('=')
                .filter(|(k, _)| !k.trim().is_empty())
                // The value is a secret: never echo it.
                .ok_or_else(|| AdminError::Invalid("a setting is KEY=VALUE".into()))?;
            Ok((k.trim().to_string(), Some(v.to_string()).filter(|v| !v.is_empty())))
        })
        .collect()
}

fn no_channel(id: i64) -> AdminError {
    AdminError::Invalid(format!("no channel {id}"))
}

fn parse_channel_id(text: &str) -> AdminResult<i64> {
    text.trim().parse().map_err(|_| AdminError::Invalid(format!("not a platformid: {text:?}")))
}

fn parse_cidrs(list: &[String]) -> AdminResult<Vec<ipnet::IpNet>> {
    list.iter().map(|s| parse_cidr(s).map_err(AdminError::Invalid)).collect()
}

impl Admin<'_> {
    pub async fn create_account(&self, login: &str, password: &str) -> AdminResult<i64> {
        check_login(login)?;
        check_secret(password)?;
        let hash = self.hasher.hash(password).await?;
        Ok(self.store.create_account(login, &hash).await?)
    }

    /// Replaces the account-wide allow-list; an empty list allows every address.
    pub async fn set_ip_filter(&self, login: &str, cidrs: &[String]) -> AdminResult<()> {
        Ok(self.store.set_account_ip_filter(login, &parse_cidrs(cidrs)?).await?)
    }

    /// Creates an access; its id, and its API token when it was given one (shown this once: only its
    /// hash is kept).
    pub async fn create_access(&self, spec: &AccessSpec) -> AdminResult<(i64, Option<String>)> {
        check_login(&spec.login)?;
        if spec.secret.is_none() && !spec.token {
            return Err(AdminError::Invalid(
                "an access needs a secret (--secret), a token (--token), or both".into(),
            ));
        }
        let secret_hash = match &spec.secret {
            Some(secret) => {
                check_secret(secret)?;
                self.hasher.hash(secret).await?
            }
            None => String::new(),
        };
        let scopes = Scopes::parse(spec.scopes.as_deref().unwrap_or("chat:read,chat:write"))
            .map_err(|s| AdminError::Invalid(format!("unknown scope: {s}")))?;
        let token = spec.token.then(crate::auth::api_token::generate);
        let access = NewAccess {
            account_login: spec.account_login.clone(),
            login: spec.login.clone(),
            name: spec.name.clone().unwrap_or_else(|| spec.login.clone()),
            secret_hash,
            scopes,
            ip_allow: parse_cidrs(&spec.allow_ip)?,
            token_hash: token.as_deref().map(crate::auth::api_token::hash),
            channel_id: spec.channel,
            group: spec.group.as_deref().map(check_group).transpose()?,
        };
        let id = self.store.create_access(&access).await.map_err(|e| match e {
            StoreError::NotFound("channel") => AdminError::Invalid(format!(
                "no channel {} of account {}",
                spec.channel.unwrap_or_default(),
                spec.account_login
            )),
            other => other.into(),
        })?;
        Ok((id, token))
    }

    pub async fn set_access_enabled(&self, login: &str, enabled: bool) -> AdminResult<()> {
        Ok(self.store.set_access_enabled(login, enabled).await?)
    }

    /// Sets a new password (account) or secret (access).
    pub async fn set_secret(&self, login: &str, secret: &str) -> AdminResult<()> {
        check_secret(secret)?;
        let hash = self.hasher.hash(secret).await?;
        Ok(self.store.set_secret(login, &hash).await?)
    }

    /// `settings` are `KEY=VALUE` pairs (bot token, phone-number id, …), kept and never shown by the API.
    pub async fn create_channel(
        &self,
        account_login: &str,
        platform: &str,
        name: &str,
        settings: &[String],
    ) -> AdminResult<i64> {
        let platform = Platform::parse(platform)
            .ok_or_else(|| AdminError::Invalid(format!("unknown platform: {platform}")))?;
        if name.trim().is_empty() {
            return Err(AdminError::Invalid("a channel needs a name".into()));
        }
        let mut stored = ChannelSettings::default();
        for (k, v) in parse_settings(settings)? {
            stored.set(&k, v);
        }
        channel_rules::check(platform, &stored).map_err(AdminError::Invalid)?;
        Ok(self.store.create_channel(account_login, platform, name, &stored).await?)
    }

    /// Changes settings of a channel (`KEY=VALUE`; `KEY=` removes the key). Every instance sees the
    /// change through the account change log.
    pub async fn set_channel_settings(&self, channel_id: &str, settings: &[String]) -> AdminResult<()> {
        let id = parse_channel_id(channel_id)?;
        if settings.is_empty() {
            return Err(AdminError::Invalid("name at least one KEY=VALUE".into()));
        }
        let changes = parse_settings(settings)?;
        let mut config = self.store.channel_config(id).await?.ok_or_else(|| no_channel(id))?;
        for (k, v) in &changes {
            config.settings.set(k, v.clone());
        }
        channel_rules::check(config.channel.platform, &config.settings).map_err(AdminError::Invalid)?;
        self.store.set_channel_settings(id, &changes).await.map_err(|e| match e {
            StoreError::NotFound(_) => no_channel(id),
            e => e.into(),
        })
    }

    /// Registers a Telegram channel's inbound URL (`{public_url}/inbound/telegram/{id}`) with
    /// `setWebhook`, with the channel's `webhook_secret` (created and stored first if it has none).
    /// Returns the URL registered.
    pub async fn register_telegram_webhook(
        &self,
        channel_id: &str,
        public_url: Option<&str>,
        telegram: &Telegram,
    ) -> AdminResult<String> {
        let id = parse_channel_id(channel_id)?;
        let config = self
            .store
            .channel_config(id)
            .await?
            .ok_or_else(|| AdminError::Invalid(format!("no channel {id}")))?;
        if config.channel.platform != Platform::Telegram {
            return Err(AdminError::Invalid(format!(
                "channel {id} is a {} channel, not telegram",
                config.channel.platform
            )));
        }
        let public_url = public_url.ok_or_else(|| {
            AdminError::Invalid(
                "set public_url (CHATGATE_PUBLIC_URL) to the https address Telegram can reach".into(),
            )
        })?;
        let token = config
            .settings
            .get("bot_token")
            .ok_or_else(|| AdminError::Invalid(format!("channel {id} has no bot_token setting")))?;
        let secret = match config.settings.get("webhook_secret") {
            Some(s) => s.to_string(),
            None => {
                // Telegram allows 1–256 characters of A-Z a-z 0-9 _ -.
                let s = Alphanumeric.sample_string(&mut rand::rng(), 48);
                self.store.set_channel_settings(id, &[("webhook_secret".into(), Some(s.clone()))]).await?;
                s
            }
        };
        let url = format!("{}/inbound/telegram/{id}", public_url.trim_end_matches('/'));
        telegram.set_webhook(token, &url, &secret).await.map_err(|e| AdminError::Invalid(e.0))?;
        Ok(url)
    }

    /// On an empty database: a `demo` account with a webchat and an operator channel. `None` when
    /// the database already had accounts.
    pub async fn create_demo(&self) -> AdminResult<Option<Demo>> {
        if self.store.account_count().await? > 0 {
            return Ok(None);
        }
        let password = Alphanumeric.sample_string(&mut rand::rng(), 20);
        self.create_account("demo", &password).await?;
        let webchat = self.create_channel("demo", "webchat", "Website chat", &[]).await?;
        let operator = self.create_channel("demo", "operator", "Support desk", &[]).await?;
        Ok(Some(Demo { login: "demo".into(), password, webchat, operator }))
    }
}

#[derive(Debug, Clone)]
pub struct Demo {
    pub login: String,
    pub password: String,
    pub webchat: i64,
    pub operator: i64,
}

/// A group's name: a short word (letters, digits, `-`, `_`, `.`), as the console lists it.
fn check_group(name: &str) -> AdminResult<String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(name.to_string())
    } else {
        Err(AdminError::Invalid(format!("not a group name: {name:?} (letters, digits, - _ .)")))
    }
}
