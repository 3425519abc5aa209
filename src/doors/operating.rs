//! What operators and load balancers call (SPEC §8): `/healthz`, `/readyz` and `/metrics`. The
//! metrics tell traffic, failed logins and the version: `metrics.listen` serves them only on a
//! separate (private) address, and `metrics.token` only to a bearer of that token.

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use moka::sync::Cache;
use subtle::ConstantTimeEq;

use crate::domain::ports::OutboxBacklog;
use crate::doors::AppState;

/// The probes, and `/metrics` when `with_metrics` (the main listener leaves it to `metrics.listen`).
pub fn routes(cfg: &mut web::ServiceConfig, with_metrics: bool) {
    cfg.route("/healthz", web::get().to(healthz)).route("/readyz", web::get().to(readyz));
    if with_metrics {
        cfg.route("/metrics", web::get().to(metrics));
    }
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// `GET /readyz`: 200 when the database answers within 2 s and the migrations ran, else 503 with a
/// short reason; nothing is cached, so it recovers as soon as the database does.
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let check = tokio::time::timeout(Duration::from_secs(2), state.gateway.readiness()).await;
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

/// Whether the request carries the configured bearer token (compared in constant time).
fn bearer_allowed(req: &HttpRequest, token: &str) -> bool {
    let sent = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or("");
    let sent = sent.strip_prefix("Bearer ").unwrap_or("");
    !sent.is_empty() && bool::from(sent.as_bytes().ct_eq(token.as_bytes()))
}

/// `GET /metrics`: OpenMetrics text (Prometheus reads it), rendered by the metrics library.
async fn metrics(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    if let Some(token) = state.settings.metrics.token.as_deref()
        && !bearer_allowed(&req, token)
    {
        return HttpResponse::Unauthorized()
            .insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"metrics\""))
            .json(serde_json::json!({"error": "INVALID_TOKEN"}));
    }
    let gateway = &state.gateway;
    let backlog = match state.backlog.0.get(&()) {
        Some(b) => b,
        None => match tokio::time::timeout(Duration::from_secs(2), gateway.outbox_backlog()).await {
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
    let text = state.metrics.render(&backlog, now, gateway.pool_state(), state.live.open());
    HttpResponse::Ok().content_type("application/openmetrics-text; version=1.0.0; charset=utf-8").body(text)
}
