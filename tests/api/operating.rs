//! Operating surface (SPEC §8): readiness, and graceful stops of real processes (SIGTERM, a second
//! signal, workers that finish or give back their claims).

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Connection;

use crate::helpers::spawn_app;

/// Runs one statement on the test's database through a connection of its own.
pub async fn execute(url: &str, sql: &str) {
    if url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).execute(&mut c).await.unwrap();
    } else {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).execute(&mut c).await.unwrap();
    }
}

#[tokio::test]
async fn readyz_says_whether_the_database_answers_with_its_migrations_and_recovers() {
    let app = spawn_app().await;
    let ready = || async {
        let res = app.client.get(format!("{}/readyz", app.address)).send().await.unwrap();
        let status = res.status();
        (status, res.json::<Value>().await.unwrap())
    };
    assert_eq!(ready().await, (StatusCode::OK, json!({"status": "ready"})));
    let last = "(SELECT MAX(version) FROM _sqlx_migrations)";
    execute(
        &app.database_url,
        &format!("UPDATE _sqlx_migrations SET success = FALSE WHERE version = {last}"),
    )
    .await;
    assert_eq!(
        ready().await,
        (StatusCode::SERVICE_UNAVAILABLE, json!({"status": "unready", "reason": "migrations have not run"}))
    );
    let health = app.client.get(format!("{}/healthz", app.address)).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK, "the process itself is up");
    execute(&app.database_url, "UPDATE _sqlx_migrations SET success = TRUE").await;
    assert_eq!(ready().await, (StatusCode::OK, json!({"status": "ready"})), "recovers by itself");
}

/// Sends `signal` (e.g. `TERM`) to a process.
pub fn kill(pid: u32, signal: &str) {
    let ok =
        std::process::Command::new("kill").arg(format!("-{signal}")).arg(pid.to_string()).status().unwrap();
    assert!(ok.success());
}

/// A visitor's event stream held open on `base` (a request in flight that never ends by itself).
pub async fn open_stream(client: &reqwest::Client, base: &str, channel: &str) -> reqwest::Response {
    let api = format!("{base}/webchat/{channel}/api");
    let s: Value =
        client.post(format!("{api}/session")).json(&json!({})).send().await.unwrap().json().await.unwrap();
    let q = [("visitor", s["visitor"].as_str().unwrap()), ("token", s["token"].as_str().unwrap())];
    let res = client.get(format!("{api}/events")).query(&q).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res
}

#[tokio::test]
async fn sigterm_stops_accepting_lets_requests_finish_within_the_timeout_and_exits_0() {
    let (_dir, db, channel) = crate::instances::setup().await;
    let mut a = crate::instances::start_instance_with(&db, &[("CHATGATE_SHUTDOWN_TIMEOUT_SECS", "2")]).await;
    let client = reqwest::Client::new();
    let _stream = open_stream(&client, &a.base, &channel).await;
    let started = std::time::Instant::now();
    kill(a.child.id().unwrap(), "TERM");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let fresh = reqwest::Client::new().get(format!("{}/healthz", a.base)).send().await;
    assert!(fresh.is_err(), "no new connections after SIGTERM");
    let status =
        tokio::time::timeout(std::time::Duration::from_secs(6), a.child.wait()).await.unwrap().unwrap();
    let took = started.elapsed();
    assert_eq!(status.code(), Some(0), "exit 0");
    assert!(took >= std::time::Duration::from_millis(1500), "the open stream had its time: {took:?}");
    assert!(took < std::time::Duration::from_secs(5), "bounded by shutdown_timeout_secs: {took:?}");
}

#[tokio::test]
async fn a_second_signal_exits_at_once() {
    let (_dir, db, channel) = crate::instances::setup().await;
    let mut a = crate::instances::start_instance_with(&db, &[("CHATGATE_SHUTDOWN_TIMEOUT_SECS", "30")]).await;
    let client = reqwest::Client::new();
    let _stream = open_stream(&client, &a.base, &channel).await;
    let pid = a.child.id().unwrap();
    kill(pid, "TERM");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let started = std::time::Instant::now();
    kill(pid, "INT");
    let status =
        tokio::time::timeout(std::time::Duration::from_secs(3), a.child.wait()).await.unwrap().unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(1), "at once, not after 30 s");
    assert_eq!(status.code(), Some(1));
}

