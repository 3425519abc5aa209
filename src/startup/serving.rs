//! The servers: the main one with every door, and the optional `metrics.listen` one.

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, web};

use super::StartError;
use crate::doors;
use crate::doors::{AppState, PagesState};
use crate::metrics::Metrics;
use crate::server::{Budget, ConnectionCounts, Listening};
use crate::telemetry;

/// The main server and, with `metrics.listen`, the metrics server with its port.
pub(super) struct Servers {
    pub main: Server,
    pub metrics: Option<(Server, u16)>,
}

/// Starts serving `state`'s doors on `listener` under `budget`'s caps.
/// What the handlers read: the API doors' state, the pages' state, the metrics.
pub(super) type Data = (web::Data<AppState>, web::Data<PagesState>, web::Data<Metrics>);

pub(super) fn start(
    listener: TcpListener,
    (state, pages, metrics): Data,
    budget: Budget,
) -> Result<Servers, StartError> {
    let settings = state.settings.clone();
    let listen_err = |source| StartError::Listen { addr: settings.listen.clone(), source };
    let (connections, shutdown_timeout) = (settings.connections.clone(), settings.shutdown_timeout_secs);
    let metrics_server = match &settings.metrics.listen {
        Some(addr) => Some(metrics_server(addr, &state, &metrics, &connections, budget, shutdown_timeout)?),
        None => None,
    };
    let with_metrics = metrics_server.is_none();
    let body_timeout = Duration::from_secs(settings.body_timeout_secs.max(1));
    let workers =
        settings.workers.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let counts =
        ConnectionCounts::new(connections.per_address, budget.connections, settings.trusted_proxies.clone());
    let listening =
        Listening { listener, workers, shutdown_timeout_secs: shutdown_timeout, connections, counts, budget };
    let main = crate::server::serve(listening, move || {
        App::new()
            .wrap(from_fn(move |req, next| doors::deadline::body_deadline(body_timeout, req, next)))
            .wrap(from_fn(telemetry::log_requests))
            .app_data(state.clone())
            .app_data(pages.clone())
            .app_data(metrics.clone())
            .configure(move |cfg| routes(cfg, with_metrics))
    })
    .map_err(listen_err)?;
    Ok(Servers { main, metrics: metrics_server })
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
pub(super) struct MetricsTask(actix_web::dev::ServerHandle);

impl MetricsTask {
    pub(super) fn spawn(server: Server) -> Self {
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
        .configure(doors::feedbot::routes)
        .configure(doors::cam::routes)
        .configure(doors::webchat::routes)
        .configure(doors::console::routes)
        .configure(doors::landing::routes)
        .configure(crate::web::routes)
        .configure(crate::docs::routes);
}
