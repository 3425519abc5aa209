//! The delivery benchmark's helpers (SPEC §9), run by `bench/delivery.sh`:
//!
//! - `fake PORT [PER_BOT_PER_SEC]`: a fast fake Telegram (`/bot{token}/sendMessage`), optionally
//!   enforcing a rate per bot (at most N in any one second) with Telegram's 429 + `retry_after`; `GET /stats` reports what it took.
//! - `queue BASE USER PASSWORD CHANNELS COUNT`: sends COUNT messages over the comma-separated channels
//!   (each to its own chat), 64 at a time, as fast as chatgate acknowledges them.
//! - `offer BASE USER PASSWORD CHANNELS RATE SECS`: offers RATE messages/s for SECS seconds; each text
//!   carries the time its request started, so the fake can tell how long it took to arrive.
//! - `receiver PORT`: a webhook receiver (bench/webhooks.sh): `POST /fast` answers 200 at once and
//!   records the delay of events whose message text carries a send time; `POST /hang` never answers.
//!
//! - `streams BASE PLATFORMID COUNT USER PASSWORD`: opens COUNT webchat visitors' event streams, then
//!   sends one message to each through the plain door and reports how long each took to arrive in its
//!   stream (bench/streams.sh).
//!
//! - `bulk BASE USER PASSWORD CHANNELS COUNT LIST`: sends COUNT messages over the channels (each to its
//!   own chat) with `sendmessages`, LIST at a time, one call after the other on one connection; prints
//!   when it started (Unix µs) and how long it took.
//!
//! - `whatsapp PORT`: a fast fake WhatsApp Cloud API (bench/templates.sh): `POST /{number}/messages`
//!   answers with a wamid, `GET /{waba_id}/message_templates` lists one template, `bench_update` (en_US,
//!   "Hi {{1}}, your order {{2}} is ready."). A template's last parameter counts as its text.
//!
//! - `feedbot BASE TOKEN COUNT LIST`: COUNT messages through Feedbot's `addnewmessages`, LIST at a time,
//!   one call after the other on one connection (bench/templates.sh).
//!
//! - `cam BASE TOKEN COUNT ROOM`: COUNT messages to the room ROOM through Chat&Messenger's `sendMessage`
//!   (JSON body, token in `x-cam-apiToken`), 64 at a time, as fast as chatgate acknowledges them
//!   (bench/cam.sh).
//!
//! - `sessions BASE PLATFORMID VISITORS`: starts VISITORS webchat visitors, printing `VISITOR TOKEN` lines;
//!   `visits BASE PLATFORMID FILE VIEWS RATE` sends VIEWS page views (`POST …/api/visit`) for each visitor
//!   of FILE, RATE a second (0: as fast as 16 connections go), one in ten on a goal's page; `probes BASE
//!   COUNT RATE` sends COUNT `GET /healthz` the same way (bench/goals.sh).
//!
//! `queue`, `offer` and `bulk` send to `BENCH_PLATFORM` channels (default `telegram`); with
//! `BENCH_METHOD=sendtemplate`, `queue` sends `bench_update` with the text as its second parameter. The fake counts
//! distinct texts too (`distinct` in `/stats`), so repeats after a crash do not pass for deliveries.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use actix_web::{App, HttpResponse, HttpServer, web};
use serde_json::{Value, json};

fn now_us() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as u64)
}

#[derive(Default)]
struct Stats {
    accepted: u64,
    refused: u64,
    first_us: u64,
    last_us: u64,
    latencies_us: Vec<u64>,
    /// Texts accepted, to count each message once however often it was sent.
    texts: std::collections::HashSet<String>,
    /// Per bot: when its sends of the last second arrived (a sliding window, the strictest reading
    /// of "30 per second").
    windows: HashMap<String, VecDeque<Instant>>,
}

struct Fake {
    stats: Mutex<Stats>,
    per_bot: u32,
}

