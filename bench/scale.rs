//! The data-scale benchmark's driver (issue 16), run by `bench/scale.sh`:
//!
//! - `fill BASE USER PASSWORD FROM TO WEBCHAT_IDS TELEGRAM_ID SECRET`: stores messages FROM..TO through
//!   the API — 90 % sent through the plain door's `sendmessages` (1,000 per call), 10 % received through
//!   the Telegram webhook (unread). Message n goes to a chat fixed by n, so every fill builds the same
//!   layout: the first webchat channel has 10,000 chats and the busy chat (1 % of all messages); eight
//!   more have 1,000 chats each; the Telegram channel has 1,000 chats and the hot chat (1 % of what is
//!   received, all unread).
//! - `measure BASE USER PASSWORD WEBCHAT_IDS TELEGRAM_ID`: each read of the table over one connection,
//!   one call after another (30 to warm up, then 300), for the same answer size at every fill (but the
//!   default-limit `getchats`, listed with its item count), and `sendmessage` over 64 connections for 5 s.
//!   Prints one JSON object: per call p50/p99 in ms and the answer's item count; sends per second.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{Value, json};

const BULK: u64 = 1000;
const BUSY: &str = "busy";
const HOT: i64 = 7;

/// Where message n goes: `Some((webchat channel index, destination))` when sent, `None` when received.
fn sent_to(n: u64) -> Option<(usize, String)> {
    if n % 10 == 9 {
        return None;
    }
    if n.is_multiple_of(100) {
        return Some((0, BUSY.into()));
    }
    let k = n / 10;
    let channel = (k % 9) as usize;
    let chats = if channel == 0 { 10_000 } else { 1_000 };
    Some((channel, format!("c{}", (k / 9) % chats)))
}

/// The Telegram chat of a received message n.
fn received_from(n: u64) -> i64 {
    if n % 1000 == 9 { HOT } else { 100_000 + ((n / 10) % 1000) as i64 }
}

struct Api {
    client: reqwest::Client,
    base: String,
    user: String,
    password: String,
}

impl Api {
    async fn call(&self, method: &str, params: &[(&str, &str)]) -> Value {
        parse(self.call_raw(method, params).await)
    }

    /// The answer's bytes, whole: what a read costs over one connection, before the client parses it.
    async fn call_raw(&self, method: &str, params: &[(&str, &str)]) -> Result<Vec<u8>, String> {
        let class = if method.starts_with("webhook") { "webhook" } else { "chat" };
        let mut form =
            vec![("class", class), ("method", method), ("user", &self.user), ("password", &self.password)];
        form.extend_from_slice(params);
        let res = self.client.post(format!("{}/api/http/", self.base)).form(&form).send().await;
        match res {
            Ok(r) => r.bytes().await.map(|b| b.to_vec()).map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        }
    }
}

fn parse(answer: Result<Vec<u8>, String>) -> Value {
    match answer {
        Ok(body) => serde_json::from_slice(&body).unwrap_or(Value::Null),
        Err(e) => json!({"status": "ERROR", "error": e}),
    }
}

fn args() -> Vec<String> {
    std::env::args().skip(1).collect()
}