/// SIGTERM with deliveries under way: sends in flight finish and are recorded, the entries still
/// waiting for their pace are given back at once (not after their 60 s lease), and the next instance
/// sends them — every message once.
#[tokio::test]
async fn sigterm_lets_sends_in_flight_finish_and_gives_back_the_other_claims() {
    use crate::delivery::BOT;
    use crate::instances::{channel, plain_with, start_instance_with};
    let telegram = crate::fakes::telegram().await;
    telegram.set_delay(std::time::Duration::from_millis(1500));
    let (_dir, db, _) = crate::instances::setup().await;
    let tg = channel(&db, "telegram", &[&format!("bot_token={BOT}")]).await;
    let envs = [
        ("CHATGATE_CONNECTORS__TELEGRAM__BASE_URL", telegram.url.as_str()),
        ("CHATGATE_DELIVERY__LEASE_SECS", "60"),
        ("CHATGATE_SHUTDOWN_TIMEOUT_SECS", "10"),
    ];
    let mut a = start_instance_with(&db, &envs).await;
    let client = reqwest::Client::new();
    for chat in 1..=40 {
        let to = chat.to_string();
        let q =
            [("platform", "telegram"), ("platformid", tg.as_str()), ("destination", &to), ("message", "hi")];
        let r = plain_with(&client, &a.base, "acme", "acme-pw", "sendmessage", &q).await;
        assert_eq!(r["status"], "SUCCESS", "{r}");
    }
    // 30 a second per bot: 30 are in flight (the fake takes 1.5 s to answer), 10 wait for their turn.
    telegram.wait_for(std::time::Duration::from_secs(5), |r| r.len() >= 30).await;
    let started = std::time::Instant::now();
    kill(a.child.id().unwrap(), "TERM");
    let status =
        tokio::time::timeout(std::time::Duration::from_secs(12), a.child.wait()).await.unwrap().unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
    let sent_by_a = telegram.received().len();
    assert!((30..40).contains(&sent_by_a), "{sent_by_a} sent before the stop");

    telegram.set_delay(std::time::Duration::ZERO);
    let b = start_instance_with(&db, &envs[..1]).await;
    let restarted = std::time::Instant::now();
    telegram.wait_for(std::time::Duration::from_secs(10), |r| r.len() >= 40).await;
    assert!(
        restarted.elapsed() < std::time::Duration::from_secs(5),
        "given back, not leased: {:?}",
        restarted.elapsed()
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let chats: Vec<String> = telegram.received().into_iter().map(|r| r.chat).collect();
    let distinct: std::collections::BTreeSet<&String> = chats.iter().collect();
    assert_eq!((chats.len(), distinct.len()), (40, 40), "each message once: {chats:?}");
    // What A sent was recorded as sent before it exited.
    let status =
        plain_with(&client, &b.base, "acme", "acme-pw", "getmessagestatus", &[("messageid", "1")]).await;
    assert_eq!(status["result"]["status"], "sent", "{status}");
}

/// A real `chatgate serve` on a fresh database whose log (stderr, at the default level) goes to a file:
/// (its directory, the process, its port, the log file). The server answers `/healthz` when this returns.
pub async fn logged_server() -> (tempfile::TempDir, tokio::process::Child, u16, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = crate::helpers::fresh_database_url(dir.path()).await;
    let log = dir.path().join("server.log");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let server = tokio::process::Command::new(crate::helpers::binary())
        .arg("serve")
        .env("CHATGATE_DATABASE_URL", &db)
        .env("CHATGATE_LISTEN", format!("127.0.0.1:{port}"))
        .stderr(std::fs::File::create(&log).unwrap())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    while reqwest::get(format!("http://127.0.0.1:{port}/healthz")).await.is_err() {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    (dir, server, port, log)
}

/// Requests actix-http cannot parse are not each an ERROR line (an attacker would write the error log):
/// they are summed up in one WARN line per 10 s.
#[tokio::test]
async fn malformed_requests_are_summed_up_at_warn_not_logged_each_at_error() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (_dir, mut server, port, log) = logged_server().await;
    for _ in 0..30 {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n").await.unwrap();
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), s.read_to_end(&mut answer)).await;
        assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 400"));
    }
    tokio::time::sleep(std::time::Duration::from_millis(10_500)).await;
    server.start_kill().unwrap();
    server.wait().await.unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!text.contains("ERROR"), "{text}");
    let summed: Vec<&str> = text.lines().filter(|l| l.contains("malformed HTTP requests refused")).collect();
    assert_eq!(summed.len(), 1, "{text}");
    assert!(summed[0].contains("WARN") && summed[0].contains("refused=30"), "{}", summed[0]);
}

