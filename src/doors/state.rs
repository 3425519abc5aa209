//! What every handler may use: built by `crate::startup`, handed to each door through actix's app data.

use std::sync::Arc;

use crate::auth::tokens::TokenService;
use crate::config::Settings;
use crate::delivery::connectors::Connectors;
use crate::domain::Gateway;
use crate::doors::inbound::media::MediaSigner;
use crate::doors::live::Live;
use crate::doors::operating::BacklogCache;
use crate::doors::webchat::WebchatLimits;
use crate::doors::webchat::visitor::VisitorKeys;
use crate::metrics::Metrics;

/// What the pages' doors (the webchat visitor API, the operator console) use, and only they.
pub struct PagesState {
    pub gateway: Gateway,
    pub settings: Arc<Settings>,
    /// Signs webchat visitors' tokens.
    pub visitors: VisitorKeys,
    pub webchat_limits: WebchatLimits,
    /// Chat news for the event streams (webchat pages, consoles), and their caps.
    pub live: Arc<Live>,
}

/// What the API doors, the platforms' webhooks and the operating endpoints use.
pub struct AppState {
    /// The OpenAPI document as served (`docs::served`), built once at start.
    pub openapi: Arc<serde_json::Value>,
    /// The address the server listens on (the WSDL's host when a request names none).
    pub listen_addr: std::net::SocketAddr,
    pub gateway: Gateway,
    pub tokens: Arc<TokenService>,
    pub settings: Arc<Settings>,
    /// The platforms' APIs (inbound files are fetched through them).
    pub connectors: Arc<Connectors>,
    /// Signs the URLs of received files.
    pub media: MediaSigner,
    /// How many event streams are open (`/metrics`).
    pub live: Arc<Live>,
    pub metrics: Arc<Metrics>,
    /// The outbox backlog last read for `/metrics`.
    pub backlog: BacklogCache,
}
