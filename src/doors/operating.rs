//! What operators and load balancers call (SPEC §8): `/healthz`, `/readyz` and `/metrics`.

use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpResponse, web};
use moka::sync::Cache;

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

/// The outbox backlog, read from the database at most once a second however often `/metrics` is
/// called (it needs no credentials, so its cost must not be the caller's to choose).
pub struct BacklogCache(Cache<(), Arc<Vec<OutboxBacklog>>>);

impl Default for BacklogCache {
    fn default() -> Self {
        Self(Cache::builder().max_capacity(1).time_to_live(Duration::from_secs(1)).build())
    }
}

/// `GET /metrics`: OpenMetrics text (Prometheus reads it), rendered by the metrics library.
async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let store = state.gateway.store();
    let backlog = match state.backlog.0.get(&()) {
        Some(b) => b,
        None => match tokio::time::timeout(Duration::from_secs(2), store.outbox_backlog()).await {
            Ok(Ok(b)) => {
                let b = Arc::new(b);
                state.backlog.0.insert((), b.clone());
                b
            }
            // The other metrics still matter when the database does not answer (`/readyz` says so).
            _ => Arc::default(),
        },
    };
    let now = chrono::Utc::now().timestamp_millis();
    let text = state.metrics.render(&backlog, now, store.pool_state(), state.live.open());
    HttpResponse::Ok().content_type("application/openmetrics-text; version=1.0.0; charset=utf-8").body(text)
}
