//! Several `chatgate serve` processes on one database (SPEC §7), on whichever engine the suite runs on:
//! shared data, changes seen by every instance within a second, idempotency across instances,
//! durability across SIGKILL, and outbox claims that never overlap.

use std::collections::BTreeSet;
use std::process::Stdio;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;
use tokio::process::{Child, Command};

use crate::helpers::{binary, fresh_database_url, no_delivery, spawn_app_on, spawn_app_without_delivery};

pub struct Instance {
    pub child: Child,
    pub base: String,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub async fn start_instance(db: &str) -> Instance {
    start_instance_with(db, &[]).await
}

pub async fn start_instance_with(db: &str, envs: &[(&str, &str)]) -> Instance {
    start_instance_via(&[], db, envs, Stdio::null()).await
}

/// An instance started through `wrapper` (a command that runs the binary, e.g. `prlimit …`), its
/// log (stderr) to `log`.
pub async fn start_instance_via(wrapper: &[&str], db: &str, envs: &[(&str, &str)], log: Stdio) -> Instance {
    let port = free_port();
    let mut command = match wrapper.split_first() {
        Some((program, args)) => {
            let mut c = Command::new(program);
            c.args(args).arg(binary());
            c
        }
        None => Command::new(binary()),
    };
    let child = command
        .arg("serve")
        .envs(envs.iter().copied())
        .env("CHATGATE_DATABASE_URL", db)
        .env("CHATGATE_LISTEN", format!("127.0.0.1:{port}"))
        // Instances behind one load balancer share one public identity, hence one token issuer.
        .env("CHATGATE_PUBLIC_URL", "http://chatgate.test")
        .env("CHATGATE_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while reqwest::get(format!("{base}/healthz")).await.is_err() {
        assert!(started.elapsed() < Duration::from_secs(30), "instance did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Instance { child, base }
}

/// `chatgate channel create acme --platform P --name P --setting …` on `db`: the new platformid.
pub async fn channel(db: &str, platform: &str, settings: &[&str]) -> String {
    let mut args = vec!["channel", "create", "acme", "--platform", platform, "--name", platform];
    for setting in settings {
        args.extend(["--setting", setting]);
    }
    cli(db, &args).await
}

/// The admin CLI on `db`; its stdout, trimmed (fails the test if the command fails).
pub async fn cli(db: &str, args: &[&str]) -> String {
    let out = crate::helpers::run_cli(db, &[], args).await;
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

async fn plain(base: &str, user: &str, password: &str, method: &str, params: &[(&str, &str)]) -> Value {
    plain_with(&reqwest::Client::new(), base, user, password, method, params).await
}

/// `plain` through a client of the caller's (building a client costs more than a request).
pub async fn plain_with(
    client: &reqwest::Client,
    base: &str,
    user: &str,
    password: &str,
    method: &str,
    params: &[(&str, &str)],
) -> Value {
    let class = chatgate::domain::operation::Operation::by_method(method).map_or("chat", |op| op.class());
    let mut q = vec![("class", class), ("method", method), ("user", user), ("password", password)];
    q.extend_from_slice(params);
    client.get(format!("{base}/api/http/")).query(&q).send().await.unwrap().json().await.unwrap()
}

/// How long until `check` holds, failing past `limit`.
pub async fn time_until<F, Fut>(limit: Duration, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() <= limit, "not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    started.elapsed()
}

pub async fn setup() -> (tempfile::TempDir, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let db = fresh_database_url(dir.path()).await;
    cli(&db, &["account", "create", "acme", "--password", "acme-pw"]).await;
    let channel = cli(&db, &["channel", "create", "acme", "--platform", "webchat", "--name", "Site"]).await;
    cli(&db, &["access", "create", "acme", "svc", "--secret", "svc-pw", "--scopes", "chat:read,chat:write"])
        .await;
    (dir, db, channel)
}

#[tokio::test]
async fn two_instances_share_data_and_see_changes_within_a_second() {
    let (_dir, db, ch) = setup().await;
    let (a, b) = (start_instance(&db).await, start_instance(&db).await);
    let chat = [("platform", "webchat"), ("platformid", ch.as_str()), ("destination", "v")];

    let sent =
        plain(&a.base, "acme", "acme-pw", "sendmessage", &[chat[0], chat[1], chat[2], ("message", "via A")])
            .await;
    let id = sent["result"]["messageid"].as_str().unwrap().to_string();
    let read = plain(&b.base, "acme", "acme-pw", "getmessages", &chat).await;
    assert_eq!(read["result"]["list"][0]["messageid"], id.as_str(), "{read}");

    // A token from A works on B; revoked on A, B refuses it within a second.
    let client = reqwest::Client::new();
    let token: Value = client
        .post(format!("{}/oauth/token", a.base))
        .basic_auth("svc", Some("svc-pw"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().unwrap().to_string();
    let on_b = || async {
        client
            .post(format!("{}/api/json/chat/getchatchannels", b.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(on_b().await, StatusCode::OK);
    let revoked = client
        .post(format!("{}/oauth/revoke", a.base))
        .basic_auth("svc", Some("svc-pw"))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::OK);
    let took =
        time_until(Duration::from_secs(1), || async { on_b().await == StatusCode::UNAUTHORIZED }).await;
    eprintln!("revocation reached the other instance in {took:?}");

    // Disabled through the CLI (a third process): both instances refuse the access within a second,
    // although both had verified it (and cached the proof) before.
    for inst in [&a, &b] {
        assert_eq!(plain(&inst.base, "svc", "svc-pw", "getchatchannels", &[]).await["status"], "SUCCESS");
    }
    cli(&db, &["access", "disable", "svc"]).await;
    for inst in [&a, &b] {
        let took = time_until(Duration::from_secs(1), || async {
            plain(&inst.base, "svc", "svc-pw", "getchatchannels", &[]).await["error"]
                == "INCORRECT_USER_PASSWORD"
        })
        .await;
        eprintln!("disabled access refused by {} after {took:?}", inst.base);
    }
}

#[tokio::test]
async fn one_idempotency_key_sent_to_two_instances_at_once_yields_one_message() {
    let (_dir, db, ch) = setup().await;
    let (a, b) = (start_instance(&db).await, start_instance(&db).await);
    for round in 0..5 {
        let key = format!("order-{round}");
        let send = |base: String| {
            let (ch, key) = (ch.clone(), key.clone());
            async move {
                let p = [
                    ("platform", "webchat"),
                    ("platformid", ch.as_str()),
                    ("destination", "v"),
                    ("message", "once"),
                    ("idempotencykey", key.as_str()),
                ];
                plain(&base, "acme", "acme-pw", "sendmessage", &p).await
            }
        };
        let (x, y) = tokio::join!(send(a.base.clone()), send(b.base.clone()));
        assert_eq!(x["result"]["messageid"], y["result"]["messageid"], "round {round}: {x} {y}");
        assert!(x["result"]["messageid"].is_string(), "{x}");
    }
    let chat = [("platform", "webchat"), ("platformid", ch.as_str()), ("destination", "v")];
    let list = plain(&a.base, "acme", "acme-pw", "getmessages", &chat).await;
    assert_eq!(list["result"]["list"].as_array().unwrap().len(), 5, "one message per key");
}

#[tokio::test]
async fn a_killed_instance_loses_no_acknowledged_message() {
    let (_dir, db, ch) = setup().await;
    let mut victim = start_instance(&db).await;
    // Warm the credential cache so the burst is fast.
    plain(&victim.base, "acme", "acme-pw", "getchatchannels", &[]).await;
    let mut senders = Vec::new();
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    for worker in 0..8 {
        let (base, ch, count) = (victim.base.clone(), ch.clone(), count.clone());
        senders.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut acknowledged = Vec::new();
            for n in 0.. {
                let text = format!("w{worker}-{n}");
                let q = [
                    ("class", "chat"),
                    ("method", "sendmessage"),
                    ("user", "acme"),
                    ("password", "acme-pw"),
                    ("platform", "webchat"),
                    ("platformid", ch.as_str()),
                    ("destination", "v"),
                    ("message", text.as_str()),
                ];
                let Ok(res) = client.get(format!("{base}/api/http/")).query(&q).send().await else { break };
                let Ok(body) = res.json::<Value>().await else { break };
                if let Some(id) = body["result"]["messageid"].as_str() {
                    acknowledged.push((id.to_string(), text));
                    count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
            acknowledged
        }));
    }
    // Kill once the burst is well under way (however loaded the machine is).
    time_until(Duration::from_secs(20), || async { count.load(std::sync::atomic::Ordering::Relaxed) >= 50 })
        .await;
    victim.child.start_kill().unwrap(); // SIGKILL
    victim.child.wait().await.unwrap();
    let mut acknowledged = Vec::new();
    for s in senders {
        acknowledged.extend(s.await.unwrap());
    }
    assert!(acknowledged.len() >= 20, "the burst was under way: {} acknowledged", acknowledged.len());

    let after = start_instance(&db).await;
    let chat =
        [("platform", "webchat"), ("platformid", ch.as_str()), ("destination", "v"), ("limit", "1000")];
    let mut stored = BTreeSet::new();
    let mut before: Option<String> = None;
    loop {
        let mut p = chat.to_vec();
        if let Some(b) = &before {
            p.push(("before", b));
        }
        let page = plain(&after.base, "acme", "acme-pw", "getmessages", &p).await;
        let items = page["result"]["list"].as_array().unwrap().clone();
        if items.is_empty() {
            break;
        }
        for m in &items {
            stored.insert((
                m["messageid"].as_str().unwrap().to_string(),
                m["message"].as_str().unwrap().to_string(),
            ));
        }
        before = items.last().and_then(|m| m["messageid"].as_str()).map(str::to_string);
    }
    let lost: Vec<_> = acknowledged.iter().filter(|m| !stored.contains(*m)).collect();
    assert!(lost.is_empty(), "{} of {} acknowledged messages lost: {lost:?}", lost.len(), acknowledged.len());
    let (n, engine) = (acknowledged.len(), crate::helpers::engine());
    eprintln!(
        "{engine}: {n} acknowledged before SIGKILL, all present after restart ({} stored)",
        stored.len()
    );
}

#[tokio::test]
async fn outbox_claims_never_overlap_and_leases_expire() {
    // The claims are made by hand here, so no worker may take entries first.
    let app = spawn_app_without_delivery().await;
    let f = app.seed().await;
    // One Telegram message (webchat ones need no worker) to each of 40 chats (only the oldest entry of a chat is claimable; see below).
    for i in 0..40 {
        let (text, to) = (format!("m{i}"), format!("{}", 1000 + i));
        app.call(
            "sendmessage",
            &[
                ("platform", "telegram"),
                ("platformid", &f.telegram),
                ("destination", &to),
                ("message", &text),
            ],
        )
        .await;
    }
    // A second instance's store on the same database.
    let other = spawn_app_on(app.database_url.clone(), app.dir.clone(), no_delivery).await;
    let now = chrono::Utc::now().timestamp_millis();
    let (s1, s2) = (app.core.store().clone(), other.core.store().clone());
    let (x, y) = tokio::join!(s1.claim_outbox(25, 60_000, now), s2.claim_outbox(25, 60_000, now));
    let (x, y) = (x.unwrap(), y.unwrap());
    let xs: BTreeSet<i64> = x.iter().map(|c| c.message_id).collect();
    let ys: BTreeSet<i64> = y.iter().map(|c| c.message_id).collect();
    assert!(xs.is_disjoint(&ys), "claimed twice: {:?}", xs.intersection(&ys).collect::<Vec<_>>());
    assert_eq!(xs.len() + ys.len(), 40, "every entry claimed once");
    assert!(s1.claim_outbox(100, 60_000, now + 1).await.unwrap().is_empty(), "all leased");
    assert_eq!(s2.claim_outbox(100, 60_000, now + 60_001).await.unwrap().len(), 40, "leases ran out");

    // A chat's messages go out in order: while its oldest entry is held, the next is not claimable.
    let mut ids = Vec::new();
    for text in ["one", "two"] {
        let sent = app
            .call(
                "sendmessage",
                &[
                    ("platform", "telegram"),
                    ("platformid", &f.telegram),
                    ("destination", "77"),
                    ("message", text),
                ],
            )
            .await;
        ids.push(sent["result"]["messageid"].as_str().unwrap().parse::<i64>().unwrap());
    }
    let later = chrono::Utc::now().timestamp_millis() + 120_001;
    let first: Vec<i64> =
        s1.claim_outbox(100, 60_000, later).await.unwrap().iter().map(|c| c.message_id).collect();
    assert!(first.contains(&ids[0]) && !first.contains(&ids[1]), "{first:?} {ids:?}");
}

/// Settings for delivering to the fake Telegram at `url` without pacing (the fake sets no limit), with
/// leases of `lease_secs` (short where a test waits for one to run out).
fn fast_telegram(url: &str, lease_secs: u64) -> Vec<(&'static str, String)> {
    vec![
        ("CHATGATE_CONNECTORS__TELEGRAM__BASE_URL", url.to_string()),
        ("CHATGATE_CONNECTORS__TELEGRAM__PER_CHANNEL_PER_SEC", "0".into()),
        ("CHATGATE_CONNECTORS__TELEGRAM__PER_CHAT_PER_SEC", "0".into()),
        ("CHATGATE_DELIVERY__LEASE_SECS", lease_secs.to_string()),
    ]
}

fn as_env<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// Sends `n` messages numbered from `first` through `base`, spread over 100 chats, 16 senders at once.
async fn send_many(base: &str, channel: &str, first: usize, n: usize) {
    let mut tasks = Vec::new();
    for worker in 0..16 {
        let (base, channel) = (base.to_string(), channel.to_string());
        tasks.push(tokio::spawn(async move {
            // One client per sender: building one per request costs more than the request.
            let client = reqwest::Client::new();
            // All messages of a chat from one sender, one after the other: acknowledged in order.
            for i in (first..first + n).filter(|i| (i % 100) % 16 == worker) {
                let (to, text) = ((1000 + i % 100).to_string(), format!("m{i}"));
                let p = [
                    ("platform", "telegram"),
                    ("platformid", channel.as_str()),
                    ("destination", &to),
                    ("message", &text),
                ];
                let r = plain_with(&client, &base, "acme", "acme-pw", "sendmessage", &p).await;
                assert_eq!(r["status"], "SUCCESS", "{r}");
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

/// Texts the fake accepted: how many distinct ones, and how many repeats.
fn tally(fake: &crate::fakes::Fake) -> (usize, usize) {
    let accepted: Vec<String> = fake
        .received()
        .iter()
        .filter(|r| r.accepted)
        .map(|r| r.body["text"].as_str().unwrap().to_string())
        .collect();
    let distinct: BTreeSet<&String> = accepted.iter().collect();
    (distinct.len(), accepted.len() - distinct.len())
}

async fn telegram_setup() -> (tempfile::TempDir, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let db = fresh_database_url(dir.path()).await;
    cli(&db, &["account", "create", "acme", "--password", "acme-pw"]).await;
    let channel = channel(&db, "telegram", &["bot_token=9:bot"]).await;
    (dir, db, channel)
}

#[tokio::test]
async fn two_instances_deliver_every_message_exactly_once() {
    let fake = crate::fakes::telegram().await;
    let (_dir, db, ch) = telegram_setup().await;
    // Exactly once holds while every outcome is committed within its lease: past it, an entry is
    // claimable again (at least once, SPEC §5.2). The crash tests' 2-s lease let a loaded CI machine's
    // stall repeat a few of 4,000 sends here, so this test leases longer.
    let env = fast_telegram(&fake.url, 30);
    let (a, b) =
        (start_instance_with(&db, &as_env(&env)).await, start_instance_with(&db, &as_env(&env)).await);
    let started = Instant::now();
    tokio::join!(send_many(&a.base, &ch, 0, 2000), send_many(&b.base, &ch, 2000, 2000));
    eprintln!("4000 sent in {:?}; {} delivered by then", started.elapsed(), tally(&fake).0);
    fake.wait_for(Duration::from_secs(60), |r| r.iter().filter(|r| r.accepted).count() >= 4000).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    eprintln!("all delivered after {:?}", started.elapsed());
    let (distinct, repeats) = tally(&fake);
    assert_eq!((distinct, repeats), (4000, 0), "every message once, none twice");
    // And in each chat in the order they were acknowledged (each sender sent a chat's messages in order).
    for chat in ["1000", "1042"] {
        let order: Vec<usize> = fake
            .accepted_to(chat)
            .iter()
            .map(|r| r.body["text"].as_str().unwrap()[1..].parse().unwrap())
            .filter(|n| *n < 2000)
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "chat {chat}: {order:?}");
    }
}

/// An entry that waits for a send slot longer than half its lease goes back unsent: once the lease
/// runs out, the dispatcher (this instance's or another's) claims it again, and both copies would send.
#[tokio::test]
async fn an_entry_that_waited_out_its_lease_for_a_send_slot_is_not_sent_twice() {
    let fake = crate::fakes::telegram().await;
    fake.set_delay(Duration::from_millis(400));
    let (_dir, db, ch) = telegram_setup().await;
    // One send at a time, 400 ms each, 2-s leases: most of the 12 entries claimed together wait longer.
    let mut env = fast_telegram(&fake.url, 2);
    env.push(("CHATGATE_DELIVERY__CONCURRENCY", "1".into()));
    let a = start_instance_with(&db, &as_env(&env)).await;
    send_many(&a.base, &ch, 0, 12).await;
    fake.wait_for(Duration::from_secs(60), |r| r.iter().filter(|r| r.accepted).count() >= 12).await;
    // A second copy of an entry would be sent within a lease or two of the last first one.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(tally(&fake), (12, 0), "every message once, none twice");
}

/// After a SIGKILL the dead process's claims are freed once its heart has stopped (`dead_after_ms`,
/// 5 s), not when their lease (60 s by default) runs out: every message arrives within seconds of the
/// restart, and the repeats stay within the sends that were in flight.
#[tokio::test]
async fn after_a_sigkill_mid_delivery_every_message_arrives_within_seconds_and_repeats_stay_within_the_in_flight_bound()
 {
    let fake = crate::fakes::telegram().await;
    fake.set_delay(Duration::from_millis(20));
    let (_dir, db, ch) = telegram_setup().await;
    // The default lease: what used to keep a dead process's entries for a minute.
    let mut env = fast_telegram(&fake.url, 60);
    env.push(("CHATGATE_DELIVERY__CONCURRENCY", "8".into()));
    let mut victim = start_instance_with(&db, &as_env(&env)).await;
    send_many(&victim.base, &ch, 0, 600).await;
    fake.wait_for(Duration::from_secs(30), |r| r.len() >= 100).await;
    victim.child.start_kill().unwrap(); // SIGKILL, with sends in flight
    victim.child.wait().await.unwrap();
    let before = tally(&fake).0;
    assert!(before < 600, "killed mid-delivery ({before} of 600 delivered)");

    let restarted = Instant::now();
    let _after = start_instance_with(&db, &as_env(&env)).await;
    // 5 s for the dead heart, a heartbeat, a poll and the sends (8 at a time, 20 ms each: under 2 s).
    fake.wait_for(Duration::from_secs(20), |_| tally(&fake).0 == 600).await;
    let (distinct, repeats) = tally(&fake);
    eprintln!(
        "{}: {before} delivered before SIGKILL; all {distinct} within {:?} of the restart, {repeats} repeated",
        crate::helpers::engine(),
        restarted.elapsed()
    );
    assert!(repeats <= 8, "{repeats} repeats, more than the 8 sends that may be in flight");
}