async fn send(
    path: web::Path<(String, String)>,
    body: web::Json<Value>,
    fake: web::Data<Arc<Fake>>,
) -> HttpResponse {
    let (token, _method) = path.into_inner();
    let now = now_us();
    let mut s = fake.stats.lock().unwrap();
    if fake.per_bot > 0 {
        let window = s.windows.entry(token).or_default();
        let arrived = Instant::now();
        while window.front().is_some_and(|t| arrived.duration_since(*t) >= Duration::from_secs(1)) {
            window.pop_front();
        }
        if window.len() >= fake.per_bot as usize {
            s.refused += 1;
            return HttpResponse::TooManyRequests().insert_header(("Retry-After", "1")).json(json!({
                "ok": false, "error_code": 429, "description": "Too Many Requests: retry after 1", "parameters": {"retry_after": 1}}));
        }
        window.push_back(arrived);
    }
    s.accepted += 1;
    if s.first_us == 0 {
        s.first_us = now;
    }
    s.last_us = now;
    if let Some(text) = body["text"].as_str() {
        s.texts.insert(text.to_string());
    }
    if let Some(sent) =
        body["text"].as_str().and_then(|t| t.strip_prefix('t')).and_then(|t| t.parse::<u64>().ok())
    {
        s.latencies_us.push(now.saturating_sub(sent));
    }
    let id = s.accepted;
    HttpResponse::Ok()
        .json(json!({"ok": true, "result": {"message_id": id, "chat": {"id": body["chat_id"]}, "date": 0}}))
}

/// A WhatsApp send: counted, its text (a template's last parameter, or the text body) kept.
async fn whatsapp_send(body: web::Json<Value>, fake: web::Data<Arc<Fake>>) -> HttpResponse {
    let now = now_us();
    let mut s = fake.stats.lock().unwrap();
    s.accepted += 1;
    if s.first_us == 0 {
        s.first_us = now;
    }
    s.last_us = now;
    let text = body
        .pointer("/template/components/0/parameters")
        .and_then(Value::as_array)
        .and_then(|p| p.last())
        .and_then(|p| p["text"].as_str())
        .or_else(|| body.pointer("/text/body").and_then(Value::as_str));
    if let Some(text) = text {
        s.texts.insert(text.to_string());
    }
    let id = s.accepted;
    HttpResponse::Ok().json(
        json!({"messaging_product": "whatsapp", "contacts": [{"input": body["to"], "wa_id": body["to"]}],
        "messages": [{"id": format!("wamid.{id}")}]}),
    )
}

async fn whatsapp_templates() -> HttpResponse {
    HttpResponse::Ok().json(
        json!({"data": [{"name": "bench_update", "language": "en_US", "status": "APPROVED",
        "category": "UTILITY", "parameter_format": "POSITIONAL", "id": "1",
        "components": [{"type": "BODY", "text": "Hi {{1}}, your order {{2}} is ready."}]}], "paging": {}}),
    )
}

async fn stats(fake: web::Data<Arc<Fake>>) -> HttpResponse {
    let mut s = fake.stats.lock().unwrap();
    s.latencies_us.sort_unstable();
    let pct = |p: f64| {
        s.latencies_us
            .get(((s.latencies_us.len() as f64 * p) as usize).min(s.latencies_us.len().saturating_sub(1)))
            .copied()
    };
    let body = json!({"accepted": s.accepted, "distinct": s.texts.len(), "refused": s.refused, "first_us": s.first_us, "last_us": s.last_us,
        "latency_p50_ms": pct(0.5).map(|v| v as f64 / 1000.0), "latency_p99_ms": pct(0.99).map(|v| v as f64 / 1000.0)});
    HttpResponse::Ok().json(body)
}

/// A webhook event: counted like a platform send, its delay taken from the message text.
async fn event(body: web::Json<Value>, fake: web::Data<Arc<Fake>>) -> HttpResponse {
    let now = now_us();
    let mut s = fake.stats.lock().unwrap();
    s.accepted += 1;
    if s.first_us == 0 {
        s.first_us = now;
    }
    s.last_us = now;
    let text = body["message"]["message"].as_str().unwrap_or("");
    if let Some(sent) = text.strip_prefix('t').and_then(|t| t.parse::<u64>().ok()) {
        s.latencies_us.push(now.saturating_sub(sent));
    }
    HttpResponse::Ok().finish()
}

async fn hang() -> HttpResponse {
    tokio::time::sleep(Duration::from_secs(3600)).await;
    HttpResponse::Ok().finish()
}

async fn reset(fake: web::Data<Arc<Fake>>) -> HttpResponse {
    *fake.stats.lock().unwrap() = Stats::default();
    HttpResponse::Ok().finish()
}

