//! The metrics of SPEC §8, kept in a `prometheus-client` registry owned by the application (no global
//! recorder: every app in the test binary has its own) and rendered by that library as OpenMetrics
//! text, which Prometheus scrapes as it does its own format.
//!
//! Every label value comes from a closed set: a door's name, an operation's method name (or `other`),
//! an error code, a platform, an outcome. Nothing a caller types — a login, a secret, a path, an
//! unknown method name — can become a label, so the number of series has a fixed bound.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

use crate::domain::model::Platform;
use crate::domain::operation::Operation;
use crate::domain::ports::{DeliveryResult, OutboxBacklog, PoolState};
use crate::domain::webhook_ports::AttemptNext;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    door: &'static str,
    method: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DoorLabel {
    door: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PlatformLabel {
    platform: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DeliveryLabels {
    platform: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabel {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VersionLabel {
    version: &'static str,
}

type GaugeF64 = Gauge<f64, AtomicU64>;

fn duration_histogram() -> Histogram {
    // 0.25 ms … ~4 s: a cached call takes well under a millisecond, a first argon2 check ~50 ms.
    Histogram::new(exponential_buckets(0.000_25, 2.0, 15))
}

/// The application's metrics. Counters are updated where things happen; gauges are set from the
/// current state just before each scrape.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: Family<DoorLabel, Histogram, fn() -> Histogram>,
    outbox_depth: Family<PlatformLabel, Gauge>,
    outbox_oldest: Family<PlatformLabel, GaugeF64>,
    deliveries: Family<DeliveryLabels, Counter>,
    webhook_attempts: Family<OutcomeLabel, Counter>,
    streams_open: Gauge,
    db_connections: Family<StateLabel, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("chatgate");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register("requests", "Requests by door, operation and outcome code", requests.clone());
        let durations = Family::new_with_constructor(duration_histogram as fn() -> Histogram);
        registry.register("request_duration_seconds", "Request latency by door", durations.clone());
        let outbox_depth = Family::<PlatformLabel, Gauge>::default();
        registry.register("outbox_depth", "Messages waiting to be delivered", outbox_depth.clone());
        let outbox_oldest = Family::<PlatformLabel, GaugeF64>::default();
        registry.register(
            "outbox_oldest_age_seconds",
            "Age of the oldest message waiting to be delivered",
            outbox_oldest.clone(),
        );
        let deliveries = Family::<DeliveryLabels, Counter>::default();
        registry.register("deliveries", "Delivery attempts to the platforms by outcome", deliveries.clone());
        let webhook_attempts = Family::<OutcomeLabel, Counter>::default();
        registry.register("webhook_attempts", "Event webhook requests by outcome", webhook_attempts.clone());
        let streams_open = Gauge::default();
        registry.register(
            "event_streams_open",
            "Open webchat and console event streams",
            streams_open.clone(),
        );
        let db_connections = Family::<StateLabel, Gauge>::default();
        registry.register("db_connections", "Database connections of this process", db_connections.clone());
        let build = Info::new(VersionLabel { version: env!("CARGO_PKG_VERSION") });
        registry.register("build", "The running build", build);
        // Every platform with an outbox shows up from the first scrape, at zero.
        for platform in [Platform::Telegram, Platform::Whatsapp] {
            let label = PlatformLabel { platform: platform.as_str() };
            outbox_depth.get_or_create(&label).set(0);
            outbox_oldest.get_or_create(&label).set(0.0);
        }
        Self {
            registry,
            requests,
            durations,
            outbox_depth,
            outbox_oldest,
            deliveries,
            webhook_attempts,
            streams_open,
            db_connections,
        }
    }

    /// One answered request. `method` is what the caller asked for, kept only if it names an operation
    /// or one of the other endpoints a door records (anything else is `other`).
    pub fn request(&self, door: &'static str, method: Option<&str>, outcome: &'static str, seconds: f64) {
        let door = if door.is_empty() { "other" } else { door };
        let labels = RequestLabels { door, method: method_label(method), outcome };
        self.requests.get_or_create(&labels).inc();
        self.durations.get_or_create(&DoorLabel { door }).observe(seconds);
    }

    /// One processed outbox entry; a retry is counted only when the platform failed (not when pacing
    /// put the entry back).
    pub fn delivery(&self, platform: Platform, result: &DeliveryResult) {
        let outcome = match result {
            DeliveryResult::Sent { .. } => "sent",
            DeliveryResult::Failed { .. } => "failed",
            DeliveryResult::Expired => "expired",
            DeliveryResult::Retry { error: Some(_), .. } => "retry",
            DeliveryResult::Retry { error: None, .. } => return,
        };
        let labels = DeliveryLabels { platform: platform.as_str(), outcome };
        self.deliveries.get_or_create(&labels).inc();
    }

    /// One webhook request: `delivered`, `retry` or `failed`.
    pub fn webhook_attempt(&self, next: &AttemptNext) {
        let outcome = match next {
            AttemptNext::Delivered => "delivered",
            AttemptNext::Failed => "failed",
            AttemptNext::RetryAt(_) => "retry",
        };
        self.webhook_attempts.get_or_create(&OutcomeLabel { outcome }).inc();
    }

    /// Renders the registry after setting the gauges from the state just read.
    pub fn render(
        &self,
        outbox: &[OutboxBacklog],
        now_ms: i64,
        pool: PoolState,
        streams_open: usize,
    ) -> String {
        for platform in [Platform::Telegram, Platform::Whatsapp] {
            let found = outbox.iter().find(|o| o.platform == platform);
            let age = found.map_or(0, |o| now_ms.saturating_sub(o.oldest_created_at).max(0));
            let label = PlatformLabel { platform: platform.as_str() };
            self.outbox_depth.get_or_create(&label).set(found.map_or(0, |o| o.depth));
            self.outbox_oldest.get_or_create(&label).set(age as f64 / 1000.0);
        }
        self.streams_open.set(streams_open as i64);
        self.db_connections.get_or_create(&StateLabel { state: "in_use" }).set(pool.in_use.into());
        self.db_connections.get_or_create(&StateLabel { state: "idle" }).set(pool.idle.into());
        let mut text = String::with_capacity(8 * 1024);
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

/// The endpoints other than operations that doors record as a method (inbound webhooks, media,
/// Feedbot's methods).
const OTHER_METHODS: [&str; 5] = ["telegram", "whatsapp", "media", "addnewmessages", "getmessagestatus"];

fn method_label(method: Option<&str>) -> &'static str {
    let Some(method) = method.filter(|m| !m.is_empty()) else { return "" };
    // Callers name methods in any case; the label is the operation's own name.
    if let Some(op) = Operation::ALL.into_iter().find(|op| op.method().eq_ignore_ascii_case(method)) {
        return op.method();
    }
    OTHER_METHODS.iter().find(|m| **m == method).copied().unwrap_or("other")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_come_from_closed_sets() {
        assert_eq!(method_label(Some("getchatchannels")), "getchatchannels");
        assert_eq!(method_label(Some("GetChatChannels")), "getchatchannels");
        assert_eq!(method_label(Some("password=hunter2")), "other");
        assert_eq!(method_label(Some("telegram")), "telegram");
        assert_eq!(method_label(None), "");
    }
}
