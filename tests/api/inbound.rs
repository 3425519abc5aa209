//! Platform webhooks (SPEC §5.3): Telegram updates and WhatsApp notifications become received messages
//! every door reads; WhatsApp statuses move sent messages forwards; files are served through chatgate.

use std::time::Duration;

use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::delivery::{BOT, app_with_fakes};
use crate::fakes::WA_TOKEN;
use crate::helpers::{TestApp, list, ok};

pub const SECRET: &str = "tg-webhook-secret_1";
pub const APP_SECRET: &str = "wa-app-secret";

impl TestApp {
    pub async fn post_telegram(&self, channel: &str, secret: Option<&str>, body: &str) -> StatusCode {
        let mut req = self
            .client
            .post(format!("{}/inbound/telegram/{channel}", self.address))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(s) = secret {
            req = req.header("X-Telegram-Bot-Api-Secret-Token", s);
        }
        req.send().await.unwrap().status()
    }

    pub async fn post_whatsapp(&self, channel: &str, key: &str, body: &str) -> StatusCode {
        let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
        mac.update(body.as_bytes());
        let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        self.client
            .post(format!("{}/inbound/whatsapp/{channel}", self.address))
            .header("content-type", "application/json")
            .header("X-Hub-Signature-256", signature)
            .body(body.to_string())
            .send()
            .await
            .unwrap()
            .status()
    }

    async fn unread(&self, platform: &str, channel: &str, from: &str) -> Vec<Value> {
        let body = self
            .call(
                "getunreadmessages",
                &[("platform", platform), ("platformid", channel), ("destination", from), ("markread", "0")],
            )
            .await;
        list(ok(&body)).clone()
    }
}

pub fn update(id: i64, message: Value) -> String {
    json!({"update_id": id, "message": message}).to_string()
}

