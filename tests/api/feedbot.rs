//! Feedbot's WhatsApp API as a door (SPEC §3.5): a CRM that posted to Feedbot changes the URL and the
//! token and keeps its code. Requests go through real `curl`, as such callers send them; the bodies are
//! SPEC §3.5's (`{"messages":[{"message","phone","invalidationTime","imagePath"}]}`).

use std::time::Duration;

use serde_json::{Value, json};

use crate::delivery::app_with_fakes;
use crate::fakes::{Reply, WA_TOKEN};
use crate::helpers::{TestApp, eventually, list, ok};

const WAIT: Duration = Duration::from_secs(5);

/// `curl` as a Feedbot caller runs it: the answer's HTTP status and JSON.
async fn curl(
    app: &TestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, Value) {
    let mut cmd = tokio::process::Command::new("curl");
    cmd.args(["-s", "-o", "-", "-w", "\n%{http_code}", "-X", method]);
    if let Some(t) = token {
        cmd.args(["-H", &format!("auth: {t}")]);
    }
    if let Some(b) = body {
        cmd.args(["-H", "Content-Type: application/json", "--data-binary", b]);
    }
    let out =
        cmd.arg(format!("{}{path}", app.address)).output().await.expect("curl (scripts/test.sh installs it)");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, status) = text.rsplit_once('\n').expect("a status line");
    (status.trim().parse().expect("status"), serde_json::from_str(body).unwrap_or(Value::Null))
}

async fn whatsapp(app: &TestApp) -> String {
    app.channel("whatsapp", &["phone_number_id=106540352242922", &format!("access_token={WA_TOKEN}")]).await
}