async fn call(
    client: &reqwest::Client,
    base: &str,
    auth: &[(&str, &str)],
    channel: &str,
    to: &str,
    text: &str,
) -> bool {
    let platform = std::env::var("BENCH_PLATFORM").unwrap_or_else(|_| "telegram".into());
    let method = std::env::var("BENCH_METHOD").unwrap_or_else(|_| "sendmessage".into());
    let mut q = vec![("class", "chat"), ("method", method.as_str()), ("platform", platform.as_str())];
    q.extend_from_slice(auth);
    q.extend_from_slice(&[("platformid", channel), ("destination", to)]);
    let parameters = json!(["bench", text]).to_string();
    if method == "sendtemplate" {
        q.extend_from_slice(&[
            ("template", "bench_update"),
            ("language", "en_US"),
            ("parameters", &parameters),
        ]);
    } else {
        q.push(("message", text));
    }
    match client.get(format!("{base}/api/http/")).query(&q).send().await {
        Ok(r) => r.json::<Value>().await.is_ok_and(|v| v["status"] == "SUCCESS"),
        Err(_) => false,
    }
}

/// A one-worker server on `port` with `/stats`, `/reset` and the routes `add` adds.
async fn serve<F>(port: String, per_bot: u32, add: F)
where
    F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
{
    let data = web::Data::new(Arc::new(Fake { stats: Mutex::default(), per_bot }));
    HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .configure(add.clone())
            .route("/stats", web::get().to(stats))
            .route("/reset", web::post().to(reset))
    })
    .workers(1)
    .bind(("127.0.0.1", port.parse().expect("port")))
    .expect("bind")
    .run()
    .await
    .expect("server runs");
}

/// `count` messages in `sendmessages` calls of `list`, one after the other on one connection.
async fn bulk(base: &str, user: &str, password: &str, channels: &[String], count: usize, list: usize) {
    let platform = std::env::var("BENCH_PLATFORM").unwrap_or_else(|_| "telegram".into());
    let client = reqwest::Client::builder().pool_max_idle_per_host(1).build().expect("client");
    let (started_us, started) = (now_us(), Instant::now());
    let mut failed = 0;
    for first in (0..count).step_by(list.max(1)) {
        let items: Vec<Value> = (first..(first + list).min(count))
            .map(|n| {
                let channel = &channels[n % channels.len()];
                json!({"platform": platform, "platformid": channel, "destination": (200_000 + n).to_string(),
                    "message": format!("bulk {n}")})
            })
            .collect();
        let size = items.len();
        let messages = Value::from(items).to_string();
        let form = [
            ("class", "chat"),
            ("method", "sendmessages"),
            ("user", user),
            ("password", password),
            ("messages", &messages),
        ];
        let answer: Value = match client.post(format!("{base}/api/http/")).form(&form).send().await {
            Ok(r) => r.json().await.unwrap_or(Value::Null),
            Err(_) => Value::Null,
        };
        // Each item answers `{messageid}` or `{error, param}`; no list at all: the whole call failed.
        failed += match answer["result"]["list"].as_array() {
            Some(l) => l.iter().filter(|i| i.get("messageid").is_none()).count(),
            None => size,
        };
    }
    let secs = started.elapsed().as_secs_f64();
    println!("{}", json!({"sent": count, "failed": failed, "secs": secs, "started_us": started_us}));
}

