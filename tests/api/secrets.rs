//! Secrets never reach the log or `/metrics`: a real `chatgate serve` at `CHATGATE_LOG=trace` gets
//! passwords, access secrets, bearer and refresh tokens, bot and WhatsApp tokens, an app secret, a
//! Telegram webhook secret, webhook signing secrets and header values, a webchat visitor token and an
//! operator session through every door and endpoint — right and wrong, in the places an integrator
//! puts them and in the odd URLs an attacker tries — and none of them appears in what it wrote.

use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};

use crate::delivery::BOT;
use crate::fakes;
use crate::helpers::{binary, fresh_database_url};
use crate::instances::{channel, cli};
use crate::receiver::Receiver;
use crate::soap_client::{SOAP11, envelope, operation_xml};

const PASSWORD: &str = "acme-Pa55word-xyzzy";
const WRONG: &str = "wrong-Pa55word-plugh";
const ACCESS_SECRET: &str = "access-S3cret-frobozz";
const WA_TOKEN: &str = "EAAG-wa-access-token-grue";
const APP_SECRET: &str = "wa-app-secret-zorkmid";
const TG_SECRET: &str = "tg-webhook-secret-quendor";
const HEADER_VALUE: &str = "hdr-api-key-flathead";

#[tokio::test]
async fn no_secret_reaches_the_log_or_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let db = fresh_database_url(dir.path()).await;
    let telegram = fakes::telegram().await;
    let rx = Receiver::start().await;
    cli(&db, &["account", "create", "acme", "--password", PASSWORD]).await;
    cli(
        &db,
        &[
            "access",
            "create",
            "acme",
            "reporting",
            "--secret",
            ACCESS_SECRET,
            "--scopes",
            "chat:read,chat:write,webhook:manage",
        ],
    )
    .await;
    let tg = channel(&db, "telegram", &[&format!("bot_token={BOT}"), &format!("webhook_secret={TG_SECRET}")])
        .await;
    let wa = channel(
        &db,
        "whatsapp",
        &["phone_number_id=1", &format!("access_token={WA_TOKEN}"), &format!("app_secret={APP_SECRET}")],
    )
    .await;
    let web = channel(&db, "webchat", &[]).await;
    let log = dir.path().join("server.log");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut server = tokio::process::Command::new(binary())
        .arg("serve")
        .env("CHATGATE_DATABASE_URL", &db)
        .env("CHATGATE_LISTEN", format!("127.0.0.1:{port}"))
        .env("CHATGATE_LOG", "trace")
        .env("CHATGATE_CONNECTORS__TELEGRAM__BASE_URL", &telegram.url)
        .env("CHATGATE_OUTBOUND__ALLOW_NETWORKS", "127.0.0.0/8")
        .stderr(std::fs::File::create(&log).unwrap())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let c = reqwest::Client::new();
    while c.get(format!("{base}/healthz")).send().await.is_err() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut secrets: Vec<String> =
        [PASSWORD, WRONG, ACCESS_SECRET, BOT, WA_TOKEN, APP_SECRET, TG_SECRET, HEADER_VALUE]
            .map(String::from)
            .to_vec();

    // Plain door: query string and form, right and wrong; and URLs that are 404s with a password in the path.
    for pw in [PASSWORD, WRONG] {
        let q = [("class", "chat"), ("method", "getchatchannels"), ("user", "acme"), ("password", pw)];
        c.get(format!("{base}/api/http/")).query(&q).send().await.unwrap();
        c.post(format!("{base}/api/http/")).form(&q).send().await.unwrap();
    }
    for path in [
        format!("/api/http/%3Fclass=chat&method=getchatchannels&user=acme&password={PASSWORD}"),
        format!("/api/http&user=acme&password={PASSWORD}"),
        format!("/{PASSWORD}/api/http/"),
    ] {
        c.get(format!("{base}{path}")).send().await.unwrap();
    }
    // Basic door.
    for pw in [PASSWORD, WRONG] {
        c.get(format!("{base}/api/basic/?class=chat&method=getchatchannels"))
            .basic_auth("acme", Some(pw))
            .send()
            .await
            .unwrap();
    }
    // SOAP: in the body, and in a WS-Security header.
    let body =
        envelope(SOAP11, "", &operation_xml("getchatchannels", Some("reporting"), Some(ACCESS_SECRET), &[]));
    c.post(format!("{base}/api/soap/")).header("Content-Type", "text/xml").body(body).send().await.unwrap();
    let wsse = format!(
        r#"<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"><wsse:UsernameToken><wsse:Username>acme</wsse:Username><wsse:Password>{WRONG}</wsse:Password></wsse:UsernameToken></wsse:Security>"#
    );
    let body = envelope(SOAP11, &wsse, &operation_xml("getchatchannels", None, None, &[]));
    c.post(format!("{base}/api/soap/")).header("Content-Type", "text/xml").body(body).send().await.unwrap();

    // OAuth: both client authentication methods, a refresh, the bearer door, introspection, revocation.
    let token: Value = c
        .post(format!("{base}/oauth/token"))
        .basic_auth("reporting", Some(ACCESS_SECRET))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let access = token["access_token"].as_str().unwrap().to_string();
    c.post(format!("{base}/oauth/token"))
        .form(&[("grant_type", "client_credentials"), ("client_id", "acme"), ("client_secret", WRONG)])
        .send()
        .await
        .unwrap();
    c.post(format!("{base}/oauth/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "rt-not-a-real-one-mnemonic"),
            ("client_id", "reporting"),
            ("client_secret", ACCESS_SECRET),
        ])
        .send()
        .await
        .unwrap();
    secrets.push("rt-not-a-real-one-mnemonic".into());
    let json_call = |method: &'static str, body: Value| {
        c.post(format!("{base}/api/json/chat/{method}")).bearer_auth(&access).json(&body).send()
    };
    json_call("getchatchannels", json!({})).await.unwrap();
    let sent: Value = json_call(
        "sendmessage",
        json!({"platform": "telegram", "platformid": tg, "destination": "42", "message": "hi"}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(sent["status"], "SUCCESS", "{sent}");
    for endpoint in ["introspect", "revoke"] {
        c.post(format!("{base}/oauth/{endpoint}"))
            .basic_auth("reporting", Some(ACCESS_SECRET))
            .form(&[("token", &access)])
            .send()
            .await
            .unwrap();
    }
    c.post(format!("{base}/api/json/chat/getchatchannels"))
        .bearer_auth(&access)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    // The JWT's signature part is what makes it a bearer credential.
    secrets.push(access.rsplit('.').next().unwrap().to_string());

    // A webhook: its secret comes back once, signs every delivery, and its extra header goes out.
    let set: Value = c
        .get(format!("{base}/api/http/"))
        .query(&[
            ("class", "webhook"),
            ("method", "setwebhook"),
            ("user", "acme"),
            ("password", PASSWORD),
            ("url", &format!("{}/hook", rx.url)),
            ("events", "*"),
            ("headers", &format!(r#"{{"X-Api-Key":"{HEADER_VALUE}"}}"#)),
        ])
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let whsec = set["result"]["secret"].as_str().unwrap_or_else(|| panic!("{set}")).to_string();
    secrets.push(whsec.trim_start_matches("whsec_").to_string());
    // Inbound: Telegram with right and wrong secrets, WhatsApp signed and forged.
    let update = json!({"update_id": 7, "message": {"message_id": 1, "chat": {"id": 42}, "text": "hello"}})
        .to_string();
    for secret in [TG_SECRET, "tg-wrong-secret-foozle"] {
        c.post(format!("{base}/inbound/telegram/{tg}"))
            .header("X-Telegram-Bot-Api-Secret-Token", secret)
            .header("Content-Type", "application/json")
            .body(update.clone())
            .send()
            .await
            .unwrap();
    }
    secrets.push("tg-wrong-secret-foozle".into());
    let notification = json!({"entry": [{"changes": [{"value": {"messages": [{"from": "34600111222", "id": "wamid.1", "type": "text", "text": {"body": "hola"}}]}}]}]}).to_string();
    let signature = {
        use hmac::{Hmac, Mac};
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(APP_SECRET.as_bytes()).unwrap();
        mac.update(notification.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    };
    secrets.push(signature.clone());
    for sig in [signature.as_str(), "00ff"] {
        c.post(format!("{base}/inbound/whatsapp/{wa}"))
            .header("X-Hub-Signature-256", format!("sha256={sig}"))
            .header("Content-Type", "application/json")
            .body(notification.clone())
            .send()
            .await
            .unwrap();
    }
    // Webchat: a visitor's token in the query string of its stream and in its calls.
    let session: Value = c
        .post(format!("{base}/webchat/{web}/api/session"))
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let (visitor, vtoken) = (session["visitor"].as_str().unwrap(), session["token"].as_str().unwrap());
    c.post(format!("{base}/webchat/{web}/api/messages"))
        .query(&[("visitor", visitor), ("token", vtoken)])
        .json(&json!({"message": "hi"}))
        .send()
        .await
        .unwrap();
    c.get(format!("{base}/webchat/{web}/api/messages"))
        .query(&[("visitor", visitor), ("token", vtoken)])
        .send()
        .await
        .unwrap();
    secrets.push(vtoken.to_string());
    // Operator console: a login (right and wrong), then a call with the session cookie and CSRF token.
    let console = &c;
    console
        .post(format!("{base}/operator/api/login"))
        .json(&json!({"login": "acme", "password": WRONG}))
        .send()
        .await
        .unwrap();
    let login = console
        .post(format!("{base}/operator/api/login"))
        .json(&json!({"login": "acme", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let cookie =
        login.headers().get("set-cookie").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    let me: Value = login.json().await.unwrap();
    let csrf = me["csrf"].as_str().unwrap_or_else(|| panic!("{me}")).to_string();
    let cookie_kv = cookie.split(';').next().unwrap().to_string();
    console
        .post(format!("{base}/operator/api/presence"))
        .header("Cookie", &cookie_kv)
        .header("X-CSRF-Token", &csrf)
        .json(&json!({"status": "away"}))
        .send()
        .await
        .unwrap();
    secrets.push(csrf);
    let session_cookie =
        cookie.split(';').next().and_then(|kv| kv.split_once('=')).map(|(_, v)| v.to_string()).unwrap();
    assert!(session_cookie.len() >= 16, "{cookie}");
    secrets.push(session_cookie);

    // Let delivery and the webhook sender work (they log at debug and trace), then read everything.
    telegram.wait_for(Duration::from_secs(5), |r| !r.is_empty()).await;
    rx.wait_for(Duration::from_secs(5), |hits| !hits.is_empty()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let metrics = c.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
    server.start_kill().unwrap();
    server.wait().await.unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.lines().count() > 50, "a trace-level log was written");
    assert!(
        text.contains("INCORRECT_USER_PASSWORD"),
        "the refusals were logged:\n{}",
        &text[text.len().saturating_sub(3000)..]
    );
    for secret in &secrets {
        assert!(!text.contains(secret.as_str()), "{secret} in the log:\n{}", context(&text, secret));
        assert!(!metrics.contains(secret.as_str()), "{secret} in /metrics");
        let b64 = base64::engine::general_purpose::STANDARD.encode(secret);
        assert!(!text.contains(&b64), "{secret} (base64) in the log");
    }
}

/// The log lines that hold `secret`.
fn context(text: &str, secret: &str) -> String {
    text.lines().filter(|l| l.contains(secret)).take(5).collect::<Vec<_>>().join("\n")
}
