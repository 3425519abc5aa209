//! `GET /metrics` (SPEC §8): what each door, the delivery worker and the webhook sender did, the
//! outbox and the pools, parsed with the Prometheus project's own parser
//! (tests/clients/metrics_parse.py) as a scraper would.

use std::time::Duration;

use serde_json::Value;

use crate::delivery::{BOT, app_with_fakes};
use crate::doors::{ALL_DOORS, door_call};
use crate::fakes::Reply;
use crate::helpers::{LOGIN, PASSWORD, TestApp, ok, spawn_app_without_delivery};
use crate::receiver::Receiver;

/// One sample: its name, labels and value.
#[derive(Debug)]
pub struct Sample {
    pub name: String,
    pub labels: serde_json::Map<String, Value>,
    pub value: f64,
}

impl TestApp {
    /// The raw `/metrics` text.
    pub async fn metrics_text(&self) -> String {
        let res = self.client.get(format!("{}/metrics", self.address)).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let kind = res.headers()["content-type"].to_str().unwrap().to_string();
        assert!(kind.starts_with("application/openmetrics-text; version=1.0.0"), "{kind}");
        res.text().await.unwrap()
    }

    /// `/metrics` as parsed by `prometheus_client`'s OpenMetrics parser.
    pub async fn metrics(&self) -> Vec<Sample> {
        parse(&self.metrics_text().await).await
    }
}

async fn parse(text: &str) -> Vec<Sample> {
    use tokio::io::AsyncWriteExt;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/metrics_parse.py");
    let mut child = tokio::process::Command::new("python3")
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(text.as_bytes()).await.unwrap();
    let out = child.wait_with_output().await.unwrap();
    assert!(
        out.status.success(),
        "the OpenMetrics parser refused /metrics (scripts/test.sh installs prometheus-client):\n{}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<(String, serde_json::Map<String, Value>, f64)> =
        serde_json::from_slice(&out.stdout).unwrap();
    rows.into_iter().map(|(name, labels, value)| Sample { name, labels, value }).collect()
}

/// The value of the sample `name` whose labels include all of `labels` (None when absent).
pub fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|s| {
            s.name == name && labels.iter().all(|(k, v)| s.labels.get(*k).and_then(Value::as_str) == Some(*v))
        })
        .map(|s| s.value)
}

fn requests(samples: &[Sample], door: &str, method: &str, outcome: &str) -> f64 {
    value(samples, "chatgate_requests_total", &[("door", door), ("method", method), ("outcome", outcome)])
        .unwrap_or(0.0)
}

#[tokio::test]
async fn requests_are_counted_by_door_method_and_outcome_with_bounded_labels() {
    let app = spawn_app_without_delivery().await;
    let f = app.seed().await;
    for door in ALL_DOORS {
        ok(&door_call(&app, door, Some(LOGIN), Some(PASSWORD), "getchatchannels", &[]).await);
    }
    app.call_as(LOGIN, "wrong-password-42", "GetChatChannels", &[]).await;
    // A made-up method name and a secret in odd places must not become labels.
    app.get(&[("class", "chat"), ("method", "password=hunter2"), ("user", LOGIN), ("password", PASSWORD)])
        .await;
    for to in ["+34600000001", "+34600000002"] {
        app.send("telegram", &f.telegram, to, "hello").await;
    }

    let samples = app.metrics().await;
    for (door, n) in [("plain", 1.0), ("basic", 1.0), ("soap", 2.0), ("json", 1.0)] {
        assert_eq!(requests(&samples, door, "getchatchannels", "SUCCESS"), n, "{door}");
    }
    assert_eq!(requests(&samples, "plain", "getchatchannels", "INCORRECT_USER_PASSWORD"), 1.0);
    assert_eq!(requests(&samples, "plain", "other", "INCORRECT_METHOD"), 1.0);
    assert_eq!(requests(&samples, "oauth", "", "SUCCESS"), 1.0, "the JSON door's token request");
    assert_eq!(requests(&samples, "plain", "sendmessage", "SUCCESS"), 2.0);
    let count = value(&samples, "chatgate_request_duration_seconds_count", &[("door", "plain")]).unwrap();
    assert!(count >= 5.0, "plain door latency observations: {count}");
    let le =
        value(&samples, "chatgate_request_duration_seconds_bucket", &[("door", "plain"), ("le", "+Inf")]);
    assert_eq!(le, Some(count));

    assert_eq!(value(&samples, "chatgate_outbox_depth", &[("platform", "telegram")]), Some(2.0));
    assert_eq!(value(&samples, "chatgate_outbox_depth", &[("platform", "whatsapp")]), Some(0.0));
    let age = value(&samples, "chatgate_outbox_oldest_age_seconds", &[("platform", "telegram")]).unwrap();
    assert!((0.0..60.0).contains(&age), "oldest age {age}");
    assert_eq!(value(&samples, "chatgate_event_streams_open", &[]), Some(0.0));
    let in_use = value(&samples, "chatgate_db_connections", &[("state", "in_use")]).unwrap();
    let idle = value(&samples, "chatgate_db_connections", &[("state", "idle")]).unwrap();
    assert!(in_use + idle >= 1.0, "pool: {in_use} in use, {idle} idle");
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(value(&samples, "chatgate_build_info", &[("version", version)]), Some(1.0));

    // Labels come from closed sets: no login, secret or caller-chosen text.
    for s in &samples {
        for v in s.labels.values() {
            let v = v.as_str().unwrap();
            for secret in [LOGIN, PASSWORD, "hunter2", "wrong-password-42", "+34600000001"] {
                assert!(!v.contains(secret), "label value {v:?} of {}", s.name);
            }
        }
    }
}

