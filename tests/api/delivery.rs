//! Delivery to Telegram and WhatsApp (SPEC §5.2) against fake platforms on loopback: what a caller sees
//! through `getmessagestatus`, and what the platform received.

use std::time::{Duration, Instant};

use chatgate::config::Settings;
use serde_json::{Value, json};

use crate::fakes::{self, Fake, Reply, WA_TOKEN};
use crate::helpers::{LOGIN, PASSWORD, TestApp, list, ok, spawn_app_with};

pub const BOT: &str = "123456:AAH-test-bot-token";

pub struct Platforms {
    pub telegram: Fake,
    pub whatsapp: Fake,
}

/// A server whose connectors point at fresh fakes, with short retry delays.
pub async fn app_with_fakes(configure: impl FnOnce(&mut Settings)) -> (TestApp, Platforms) {
    let (telegram, whatsapp) = (fakes::telegram().await, fakes::whatsapp().await);
    let (tg, wa) = (telegram.url.clone(), whatsapp.url.clone());
    let app = spawn_app_with(move |s| {
        s.connectors.telegram.base_url = tg;
        s.connectors.whatsapp.base_url = wa;
        s.delivery.retry_base_ms = 50;
        s.delivery.poll_ms = 100;
        configure(s);
    })
    .await;
    app.admin().create_account(LOGIN, PASSWORD).await.unwrap();
    (app, Platforms { telegram, whatsapp })
}

impl TestApp {
    pub async fn channel(&self, platform: &str, settings: &[&str]) -> String {
        let settings: Vec<String> = settings.iter().map(|s| s.to_string()).collect();
        let id = self.admin().create_channel(LOGIN, platform, platform, &settings).await.unwrap().to_string();
        self.await_channel(id).await
    }

    /// A channel without the settings its platform needs, as the admin commands no longer make them
    /// (written to the store directly): what a channel stored by an older version may still be.
    pub async fn channel_without_settings(&self, platform: &str) -> String {
        let platform = chatgate::domain::model::Platform::parse(platform).unwrap();
        let settings = chatgate::domain::model::ChannelSettings::default();
        let id = self.core.store().create_channel(LOGIN, platform, "bare", &settings).await.unwrap();
        self.await_channel(id.to_string()).await
    }

