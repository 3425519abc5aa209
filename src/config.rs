//! Typed settings: defaults, then a TOML file, then `CHATGATE_*` environment variables (nested keys
//! with `__`, e.g. `CHATGATE_AUTH__CHANGE_POLL_MS`). Built once at start and passed down explicitly.

use std::path::Path;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::auth::AuthSettings;
use crate::auth::ip_filter::cidr_list;
use crate::auth::rate::RateLimitSettings;
use crate::auth::tokens::OAuthSettings;
use crate::delivery::DeliverySettings;
use crate::delivery::connectors::ConnectorSettings;
use crate::net::OutboundSettings;
use crate::secrets::{KeyList, SecretSettings};
use crate::server::ConnectionSettings;
use crate::storage::DbSettings;
use crate::webhooks::{ChatSettings, WebhookSettings};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// `sqlite://FILE` (the embedded default) or `postgres://…`.
    pub database_url: String,
    /// Address to listen on; port 0 picks a free one.
    pub listen: String,
    /// Public base URL (used in the WSDL and the OAuth metadata); else the request's own host.
    pub public_url: Option<String>,
    /// Peers whose `Forwarded` / `X-Forwarded-For` are believed. A list, or one comma-separated string.
    #[serde(deserialize_with = "cidr_list")]
    pub trusted_proxies: Vec<IpNet>,
    /// A tracing filter, e.g. `info` or `chatgate=debug,info`.
    pub log: String,
    /// Largest accepted request body, bytes.
    pub body_limit: usize,
    /// actix worker threads; default: one per core.
    pub workers: Option<usize>,
    /// After SIGTERM/SIGINT, how long requests in flight (event streams included) may take to finish.
    pub shutdown_timeout_secs: u64,
    /// A request's body must arrive within this long of its head, else 408 (SPEC §4).
    pub body_timeout_secs: u64,
    /// The keys that seal secrets at rest, base64, newest first, comma-separated
    /// (`CHATGATE_SECRET_KEY`); when unset, `secrets.key_file` holds them.
    pub secret_key: Option<KeyList>,
    pub secrets: SecretSettings,
    pub connections: ConnectionSettings,
    pub streams: StreamSettings,
    pub db: DbSettings,
    pub auth: AuthSettings,
    pub oauth: OAuthSettings,
    pub delivery: DeliverySettings,
    pub connectors: ConnectorSettings,
    pub outbound: OutboundSettings,
    pub webhooks: WebhookSettings,
    pub chat: ChatSettings,
    pub webchat: WebchatSettings,
    pub rate_limit: RateLimitSettings,
    pub metrics: MetricsSettings,
    /// The demo account's webchat channel, linked from the landing page (`serve --demo`).
    #[serde(skip)]
    pub demo_webchat: Option<i64>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            database_url: "sqlite://chatgate.db".into(),
            listen: "127.0.0.1:8080".into(),
            public_url: None,
            trusted_proxies: Vec::new(),
            log: "info,sqlx=warn".into(),
            body_limit: 1024 * 1024,
            workers: None,
            shutdown_timeout_secs: 10,
            body_timeout_secs: 10,
            secret_key: None,
            secrets: SecretSettings::default(),
            connections: ConnectionSettings::default(),
            streams: StreamSettings::default(),
            db: DbSettings::default(),
            auth: AuthSettings::default(),
            oauth: OAuthSettings::default(),
            delivery: DeliverySettings::default(),
            connectors: ConnectorSettings::default(),
            outbound: OutboundSettings::default(),
            webhooks: WebhookSettings::default(),
            chat: ChatSettings::default(),
            webchat: WebchatSettings::default(),
            rate_limit: RateLimitSettings::default(),
            metrics: MetricsSettings::default(),
            demo_webchat: None,
        }
    }
}

/// Limits on what unauthenticated visitors may do (`webchat.*` settings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WebchatSettings {
    pub messages_per_visitor_per_minute: u32,
    pub messages_per_address_per_minute: u32,
    /// New visitors per client address in a minute.
    pub sessions_per_address_per_minute: u32,
    /// History reads and `seen` marks per visitor, and per client address, in a minute.
    pub reads_per_visitor_per_minute: u32,
    pub reads_per_address_per_minute: u32,
}

impl Default for WebchatSettings {
    fn default() -> Self {
        Self {
            messages_per_visitor_per_minute: 30,
            messages_per_address_per_minute: 120,
            sessions_per_address_per_minute: 30,
            reads_per_visitor_per_minute: 120,
            reads_per_address_per_minute: 600,
        }
    }
}

/// `streams.*` settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct StreamSettings {
    /// Open event streams overall (0: half the connection cap, `server::Budget`).
    pub max: usize,
    /// Open event streams per client address (0: no cap).
    pub per_address: usize,
    /// Open event streams per webchat visitor or console session (0: no cap).
    pub per_visitor: usize,
    /// `Retry-After` of a refused stream, seconds.
    pub retry_after_secs: u64,
}

impl Default for StreamSettings {
    fn default() -> Self {
        Self { max: 0, per_address: 32, per_visitor: 4, retry_after_secs: 10 }
    }
}

/// `metrics.*` settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MetricsSettings {
    /// Serve `/metrics` (with `/healthz` and `/readyz`) only on this address, e.g. `127.0.0.1:9090`;
    /// the main address then answers 404 for it.
    pub listen: Option<String>,
    /// Serve `/metrics` only with `Authorization: Bearer {token}`.
    pub token: Option<String>,
}

impl Settings {
    /// Defaults ← `file` (if given) ← `CHATGATE_*` environment.
    pub fn load(file: Option<&Path>) -> Result<Self, Box<figment::Error>> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(f) = file {
            figment = figment.merge(Toml::file_exact(f));
        }
        figment.merge(Env::prefixed("CHATGATE_").split("__")).extract().map_err(Box::new)
    }
}