async fn fill(api: &Api, from: u64, to: u64, webchat: &[String], telegram: &str, secret: &str) {
    let started = Instant::now();
    // Sends: calls of up to 1,000 messages, 4 at a time.
    let mut batches: Vec<Vec<Value>> = Vec::new();
    let mut batch = Vec::new();
    for n in from..to {
        if let Some((channel, destination)) = sent_to(n) {
            batch.push(
                json!({"platform": "webchat", "platformid": webchat[channel], "destination": destination,
                "message": format!("message {n}")}),
            );
            if batch.len() as u64 == BULK {
                batches.push(std::mem::take(&mut batch));
            }
        }
    }
    if !batch.is_empty() {
        batches.push(batch);
    }
    let sent = batches.iter().map(Vec::len).sum::<usize>();
    let mut queue = futures_util::stream::iter(batches.into_iter().map(|b| async move {
        let messages = Value::Array(b).to_string();
        let answer = api.call("sendmessages", &[("messages", &messages)]).await;
        let ok = answer["result"]["list"]
            .as_array()
            .map_or(0, |l| l.iter().filter(|e| e["messageid"].is_string()).count());
        if answer["status"] != "SUCCESS" {
            eprintln!("sendmessages: {answer}");
        }
        ok
    }))
    .buffer_unordered(4);
    let mut stored = 0;
    while let Some(ok) = queue.next().await {
        stored += ok;
    }
    // Receives: one Telegram update per request, 32 at a time.
    let url = format!("{}/inbound/telegram/{telegram}", api.base);
    let received: Vec<u64> = (from..to).filter(|n| sent_to(*n).is_none()).collect();
    let mut queue = futures_util::stream::iter(received.iter().map(|&n| {
        let (client, url) = (&api.client, &url);
        async move {
            let update = json!({"update_id": n, "message": {"message_id": n, "date": 0,
                "chat": {"id": received_from(n), "type": "private"}, "text": format!("received {n}")}});
            let res =
                client.post(url).header("X-Telegram-Bot-Api-Secret-Token", secret).json(&update).send().await;
            res.is_ok_and(|r| r.status().is_success())
        }
    }))
    .buffer_unordered(32);
    let mut got = 0;
    while let Some(ok) = queue.next().await {
        got += usize::from(ok);
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "filled {from}..{to}: {stored} of {sent} sent and {got} of {} received stored in {secs:.1} s ({:.0}/s)",
        received.len(),
        (stored + got) as f64 / secs
    );
    if stored != sent || got != received.len() {
        std::process::exit(1);
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    (sorted[i] * 1000.0).round() / 1000.0
}

/// One read, called over one connection: p50, p99 (ms) and the answer's item count.
async fn time_call(api: &Api, method: &str, params: &[(&str, &str)]) -> Value {
    let mut ms = Vec::with_capacity(300);
    let mut items = 0;
    for i in 0..330 {
        // Timed to the answer's last byte; parsing it into a JSON tree here (1–2 ms for 1,000 items on
        // this machine) is the client's cost, not the read's.
        let started = Instant::now();
        let raw = api.call_raw(method, params).await;
        if i >= 30 {
            ms.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        let answer = parse(raw);
        if answer["status"] != "SUCCESS" {
            eprintln!("{method}: {answer}");
            std::process::exit(1);
        }
        items = answer["result"]["list"].as_array().map_or(1, Vec::len);
    }
    ms.sort_by(f64::total_cmp);
    json!({"p50_ms": percentile(&ms, 0.5), "p99_ms": percentile(&ms, 0.99), "items": items})
}

/// `sendmessage` over `connections` for `secs`: messages acknowledged per second.
async fn send_rate(api: &Api, webchat: &str, connections: usize, secs: u64) -> f64 {
    let until = Instant::now() + Duration::from_secs(secs);
    let tasks = (0..connections).map(|c| async move {
        let mut done = 0u64;
        while Instant::now() < until {
            let destination = format!("load{c}");
            let text = format!("load {done}");
            let params = [
                ("platform", "webchat"),
                ("platformid", webchat),
                ("destination", &destination),
                ("message", &text),
            ];
            if api.call("sendmessage", &params).await["status"] == "SUCCESS" {
                done += 1;
            }
        }
        done
    });
    let total: u64 = futures_util::future::join_all(tasks).await.into_iter().sum();
    (total as f64 / secs as f64).round()
}

async fn measure(api: &Api, webchat: &[String], telegram: &str) {
    let busy = [("platform", "webchat"), ("platformid", webchat[0].as_str()), ("destination", BUSY)];
    let hot = HOT.to_string();
    let unread = [
        ("platform", "telegram"),
        ("platformid", telegram),
        ("destination", hot.as_str()),
        ("markread", "0"),
        ("limit", "10"),
    ];
    // 100 chats a page at both sizes (at 10k the channels have a few hundred chats), and the first
    // page at the default limit of the channel with 10,000 chats (its answer grows as chats fill).
    let small = [("platform", "webchat"), ("platformid", webchat[1].as_str()), ("limit", "100")];
    let big = [("platform", "webchat"), ("platformid", webchat[0].as_str()), ("limit", "100")];
    let big_all = [("platform", "webchat"), ("platformid", webchat[0].as_str())];
    let last = api.call("getmessages", &[busy[0], busy[1], busy[2], ("limit", "1")]).await;
    let id = last["result"]["list"][0]["messageid"].as_str().unwrap_or("1").to_string();
    let out = json!({
        "getmessages_busy_chat": time_call(api, "getmessages", &busy).await,
        "getchats_1000_chats": time_call(api, "getchats", &small).await,
        "getchats_10000_chats": time_call(api, "getchats", &big).await,
        "getchats_10000_chats_default_limit": time_call(api, "getchats", &big_all).await,
        "getunreadmessages_hot_chat": time_call(api, "getunreadmessages", &unread).await,
        "getmessagestatus": time_call(api, "getmessagestatus", &[("messageid", id.as_str())]).await,
        "sendmessage_per_s": send_rate(api, &webchat[2], 64, 5).await,
    });
    println!("{out}");
}

#[tokio::main]
async fn main() {
    let a = args();
    let usage = "usage: scale fill BASE USER PASSWORD FROM TO WEBCHAT_IDS TELEGRAM_ID SECRET | \
                 scale measure BASE USER PASSWORD WEBCHAT_IDS TELEGRAM_ID";
    if a.len() < 6 {
        eprintln!("{usage}");
        std::process::exit(2);
    }
    let client = reqwest::Client::builder().pool_max_idle_per_host(128).build().expect("client");
    let api = Api { client, base: a[1].clone(), user: a[2].clone(), password: a[3].clone() };
    match a[0].as_str() {
        "fill" if a.len() == 9 => {
            let (from, to) = (a[4].parse().expect("FROM"), a[5].parse().expect("TO"));
            let webchat: Vec<String> = a[6].split(',').map(str::to_string).collect();
            assert_eq!(webchat.len(), 9, "nine webchat channels");
            fill(&api, from, to, &webchat, &a[7], &a[8]).await;
        }
        "measure" => {
            let webchat: Vec<String> = a[4].split(',').map(str::to_string).collect();
            measure(&api, &webchat, &a[5]).await;
        }
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    }
}