#[tokio::test]
async fn telegram_updates_become_received_messages_once() {
    let (app, _p) = app_with_fakes(|_| {}).await;
    let tg =
        app.channel("telegram", &[&format!("bot_token={BOT}"), &format!("webhook_secret={SECRET}")]).await;
    let chat = json!({"id": 1111111, "first_name": "Ann", "type": "private"});
    let text = update(1, json!({"message_id": 1, "chat": chat, "date": 1, "text": "hello"}));
    assert_eq!(app.post_telegram(&tg, Some(SECRET), &text).await, StatusCode::OK);
    assert_eq!(app.post_telegram(&tg, Some(SECRET), &text).await, StatusCode::OK, "a retried update");
    let photo = update(
        2,
        json!({"message_id": 2, "chat": chat, "caption": "look",
        "photo": [{"file_id": "small-id", "file_unique_id": "a", "width": 90, "height": 90},
                  {"file_id": "big-id", "file_unique_id": "b", "width": 800, "height": 800}]}),
    );
    let voice = update(
        3,
        json!({"message_id": 3, "chat": chat, "voice": {"file_id": "v-id", "file_unique_id": "c", "duration": 2}}),
    );
    let doc = update(
        4,
        json!({"message_id": 4, "chat": chat, "document": {"file_id": "d-id", "file_unique_id": "d", "file_name": "a.pdf"}}),
    );
    let contact = update(
        5,
        json!({"message_id": 5, "chat": chat, "contact": {"phone_number": "+34600000000", "first_name": "Bo"}}),
    );
    for body in [&photo, &voice, &doc, &contact] {
        assert_eq!(app.post_telegram(&tg, Some(SECRET), body).await, StatusCode::OK);
    }
    // Kinds chatgate does not store are acknowledged (Telegram would retry anything else).
    let poll = update(
        6,
        json!({"message_id": 6, "chat": chat, "poll": {"id": "p", "question": "?", "options": []}}),
    );
    let reaction = json!({"update_id": 7, "message_reaction": {"chat": chat, "message_id": 1}}).to_string();
    assert_eq!(app.post_telegram(&tg, Some(SECRET), &poll).await, StatusCode::OK);
    assert_eq!(app.post_telegram(&tg, Some(SECRET), &reaction).await, StatusCode::OK);

    let got = app.unread("telegram", &tg, "1111111").await;
    assert_eq!(got.len(), 5, "one message per update: {got:#?}");
    assert_eq!(
        (got[0]["message"].as_str(), got[0]["sent"].as_u64(), got[0]["status"].as_str()),
        (Some("hello"), Some(0), Some("unread"))
    );
    assert_eq!((got[1]["type"].as_str(), got[1]["message"].as_str()), (Some("image"), Some("look")));
    assert_eq!(got[2]["type"], "voice");
    assert_eq!(got[3]["type"], "document");
    assert_eq!(got[4]["type"], "contact");
    // Files are served by chatgate: the largest photo, fetched from Telegram, without the token showing.
    let url = got[1]["fileurl"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("{}/media/", app.address)) && !url.contains(BOT) && !url.contains("123456"),
        "{url}"
    );
    let file = app.client.get(url).send().await.unwrap();
    assert_eq!(file.status(), StatusCode::OK);
    assert_eq!(file.headers()["content-type"], "image/jpeg");
    assert_eq!(file.headers()["x-content-type-options"], "nosniff");
    assert_eq!(file.headers()["content-security-policy"], "sandbox; default-src 'none'");
    assert_eq!(file.text().await.unwrap(), "bytes of photos/big-id.jpg");
    let card = app.client.get(got[4]["fileurl"].as_str().unwrap()).send().await.unwrap();
    // The vCard's content is the sender's: served like every received file.
    assert_eq!(card.headers()["x-content-type-options"], "nosniff");
    assert_eq!(card.headers()["content-security-policy"], "sandbox; default-src 'none'");
    let card = card.text().await.unwrap();
    assert!(card.contains("FN:Bo") && card.contains("TEL:+34600000000"), "{card}");
    // A forged or altered media path is nobody's file.
    let forged = format!("{}x", &url[..url.len() - 1]);
    assert_eq!(app.client.get(forged).send().await.unwrap().status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn telegram_webhooks_refuse_what_is_not_telegram() {
    let (app, _p) = app_with_fakes(|_| {}).await;
    let tg =
        app.channel("telegram", &[&format!("bot_token={BOT}"), &format!("webhook_secret={SECRET}")]).await;
    let no_secret = app.channel("telegram", &[&format!("bot_token={BOT}")]).await;
    let wa = app.channel_without_settings("whatsapp").await;
    let body = update(1, json!({"chat": {"id": 5}, "text": "x"}));
    assert_eq!(app.post_telegram(&tg, None, &body).await, StatusCode::UNAUTHORIZED);
    assert_eq!(app.post_telegram(&tg, Some("wrong"), &body).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.post_telegram(&tg, Some(&SECRET[..SECRET.len() - 1]), &body).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.post_telegram(&no_secret, Some(""), &body).await,
        StatusCode::UNAUTHORIZED,
        "no secret set: nothing is accepted"
    );
    assert_eq!(app.post_telegram("999", Some(SECRET), &body).await, StatusCode::NOT_FOUND);
    assert_eq!(app.post_telegram("abc", Some(SECRET), &body).await, StatusCode::NOT_FOUND);
    assert_eq!(
        app.post_telegram(&wa, Some(SECRET), &body).await,
        StatusCode::NOT_FOUND,
        "a channel of another platform"
    );
    assert_eq!(app.post_telegram(&tg, Some(SECRET), "{not json").await, StatusCode::BAD_REQUEST);
    assert_eq!(app.post_telegram(&tg, Some(SECRET), "[1,2]").await, StatusCode::BAD_REQUEST);
    let huge = update(2, json!({"chat": {"id": 5}, "text": "x".repeat(300_000)}));
    assert_eq!(app.post_telegram(&tg, Some(SECRET), &huge).await, StatusCode::PAYLOAD_TOO_LARGE);
    let chats = app.call("getchats", &[("platform", "telegram"), ("platformid", &tg)]).await;
    assert!(list(ok(&chats)).is_empty(), "nothing stored");
}

#[tokio::test]
async fn whatsapp_verification_messages_statuses_and_media() {
    let (app, p) = app_with_fakes(|_| {}).await;
    let wa = app
        .channel(
            "whatsapp",
            &[
                "phone_number_id=106540352242922",
                &format!("access_token={WA_TOKEN}"),
                &format!("app_secret={APP_SECRET}"),
                "verify_token=meta-verify",
            ],
        )
        .await;
    let verify = |token: &str| {
        let url = format!("{}/inbound/whatsapp/{wa}", app.address);
        let q = [("hub.mode", "subscribe"), ("hub.challenge", "1158201444"), ("hub.verify_token", token)];
        app.client.get(url).query(&q).send()
    };
    let good = verify("meta-verify").await.unwrap();
    assert_eq!(good.status(), StatusCode::OK);
    assert_eq!(good.text().await.unwrap(), "1158201444");
    assert_eq!(verify("wrong").await.unwrap().status(), StatusCode::FORBIDDEN);

    let value = |v: Value| {
        json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": v}]}]}).to_string()
    };
    // Sent just now (WhatsApp's own time): the 24-hour window is open for the replies below.
    let now = chrono::Utc::now().timestamp().to_string();
    let messages = value(
        json!({"messaging_product": "whatsapp", "metadata": {"phone_number_id": "106540352242922"},
        "contacts": [{"profile": {"name": "Sheena"}, "wa_id": "16505551234"}],
        "messages": [
            {"from": "16505551234", "id": "wamid.IN1", "timestamp": now, "type": "text", "text": {"body": "Does it come in blue?"}},
            {"from": "16505551234", "id": "wamid.IN2", "timestamp": now, "type": "image", "image": {"id": "1003383421387256", "mime_type": "image/jpeg", "caption": "this one"}}
        ]}),
    );
    assert_eq!(app.post_whatsapp(&wa, APP_SECRET, &messages).await, StatusCode::OK);
    assert_eq!(app.post_whatsapp(&wa, APP_SECRET, &messages).await, StatusCode::OK, "Meta retries");
    assert_eq!(
        app.post_whatsapp(&wa, "not-the-secret", &messages.replace("blue", "red")).await,
        StatusCode::UNAUTHORIZED
    );
    let got = app.unread("whatsapp", &wa, "16505551234").await;
    assert_eq!(got.len(), 2, "{got:#?}");
    assert_eq!(got[0]["message"], "Does it come in blue?");
    let media = app.client.get(got[1]["fileurl"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(media.text().await.unwrap(), "media 1003383421387256");

    // Statuses of what we sent move forwards only: a late `delivered` after `read` changes nothing.
    // A reply to `+…` is the same chat as the messages from the digits alone.
    let id = app.send("whatsapp", &wa, "+16505551234", "Yes, in blue").await;
    let chat = app
        .call(
            "getmessages",
            &[("platform", "whatsapp"), ("platformid", &wa), ("destination", "+16505551234")],
        )
        .await;
    assert_eq!(list(ok(&chat)).len(), 3, "{chat}");
    app.wait_status(&id, "sent", Duration::from_secs(5)).await;
    let wamid = format!("wamid.{}", p.whatsapp.received().len());
    let status = |s: &str| {
        value(json!({"messaging_product": "whatsapp", "statuses": [
        {"id": wamid, "status": s, "timestamp": "1749416390", "recipient_id": "16505551234"}]}))
    };
    assert_eq!(app.post_whatsapp(&wa, APP_SECRET, &status("read")).await, StatusCode::OK);
    assert_eq!(app.status(&id).await["status"], "read");
    assert_eq!(app.post_whatsapp(&wa, APP_SECRET, &status("delivered")).await, StatusCode::OK);
    assert_eq!(app.post_whatsapp(&wa, APP_SECRET, &status("failed")).await, StatusCode::OK);
    assert_eq!(app.status(&id).await["status"], "read", "never backwards");

    let other = app.send("whatsapp", &wa, "16505551234", "Are you there?").await;
    app.wait_status(&other, "sent", Duration::from_secs(5)).await;
    let wamid = format!("wamid.{}", p.whatsapp.received().len());
    let failed = value(
        json!({"statuses": [{"id": wamid, "status": "failed", "timestamp": "1", "recipient_id": "16505551234",
        "errors": [{"code": 131047, "title": "Re-engagement message", "message": "Re-engagement message"}]}]}),
    );
    assert_eq!(app.post_whatsapp(&wa, APP_SECRET, &failed).await, StatusCode::OK);
    let s = app.status(&other).await;
    assert_eq!(
        (s["status"].as_str(), s["reason"].as_str()),
        (Some("failed"), Some("whatsapp 131047: Re-engagement message"))
    );

    assert_eq!(app.post_whatsapp(&wa, APP_SECRET, "{oops").await, StatusCode::BAD_REQUEST);
    assert_eq!(app.post_whatsapp("424242", APP_SECRET, &messages).await, StatusCode::NOT_FOUND);
}

/// A received file is streamed from the platform for as long as it keeps sending (up to
/// `outbound.file_timeout_ms`), not cut at the API calls' `request_timeout_ms`; a platform that goes
/// quiet for `request_timeout_ms` ends the download, and chatgate's answer breaks off with it.
#[tokio::test]
async fn received_files_stream_while_the_platform_sends_and_end_when_it_stalls() {
    let (app, _p) = app_with_fakes(|s| s.outbound.request_timeout_ms = 1000).await;
    let tg =
        app.channel("telegram", &[&format!("bot_token={BOT}"), &format!("webhook_secret={SECRET}")]).await;
    let chat = json!({"id": 2222222, "first_name": "Cy", "type": "private"});
    for (id, file) in [(1, "slow-id"), (2, "stalled-id")] {
        let photo = json!({"message_id": id, "chat": chat,
            "photo": [{"file_id": file, "file_unique_id": file, "width": 90, "height": 90}]});
        assert_eq!(app.post_telegram(&tg, Some(SECRET), &update(id, photo)).await, StatusCode::OK);
    }
    let got = app.unread("telegram", &tg, "2222222").await;
    let url = |i: usize| got[i]["fileurl"].as_str().unwrap().to_string();

    // Five parts over 1.6 s: longer than the request timeout as a whole, never silent for as long.
    let slow = app.client.get(url(0)).send().await.unwrap();
    assert_eq!(slow.status(), StatusCode::OK);
    assert_eq!(slow.text().await.unwrap(), "part 0;part 1;part 2;part 3;part 4;");

    let stalled = app.client.get(url(1)).send().await.unwrap();
    assert_eq!(stalled.status(), StatusCode::OK);
    let body = tokio::time::timeout(Duration::from_secs(20), stalled.text()).await;
    let body = body.expect("the stalled download ends (the platform was silent for the request timeout)");
    assert!(body.is_err(), "a cut-off file must not look complete: {body:?}");
}
