//! Event streams are bounded (SPEC §4): per webchat visitor or console session, per client address
//! (the forwarded one behind a trusted proxy), and overall below the descriptor limit, so a stranger
//! with free visitor tokens cannot take the connections everyone else needs.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{LOGIN, PASSWORD, console_cookie, spawn_app_with, webchat_visitor};

fn events_url(base: &str, channel: &str, (visitor, token): &(String, String)) -> String {
    format!("{base}/webchat/{channel}/api/events?visitor={visitor}&token={token}")
}

/// Opens a stream through `client` (with extra headers); a refused one must say when to come back.
async fn open(client: &reqwest::Client, url: &str, headers: &[(&str, &str)]) -> (u16, reqwest::Response) {
    let mut req = client.get(url);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    if status != 200 {
        assert!(res.headers().contains_key("retry-after"), "{status} without Retry-After");
        assert_eq!(res.headers()["connection"], "close", "a refused stream's connection is closed");
    }
    (status, res)
}

#[tokio::test]
async fn streams_are_capped_per_visitor_per_address_per_forwarded_client_and_overall() {
    let app = spawn_app_with(|s| {
        s.streams.per_visitor = 2;
        s.streams.per_address = 3;
        s.streams.max = 7;
        s.trusted_proxies = vec!["127.0.0.3/32".parse().unwrap()];
    })
    .await;
    let f = app.seed().await;
    let (base, ch) = (app.address.as_str(), f.webchat.as_str());
    let direct = reqwest::Client::new();
    let (a, b) = (webchat_visitor(&direct, base, ch).await, webchat_visitor(&direct, base, ch).await);
    let mut held = Vec::new();

    // One visitor: two streams, the third refused with 429.
    for _ in 0..2 {
        let (status, res) = open(&direct, &events_url(base, ch, &a), &[]).await;
        assert_eq!(status, 200);
        held.push(res);
    }
    let (status, refused) = open(&direct, &events_url(base, ch, &a), &[]).await;
    assert_eq!(status, 429);
    assert_eq!(refused.headers()["retry-after"], "10");
    // Another visitor on the same address: one more, then the address is full.
    let (status, res) = open(&direct, &events_url(base, ch, &b), &[]).await;
    assert_eq!(status, 200);
    held.push(res);
    let c = webchat_visitor(&direct, base, ch).await;
    assert_eq!(open(&direct, &events_url(base, ch, &c), &[]).await.0, 429, "the address's cap");

    // Behind the trusted proxy each forwarded client has its own cap.
    let proxy = reqwest::Client::builder()
        .local_address("127.0.0.3".parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap();
    let forwarded = [("x-forwarded-for", "198.51.100.7")];
    for _ in 0..3 {
        let v = webchat_visitor(&proxy, base, ch).await;
        let (status, res) = open(&proxy, &events_url(base, ch, &v), &forwarded).await;
        assert_eq!(status, 200);
        held.push(res);
    }
    let v = webchat_visitor(&proxy, base, ch).await;
    assert_eq!(open(&proxy, &events_url(base, ch, &v), &forwarded).await.0, 429, "one forwarded client");
    let (status, res) = open(&proxy, &events_url(base, ch, &v), &[("x-forwarded-for", "198.51.100.8")]).await;
    assert_eq!(status, 200, "another forwarded client");
    held.push(res);

    // Seven open: the server is full for everyone (503), and the API still answers.
    assert_eq!(app.streams.open(), 7);
    let d = webchat_visitor(&proxy, base, ch).await;
    let (status, res) = open(&proxy, &events_url(base, ch, &d), &[("x-forwarded-for", "198.51.100.9")]).await;
    assert_eq!(status, 503);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "TOO_MANY_REQUESTS");
    crate::helpers::ok(&app.call("getchatchannels", &[]).await);

    // A place comes back when a stream ends.
    drop(held.pop());
    let started = Instant::now();
    while app.streams.open() > 6 {
        assert!(started.elapsed() < Duration::from_secs(5), "the closed stream still counts");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(open(&proxy, &events_url(base, ch, &d), &[("x-forwarded-for", "198.51.100.9")]).await.0, 200);
}

#[tokio::test]
async fn a_console_session_holds_a_few_streams() {
    let app = spawn_app_with(|s| s.streams.per_visitor = 2).await;
    app.seed().await;
    let client = reqwest::Client::new();
    let cookie = console_cookie(&client, &app.address, LOGIN, PASSWORD).await;
    let url = format!("{}/operator/api/events", app.address);
    let cookie = [("cookie", cookie.as_str())];
    let (first, _a) = open(&client, &url, &cookie).await;
    let (second, _b) = open(&client, &url, &cookie).await;
    let (third, _) = open(&client, &url, &cookie).await;
    assert_eq!((first, second, third), (200, 200, 429));
}

/// The status of a stream request written on `s`; the stream itself when it was accepted.
async fn stream_attempt(mut s: TcpStream, path: &str) -> (u16, bool, Option<TcpStream>) {
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
    if s.write_all(request.as_bytes()).await.is_err() {
        return (0, false, None);
    }
    let mut head = Vec::new();
    let mut buf = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => head.extend_from_slice(&buf[..n]),
            _ => return (0, false, None),
        }
    }
    let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let retry_after = head.contains("\r\nretry-after: ");
    (status, retry_after, (status == 200).then_some(s))
}

async fn connect_from(ip: std::net::IpAddr, port: u16) -> Option<TcpStream> {
    let socket = tokio::net::TcpSocket::new_v4().ok()?;
    socket.bind((ip, 0).into()).ok()?;
    tokio::time::timeout(Duration::from_secs(10), socket.connect(([127, 0, 0, 1], port).into()))
        .await
        .ok()?
        .ok()
}