/// `count` WhatsApp messages through Feedbot's door (`POST /feedbot/addnewmessages`), `list` at a time,
/// one call after the other on one connection, each to its own number; prints what `bulk` prints.
async fn feedbot(base: &str, token: &str, count: usize, list: usize) {
    let client = reqwest::Client::builder().pool_max_idle_per_host(1).build().expect("client");
    let (started_us, started) = (now_us(), Instant::now());
    let mut failed = 0;
    for first in (0..count).step_by(list.max(1)) {
        let items: Vec<Value> = (first..(first + list).min(count))
            .map(|n| json!({"message": format!("feedbot {n}"), "phone": format!("34{}", 600_000_000 + n)}))
            .collect();
        let size = items.len();
        let res = client
            .post(format!("{base}/feedbot/addnewmessages"))
            .header("auth", token)
            .json(&json!({"messages": items}))
            .send()
            .await;
        let answer: Value = match res {
            Ok(r) => r.json().await.unwrap_or(Value::Null),
            Err(_) => Value::Null,
        };
        if answer["ids"].as_array().map(Vec::len) != Some(size) {
            failed += size;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!("{}", json!({"sent": count, "failed": failed, "secs": secs, "started_us": started_us}));
}

/// `count` messages to one room through Chat&Messenger's door, 64 requests at a time; prints what
/// `queue` prints.
async fn cam(base: &str, token: &str, count: u64, room: &str) {
    let client = reqwest::Client::new();
    let started = Instant::now();
    let next = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let failed = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let url = format!("{base}/cam/sendMessage");
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let (client, url, token, room) = (client.clone(), url.clone(), token.to_string(), room.to_string());
        let (next, failed) = (next.clone(), failed.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if n >= count {
                    return;
                }
                let body = json!({"panelName": room, "message": format!("alert {n}"), "isOpened": true, "generalPurposes": {"users": "alice"}});
                let res = client.post(&url).header("x-cam-apiToken", &token).json(&body).send().await;
                let answer = match res {
                    Ok(r) => r.json::<Value>().await.unwrap_or(Value::Null),
                    Err(e) => json!({"error": e.to_string()}),
                };
                if answer["messageIds"].as_array().is_none_or(|ids| ids.len() != 1) {
                    if failed.load(std::sync::atomic::Ordering::Relaxed) == 0 {
                        eprintln!("cam: {answer}");
                    }
                    failed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
        }));
    }
    for t in tasks {
        t.await.expect("sender");
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{}",
        json!({"sent": count, "failed": failed.load(std::sync::atomic::Ordering::Relaxed), "secs": secs})
    );
}

/// A new webchat visitor of the channel `pid`: its id and token.
async fn new_visitor(client: &reqwest::Client, base: &str, pid: &str) -> (String, String) {
    let s: Value = client
        .post(format!("{base}/webchat/{pid}/api/session"))
        .json(&json!({}))
        .send()
        .await
        .expect("session")
        .json()
        .await
        .expect("session json");
    (
        s["visitor"].as_str().unwrap_or_default().to_string(),
        s["token"].as_str().unwrap_or_default().to_string(),
    )
}

/// Starts `visitors` webchat visitors; prints one `VISITOR TOKEN` a line.
async fn sessions(base: &str, pid: &str, visitors: usize) {
    let client = reqwest::Client::new();
    for _ in 0..visitors {
        let (visitor, token) = new_visitor(&client, base, pid).await;
        println!("{visitor} {token}");
    }
}

/// Makes `count` calls of `call(client, n)`, `rate` a second (0: as fast as they go), 16 at most at a
/// time; prints `{"views": count, "answered": successes, "secs": …}`.
async fn paced<F, Fut>(count: usize, rate: f64, call: F)
where
    F: Fn(reqwest::Client, usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let client = reqwest::Client::new();
    let call = Arc::new(call);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let answered = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (client, call, next, answered) = (client.clone(), call.clone(), next.clone(), answered.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if n >= count {
                    return;
                }
                if rate > 0.0 {
                    let due = started + Duration::from_secs_f64(n as f64 / rate);
                    tokio::time::sleep_until(due.into()).await;
                }
                if call(client.clone(), n).await {
                    answered.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
        }));
    }
    for t in tasks {
        t.await.expect("caller");
    }
    let secs = started.elapsed().as_secs_f64();
    let answered = answered.load(std::sync::atomic::Ordering::Relaxed);
    println!("{}", json!({"views": count, "answered": answered, "secs": secs}));
}

/// `views` page views (`POST …/api/visit`) for each visitor of the file `sessions` (as `sessions`
/// prints them), `rate` a second; one in ten on a goal's page.
async fn visits(base: &str, pid: &str, sessions: &str, views: usize, rate: f64) {
    let text = std::fs::read_to_string(sessions).expect("sessions file");
    let visitors: Arc<Vec<(String, String)>> = Arc::new(
        text.lines().filter_map(|l| l.split_once(' ')).map(|(v, t)| (v.to_string(), t.to_string())).collect(),
    );
    let api = format!("{base}/webchat/{pid}/api/visit");
    let count = visitors.len() * views;
    paced(count, rate, move |client, n| {
        let (visitor, token) = visitors[n % visitors.len()].clone();
        let url = if n % 10 == 0 {
            format!("https://shop.example/checkout/{n}")
        } else {
            format!("https://shop.example/products/{n}")
        };
        let request = client
            .post(&api)
            .header("x-visitor-id", visitor)
            .header("x-visitor-token", token)
            .json(&json!({ "url": url }));
        async move { request.send().await.is_ok_and(|r| r.status().is_success()) }
    })
    .await
}