    async fn await_channel(&self, id: String) -> String {
        // A running server learns of a new channel through the change log: wait until callers see it.
        let started = Instant::now();
        while !self
            .call("getchatchannels", &[])
            .await
            .to_string()
            .contains(&format!("\"platformid\":\"{id}\""))
        {
            assert!(started.elapsed() < SECOND, "channel {id} not visible within a second");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        id
    }

    pub async fn send(&self, platform: &str, channel: &str, to: &str, text: &str) -> String {
        let body = self
            .call(
                "sendmessage",
                &[("platform", platform), ("platformid", channel), ("destination", to), ("message", text)],
            )
            .await;
        ok(&body)["messageid"].as_str().unwrap().to_string()
    }

    pub async fn status(&self, id: &str) -> Value {
        ok(&self.call("getmessagestatus", &[("messageid", id)]).await).clone()
    }

    /// Waits until the message's status is `want`; returns the status object.
    pub async fn wait_status(&self, id: &str, want: &str, limit: Duration) -> Value {
        let started = Instant::now();
        loop {
            let s = self.status(id).await;
            if s["status"] == want {
                return s;
            }
            assert!(started.elapsed() < limit, "message {id} not {want} within {limit:?}: {s}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

const SECOND: Duration = Duration::from_secs(1);

#[tokio::test]
async fn telegram_texts_and_files_are_sent() {
    let (app, p) = app_with_fakes(|_| {}).await;
    let tg = app.channel("telegram", &[&format!("bot_token={BOT}")]).await;
    let id = app.send("telegram", &tg, "4242", "Hello ✓").await;
    let status = app.wait_status(&id, "sent", 5 * SECOND).await;
    assert_eq!(status["reason"], "");
    let file = app
        .call(
            "sendfile",
            &[
                ("platform", "telegram"),
                ("platformid", &tg),
                ("destination", "4242"),
                ("type", "image"),
                ("fileurl", "https://example.com/cat.jpg"),
                ("message", "a cat"),
            ],
        )
        .await;
    let file_id = ok(&file)["messageid"].as_str().unwrap().to_string();
    let to_user = app.send("telegram", &tg, "@news_channel", "to a channel").await;
    app.wait_status(&file_id, "sent", 5 * SECOND).await;
    app.wait_status(&to_user, "sent", 5 * SECOND).await;

    let got = p.telegram.received();
    assert_eq!(got.len(), 3, "{got:#?}");
    assert_eq!((got[0].token.as_str(), got[0].method.as_str()), (BOT, "sendMessage"));
    assert_eq!(got[0].body["chat_id"], 4242, "a numeric chat id is sent as a number");
    assert_eq!(got[0].body["text"], "Hello ✓");
    assert_eq!(got[1].method, "sendPhoto");
    assert_eq!(got[1].body["photo"], "https://example.com/cat.jpg");
    assert_eq!(got[1].body["caption"], "a cat");
    assert_eq!(got[2].body["chat_id"], "@news_channel");
}

#[tokio::test]
async fn a_permanent_refusal_fails_with_the_platforms_reason() {
    let (app, p) = app_with_fakes(|_| {}).await;
    let tg = app.channel("telegram", &[&format!("bot_token={BOT}")]).await;
    p.telegram.always("777", Reply::telegram(403, "Forbidden: bot was blocked by the user"));
    let id = app.send("telegram", &tg, "777", "hi").await;
    let status = app.wait_status(&id, "failed", 5 * SECOND).await;
    assert_eq!(status["reason"], "telegram 403: Forbidden: bot was blocked by the user");
    assert_eq!(p.telegram.received().len(), 1, "not retried");

    let no_token = app.channel_without_settings("telegram").await;
    let id = app.send("telegram", &no_token, "1", "hi").await;
    let status = app.wait_status(&id, "failed", 5 * SECOND).await;
    assert_eq!(status["reason"], "telegram: the channel has no bot_token setting");
    // The list shows the reason too, and never a setting.
    let msgs = app
        .call("getmessages", &[("platform", "telegram"), ("platformid", &tg), ("destination", "777")])
        .await;
    assert_eq!(ok(&msgs)["list"][0]["reason"], "telegram 403: Forbidden: bot was blocked by the user");
    assert!(!msgs.to_string().contains(BOT));
}

#[tokio::test]
async fn server_errors_are_retried_and_later_messages_of_the_chat_wait_their_turn() {
    let (app, p) = app_with_fakes(|_| {}).await;
    let tg = app.channel("telegram", &[&format!("bot_token={BOT}")]).await;
    let e500 = Reply::telegram(500, "Internal Server Error");
    p.telegram.script("5", [e500.clone(), e500.clone(), e500]);
    let ids = [
        app.send("telegram", &tg, "5", "first").await,
        app.send("telegram", &tg, "5", "second").await,
        app.send("telegram", &tg, "5", "third").await,
    ];
    for id in &ids {
        app.wait_status(id, "sent", 10 * SECOND).await;
    }
    let texts: Vec<String> = p
        .telegram
        .received()
        .iter()
        .map(|r| format!("{}:{}", r.body["text"].as_str().unwrap(), r.accepted))
        .collect();
    assert_eq!(
        texts,
        ["first:false", "first:false", "first:false", "first:true", "second:true", "third:true"],
        "retried with backoff, and the chat's later messages only after the first went"
    );
}

#[tokio::test]
async fn a_429_pauses_its_channel_only_for_retry_after() {
    let (app, p) = app_with_fakes(|_| {}).await;
    let slow = app.channel("telegram", &["bot_token=111:slow"]).await;
    let fast = app.channel("telegram", &["bot_token=222:fast"]).await;
    p.telegram.script(
        "10",
        [Reply::Error {
            status: 429,
            code: 429,
            description: "Too Many Requests: retry after 2",
            retry_after: Some(2),
        }],
    );
    let started = Instant::now();
    let first = app.send("telegram", &slow, "10", "throttled").await;
    p.telegram.wait_for(5 * SECOND, |r| !r.is_empty()).await;
    let same_bot = app.send("telegram", &slow, "11", "same bot, other chat").await;
    let other_bot = app.send("telegram", &fast, "10", "other bot").await;
    app.wait_status(&other_bot, "sent", SECOND).await;
    assert_eq!(app.status(&same_bot).await["status"], "pending", "the whole bot waits");
    app.wait_status(&first, "sent", 5 * SECOND).await;
    app.wait_status(&same_bot, "sent", 5 * SECOND).await;
    let retried = p.telegram.accepted_to("10").into_iter().find(|r| r.token == "111:slow").unwrap();
    assert!(retried.at - started >= Duration::from_secs(2), "retry_after obeyed: {:?}", retried.at - started);
    let other = p.telegram.accepted_to("11")[0].clone();
    assert!(other.at - started >= Duration::from_secs(2), "the paused bot's other chat waited too");
}

#[tokio::test]
async fn a_message_expires_while_the_platform_is_down() {
    let (app, p) = app_with_fakes(|_| {}).await;
    let tg = app.channel("telegram", &[&format!("bot_token={BOT}")]).await;
    p.telegram.always("9", Reply::telegram(502, "Bad Gateway"));
    let expiry = chrono::Utc::now().timestamp_millis() + 1500;
    let body = app
        .call(
            "sendmessage",
            &[
                ("platform", "telegram"),
                ("platformid", &tg),
                ("destination", "9"),
                ("message", "only if quick"),
                ("invalidationtime", &expiry.to_string()),
            ],
        )
        .await;
    let id = ok(&body)["messageid"].as_str().unwrap().to_string();
    app.wait_status(&id, "expired", 5 * SECOND).await;
    let tries = p.telegram.received().len();
    assert!(tries >= 2, "it was tried while it could go ({tries})");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(p.telegram.received().len(), tries, "nothing sent after expiry");
}

#[tokio::test]
async fn a_message_not_sent_within_max_age_fails() {
    let (app, p) = app_with_fakes(|s| s.delivery.max_age_secs = 1).await;
    let tg = app.channel("telegram", &[&format!("bot_token={BOT}")]).await;
    p.telegram.always("9", Reply::telegram(500, "Internal Server Error"));
    let id = app.send("telegram", &tg, "9", "doomed").await;
    let status = app.wait_status(&id, "failed", 5 * SECOND).await;
    assert_eq!(
        status["reason"],
        "telegram: not sent within 1 s (last error: telegram 500: Internal Server Error)"
    );
}

#[tokio::test]
async fn a_hanging_channel_does_not_delay_a_healthy_one() {
    let (app, p) = app_with_fakes(|s| s.outbound.request_timeout_ms = 3000).await;
    let stuck = app.channel("telegram", &["bot_token=1:stuck"]).await;
    let healthy = app.channel("telegram", &["bot_token=2:healthy"]).await;
    p.telegram.always("1", Reply::Hang);
    for n in 0..40 {
        app.send("telegram", &stuck, "1", &format!("hang {n}")).await;
    }
    let started = Instant::now();
    let ids: Vec<String> = futures_ids(&app, &healthy).await;
    for id in &ids {
        app.wait_status(id, "sent", SECOND).await;
    }
    eprintln!("healthy channel delivered 20 messages in {:?} beside a hanging one", started.elapsed());
}

async fn futures_ids(app: &TestApp, channel: &str) -> Vec<String> {
    let mut ids = Vec::new();
    for n in 0..20 {
        ids.push(app.send("telegram", channel, &format!("{}", 100 + n), "hello").await);
    }
    ids
}

#[tokio::test]
async fn whatsapp_sends_classify_errors_by_code() {
    let (app, p) = app_with_fakes(|_| {}).await;
    let wa = app
        .channel("whatsapp", &["phone_number_id=106540352242922", &format!("access_token={WA_TOKEN}")])
        .await;
    p.whatsapp.script("16505551234", [Reply::whatsapp(400, 130429, "Rate limit hit")]);
    p.whatsapp.always("16505550000", Reply::whatsapp(400, 131026, "Message Undeliverable"));
    let ok_id = app.send("whatsapp", &wa, "+16505551234", "hi").await;
    let bad = app.send("whatsapp", &wa, "16505550000", "hi").await;
    app.wait_status(&ok_id, "sent", 5 * SECOND).await;
    let failed = app.wait_status(&bad, "failed", 5 * SECOND).await;
    assert_eq!(failed["reason"], "whatsapp 131026: (131026) Message Undeliverable");
    let sent = p.whatsapp.accepted_to("16505551234");
    assert_eq!(sent.len(), 1, "130429 (HTTP 400) was retried; the number is sent as WhatsApp's digits");
    assert_eq!(sent[0].method, "106540352242922");
    assert_eq!(sent[0].body["type"], "text");
    assert_eq!(sent[0].body["text"]["body"], "hi");
    assert_eq!(sent[0].body["messaging_product"], "whatsapp");

    let wrong_token = app.channel("whatsapp", &["phone_number_id=1", "access_token=expired"]).await;
    let id = app.send("whatsapp", &wrong_token, "16505551234", "hi").await;
    let status = app.wait_status(&id, "failed", 5 * SECOND).await;
    assert_eq!(status["reason"], "whatsapp 190: Invalid OAuth access token.");
}

#[tokio::test]
async fn webchat_and_operator_messages_are_sent_when_stored() {
    let (app, _p) = app_with_fakes(|_| {}).await;
    let web = app.channel("webchat", &[]).await;
    let desk = app.channel("operator", &[]).await;
    let a = app.send("webchat", &web, "visitor-1", "hello").await;
    let b = app.send("operator", &desk, "agent-7", "hello").await;
    app.wait_status(&a, "sent", SECOND).await;
    app.wait_status(&b, "sent", SECOND).await;
}

#[tokio::test]
async fn a_commit_wakes_the_worker_at_once() {
    // Polling every 10 s: only the in-process signal can make this fast.
    let (app, p) = app_with_fakes(|s| s.delivery.poll_ms = 10_000).await;
    let tg = app.channel("telegram", &[&format!("bot_token={BOT}")]).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let id = app.send("telegram", &tg, "3", "now").await;
    app.wait_status(&id, "sent", SECOND).await;
    eprintln!("acknowledged → sent in {:?}", started.elapsed());
    assert_eq!(p.telegram.received().len(), 1);
}

/// The CLI, run as the real binary on the running server's database.
async fn cli(app: &TestApp, envs: &[(&str, &str)], args: &[&str]) -> std::process::Output {
    crate::helpers::run_cli(&app.database_url, envs, args).await
}

#[tokio::test]
async fn channel_set_reaches_the_running_server_and_webhook_registers_with_telegram() {
    let (app, p) = app_with_fakes(|_| {}).await;
    let tg = app.channel("telegram", &["bot_token=1:old"]).await;
    let out = cli(&app, &[], &["channel", "set", &tg, "bot_token=2:new", "title="]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("bot_token") && !said.contains("2:new"), "names the key, never the value: {said}");
    // Every instance sees the change within a second (this one polls the change log every 50 ms).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let id = app.send("telegram", &tg, "8", "with the new token").await;
    app.wait_status(&id, "sent", 5 * SECOND).await;
    assert_eq!(p.telegram.received()[0].token, "2:new");

    let bad = cli(&app, &[], &["channel", "set", "999", "bot_token=x"]).await;
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no channel 999"));

    // `channel webhook` needs the public URL, then calls setWebhook with a generated secret token.
    let no_url = cli(
        &app,
        &[("CHATGATE_CONNECTORS__TELEGRAM__BASE_URL", &p.telegram.url)],
        &["channel", "webhook", &tg],
    )
    .await;
    assert!(!no_url.status.success());
    assert!(String::from_utf8_lossy(&no_url.stderr).contains("public_url"));
    let envs = [
        ("CHATGATE_CONNECTORS__TELEGRAM__BASE_URL", p.telegram.url.as_str()),
        ("CHATGATE_PUBLIC_URL", "https://chat.example.com"),
    ];
    let out = cli(&app, &envs, &["channel", "webhook", &tg]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let hooks = p.telegram.webhooks();
    assert_eq!(hooks.len(), 1);
    assert_eq!(hooks[0]["token"], "2:new");
    assert_eq!(hooks[0]["body"]["url"], format!("https://chat.example.com/inbound/telegram/{tg}"));
    let secret = hooks[0]["body"]["secret_token"].as_str().unwrap().to_string();
    assert!(secret.len() >= 32 && secret.chars().all(|c| c.is_ascii_alphanumeric()), "{secret}");
    // The stored secret is the one Telegram will send: an update with it is accepted.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let update = serde_json::json!({"update_id": 1, "message": {"chat": {"id": 8}, "text": "hi"}});
    let res = app
        .client
        .post(format!("{}/inbound/telegram/{tg}", app.address))
        .header("X-Telegram-Bot-Api-Secret-Token", &secret)
        .json(&update)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::OK);
}

#[tokio::test]
async fn no_bot_token_or_access_token_reaches_the_log() {
    // A server as operators run it, logging at debug, whose platforms fail in every way: refused
    // connections (reqwest's own error text carries the URL, and a Telegram URL carries the token),
    // 500s, and refusals.
    let (p, dir) = (fakes::telegram().await, tempfile::tempdir().unwrap());
    p.always("1", Reply::telegram(500, "Internal Server Error"));
    p.always("2", Reply::telegram(403, "Forbidden: bot was blocked by the user"));
    p.always("3", Reply::Hang);
    let db = crate::helpers::fresh_database_url(dir.path()).await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let log = dir.path().join("server.log");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let cli = crate::instances::cli;
    cli(&db, &["account", "create", "acme", "--password", "acme-pw"]).await;
    let token = format!("bot_token={BOT}");
    let tg = cli(
        &db,
        &["channel", "create", "acme", "--platform", "telegram", "--name", "T", "--setting", &token],
    )
    .await;
    let wa = ["--setting", "phone_number_id=1", "--setting", "access_token=EAAG-secret-wa-token"];
    let dead = cli(
        &db,
        &[&["channel", "create", "acme", "--platform", "whatsapp", "--name", "W"][..], &wa].concat(),
    )
    .await;
    let mut server = tokio::process::Command::new(crate::helpers::binary())
        .arg("serve")
        .env("CHATGATE_DATABASE_URL", &db)
        .env("CHATGATE_LISTEN", format!("127.0.0.1:{port}"))
        .env("CHATGATE_LOG", "debug")
        .env("CHATGATE_CONNECTORS__TELEGRAM__BASE_URL", &p.url)
        .env("CHATGATE_CONNECTORS__WHATSAPP__BASE_URL", format!("http://127.0.0.1:{closed}"))
        .env("CHATGATE_DELIVERY__RETRY_BASE_MS", "50")
        .env("CHATGATE_OUTBOUND__REQUEST_TIMEOUT_MS", "300")
        .stderr(std::fs::File::create(&log).unwrap())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    while client.get(format!("{base}/healthz")).send().await.is_err() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for (platform, channel, to) in [
        ("telegram", tg.trim(), "1"),
        ("telegram", tg.trim(), "2"),
        ("telegram", tg.trim(), "3"),
        ("whatsapp", dead.trim(), "34600111222"),
    ] {
        let q = [
            ("class", "chat"),
            ("method", "sendmessage"),
            ("user", "acme"),
            ("password", "acme-pw"),
            ("platform", platform),
            ("platformid", channel),
            ("destination", to),
            ("message", "hi"),
        ];
        let r: Value =
            client.get(format!("{base}/api/http/")).query(&q).send().await.unwrap().json().await.unwrap();
        assert_eq!(r["status"], "SUCCESS", "{r}");
    }
    p.wait_for(5 * SECOND, |r| ["1", "3"].iter().all(|c| r.iter().filter(|r| r.chat == *c).count() >= 2))
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    server.start_kill().unwrap();
    server.wait().await.unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    for secret in [BOT, "AAH-test-bot-token", "EAAG-secret-wa-token", "acme-pw"] {
        assert!(!text.contains(secret), "{secret} in the log:\n{text}");
    }
    assert!(text.contains("temporary delivery failure"), "the failures were logged: {text}");
    assert!(text.contains("whatsapp: connection failed") && text.contains("telegram: timeout"), "{text}");
}

/// Telegram counts a bot's messages in any sliding second and refuses the 31st (429). When the core
/// that runs delivery is busy its timers fire late, and sends planned 34 ms apart used to leave
/// together: here the test's runtime, which runs the delivery worker, is blocked for 500 ms at a time
/// while two bots deliver, and the fake counts each bot's accepted sends as they arrive.
#[tokio::test]
async fn pacing_holds_at_the_platform_while_the_core_is_too_busy_for_timers() {
    let (app, p) = app_with_fakes(|_| {}).await;
    p.telegram.limit_per_token_per_sec(30);
    let bots = [
        app.channel("telegram", &["bot_token=1:a"]).await,
        app.channel("telegram", &["bot_token=2:b"]).await,
    ];
    // Each message to a chat of its own, so only the bot's pace (29/s by default) binds: ~4 s a bot.
    for i in 0..120 {
        for bot in &bots {
            app.send("telegram", bot, &(1000 + i).to_string(), &format!("m{i}")).await;
        }
    }
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        std::thread::sleep(Duration::from_millis(500)); // a busy core: no timer fires meanwhile
    }
    p.telegram.wait_for(30 * SECOND, |r| r.iter().filter(|r| r.accepted).count() >= 240).await;
    let got = p.telegram.received();
    let refused = got.iter().filter(|r| !r.accepted).count();
    let span = got.last().unwrap().at - got[0].at;
    eprintln!("240 delivered over {span:?}; {refused} answered 429 of {} sends", got.len());
    assert!(refused * 100 <= got.len(), "{refused} of {} sends refused (over 1 %)", got.len());
}

/// A list is written set-wise; a chat named several times in one list, or one that already has a
/// message waiting, still gets its messages delivered one at a time in the list's order.
#[tokio::test]
async fn a_list_naming_a_chat_several_times_delivers_each_chat_in_order() {
    let (app, p) = app_with_fakes(|s| {
        s.connectors.telegram.per_channel_per_sec = 0.0;
        s.connectors.telegram.per_chat_per_sec = 0.0;
    })
    .await;
    let tg = app.channel("telegram", &[&format!("bot_token={BOT}")]).await;
    // Chat 7 already has a message waiting: its first try fails, so the list's messages to it queue
    // behind the retry.
    p.telegram.script("7", [Reply::telegram(500, "Internal Server Error")]);
    app.send("telegram", &tg, "7", "w0").await;
    let item = |to: &str, text: &str| json!({"platform": "telegram", "platformid": tg, "destination": to, "message": text});
    let items = json!([
        item("5", "a1"),
        item("6", "b1"),
        item("5", "a2"),
        item("7", "w1"),
        item("5", "a3"),
        item("6", "b2"),
        item("7", "w2")
    ]);
    let body = app.call("sendmessages", &[("messages", &items.to_string())]).await;
    assert_eq!(list(ok(&body)).iter().filter(|i| i["messageid"].is_string()).count(), 7, "{body}");
    p.telegram.wait_for(10 * SECOND, |r| r.iter().filter(|r| r.accepted).count() >= 8).await;
    let texts = |chat: &str| -> Vec<String> {
        p.telegram.accepted_to(chat).iter().map(|r| r.body["text"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(texts("5"), ["a1", "a2", "a3"]);
    assert_eq!(texts("6"), ["b1", "b2"]);
    assert_eq!(texts("7"), ["w0", "w1", "w2"], "behind the message that was being retried");
}
