//! Builds the application: store, authenticator, gateway, the doors and health routes, on a listener
//! bound from the configuration (port 0 in tests).

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, web};

use crate::auth::Authenticator;
use crate::auth::rate::ApiRateLimits;
use crate::auth::tokens::{TokenService, TokenStartError};
use crate::config::Settings;
use crate::delivery::Worker;
use crate::delivery::connectors::Connectors;
use crate::domain::Gateway;
use crate::doors;
use crate::doors::AppState;
use crate::doors::inbound::media::MediaSigner;
use crate::doors::live::{Gate, Live};
use crate::doors::webchat::WebchatLimits;
use crate::doors::webchat::visitor::VisitorKeys;
use crate::metrics::Metrics;
use crate::secrets::SecretKeys;
use crate::server::{Budget, ConnectionCounts, Listening};
use crate::storage::watch::{AccountCache, watch_account_changes};
use crate::storage::{self, Store};
use crate::{telemetry, webhooks};

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

/// The workers that hold claims in the database, stopped at shutdown so that they finish or give back
/// what they hold.
#[derive(Default)]
struct Background {
    delivery: Option<Arc<Worker>>,
    webhooks: Option<webhooks::SenderHandle>,
}

impl Background {
    /// Both at once, bounded by `deadline`; false if something was still held then.
    async fn stop(self, deadline: tokio::time::Instant) -> bool {
        let delivery = async {
            match &self.delivery {
                Some(w) => w.stop(deadline).await,
                None => true,
            }
        };
        let webhooks = async {
            match self.webhooks {
                Some(h) => h.stop(deadline).await,
                None => true,
            }
        };
        let (a, b) = tokio::join!(delivery, webhooks);
        a && b
    }
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
    pub async fn build(settings: Settings) -> Result<Self, StartError> {
        let core = build_core(&settings).await?;
        let gateway = core.gateway.clone();
        let store = core.store().clone();
        let poll = Duration::from_millis(settings.auth.change_poll_ms.max(10));
        let connectors = Arc::new(connectors(&settings)?);
        let metrics = Arc::new(Metrics::new());
        let auth: Arc<dyn AccountCache> = core.auth.clone();
        let channels: Arc<dyn AccountCache> = gateway.channels().clone();
        let mut caches = vec![Arc::downgrade(&auth), Arc::downgrade(&channels)];
        let mut background = Background::default();
        if settings.delivery.enabled {
            let worker = Worker::start(
                store.clone(),
                connectors.clone(),
                settings.connectors.clone(),
                settings.delivery.clone(),
                store.outbox_signal(),
                metrics.clone(),
            );
            let cache: Arc<dyn AccountCache> = worker.clone();
            caches.push(Arc::downgrade(&cache));
            background.delivery = Some(worker);
        }
        let budget = Budget::at_start(settings.connections.max, settings.streams.max);
        let live = Live::start(store.clone(), Gate::new(budget.streams, &settings.streams));
        let consoles: Arc<dyn AccountCache> = live.clone();
        caches.push(Arc::downgrade(&consoles));
        watch_account_changes(store.clone(), caches, poll);
        if settings.webhooks.enabled {
            let policy = crate::net::address_policy(&settings.outbound);
            let timeout = Duration::from_millis(settings.webhooks.timeout_ms);
            let client = crate::net::customer_client(&settings.outbound, policy.clone(), timeout)?;
            let sender = webhooks::Sender::start(
                store.clone(),
                client,
                policy,
                settings.webhooks.clone(),
                metrics.clone(),
            );
            background.webhooks = Some(sender);
            webhooks::start_sweep(store.clone(), settings.chat.clone(), &settings.webhooks);
        }
        let media = MediaSigner::new(store.server_key("media", &rand::random::<[u8; 32]>()).await?);
        let visitors = VisitorKeys::new(store.server_key("webchat", &rand::random::<[u8; 32]>()).await?);
        let webchat_limits = WebchatLimits::new(&settings.webchat);
        let addr = settings.listen.clone();
        let listen_err = |source| StartError::Listen { addr: addr.clone(), source };
        let listener = TcpListener::bind(&settings.listen).map_err(listen_err)?;
        let local = listener.local_addr().map_err(listen_err)?;
        let port = local.port();
        let issuer = settings
            .oauth
            .issuer
            .clone()
            .or_else(|| settings.public_url.clone())
            .unwrap_or_else(|| format!("http://{local}"));
        let tokens =
            TokenService::start(core.auth.clone(), store.clone(), settings.oauth.clone(), issuer).await?;
        tokens.watch(poll);
        let shutdown_timeout = settings.shutdown_timeout_secs;
        let body_timeout = Duration::from_secs(settings.body_timeout_secs.max(1));
        let workers =
            settings.workers.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        let (connections, trusted_proxies) = (settings.connections.clone(), settings.trusted_proxies.clone());
        let state = web::Data::new(AppState {
            openapi: Arc::new(crate::docs::served(settings.public_url.as_deref())),
            listen_addr: local,
            gateway: gateway.clone(),
            tokens: tokens.clone(),
            settings: Arc::new(settings),
            connectors,
            media,
            visitors,
            webchat_limits,
            live: live.clone(),
            metrics: metrics.clone(),
            backlog: Default::default(),
        });
        let metrics = web::Data::from(metrics);
        let metrics_listen = state.settings.metrics.listen.clone();
        let metrics_server = match &metrics_listen {
            Some(addr) => {
                Some(metrics_server(addr, &state, &metrics, &connections, budget, shutdown_timeout)?)
            }
            None => None,
        };
        let with_metrics = metrics_listen.is_none();
        let counts = ConnectionCounts::new(connections.per_address, budget.connections, trusted_proxies);
        let listening = Listening {
            listener,
            workers,
            shutdown_timeout_secs: shutdown_timeout,
            connections,
            counts,
            budget,
        };
        let server = crate::server::serve(listening, move || {
            App::new()
                .wrap(from_fn(move |req, next| doors::deadline::body_deadline(body_timeout, req, next)))
                .wrap(from_fn(telemetry::log_requests))
                .app_data(state.clone())
                .app_data(metrics.clone())
                .configure(move |cfg| routes(cfg, with_metrics))
        })
        .map_err(listen_err)?;
        let shutdown_timeout = Duration::from_secs(shutdown_timeout);
        Ok(Self { port, server, metrics_server, core, tokens, live, background, shutdown_timeout })
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
        let _metrics = self.metrics_server.map(|(server, _)| MetricsTask::spawn(server));
        self.server.await
    }

