//! What operators and load balancers call (SPEC §8): `/healthz`, `/readyz` and `/metrics`.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::{HttpResponse, web};

use crate::domain::ports::OutboxBacklog;
use crate::doors::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics));
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// `GET /readyz`: 200 when the database answers within 2 s and the migrations ran, else 503 with a
/// short reason; nothing is cached, so it recovers as soon as the database does.
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let check = tokio::time::timeout(Duration::from_secs(2), state.gateway.store().readiness()).await;
    match check.unwrap_or_else(|_| Err("the database did not answer within 2 s".into())) {
        Ok(()) => HttpResponse::Ok().json(serde_json::json!({"status": "ready"})),
        Err(reason) => HttpResponse::ServiceUnavailable()
            .json(serde_json::json!({"status": "unready", "reason": reason})),
    }
}

/// The outbox backlog is read from the database at most once a second, however often `/metrics` is
/// called (it needs no credentials, so its cost must not be the caller's to choose).
const BACKLOG_TTL: Duration = Duration::from_secs(1);

#[derive(Default)]
pub struct BacklogCache(Mutex<Option<(Instant, Vec<OutboxBacklog>)>>);

impl BacklogCache {
    fn fresh(&self) -> Option<Vec<OutboxBacklog>> {
        let cached = self.0.lock().ok()?;
        cached.as_ref().filter(|(at, _)| at.elapsed() < BACKLOG_TTL).map(|(_, b)| b.clone())
    }

    fn keep(&self, backlog: &[OutboxBacklog]) {
        if let Ok(mut cached) = self.0.lock() {
            *cached = Some((Instant::now(), backlog.to_vec()));
        }
    }
}

/// `GET /metrics`: OpenMetrics text (Prometheus reads it), rendered by the metrics library.
async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let store = state.gateway.store();
    let backlog = match state.backlog.fresh() {
        Some(b) => b,
        None => {
            let read = tokio::time::timeout(Duration::from_secs(2), store.outbox_backlog()).await;
            match read {
                Ok(Ok(b)) => {
                    state.backlog.keep(&b);
                    b
                }
                // The other metrics still matter when the database does not answer (`/readyz` says so).
                _ => Vec::new(),
            }
        }
    };
    let now = chrono::Utc::now().timestamp_millis();
    let text = state.metrics.render(&backlog, now, store.pool_state(), state.live.open());
    HttpResponse::Ok().content_type("application/openmetrics-text; version=1.0.0; charset=utf-8").body(text)
}