/// `count` `GET /healthz`, `rate` a second: what any request arriving at that rate costs the server.
async fn probes(base: &str, count: usize, rate: f64) {
    let url = format!("{base}/healthz");
    paced(count, rate, move |client, _| {
        let request = client.get(&url);
        async move { request.send().await.is_ok_and(|r| r.status().is_success()) }
    })
    .await
}

/// Opens `count` visitors' streams, sends each one message, and prints the arrival delays.
async fn streams(base: &str, pid: &str, count: usize, user: &str, password: &str) {
    let client = reqwest::Client::builder().pool_max_idle_per_host(4096).build().expect("client");
    let api = format!("{base}/webchat/{pid}/api");
    let mut visitors = Vec::with_capacity(count);
    for _ in 0..count {
        visitors.push(new_visitor(&client, base, pid).await);
    }
    let (connected_tx, mut connected) = tokio::sync::mpsc::channel::<()>(count);
    let (arrived_tx, mut arrived) = tokio::sync::mpsc::channel::<u64>(count);
    for (visitor, token) in &visitors {
        let mut res = client
            .get(format!("{api}/events"))
            .query(&[("visitor", visitor.as_str()), ("token", token.as_str())])
            .send()
            .await
            .expect("stream");
        let (connected_tx, arrived_tx) = (connected_tx.clone(), arrived_tx.clone());
        tokio::spawn(async move {
            let mut announced = false;
            while let Ok(Some(chunk)) = res.chunk().await {
                let text = String::from_utf8_lossy(&chunk);
                if !announced {
                    announced = true;
                    let _ = connected_tx.send(()).await;
                }
                if let Some(sent) = text
                    .split("\"message\":\"t")
                    .nth(1)
                    .and_then(|t| t.split('"').next())
                    .and_then(|t| t.parse::<u64>().ok())
                {
                    let _ = arrived_tx.send(now_us().saturating_sub(sent)).await;
                    return;
                }
            }
        });
    }
    for _ in 0..count {
        connected.recv().await;
    }
    // Sign in once first: the figure is about the streams, not about 64 first logins at once.
    let q = [("class", "chat"), ("method", "getchatchannels"), ("user", user), ("password", password)];
    let _ = client.get(format!("{base}/api/http/")).query(&q).send().await;
    let started = Instant::now();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let visitors = Arc::new(visitors);
    let mut senders = Vec::new();
    for _ in 0..64 {
        let (client, base, user, password, pid, next, visitors) = (
            client.clone(),
            base.to_string(),
            user.to_string(),
            password.to_string(),
            pid.to_string(),
            next.clone(),
            visitors.clone(),
        );
        senders.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some((visitor, _)) = visitors.get(n) else { return };
                let q = [
                    ("class", "chat"),
                    ("method", "sendmessage"),
                    ("user", user.as_str()),
                    ("password", password.as_str()),
                    ("platform", "webchat"),
                    ("platformid", pid.as_str()),
                    ("destination", visitor.as_str()),
                ];
                let text = format!("t{}", now_us());
                let _ = client
                    .get(format!("{base}/api/http/"))
                    .query(&q)
                    .query(&[("message", text)])
                    .send()
                    .await;
            }
        }));
    }
    for s in senders {
        s.await.expect("sender");
    }
    let sent_secs = started.elapsed().as_secs_f64();
    let mut delays = Vec::with_capacity(count);
    while delays.len() < count {
        match tokio::time::timeout(Duration::from_secs(30), arrived.recv()).await {
            Ok(Some(d)) => delays.push(d),
            _ => break,
        }
    }
    delays.sort_unstable();
    let pct = |p: f64| {
        delays
            .get(((delays.len() as f64 * p) as usize).min(delays.len().saturating_sub(1)))
            .map(|v| *v as f64 / 1000.0)
    };
    println!(
        "{}",
        json!({"streams": count, "received": delays.len(), "send_secs": sent_secs,
        "p50_ms": pct(0.5), "p99_ms": pct(0.99), "max_ms": delays.last().map(|v| *v as f64 / 1000.0)})
    );
}

