//! Event webhooks (SPEC §6): the webhook methods through every door, every event with its payload,
//! signed per Standard Webhooks (checked with the PyPI library too), filters and extra headers, retries,
//! redelivery, a hanging receiver beside a fast one, and the SSRF rule of §4.

use std::time::{Duration, Instant};

use chatgate::domain::events::EventKind;
use oauth2::AuthType;
use serde_json::{Value, json};

use crate::delivery::{BOT, app_with_fakes};
use crate::doors::{ALL_DOORS, door_call};
use crate::fakes::WA_TOKEN;
use crate::helpers::{LOGIN, PASSWORD, TestApp, err, list, ok, spawn_app, spawn_app_with};
use crate::inbound::{APP_SECRET, SECRET, update};
use crate::instances::{plain_with, setup, start_instance_with};
use crate::oauth::token_for;
use crate::receiver::{Answer, Hit, Receiver, assert_signed, events};

const WAIT: Duration = Duration::from_secs(10);

impl TestApp {
    /// `setwebhook` through the plain door: (webhookid, secret).
    pub async fn webhook(&self, url: &str, events: &str, headers: Option<&str>) -> (String, String) {
        let mut params = vec![("url", url), ("events", events)];
        params.extend(headers.map(|h| ("headers", h)));
        let body = self.call("setwebhook", &params).await;
        let r = ok(&body);
        (r["webhookid"].as_str().unwrap().to_string(), r["secret"].as_str().unwrap().to_string())
    }

    pub async fn deliveries(&self, webhook: &str) -> Vec<Value> {
        list(ok(&self.call("getdeliveries", &[("webhookid", webhook)]).await)).clone()
    }