/// SQLite's write-ahead log is started over and truncated while readers never pause (on the
/// PostgreSQL run too: the log is SQLite's, so this test always uses an SQLite file). Without the
/// periodic checkpoint the file stays at its high-water mark — several MB here, 1.2 GB after a 1M fill.
#[tokio::test]
async fn the_sqlite_log_shrinks_while_readers_never_pause() {
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let wal = dir.path().join("log.db-wal");
    let url = format!("sqlite://{}", dir.path().join("log.db").display());
    let app = crate::helpers::spawn_app_on(url, dir.clone(), |s| s.db.checkpoint_secs = 1).await;
    let f = app.seed().await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let (client, url, stop) = (app.client.clone(), app.plain_url(), stop.clone());
            let query = [
                ("class", "chat"),
                ("method", "getchats"),
                ("user", crate::helpers::LOGIN),
                ("password", crate::helpers::PASSWORD),
                ("platform", "webchat"),
                ("platformid", f.webchat.as_str()),
            ]
            .map(|(k, v)| (k.to_string(), v.to_string()));
            tokio::spawn(async move {
                // How many reads, and the longest wait for one: a reader held up by the checkpoint
                // would show as one long read, whatever the machine's speed.
                let (mut reads, mut longest) = (0u32, std::time::Duration::ZERO);
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let started = std::time::Instant::now();
                    let res = client.get(&url).query(&query).send().await.unwrap();
                    assert_eq!(res.status(), StatusCode::OK);
                    longest = longest.max(started.elapsed());
                    reads += 1;
                }
                (reads, longest)
            })
        })
        .collect();
    let mut grown = 0;
    for round in 0..4 {
        let items: Vec<Value> = (0..1000)
            .map(|i| {
                json!({"platform": "webchat", "platformid": f.webchat, "destination": format!("v{}", i % 300),
                "message": format!("round {round} message {i} {}", "x".repeat(200))})
            })
            .collect();
        let form = [
            ("class", "chat".to_string()),
            ("method", "sendmessages".to_string()),
            ("user", crate::helpers::LOGIN.to_string()),
            ("password", crate::helpers::PASSWORD.to_string()),
            ("messages", Value::Array(items).to_string()),
        ];
        let res = app.client.post(app.plain_url()).form(&form).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        grown = grown.max(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0));
    }
    assert!(grown > 256 * 1024, "the sends wrote a log of some size: {grown} bytes");
    let started = std::time::Instant::now();
    let mut size = grown;
    while size > 64 * 1024 && started.elapsed() < std::time::Duration::from_secs(8) {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        size = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let finished: Vec<(u32, std::time::Duration)> =
        futures_util::future::join_all(readers).await.into_iter().map(Result::unwrap).collect();
    assert!(size <= 64 * 1024, "the log is still {size} bytes (it grew to {grown}) after 8 s of reads");
    for (reads, longest) in finished {
        assert!(reads >= 5, "each reader kept reading: {reads}");
        assert!(longest < std::time::Duration::from_secs(2), "a read waited {longest:?}");
    }
}