    /// Serves until SIGTERM or SIGINT, then stops gracefully (SPEC §8): no new connections; requests in
    /// flight, and the workers (which finish their sends and give back their other claims), get up to
    /// `shutdown_timeout_secs` from the signal; then the process returns (exit 0). A second signal
    /// meanwhile exits at once (status 1).
    pub async fn run_until_signalled(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let (timeout, background) = (self.shutdown_timeout, self.background);
        let _metrics = self.metrics_server.map(|(server, _)| MetricsTask::spawn(server));
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

/// The platform connectors over the one outbound HTTP client (the CLI's `channel webhook` uses them too).
pub fn connectors(settings: &Settings) -> Result<Connectors, StartError> {
    let file_timeout = Duration::from_millis(settings.outbound.file_timeout_ms);
    Ok(Connectors::new(crate::net::client(&settings.outbound)?, &settings.connectors, file_timeout))
}

/// The `metrics.listen` server: the probes and `/metrics`, nothing else, under the same bounds as the
/// main one (a few connections: it is for a scraper).
fn metrics_server(
    addr: &str,
    state: &web::Data<AppState>,
    metrics: &web::Data<Metrics>,
    connections: &crate::server::ConnectionSettings,
    budget: Budget,
    shutdown_timeout_secs: u64,
) -> Result<(Server, u16), StartError> {
    let listen_err = |source| StartError::Listen { addr: addr.to_string(), source };
    let listener = TcpListener::bind(addr).map_err(listen_err)?;
    let port = listener.local_addr().map_err(listen_err)?.port();
    let budget = Budget { connections: 64, streams: 0, lingering: 8, ..budget };
    let listening = Listening {
        listener,
        workers: 1,
        shutdown_timeout_secs,
        connections: connections.clone(),
        counts: ConnectionCounts::new(connections.per_address, budget.connections, Vec::new()),
        budget,
    };
    let (state, metrics) = (state.clone(), metrics.clone());
    let server = crate::server::serve(listening, move || {
        App::new()
            .app_data(state.clone())
            .app_data(metrics.clone())
            .configure(|cfg| doors::operating::routes(cfg, true))
    })
    .map_err(listen_err)?;
    Ok((server, port))
}

/// The metrics server running beside the main one; stopped when dropped (the main one stopped).
struct MetricsTask(actix_web::dev::ServerHandle);

impl MetricsTask {
    fn spawn(server: Server) -> Self {
        let handle = server.handle();
        tokio::spawn(server);
        MetricsTask(handle)
    }
}

impl Drop for MetricsTask {
    fn drop(&mut self) {
        let handle = self.0.clone();
        tokio::spawn(async move { handle.stop(true).await });
    }
}

fn routes(cfg: &mut web::ServiceConfig, with_metrics: bool) {
    cfg.configure(doors::wire::extractor_errors)
        .configure(|c| doors::operating::routes(c, with_metrics))
        .configure(doors::plain::routes)
        .configure(doors::basic::routes)
        .configure(doors::soap::routes)
        .configure(doors::json::routes)
        .configure(doors::oauth::routes)
        .configure(doors::inbound::routes)
        .configure(doors::webchat::routes)
        .configure(doors::console::routes)
        .configure(doors::landing::routes)
        .configure(crate::web::routes)
        .configure(crate::docs::routes);
}