#[actix_web::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).cloned().unwrap_or_default();
    match arg(0).as_str() {
        "fake" => {
            let per_bot = arg(2).parse().unwrap_or(0);
            serve(arg(1), per_bot, |c| {
                c.route("/bot{token}/{method}", web::post().to(send));
            })
            .await
        }
        "whatsapp" => {
            serve(arg(1), 0, |c| {
                c.route("/{number}/messages", web::post().to(whatsapp_send))
                    .route("/{waba}/message_templates", web::get().to(whatsapp_templates));
            })
            .await
        }
        "receiver" => {
            serve(arg(1), 0, |c| {
                c.route("/fast", web::post().to(event)).route("/hang", web::post().to(hang));
            })
            .await
        }
        "bulk" => {
            let channels: Vec<String> = arg(4).split(',').map(str::to_string).collect();
            let (count, list) = (arg(5).parse().expect("count"), arg(6).parse().expect("list"));
            bulk(&arg(1), &arg(2), &arg(3), &channels, count, list).await
        }
        "feedbot" => {
            feedbot(&arg(1), &arg(2), arg(3).parse().expect("count"), arg(4).parse().expect("list")).await
        }
        "sessions" => sessions(&arg(1), &arg(2), arg(3).parse().expect("visitors")).await,
        "visits" => {
            visits(&arg(1), &arg(2), &arg(3), arg(4).parse().expect("views"), arg(5).parse().unwrap_or(0.0))
                .await
        }
        "probes" => probes(&arg(1), arg(2).parse().expect("count"), arg(3).parse().unwrap_or(0.0)).await,
        "cam" => cam(&arg(1), &arg(2), arg(3).parse().expect("count"), &arg(4)).await,
        "streams" => streams(&arg(1), &arg(2), arg(3).parse().expect("count"), &arg(4), &arg(5)).await,
        mode @ ("queue" | "offer") => {
            let (base, user, password) = (arg(1), arg(2), arg(3));
            let channels: Vec<String> = arg(4).split(',').map(str::to_string).collect();
            let client = reqwest::Client::new();
            let started = Instant::now();
            let (count, rate, secs) = if mode == "queue" {
                (arg(5).parse::<u64>().expect("count"), 0.0, 0.0)
            } else {
                let (rate, secs): (f64, f64) = (arg(5).parse().expect("rate"), arg(6).parse().expect("secs"));
                ((rate * secs) as u64, rate, secs)
            };
            let next = Arc::new(std::sync::atomic::AtomicU64::new(0));
            let failed = Arc::new(std::sync::atomic::AtomicU64::new(0));
            let mut tasks = Vec::new();
            for _ in 0..64 {
                let (client, base, user, password, channels, next, failed) = (
                    client.clone(),
                    base.clone(),
                    user.clone(),
                    password.clone(),
                    channels.clone(),
                    next.clone(),
                    failed.clone(),
                );
                tasks.push(tokio::spawn(async move {
                    loop {
                        let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if n >= count {
                            return;
                        }
                        if rate > 0.0 {
                            let due = started + Duration::from_secs_f64(n as f64 / rate);
                            tokio::time::sleep_until(due.into()).await;
                        }
                        let channel = &channels[n as usize % channels.len()];
                        let to = (100_000 + n).to_string();
                        let text = if rate > 0.0 { format!("t{}", now_us()) } else { format!("queued {n}") };
                        if !call(
                            &client,
                            &base,
                            &[("user", &user), ("password", &password)],
                            channel,
                            &to,
                            &text,
                        )
                        .await
                        {
                            failed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                    }
                }));
            }
            for t in tasks {
                t.await.expect("sender");
            }
            let took = started.elapsed().as_secs_f64();
            println!(
                "{}",
                json!({"sent": count, "failed": failed.load(std::sync::atomic::Ordering::Relaxed), "secs": took, "offered_secs": secs})
            );
        }
        _ => eprintln!(
            "usage: delivery fake PORT [PER_BOT] | receiver PORT | queue BASE USER PW CHANNELS COUNT | offer BASE USER PW CHANNELS RATE SECS"
        ),
    }
}