/// A real server started with 512 descriptors (hard limit 1,024, which it raises to) takes 20,000
/// stream attempts from 200 loopback addresses, each with a visitor token of its own, 300 at a time:
/// it keeps at most its overall cap of streams open, refuses the rest with 429 or 503 and
/// `Retry-After`, and meanwhile `/healthz`, `/readyz` and the plain door answer every probe, and its
/// log never says it ran out of descriptors. Before the caps, ~1,000 streams took every descriptor:
/// `Too many open files` every 500 ms and `/healthz` timed out.
#[tokio::test]
async fn a_flood_of_event_streams_under_1024_descriptors_leaves_health_and_the_api_answering() {
    // The attack holds up to ~800 sockets of this process.
    let own = rlimit::increase_nofile_limit(u64::MAX).unwrap();
    assert!(own >= 4096, "this test needs 4,096 descriptors of its own; the hard limit is {own}");
    let (dir, db, channel) = crate::instances::setup().await;
    let log_path = dir.path().join("server.log");
    let log = Stdio::from(std::fs::File::create(&log_path).unwrap());
    let server = crate::instances::start_instance_via(
        &["prlimit", "--nofile=512:1024", "--"],
        &db,
        &[("CHATGATE_WEBCHAT__SESSIONS_PER_ADDRESS_PER_MINUTE", "1000")],
        log,
    )
    .await;
    let pid = server.child.id().unwrap();
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let files = limits.lines().find(|l| l.starts_with("Max open files")).unwrap().to_string();
    assert_eq!(files.split_whitespace().nth(3), Some("1024"), "raised to the hard limit: {files}");
    let port: u16 = server.base.rsplit(':').next().unwrap().parse().unwrap();

    let addresses: Vec<std::net::IpAddr> =
        (1..=200).map(|n| format!("127.1.{}.{}", n / 250, n % 250 + 1).parse().unwrap()).collect();
    let client = reqwest::Client::new();
    let mut paths = Vec::new();
    for _ in &addresses {
        let v = webchat_visitor(&client, &server.base, &channel).await;
        paths.push(format!("/webchat/{channel}/api/events?visitor={}&token={}", v.0, v.1));
    }

    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let prober = {
        let (base, done) = (server.base.clone(), done.clone());
        tokio::spawn(async move {
            let probe = reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .pool_max_idle_per_host(0)
                .build()
                .unwrap();
            let api =
                format!("{base}/api/http/?class=chat&method=getchatchannels&user=acme&password=acme-pw");
            let mut failures = Vec::new();
            let mut probes = 0;
            while !done.load(Ordering::Acquire) {
                for url in [format!("{base}/healthz"), format!("{base}/readyz"), api.clone()] {
                    probes += 1;
                    match probe.get(&url).send().await {
                        Ok(res) if res.status() == 200 => {}
                        Ok(res) => {
                            let status = res.status();
                            failures.push(format!("{url}: {status} {}", res.text().await.unwrap_or_default()))
                        }
                        Err(e) => failures.push(format!("{url}: {e}")),
                    }
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            (probes, failures)
        })
    };

    const ATTEMPTS: usize = 20_000;
    let next = Arc::new(AtomicUsize::new(0));
    let (addresses, paths) = (Arc::new(addresses), Arc::new(paths));
    let attackers: Vec<_> = (0..300)
        .map(|_| {
            let (next, addresses, paths) = (next.clone(), addresses.clone(), paths.clone());
            tokio::spawn(async move {
                let (mut statuses, mut held, mut unbounded) = (BTreeMap::new(), Vec::new(), 0);
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= ATTEMPTS {
                        return (statuses, held, unbounded);
                    }
                    let Some(s) = connect_from(addresses[n % 200], port).await else {
                        *statuses.entry(0).or_insert(0) += 1;
                        continue;
                    };
                    let (status, retry_after, stream) = stream_attempt(s, &paths[n % 200]).await;
                    *statuses.entry(status).or_insert(0usize) += 1;
                    if status != 200 && !retry_after {
                        unbounded += 1;
                    }
                    held.extend(stream);
                }
            })
        })
        .collect();
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    let mut held = Vec::new();
    let mut without_retry_after = 0;
    for attacker in attackers {
        let (s, h, u) = attacker.await.unwrap();
        for (status, n) in s {
            *statuses.entry(status).or_insert(0) += n;
        }
        held.extend(h);
        without_retry_after += u;
    }
    // The probes go on while every accepted stream stays open.
    tokio::time::sleep(Duration::from_secs(1)).await;
    done.store(true, Ordering::Release);
    let (probes, failures) = prober.await.unwrap();

    let metrics = client.get(format!("{}/metrics", server.base)).send().await.unwrap().text().await.unwrap();
    let open_now =
        metrics.lines().find(|l| l.starts_with("chatgate_event_streams_open")).unwrap().to_string();
    drop(held.drain(..));
    let text = std::fs::read_to_string(&log_path).unwrap();

    assert!(
        failures.is_empty(),
        "{} of {probes} probes failed: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    assert!(probes >= 30, "{probes} probes");
    // 1,024 descriptors: 896 connections, 448 streams (server::Budget).
    let accepted = statuses.get(&200).copied().unwrap_or(0);
    assert!((400..=448).contains(&accepted), "{statuses:?}");
    assert_eq!(open_now, format!("chatgate_event_streams_open {accepted}"));
    // The overall cap fills before most visitors reach their own (4 each): mostly 503s.
    assert!(statuses.get(&503).is_some_and(|n| *n > 0), "{statuses:?}");
    assert!(statuses.keys().all(|s| [200, 429, 503].contains(s)), "nothing else: {statuses:?}");
    assert_eq!(without_retry_after, 0);
    assert!(!text.to_lowercase().contains("too many open files"), "{text}");
}
