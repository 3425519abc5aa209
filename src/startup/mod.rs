//! Builds the application: store, authenticator, gateway, the doors and health routes, on a listener
//! bound from the configuration (port 0 in tests).

mod background;
mod serving;

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::web;

use crate::auth::Authenticator;
use crate::auth::rate::ApiRateLimits;
use crate::auth::tokens::{TokenService, TokenStartError};
use crate::config::Settings;
use crate::delivery::connectors::Connectors;
use crate::delivery::connectors::fetch::Fetcher;
use crate::domain::Gateway;
use crate::doors::inbound::media::MediaSigner;
use crate::doors::live::{Gate, Live};
use crate::doors::webchat::WebchatLimits;
use crate::doors::webchat::visitor::VisitorKeys;
use crate::doors::{AppState, PagesState};
use crate::metrics::Metrics;
use crate::secrets::SecretKeys;
use crate::server::Budget;
use crate::storage::watch::{AccountCache, watch_account_changes};
use crate::storage::{self, Store};
use background::Background;

pub struct Application {
    port: u16,
    server: Server,
    /// `/metrics` on its own address (`metrics.listen`), with its port.
    metrics_server: Option<(Server, u16)>,
    core: Core,
    tokens: Arc<TokenService>,
    live: Arc<Live>,
    background: Background,
    shutdown_timeout: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("storage: {0}")]
    Store(#[from] storage::StoreError),
    #[error("secret keys: {0}")]
    Secrets(#[from] storage::sealed::UnlockError),
    #[error("secret keys: {0}")]
    KeyFile(#[from] crate::secrets::KeyFileError),
    #[error("password hashing: {0}")]
    Hash(#[from] crate::auth::password::HashError),
    #[error("signing keys: {0}")]
    Tokens(#[from] TokenStartError),
    #[error("outbound HTTP client: {0}")]
    Client(#[from] reqwest::Error),
    #[error("listen on {addr}: {source}")]
    Listen { addr: String, source: std::io::Error },
}

/// The store, the authenticator and the gateway over them, without a server: what the CLI and the
/// server share.
#[derive(Clone)]
pub struct Core {
    pub gateway: Gateway,
    pub auth: Arc<Authenticator>,
    store: Arc<dyn Store>,
}

impl Core {
    /// The store itself: for the workers, the token service, administration and the CLI.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Administration through the same store and password hasher as the server.
    pub fn admin(&self) -> crate::admin::Admin<'_> {
        crate::admin::Admin { store: &self.store, hasher: self.auth.hasher() }
    }
}

pub async fn build_core(settings: &Settings) -> Result<Core, StartError> {
    let keys = SecretKeys::load(settings.secret_key.as_ref(), &settings.secrets.key_file)?;
    let store: Arc<dyn Store> =
        storage::connect(&settings.database_url, &settings.db, Arc::new(keys)).await?;
    let auth = Arc::new(Authenticator::new(store.clone(), &settings.auth)?);
    let urls = crate::net::address_policy(&settings.outbound);
    let limits = Arc::new(ApiRateLimits::new(&settings.rate_limit));
    let gateway = Gateway::new(store.clone(), auth.clone(), urls).with_request_limits(limits);
    Ok(Core { gateway, auth, store })
}

impl Application {
    /// Core, workers, caches that hear of changes, listener, token service, the doors' state, servers.
    pub async fn build(settings: Settings) -> Result<Self, StartError> {
        let mut core = build_core(&settings).await?;
        let store = core.store().clone();
        let poll = Duration::from_millis(settings.auth.change_poll_ms.max(10));
        let connectors = Arc::new(connectors(&settings)?);
        core.gateway = core.gateway.with_template_source(connectors.clone());
        background::refresh_templates(core.gateway.clone(), settings.connectors.templates_refresh_secs);
        let metrics = Arc::new(Metrics::new());
        let background =
            Background::start(&settings, &store, core.gateway.channels(), &connectors, &metrics)?;
        let budget = Budget::at_start(settings.connections.max, settings.streams.max);
        let live = Live::start(
            store.chat_news(),
            store.clone(),
            Gate::new(budget.streams, &settings.streams),
            settings.db.readers,
        );
        let auth: Arc<dyn AccountCache> = core.auth.clone();
        let channels: Arc<dyn AccountCache> = core.gateway.channels().clone();
        let consoles: Arc<dyn AccountCache> = live.clone();
        let caches = vec![Arc::downgrade(&auth), Arc::downgrade(&channels), Arc::downgrade(&consoles)];
        watch_account_changes(store.clone(), caches, poll);
        let listen_err = |source| StartError::Listen { addr: settings.listen.clone(), source };
        let listener = TcpListener::bind(&settings.listen).map_err(listen_err)?;
        let local = listener.local_addr().map_err(listen_err)?;
        let tokens = start_tokens(&core, &settings, local).await?;
        tokens.watch(poll);
        let shutdown_timeout = Duration::from_secs(settings.shutdown_timeout_secs);
        let settings = Arc::new(settings);
        let pages = PagesState {
            gateway: core.gateway.clone(),
            settings: settings.clone(),
            visitors: VisitorKeys::new(store.server_key("webchat", &rand::random::<[u8; 32]>()).await?),
            webchat_limits: WebchatLimits::new(&settings.webchat),
            live: live.clone(),
        };
        let state = AppState {
            openapi: Arc::new(crate::docs::served(settings.public_url.as_deref())),
            listen_addr: local,
            gateway: core.gateway.clone(),
            tokens: tokens.clone(),
            media: MediaSigner::new(store.server_key("media", &rand::random::<[u8; 32]>()).await?),
            settings,
            connectors,
            live: live.clone(),
            metrics: metrics.clone(),
            backlog: Default::default(),
        };
        let data = (web::Data::new(state), web::Data::new(pages), web::Data::from(metrics));
        let servers = serving::start(listener, data, budget)?;
        Ok(Self {
            port: local.port(),
            server: servers.main,
            metrics_server: servers.metrics,
            core,
            tokens,
            live,
            background,
            shutdown_timeout,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of `metrics.listen`, when set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_server.as_ref().map(|(_, port)| *port)
    }

    pub fn gateway(&self) -> &Gateway {
        &self.core.gateway
    }

    pub fn core(&self) -> &Core {
        &self.core
    }

    pub fn tokens(&self) -> &Arc<TokenService> {
        &self.tokens
    }

    /// The event streams' news and count.
    pub fn live(&self) -> Arc<Live> {
        self.live.clone()
    }

    /// A handle that stops the server gracefully (requests in flight are drained).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let _metrics = self.metrics_server.map(|(server, _)| serving::MetricsTask::spawn(server));
        self.server.await
    }

    /// Serves until SIGTERM or SIGINT, then stops gracefully (SPEC §8): no new connections; requests in
    /// flight, and the workers (which finish their sends and give back their other claims), get up to
    /// `shutdown_timeout_secs` from the signal; then the process returns (exit 0). A second signal
    /// meanwhile exits at once (status 1).
    pub async fn run_until_signalled(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let (timeout, background) = (self.shutdown_timeout, self.background);
        let _metrics = self.metrics_server.map(|(server, _)| serving::MetricsTask::spawn(server));
        let (stopped_tx, stopped_rx) = tokio::sync::oneshot::channel();
        let signal = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let seen = signal.clone();
        tokio::spawn(async move {
            signalled().await;
            seen.store(true, std::sync::atomic::Ordering::Release);
            let deadline = tokio::time::Instant::now() + timeout;
            tracing::info!("stopping: no new connections; requests in flight and workers may finish");
            tokio::spawn(handle.stop(true));
            tokio::spawn(async {
                signalled().await;
                tracing::warn!("second signal: exiting at once");
                std::process::exit(1);
            });
            let _ = stopped_tx.send(background.stop(deadline).await);
        });
        let served = self.server.await;
        // The server stopped; if a signal stopped it, the workers' stop (bounded by the same deadline)
        // is awaited too.
        if signal.load(std::sync::atomic::Ordering::Acquire)
            && let Ok(false) = stopped_rx.await
        {
            tracing::warn!(
                "workers still held claims at the deadline: sends in flight were cut; their entries are free for the next worker"
            );
        }
        served
    }
}

/// The next SIGTERM or SIGINT.
async fn signalled() {
    use tokio::signal::unix::{SignalKind, signal};
    match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        // Without signal handlers (not expected on Unix) Ctrl-C still stops the server.
        _ => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// The token service, its issuer the configured one, else the public URL, else the listen address.
async fn start_tokens(
    core: &Core,
    settings: &Settings,
    local: SocketAddr,
) -> Result<Arc<TokenService>, StartError> {
    let issuer = settings
        .oauth
        .issuer
        .clone()
        .or_else(|| settings.public_url.clone())
        .unwrap_or_else(|| format!("http://{local}"));
    Ok(TokenService::start(core.auth.clone(), core.store().clone(), settings.oauth.clone(), issuer).await?)
}

/// The platform connectors over the one outbound HTTP client (the CLI's `channel webhook` uses them too).
pub fn connectors(settings: &Settings) -> Result<Connectors, StartError> {
    let file_timeout = Duration::from_millis(settings.outbound.file_timeout_ms);
    let policy = crate::net::address_policy(&settings.outbound);
    let timeout = Duration::from_millis(settings.outbound.request_timeout_ms);
    let files =
        Fetcher::new(crate::net::customer_client(&settings.outbound, policy.clone(), timeout)?, policy);
    Ok(Connectors::new(crate::net::client(&settings.outbound)?, files, &settings.connectors, file_timeout))
}
