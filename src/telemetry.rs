//! Logging: a tracing subscriber, and one log line per request with door, class, method, outcome
//! code, latency and request id. Of the URL only the route that matched is logged (e.g.
//! `/api/json/{class}/{method}`), never the path as sent, the query string, a header or a body: any of
//! them may hold a password (`/api/http&user=acme&password=…` is a 404 whose path does).

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, web};
use tracing::{Level, Metadata};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::prelude::*;

use crate::metrics::Metrics;

mod line;

/// Requests actix-http could not parse since the last report. actix-http logs each one at ERROR
/// ("stream error: request parse error: …"), so whoever sends garbage would write the error log (a fuzz
/// run wrote 28,741 such lines); they are counted here instead and summed up at WARN at most every
/// 10 s (`report_malformed_requests`). The counter is the process's, like the log it stands in for.
static MALFORMED_REQUESTS: AtomicU64 = AtomicU64::new(0);

/// Whether an event is actix-http's line about a request it refused as malformed (its h1 codec and
/// dispatcher log nothing else at ERROR).
fn malformed_request_line(meta: &Metadata<'_>) -> bool {
    *meta.level() == Level::ERROR && meta.target().starts_with("actix_http::h1")
}

/// Installs the global subscriber once; later calls (tests) are no-ops.
///
/// Every layer is global (no per-layer filter): with one, tracing-subscriber turns each callsite the
/// level filter has ruled out for good (actix-http's `trace!`s in its dispatcher, sqlx's and our own
/// `debug!`s) into one it asks again at every event — 22 dynamic checks a SOAP request (callgrind:
/// 1,100 instructions of a `/healthz` request, 3,100 of a SOAP one). Actix-http's malformed-request
/// lines are dropped and counted by `MalformedRequests`, a global layer that decides per event.
pub fn init(filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let fmt = tracing_subscriber::fmt::layer().with_target(false).with_writer(std::io::stderr).with_ansi(tty);
    // Colours for a person at a terminal; elsewhere (files, journald, the benchmark) the same line
    // without the styling machinery, which costs a fifth of a small request (`line.rs`).
    let fmt = if tty { fmt.boxed() } else { fmt.event_format(line::Line).boxed() };
    let _ = tracing_subscriber::registry().with(filter).with(MalformedRequests).with(fmt).try_init();
}

/// Counts actix-http's malformed-request lines and keeps them from every layer (so from the log).
struct MalformedRequests;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for MalformedRequests {
    fn event_enabled(
        &self,
        event: &tracing::Event<'_>,
        _: tracing_subscriber::layer::Context<'_, S>,
    ) -> bool {
        if malformed_request_line(event.metadata()) {
            MALFORMED_REQUESTS.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        true
    }
}

/// Every 10 s, one WARN line with the number of malformed requests refused meanwhile (none: no line).
pub fn report_malformed_requests() {
    tokio::spawn(async {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(10));
        loop {
            tick.tick().await;
            let refused = MALFORMED_REQUESTS.swap(0, Ordering::Relaxed);
            if refused > 0 {
                tracing::warn!(refused, "malformed HTTP requests refused in the last 10 s");
            }
        }
    });
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
    /// As the door read them: an operation's own names are not copied for every request.
    pub class: Option<Cow<'static, str>>,
    pub method: Option<Cow<'static, str>>,
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