#[tokio::test]
async fn a_feedbot_caller_sends_whatsapp_messages_with_its_token_and_polls_their_status() {
    let (app, p) = app_with_fakes(|_| {}).await;
    let wa = whatsapp(&app).await;
    let token = app.token_access("crm", Some(&wa), &[]).await;
    p.whatsapp.always("34600000003", Reply::whatsapp(400, 131026, "Message Undeliverable"));
    p.whatsapp.always("34600000004", Reply::Hang);
    let later = (chrono::Utc::now().timestamp_millis() + 3_600_000).to_string();
    let body = json!({"messages": [
        {"message": "Your order #42 has shipped", "phone": "+34 600-000-001"},
        {"message": "Here is your invoice", "phone": "34600000002", "imagePath": "https://shop.example/invoice.png", "invalidationTime": later},
        {"message": "Nobody there", "phone": "34600000003"},
        {"message": "Still on its way", "phone": "34600000004"}
    ]})
    .to_string();
    let (status, answer) = curl(&app, "POST", "/feedbot/addnewmessages", Some(&token), Some(&body)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!((answer["errorCode"].is_null(), &answer["success"]), (true, &json!(true)), "{answer}");
    let ids: Vec<String> =
        answer["ids"].as_array().unwrap().iter().map(|i| i.as_str().unwrap().to_string()).collect();
    assert_eq!(ids.len(), 4);
    for id in &ids[..2] {
        app.wait_status(id, "sent", WAIT).await;
    }
    app.wait_status(&ids[2], "failed", WAIT).await;
    assert_eq!(p.whatsapp.accepted_to("34600000001")[0].body["text"]["body"], "Your order #42 has shipped");
    let image = &p.whatsapp.accepted_to("34600000002")[0].body;
    assert_eq!(
        image["image"],
        json!({"link": "https://shop.example/invoice.png", "caption": "Here is your invoice"})
    );

    let poll = |id: String| {
        let (app, token) = (&app, token.clone());
        async move { curl(app, "GET", &format!("/feedbot/getmessagestatus?id={id}"), Some(&token), None).await }
    };
    let (s, sent) = poll(ids[0].clone()).await;
    assert_eq!(
        (s, &sent["status"], &sent["reason"], &sent["success"]),
        (200, &json!(1), &Value::Null, &json!(true)),
        "{sent}"
    );
    let (_, failed) = poll(ids[2].clone()).await;
    assert_eq!(failed["status"], -1);
    assert_eq!(failed["reason"], "whatsapp 131026: (131026) Message Undeliverable");
    let (_, pending) = poll(ids[3].clone()).await;
    assert_eq!(pending["status"], 0, "{pending}");
    // The same ids every other door knows.
    let chats = app.call("getchats", &[("platform", "whatsapp"), ("platformid", &wa)]).await;
    assert_eq!(list(ok(&chats)).len(), 4);
    assert_eq!(app.status(&ids[0]).await["status"], "sent");
    // Counted like every door's requests.
    let metrics = app.metrics_text().await;
    for line in [
        r#"chatgate_requests_total{door="feedbot",method="addnewmessages",outcome="SUCCESS"} 1"#,
        r#"chatgate_requests_total{door="feedbot",method="getmessagestatus",outcome="SUCCESS"} 3"#,
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in:\n{metrics}");
    }
}

#[tokio::test]
async fn feedbot_refusals_keep_feedbots_shape_and_store_nothing() {
    let (app, _p) = app_with_fakes(|s| s.auth.failures.per_login_and_address = 5).await;
    let wa = whatsapp(&app).await;
    let token = app.token_access("crm", Some(&wa), &[]).await;
    let unbound = app.token_access("no-channel", None, &[]).await;
    let elsewhere = app.token_access("branch", Some(&wa), &["10.20.0.0/16"]).await;
    let one = |phone: &str| json!({"messages": [{"message": "hi", "phone": phone}]}).to_string();
    let unauthorized = json!({"errorCode": 99, "success": false, "error": "USER_NOT_AUTHORIZED"});

    let (s, b) = curl(&app, "POST", "/feedbot/addnewmessages", None, Some(&one("34600000001"))).await;
    assert_eq!((s, &b), (401, &unauthorized));
    let four_items = json!({"messages": [
        {"message": "a", "phone": "34600000001"}, {"message": "b", "phone": "34600000002"},
        {"message": "c", "phone": "34600000003"}, {"message": "d"}]})
    .to_string();
    let too_many =
        json!({"messages": vec![json!({"message": "x", "phone": "34600000001"}); 1001]}).to_string();
    let cases = [
        ("{not json", "messages"),
        (four_items.as_str(), "messages[3].phone"),
        (&one("34 600 ABC"), "messages[0].phone"),
        (too_many.as_str(), "messages"),
        (r#"{"messages": [{"message": "", "phone": "34600000001"}]}"#, "messages[0].message"),
    ];
    for (body, param) in cases {
        let (s, b) = curl(&app, "POST", "/feedbot/addnewmessages", Some(&token), Some(body)).await;
        assert_eq!(
            (s, b),
            (400, json!({"errorCode": 2, "success": false, "error": "MISSING_PARAMS", "param": param})),
            "{}",
            &body[..body.len().min(80)]
        );
    }
    let chats = app.call("getchats", &[("platform", "whatsapp"), ("platformid", &wa)]).await;
    assert!(list(ok(&chats)).is_empty(), "all or nothing: {chats}");

    let (s, b) =
        curl(&app, "POST", "/feedbot/addnewmessages", Some(&unbound), Some(&one("34600000001"))).await;
    assert_eq!((s, b["error"].as_str()), (403, Some("ACCESS_DENIED")), "a token must name its channel");
    let (s, b) =
        curl(&app, "POST", "/feedbot/addnewmessages", Some(&elsewhere), Some(&one("34600000001"))).await;
    assert_eq!((s, b["error"].as_str()), (403, Some("IP_NOT_ALLOWED")));
    let (s, b) = curl(&app, "GET", "/feedbot/getmessagestatus?id=987654", Some(&token), None).await;
    assert_eq!(
        (s, b),
        (404, json!({"errorCode": 2, "success": false, "error": "MISSING_PARAMS", "param": "id"}))
    );

    // A disabled access's token is refused like a wrong one, as soon as the change log is read (the
    // token's record was cached by the calls above).
    app.admin().set_access_enabled("crm", false).await.unwrap();
    eventually(|| async {
        let (s, b) =
            curl(&app, "POST", "/feedbot/addnewmessages", Some(&token), Some(&one("34600000001"))).await;
        if (s, &b) == (401, &unauthorized) { Ok(()) } else { Err(format!("{s} {b}")) }
    })
    .await;
    // Wrong tokens count as failed logins of the address: past the limit, refused without a lookup.
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let wrong = format!("cg_{}", "A".repeat(43));
        statuses.push(
            curl(&app, "POST", "/feedbot/addnewmessages", Some(&wrong), Some(&one("34600000001"))).await.0,
        );
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
}