#[tokio::test]
async fn deliveries_webhook_attempts_and_open_streams_are_counted() {
    let (app, p) = app_with_fakes(|_| {}).await;
    let tg = app.channel("telegram", &[&format!("bot_token={BOT}")]).await;
    let rx = Receiver::start().await;
    app.webhook(&format!("{}/hook", rx.url), "chat_session.message_sent", None).await;
    p.telegram.always("13", Reply::telegram(403, "Forbidden: bot was blocked by the user"));
    let sent = app.send("telegram", &tg, "12", "one").await;
    let refused = app.send("telegram", &tg, "13", "two").await;
    app.wait_status(&sent, "sent", Duration::from_secs(5)).await;
    app.wait_status(&refused, "failed", Duration::from_secs(5)).await;
    rx.wait_for(Duration::from_secs(5), |hits| hits.len() >= 2).await;

    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let samples = loop {
        let samples = app.metrics().await;
        if value(&samples, "chatgate_webhook_attempts_total", &[("outcome", "delivered")]) == Some(2.0) {
            break samples;
        }
        assert!(std::time::Instant::now() < deadline, "webhook attempts not counted");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let delivery = |outcome| {
        value(&samples, "chatgate_deliveries_total", &[("platform", "telegram"), ("outcome", outcome)])
    };
    assert_eq!(delivery("sent"), Some(1.0));
    assert_eq!(delivery("failed"), Some(1.0));
    assert_eq!(value(&samples, "chatgate_outbox_depth", &[("platform", "telegram")]), Some(0.0));

    let web = app.channel("webchat", &[]).await;
    let stream = crate::operating::open_stream(&app.client, &app.address, &web).await;
    let open = value(&app.metrics().await, "chatgate_event_streams_open", &[]);
    assert_eq!(open, Some(1.0));
    drop(stream);
}

/// `/metrics` tells traffic, failed logins and the version: `metrics.listen` moves it to a separate
/// address (the main one answers 404; the metrics address serves nothing but the probes and the
/// metrics), and `metrics.token` serves it only to a bearer of that token.
#[tokio::test]
async fn metrics_can_be_kept_to_a_separate_address_or_a_bearer_token() {
    let (_dir, db, _) = crate::instances::setup().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let listen = format!("127.0.0.1:{port}");
    let apart = crate::instances::start_instance_with(&db, &[("CHATGATE_METRICS__LISTEN", &listen)]).await;
    let client = reqwest::Client::new();
    let status = |url: String| {
        let client = client.clone();
        async move { client.get(url).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(status(format!("{}/metrics", apart.base)).await, 404);
    let scraped = client.get(format!("http://{listen}/metrics")).send().await.unwrap();
    assert_eq!(scraped.status(), 200);
    assert!(scraped.text().await.unwrap().contains("chatgate_build_info"));
    assert_eq!(status(format!("http://{listen}/healthz")).await, 200);
    assert_eq!(status(format!("http://{listen}/api/http/?class=chat&method=getchatchannels")).await, 404);

    let guarded =
        crate::instances::start_instance_with(&db, &[("CHATGATE_METRICS__TOKEN", "scrape-me-7")]).await;
    let url = format!("{}/metrics", guarded.base);
    let refused = client.get(&url).send().await.unwrap();
    assert_eq!(refused.status(), 401);
    assert!(refused.headers().contains_key("www-authenticate"));
    assert!(!refused.text().await.unwrap().contains("chatgate_"), "nothing revealed");
    assert_eq!(client.get(&url).bearer_auth("wrong").send().await.unwrap().status(), 401);
    let ok = client.get(&url).bearer_auth("scrape-me-7").send().await.unwrap();
    assert_eq!(ok.status(), 200);
    assert!(ok.text().await.unwrap().contains("chatgate_build_info"));
}