    /// Waits until `webhook` has at least `count` deliveries and every one is finished; returns them
    /// (newest first).
    pub async fn settled(&self, webhook: &str, count: usize) -> Vec<Value> {
        let started = Instant::now();
        loop {
            let d = self.deliveries(webhook).await;
            if d.len() >= count && d.iter().all(|d| d["status"] != "pending") {
                return d;
            }
            assert!(started.elapsed() < WAIT, "deliveries not settled: {d:#?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[tokio::test]
async fn webhook_methods_work_through_every_door() {
    let app = spawn_app().await;
    app.seed().await;
    let rx = Receiver::start().await;
    for door in ALL_DOORS {
        let call = |method, params: &'static [(&'static str, &'static str)]| {
            door_call(&app, door, Some(LOGIN), Some(PASSWORD), method, params)
        };
        let url = format!("{}/{door:?}", rx.url);
        let set = door_call(
            &app,
            door,
            Some(LOGIN),
            Some(PASSWORD),
            "setwebhook",
            &[
                ("url", &url),
                ("events", "chat_session.message_sent,chat_session.end"),
                ("headers", r#"{"X-Key":"k"}"#),
            ],
        )
        .await;
        let created = ok(&set).clone();
        let id = created["webhookid"].as_str().unwrap().to_string();
        let secret = created["secret"].as_str().unwrap();
        assert!(secret.starts_with("whsec_") && secret.len() == 6 + 44, "{door:?}: {created}");
        let hooks = call("getwebhooks", &[]).await;
        let hooks = list(ok(&hooks));
        let mine = hooks.iter().find(|h| h["webhookid"] == id.as_str()).expect("listed");
        assert_eq!(mine["url"], url.as_str());
        assert_eq!(mine["events"], "chat_session.message_sent,chat_session.end");
        assert!(mine.get("secret").is_none(), "the secret is shown once: {mine}");
        let d =
            door_call(&app, door, Some(LOGIN), Some(PASSWORD), "getdeliveries", &[("webhookid", &id)]).await;
        ok(&d);
        err(&call("redeliver", &[("deliveryid", "999999")]).await, "DELIVERY_NOT_FOUND", Some("deliveryid"));
        err(&call("deletewebhook", &[("webhookid", "x")]).await, "WEBHOOK_NOT_FOUND", Some("webhookid"));
        err(&call("setwebhook", &[("url", "ftp://x"), ("events", "*")]).await, "INCORRECT_URL", Some("url"));
        ok(&door_call(&app, door, Some(LOGIN), Some(PASSWORD), "deletewebhook", &[("webhookid", &id)]).await);
        let gone =
            door_call(&app, door, Some(LOGIN), Some(PASSWORD), "getdeliveries", &[("webhookid", &id)]).await;
        err(&gone, "WEBHOOK_NOT_FOUND", Some("webhookid"));
    }
    // The JSON door also takes `events` as an array and `headers` as an object.
    let token = token_for(&app, LOGIN, PASSWORD, None, AuthType::BasicAuth).await.unwrap();
    let res = app
        .client
        .post(format!("{}/api/json/webhook/setwebhook", app.address))
        .bearer_auth(&token)
        .json(&json!({"url": rx.url, "events": ["chat_session.start", "operator.online"], "headers": {"X-A": "b"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let hooks = app.call("getwebhooks", &[]).await;
    assert_eq!(list(ok(&hooks))[0]["events"], "chat_session.start,operator.online");
}

#[tokio::test]
async fn bad_webhook_input_gets_its_error_code_and_stores_nothing() {
    let app = spawn_app().await;
    app.seed().await;
    let rx = Receiver::start().await;
    let long = format!("https://example.com/{}", "a".repeat(2100));
    type Case<'a> = (Vec<(&'a str, &'a str)>, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (vec![("events", "*")], "MISSING_COMPULSORY_PARAM", "url"),
        (vec![("url", &rx.url)], "MISSING_COMPULSORY_PARAM", "events"),
        (vec![("url", "not a url"), ("events", "*")], "INCORRECT_URL", "url"),
        (vec![("url", "/relative"), ("events", "*")], "INCORRECT_URL", "url"),
        (vec![("url", &long), ("events", "*")], "INCORRECT_URL", "url"),
        (vec![("url", "http://no-such-host.invalid/"), ("events", "*")], "INCORRECT_URL", "url"),
        (vec![("url", &rx.url), ("events", "chat_session.nope")], "INCORRECT_PARAM", "events"),
        (vec![("url", &rx.url), ("events", "*"), ("headers", "[1]")], "INCORRECT_PARAM", "headers"),
        (vec![("url", &rx.url), ("events", "*"), ("headers", r#"{"a":1}"#)], "INCORRECT_PARAM", "headers"),
        (
            vec![("url", &rx.url), ("events", "*"), ("headers", r#"{"Webhook-Id":"x"}"#)],
            "INCORRECT_PARAM",
            "headers",
        ),
        (
            vec![("url", &rx.url), ("events", "*"), ("headers", r#"{"Content-Type":"x"}"#)],
            "INCORRECT_PARAM",
            "headers",
        ),
        (
            vec![("url", &rx.url), ("events", "*"), ("headers", "{\"x\":\"a\\r\\nb: c\"}")],
            "INCORRECT_PARAM",
            "headers",
        ),
    ];
    for (params, code, param) in cases {
        err(&app.call("setwebhook", &params).await, code, Some(param));
    }
    err(&app.call("getdeliveries", &[("limit", "0")]).await, "INCORRECT_PARAM", Some("limit"));
    err(&app.call("getdeliveries", &[("webhookid", "42")]).await, "WEBHOOK_NOT_FOUND", Some("webhookid"));
    err(&app.call("deletewebhook", &[]).await, "MISSING_COMPULSORY_PARAM", Some("webhookid"));
    err(&app.call("redeliver", &[("deliveryid", "abc")]).await, "DELIVERY_NOT_FOUND", Some("deliveryid"));
    let as_chat = [("class", "chat"), ("method", "getwebhooks"), ("user", LOGIN), ("password", PASSWORD)];
    err(&app.get(&as_chat).await.1, "INCORRECT_METHOD", None);
    assert!(list(ok(&app.call("getwebhooks", &[]).await)).is_empty(), "nothing stored");
    // Ten webhooks per account.
    for _ in 0..10 {
        app.webhook(&rx.url, "*", None).await;
    }
    err(&app.call("setwebhook", &[("url", &rx.url), ("events", "*")]).await, "INCORRECT_PARAM", Some("url"));
}

/// The ten-webhook limit holds against 64 concurrent `setwebhook` calls (on PostgreSQL each runs in
/// its own transaction: without a lock on the account, several counted nine and all inserted).
#[tokio::test]
async fn ten_webhooks_per_account_even_when_set_at_once() {
    let app = spawn_app().await;
    app.seed().await;
    let rx = Receiver::start().await;
    let params = [("url", rx.url.as_str()), ("events", "*")];
    let calls = (0..64).map(|_| app.call("setwebhook", &params));
    let answers = futures_util::future::join_all(calls).await;
    let created = answers.iter().filter(|a| a["status"] == "SUCCESS").count();
    for refused in answers.iter().filter(|a| a["status"] != "SUCCESS") {
        err(refused, "INCORRECT_PARAM", Some("url"));
    }
    assert_eq!(created, 10);
    assert_eq!(list(ok(&app.call("getwebhooks", &[]).await)).len(), 10);
}

#[tokio::test]
async fn scope_and_account_boundaries_hold() {
    let app = spawn_app().await;
    let f = app.seed().await;
    let rx = Receiver::start().await;
    let (hook, _) = app.webhook(&rx.url, "*", None).await;
    app.send("webchat", &f.webchat, "visitor", "hi").await;
    let delivery = app.deliveries(&hook).await[0]["deliveryid"].as_str().unwrap().to_string();

    app.create_access("chat-only", "chat-only-secret", "chat:read,chat:write", &[]).await;
    for method in ["setwebhook", "getwebhooks", "deletewebhook", "getdeliveries", "redeliver"] {
        let body = app.call_as("chat-only", "chat-only-secret", method, &[]).await;
        err(&body, "ACCESS_DENIED", None);
    }
    app.create_access("hooks", "hooks-secret", "webhook:manage", &[]).await;
    ok(&app.call_as("hooks", "hooks-secret", "getwebhooks", &[]).await);

    app.admin().create_account("bob", "bob-password").await.unwrap();
    let bob =
        async |method, params: &[(&str, &str)]| app.call_as("bob", "bob-password", method, params).await;
    assert!(list(ok(&bob("getwebhooks", &[]).await)).is_empty());
    assert!(list(ok(&bob("getdeliveries", &[]).await)).is_empty());
    err(&bob("getdeliveries", &[("webhookid", hook.as_str())]).await, "WEBHOOK_NOT_FOUND", Some("webhookid"));
    err(&bob("deletewebhook", &[("webhookid", hook.as_str())]).await, "WEBHOOK_NOT_FOUND", Some("webhookid"));
    err(
        &bob("redeliver", &[("deliveryid", delivery.as_str())]).await,
        "DELIVERY_NOT_FOUND",
        Some("deliveryid"),
    );
    assert_eq!(list(ok(&app.call("getwebhooks", &[]).await)).len(), 1, "alice's webhook is untouched");
}

fn whatsapp_status(wamid: &str, status: &str) -> String {
    let value = json!({"messaging_product": "whatsapp", "statuses": [
        {"id": wamid, "status": status, "timestamp": "1749416390", "recipient_id": "16505551234"}]});
    json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": value}]}]})
        .to_string()
}

#[tokio::test]
async fn every_event_arrives_signed_with_its_payload() {
    let (app, p) = app_with_fakes(|s| s.chat.idle_end_secs = 1).await;
    let rx = Receiver::start().await;
    let (hook, secret) = app.webhook(&rx.url, "*", None).await;
    let tg =
        app.channel("telegram", &[&format!("bot_token={BOT}"), &format!("webhook_secret={SECRET}")]).await;

    // Outbound: start, message_sent (pending), message_status (sent).
    let id = app.send("telegram", &tg, "1111111", "Hello Ann").await;
    app.wait_status(&id, "sent", WAIT).await;
    // Inbound: message_received in the same session.
    let chat = json!({"id": 1111111, "first_name": "Ann", "type": "private"});
    let text = update(1, json!({"message_id": 1, "chat": chat, "date": 1, "text": "hi back"}));
    assert_eq!(app.post_telegram(&tg, Some(SECRET), &text).await, 200);
    // After a second of silence the session ends (the sweep notices within its interval), and with
    // a received message unread it says so; the two are delivered in either order.
    let ended = |h: &[Hit]| {
        let names = events(h);
        ["chat_session.end", "chat_session.unread"].iter().all(|want| names.iter().any(|e| e == want))
    };
    let hits = rx.wait_for(WAIT, ended).await;
    let mut names = events(&hits);
    names.sort();
    assert_eq!(
        names,
        [
            "chat_session.end",
            "chat_session.message_received",
            "chat_session.message_sent",
            "chat_session.message_status",
            "chat_session.start",
            "chat_session.unread",
            "contact.created"
        ],
        "{hits:#?}"
    );
    let by = |name: &str| hits.iter().find(|h| h.event() == name).unwrap().json();
    let start = by("chat_session.start");
    assert_eq!(start["_type"], "chat_session");
    assert_eq!(start["event"], "start");
    assert_eq!(start["chat"], json!({"platform": "telegram", "platformid": tg, "destination": "1111111"}));
    assert_eq!(start["message"]["messageid"], id.as_str());
    let sent = by("chat_session.message_sent");
    assert_eq!(sent["message"]["message"], "Hello Ann");
    assert_eq!(sent["message"]["status"], "pending", "the status when it was accepted");
    assert_eq!(sent["message"]["sent"], 1);
    assert!(sent["id"].as_str().unwrap().starts_with("msg_"));
    assert_eq!(sent["created_at"].as_str().unwrap().len(), 19);
    assert_eq!(by("chat_session.message_status")["message"]["status"], "sent");
    let received = by("chat_session.message_received");
    assert_eq!(
        (received["message"]["message"].as_str(), received["message"]["sent"].as_u64()),
        (Some("hi back"), Some(0))
    );
    assert_eq!(by("chat_session.end")["message"]["message"], "hi back", "end carries the last message");
    for h in &hits {
        assert_eq!(h.json()["id"], h.id(), "webhook-id is the event id");
    }

    // The next message starts a new session.
    let again = update(2, json!({"message_id": 2, "chat": chat, "date": 2, "text": "me again"}));
    assert_eq!(app.post_telegram(&tg, Some(SECRET), &again).await, 200);
    rx.wait_for(WAIT, |h| events(h).iter().filter(|e| *e == "chat_session.start").count() == 2).await;

    // A platform's status report (WhatsApp delivered) and an operator's presence.
    let wa = app
        .channel(
            "whatsapp",
            &[
                "phone_number_id=106540352242922",
                &format!("access_token={WA_TOKEN}"),
                &format!("app_secret={APP_SECRET}"),
            ],
        )
        .await;
    let wa_id = app.send("whatsapp", &wa, "16505551234", "Are you there?").await;
    app.wait_status(&wa_id, "sent", WAIT).await;
    let wamid = format!("wamid.{}", p.whatsapp.received().len());
    assert_eq!(app.post_whatsapp(&wa, APP_SECRET, &whatsapp_status(&wamid, "delivered")).await, 200);
    let account = app.core.store().find_credential(LOGIN).await.unwrap().unwrap().account_id;
    app.gateway.operator_presence(account, EventKind::OperatorAway, "desk-1").await.unwrap();
    let hits = rx
        .wait_for(WAIT, |h| {
            h.iter().any(|h| {
                h.event() == "chat_session.message_status" && h.json()["message"]["status"] == "delivered"
            }) && events(h).contains(&"operator.away".to_string())
        })
        .await;
    let op = hits.iter().find(|h| h.event() == "operator.away").unwrap().json();
    assert_eq!(op["operator"], json!({"login": "desk-1", "status": "away"}));
    assert!(op.get("chat").is_none() && op.get("message").is_none(), "{op}");
    assert_signed(&hits, &secret).await;
    let log = app.settled(&hook, hits.len()).await;
    assert!(
        log.iter().all(|d| d["status"] == "delivered" && d["attempts"] == 1 && d["lastcode"] == 200),
        "{log:#?}"
    );
    let sent_entry = log
        .iter()
        .find(|d| d["event"] == "chat_session.message_sent" && d["messageid"] == id.as_str())
        .unwrap();
    assert_eq!(sent_entry["nextattempt"], "", "finished");
}

#[tokio::test]
async fn filters_and_extra_headers_apply_per_webhook() {
    let app = spawn_app().await;
    let f = app.seed().await;
    let (only_received, all) = (Receiver::start().await, Receiver::start().await);
    let (_, s1) = app
        .webhook(&only_received.url, "chat_session.message_received", Some(r#"{"X-Api-Key":"k-1"}"#))
        .await;
    let (_, s2) = app.webhook(&all.url, "*", None).await;
    app.send("webchat", &f.webchat, "v1", "out").await;
    app.receive(&f.webchat, "v1", "in").await;
    let hits = all.wait_for(WAIT, |h| h.len() == 4).await;
    let mut names = events(&hits);
    names.sort();
    assert_eq!(
        names,
        [
            "chat_session.message_received",
            "chat_session.message_sent",
            "chat_session.start",
            "contact.created"
        ]
    );
    assert!(hits.iter().all(|h| !h.headers.contains_key("x-api-key")));
    let got = only_received.wait_for(WAIT, |h| !h.is_empty()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got = if only_received.hits().len() == got.len() { got } else { only_received.hits() };
    assert_eq!(events(&got), ["chat_session.message_received"]);
    assert_eq!(got[0].headers["x-api-key"], "k-1");
    // Webchat messages are `sent` at once: there is no status change, so no message_status event.
    assert_signed(&got, &s1).await;
    assert_signed(&hits, &s2).await;
}

#[tokio::test]
async fn server_errors_are_retried_with_the_same_id_and_every_attempt_is_logged() {
    let app = spawn_app().await;
    let f = app.seed().await;
    let rx = Receiver::start().await;
    let (hook, secret) = app.webhook(&rx.url, "chat_session.message_sent", None).await;
    rx.script([Answer::Status(500), Answer::Status(502), Answer::Status(503), Answer::Status(200)]);
    app.send("webchat", &f.webchat, "v", "retry me").await;
    let hits = rx.wait_for(WAIT, |h| h.len() == 4).await;
    assert!(hits.iter().all(|h| h.id() == hits[0].id()), "one webhook-id for every attempt");
    assert_eq!(hits.iter().map(|h| h.answered).collect::<Vec<_>>(), [500, 502, 503, 200]);
    assert_signed(&hits, &secret).await;
    let log = app.settled(&hook, 1).await;
    assert_eq!(
        (log[0]["status"].as_str(), log[0]["attempts"].as_i64(), log[0]["lastcode"].as_i64()),
        (Some("delivered"), Some(4), Some(200))
    );
    assert_eq!(log[0]["eventid"], hits[0].id());
}

#[tokio::test]
async fn gone_fails_at_once_and_redeliver_sends_the_same_event_again() {
    let app = spawn_app().await;
    let f = app.seed().await;
    let rx = Receiver::start().await;
    let (hook, secret) = app.webhook(&rx.url, "chat_session.message_sent", None).await;
    rx.script([Answer::Status(410)]);
    app.send("webchat", &f.webchat, "v", "one").await;
    let log = app.settled(&hook, 1).await;
    assert_eq!(
        (log[0]["status"].as_str(), log[0]["attempts"].as_i64(), log[0]["lastcode"].as_i64()),
        (Some("failed"), Some(1), Some(410))
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(rx.hits().len(), 1, "no retry after a 4xx");
    // A redirect is not followed, and fails too.
    rx.script([Answer::Status(301)]);
    app.send("webchat", &f.webchat, "v", "two").await;
    let log = app.settled(&hook, 2).await;
    assert_eq!((log[0]["status"].as_str(), log[0]["lastcode"].as_i64()), (Some("failed"), Some(301)));

    let first = log[1]["deliveryid"].as_str().unwrap();
    ok(&app.call("redeliver", &[("deliveryid", first)]).await);
    let hits = rx.wait_for(WAIT, |h| h.len() == 3).await;
    assert_eq!(hits[2].id(), hits[0].id(), "the same webhook-id");
    assert_eq!(hits[2].body, hits[0].body, "the same body");
    assert_signed(&hits, &secret).await;
    let log = app.settled(&hook, 2).await;
    assert_eq!((log[1]["status"].as_str(), log[1]["attempts"].as_i64()), (Some("delivered"), Some(1)));
}

#[tokio::test]
async fn too_many_requests_waits_for_retry_after() {
    let app = spawn_app().await;
    let f = app.seed().await;
    let rx = Receiver::start().await;
    let (hook, _) = app.webhook(&rx.url, "chat_session.message_sent", None).await;
    rx.script([Answer::TooMany(1)]);
    app.send("webchat", &f.webchat, "v", "slow down").await;
    let hits = rx.wait_for(WAIT, |h| h.len() == 2).await;
    let gap = hits[1].at - hits[0].at;
    assert!(gap >= Duration::from_millis(950), "Retry-After: 1 obeyed, waited {gap:?}");
    let log = app.settled(&hook, 1).await;
    assert_eq!(log[0]["attempts"], 2);
}

#[tokio::test]
async fn a_hanging_receiver_holds_four_requests_and_never_delays_another_webhook() {
    let app = spawn_app_with(|s| s.webhooks.timeout_ms = 5000).await;
    let f = app.seed().await;
    let (hanging, fast) = (Receiver::start().await, Receiver::start().await);
    hanging.always(Answer::Hang);
    app.webhook(&hanging.url, "chat_session.message_sent", None).await;
    app.webhook(&fast.url, "chat_session.message_sent", None).await;
    let started = Instant::now();
    for i in 0..20 {
        app.send("webchat", &f.webchat, &format!("v{i}"), "hello").await;
    }
    fast.wait_for(Duration::from_secs(2), |h| h.len() == 20).await;
    let took = started.elapsed();
    assert!(took < Duration::from_secs(2), "the fast receiver got all 20 in {took:?}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(hanging.most_in_flight(), 4, "at most 4 requests in flight to one webhook");
    assert_eq!(hanging.hits().len(), 4);
}

#[tokio::test]
async fn forbidden_addresses_are_refused_when_set_and_at_every_connection() {
    let app = spawn_app_with(|s| s.outbound.allow_networks = Vec::new()).await;
    let f = app.seed().await;
    let rx = Receiver::start().await;
    let port = rx.url.trim_start_matches("http://127.0.0.1:").split('/').next().unwrap().to_string();
    for url in [
        rx.url.clone(),
        format!("http://localhost:{port}/hook"),
        "http://10.1.2.3/".into(),
        "http://172.16.0.1/".into(),
        "http://192.168.1.1/".into(),
        "http://100.64.0.1/".into(),
        "http://169.254.169.254/latest/meta-data/".into(),
        "http://0.0.0.0/".into(),
        "http://[::1]/".into(),
        "http://[fd00::1]/".into(),
        "http://[fe80::1]/".into(),
        "http://[::ffff:127.0.0.1]/".into(),
        "http://[::ffff:10.0.0.1]/".into(),
        "http://224.0.0.1/".into(),
        "http://[64:ff9b::a00:1]/".into(),
        "http://[64:ff9b::a9fe:a9fe]/latest/meta-data/".into(),
        "http://[64:ff9b:1::a00:1]/".into(),
        "http://[2002:a00:1::1]/".into(),
        "http://[::10.0.0.1]/".into(),
        "http://[::ffff:0:10.0.0.1]/".into(),
        "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/".into(),
        "http://[fec0::1]/".into(),
    ] {
        err(&app.call("setwebhook", &[("url", &url), ("events", "*")]).await, "INCORRECT_URL", Some("url"));
    }
    // A URL stored before (or resolving differently at connection time) is checked again when sent:
    // a name resolving to loopback is refused by the resolver, an IP literal before connecting.
    let account = app.core.store().find_credential(LOGIN).await.unwrap().unwrap().account_id;
    for url in [
        format!("http://localhost:{port}/by-name"),
        format!("http://127.0.0.1:{port}/by-literal"),
        format!("http://[64:ff9b::7f00:1]:{port}/by-nat64"),
    ] {
        let new = chatgate::domain::webhook_ports::NewWebhook {
            account_id: account,
            url,
            events: chatgate::domain::events::EventSet::ALL,
            headers: Vec::new(),
            secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
            now: chrono::Utc::now().timestamp_millis(),
        };
        app.core.store().create_webhook(&new, 10).await.unwrap();
    }
    app.send("webchat", &f.webchat, "v", "to nobody").await;
    let hooks = list(ok(&app.call("getwebhooks", &[]).await)).clone();
    let hook_of = |path: &str| {
        hooks.iter().find(|h| h["url"].as_str().unwrap().ends_with(path)).unwrap()["webhookid"].clone()
    };
    let (by_name, by_literal, by_nat64) = (hook_of("/by-name"), hook_of("/by-literal"), hook_of("/by-nat64"));
    let started = Instant::now();
    loop {
        let d = list(ok(&app.call("getdeliveries", &[]).await)).clone();
        let of = |hook: &Value| d.iter().find(|d| d["webhookid"] == *hook).cloned().unwrap();
        let (name, literal, nat64) = (of(&by_name), of(&by_literal), of(&by_nat64));
        if name["attempts"].as_i64().unwrap() >= 2
            && literal["status"] == "failed"
            && nat64["status"] == "failed"
        {
            assert_eq!(literal["attempts"], 1, "an IP literal never becomes allowed: failed at once");
            assert_eq!(nat64["attempts"], 1, "an IPv6 literal embedding a forbidden IPv4 address too");
            assert_eq!(name["status"], "pending", "a name may resolve elsewhere later: retried");
            assert!(name.get("lastcode").is_none() && literal.get("lastcode").is_none(), "nothing answered");
            break;
        }
        assert!(started.elapsed() < WAIT, "{d:#?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(rx.hits().is_empty(), "nothing reached the receiver");
}

/// On the instance at `base`: a webhook to `url` for sent messages, then 20 webchat messages (to 20
/// visitors) whose events it is sent; the webhook's secret.
async fn webhook_then_twenty_messages(
    client: &reqwest::Client,
    base: &str,
    channel: &str,
    url: &str,
) -> String {
    let set = [("url", url), ("events", "chat_session.message_sent")];
    let set = plain_with(client, base, "acme", "acme-pw", "setwebhook", &set).await;
    let secret = ok(&set)["secret"].as_str().unwrap().to_string();
    for i in 0..20 {
        let to = format!("v{i}");
        let p = [("platform", "webchat"), ("platformid", channel), ("destination", &to), ("message", "hi")];
        ok(&plain_with(client, base, "acme", "acme-pw", "sendmessage", &p).await);
    }
    secret
}

#[tokio::test]
async fn pending_deliveries_survive_a_sigkill_and_are_delivered_after_restart() {
    let (_dir, db, channel) = setup().await;
    let rx = Receiver::start().await;
    rx.always(Answer::Status(503));
    let env = [
        ("CHATGATE_OUTBOUND__ALLOW_NETWORKS", "127.0.0.0/8"),
        ("CHATGATE_WEBHOOKS__RETRY_BASE_MS", "200"),
        ("CHATGATE_WEBHOOKS__LEASE_SECS", "2"),
        ("CHATGATE_WEBHOOKS__POLL_MS", "100"),
    ];
    let client = reqwest::Client::new();
    let mut a = start_instance_with(&db, &env).await;
    let call = async |base: &str, method, params: &[(&str, &str)]| {
        plain_with(&client, base, "acme", "acme-pw", method, params).await
    };
    let secret = webhook_then_twenty_messages(&client, &a.base, &channel, &rx.url).await;
    rx.wait_for(WAIT, |h| h.len() >= 8).await;
    a.child.kill().await.unwrap();
    rx.always(Answer::Status(200));
    let before = rx.hits().len();

    let b = start_instance_with(&db, &env).await;
    let hits = rx
        .wait_for(Duration::from_secs(20), |h| {
            let ok: std::collections::HashSet<&str> =
                h.iter().filter(|h| h.answered == 200).map(|h| h.id()).collect();
            ok.len() == 20
        })
        .await;
    assert!(hits.len() > before, "the restarted instance sent what was pending");
    assert_signed(&hits, &secret).await;
    // Each answered 200 is committed shortly after: every delivery ends `delivered`.
    let started = Instant::now();
    loop {
        let log = call(&b.base, "getdeliveries", &[]).await;
        let log = list(ok(&log)).clone();
        assert_eq!(log.len(), 20);
        if log.iter().all(|d| d["status"] == "delivered" && d["lastcode"] == 200) {
            break;
        }
        assert!(started.elapsed() < WAIT, "{log:#?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_repeated_request_invents_no_event() {
    let (app, _p) = app_with_fakes(|_| {}).await;
    let rx = Receiver::start().await;
    let (hook, _) =
        app.webhook(&rx.url, "chat_session.message_sent,chat_session.message_received", None).await;
    let tg =
        app.channel("telegram", &[&format!("bot_token={BOT}"), &format!("webhook_secret={SECRET}")]).await;
    let send = [
        ("platform", "telegram"),
        ("platformid", tg.as_str()),
        ("destination", "1111111"),
        ("message", "once"),
        ("idempotencykey", "k-1"),
    ];
    let first = ok(&app.call("sendmessage", &send).await)["messageid"].clone();
    assert_eq!(
        ok(&app.call("sendmessage", &send).await)["messageid"],
        first,
        "the repeat answers the first id"
    );
    let chat = json!({"id": 1111111, "first_name": "Ann", "type": "private"});
    let text = update(9, json!({"message_id": 9, "chat": chat, "date": 1, "text": "once too"}));
    for _ in 0..2 {
        assert_eq!(app.post_telegram(&tg, Some(SECRET), &text).await, 200);
    }
    // A bulk item that is refused writes nothing either.
    let bulk =
        format!(r#"[{{"platform":"telegram","platformid":"{tg}","destination":"x y","message":"bad"}}]"#);
    ok(&app.call("sendmessages", &[("messages", &bulk)]).await);
    let log = app.settled(&hook, 2).await;
    let mut names: Vec<&str> = log.iter().map(|d| d["event"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["chat_session.message_received", "chat_session.message_sent"]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(rx.hits().len(), 2);
}

#[tokio::test]
async fn two_instances_work_one_webhook_one_at_a_time() {
    let (_dir, db, channel) = setup().await;
    let rx = Receiver::start().await;
    rx.always(Answer::Slow(100));
    let env = [("CHATGATE_OUTBOUND__ALLOW_NETWORKS", "127.0.0.0/8"), ("CHATGATE_WEBHOOKS__POLL_MS", "100")];
    let client = reqwest::Client::new();
    let (a, b) = (start_instance_with(&db, &env).await, start_instance_with(&db, &env).await);
    let call = async |base: &str, method, params: &[(&str, &str)]| {
        plain_with(&client, base, "acme", "acme-pw", method, params).await
    };
    ok(&call(&a.base, "setwebhook", &[("url", &rx.url), ("events", "chat_session.message_sent")]).await);
    // Both instances write events (and wake their own senders) for the one webhook.
    for i in 0..40 {
        let base = if i % 2 == 0 { &a.base } else { &b.base };
        let to = format!("v{i}");
        let p = [
            ("platform", "webchat"),
            ("platformid", channel.as_str()),
            ("destination", &to),
            ("message", "hi"),
        ];
        ok(&call(base, "sendmessage", &p).await);
    }
    let hits = rx.wait_for(Duration::from_secs(20), |h| h.len() >= 40).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let ids: std::collections::HashSet<&str> = hits.iter().map(|h| h.id()).collect();
    assert_eq!((ids.len(), rx.hits().len()), (40, 40), "each event sent once");
    assert!(rx.most_in_flight() <= 4, "at most 4 in flight across both instances: {}", rx.most_in_flight());
}

#[tokio::test]
async fn a_timeout_is_retried() {
    // A hanging receiver is only left by the timeout; the retry answers at once. The timeout leaves
    // the retry room on a loaded machine, and the gap is checked with slack because the hit's time is
    // taken when the receiver has read the request, after the sender's clock started.
    let app = spawn_app_with(|s| s.webhooks.timeout_ms = 1500).await;
    let f = app.seed().await;
    let rx = Receiver::start().await;
    let (hook, _) = app.webhook(&rx.url, "chat_session.message_sent", None).await;
    rx.script([Answer::Hang]);
    app.send("webchat", &f.webchat, "v", "late").await;
    let hits = rx.wait_for(WAIT, |h| h.len() == 2).await;
    assert_eq!(hits[0].id(), hits[1].id());
    let gap = hits[1].at - hits[0].at;
    assert!(gap >= Duration::from_millis(750), "the first attempt was given up early: {gap:?}");
    let log = app.settled(&hook, 1).await;
    assert_eq!((log[0]["status"].as_str(), log[0]["attempts"].as_i64()), (Some("delivered"), Some(2)));
}

/// SIGTERM while a slow receiver is being sent to: the requests in flight finish and are recorded, the
/// webhook's lease (60 s here) is given back, and the next instance sends the rest at once — every event
/// delivered, none twice.
#[tokio::test]
async fn sigterm_finishes_webhook_requests_in_flight_and_gives_the_webhook_back() {
    let (_dir, db, channel) = setup().await;
    let rx = Receiver::start().await;
    rx.always(Answer::Slow(500));
    let env = [
        ("CHATGATE_OUTBOUND__ALLOW_NETWORKS", "127.0.0.0/8"),
        ("CHATGATE_WEBHOOKS__LEASE_SECS", "60"),
        ("CHATGATE_WEBHOOKS__POLL_MS", "100"),
    ];
    let client = reqwest::Client::new();
    let mut a = start_instance_with(&db, &env).await;
    webhook_then_twenty_messages(&client, &a.base, &channel, &rx.url).await;
    rx.wait_for(WAIT, |h| !h.is_empty()).await;
    let stopping = Instant::now();
    crate::operating::kill(a.child.id().unwrap(), "TERM");
    let status = tokio::time::timeout(Duration::from_secs(12), a.child.wait()).await.unwrap().unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(stopping.elapsed() < Duration::from_secs(5), "{:?}", stopping.elapsed());
    let sent_by_a = rx.hits().len();
    assert!(sent_by_a < 20, "some were left for the next instance: {sent_by_a}");

    rx.always(Answer::Status(200));
    let _b = start_instance_with(&db, &env).await;
    let restarted = Instant::now();
    let hits = rx
        .wait_for(Duration::from_secs(15), |h| {
            h.iter().map(|h| h.id()).collect::<std::collections::HashSet<_>>().len() == 20
        })
        .await;
    assert!(
        restarted.elapsed() < Duration::from_secs(5),
        "given back, not leased: {:?}",
        restarted.elapsed()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        rx.hits().len(),
        20,
        "each event once: A's requests in flight were recorded ({} hits)",
        hits.len()
    );
}
