//! Logging: a tracing subscriber, and one log line per request with door, class, method, outcome
//! code, latency and request id. Of the URL only the route that matched is logged (e.g.
//! `/api/json/{class}/{method}`), never the path as sent, the query string, a header or a body: any of
//! them may hold a password (`/api/http&user=acme&password=…` is a 404 whose path does).

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, web};
use tracing_subscriber::EnvFilter;

use crate::metrics::Metrics;

/// Installs the global subscriber once; later calls (tests) are no-ops.
pub fn init(filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// A request's id: logged with it, returned in `X-Request-Id`, and in the body of internal errors.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

impl RequestId {
    fn new() -> Self {
        Self(format!("{:016x}", rand::random::<u64>()))
    }
}

/// What a door did with a request, left in the response's extensions for the log line.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub door: &'static str,
    pub class: Option<String>,
    pub method: Option<String>,
    /// `SUCCESS` or an error code.
    pub code: &'static str,
    /// The hidden cause of an `INTERNAL_ERROR`.
    pub internal: Option<String>,
}

pub async fn log_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let id = RequestId::new();
    req.extensions_mut().insert(id.clone());
    let http_method = req.method().clone();
    let mut res = next.call(req).await?;
    let route = res.request().match_pattern().unwrap_or_else(|| "(no route)".to_string());
    if let Ok(v) = HeaderValue::from_str(&id.0) {
        res.headers_mut().insert(HeaderName::from_static("x-request-id"), v);
    }
    let elapsed = started.elapsed();
    let latency_us = elapsed.as_micros() as u64;
    let status = res.status().as_u16();
    let outcome = res.response().extensions().get::<Outcome>().cloned().unwrap_or_default();
    if let Some(metrics) = res.request().app_data::<web::Data<Metrics>>() {
        let code = if outcome.code.is_empty() { http_outcome(status) } else { outcome.code };
        metrics.request(outcome.door, outcome.method.as_deref(), code, elapsed.as_secs_f64());
    }
    if let Some(cause) = &outcome.internal {
        tracing::error!(request_id = %id.0, %cause, "internal error");
    }
    tracing::info!(
        request_id = %id.0,
        http_method = %http_method,
        route = %route,
        status,
        door = outcome.door,
        class = outcome.class.as_deref().unwrap_or(""),
        method = outcome.method.as_deref().unwrap_or(""),
        outcome = outcome.code,
        latency_us,
        "request"
    );
    Ok(res)
}

/// The outcome label of a request no door answered (pages, documents, unknown paths).
fn http_outcome(status: u16) -> &'static str {
    match status {
        0..400 => "SUCCESS",
        404 => "NOT_FOUND",
        405 => "METHOD_NOT_ALLOWED",
        400..500 => "CLIENT_ERROR",
        _ => "SERVER_ERROR",
    }
}
