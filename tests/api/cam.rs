//! Chat&Messenger's API as a door (SPEC §3.6), sending half: an in-house system that notified people and
//! rooms through Chat&Messenger changes its `serverURL` to `/cam` and its token, and keeps its code.
//! Requests go through real `curl`, as the seed's lines send them (`-d message='{…}'`), and as JSON.

use serde_json::{Value, json};

use crate::helpers::{TestApp, list, ok, spawn_app};

/// `curl` as a Chat&Messenger caller runs it: the HTTP status and the JSON answer. `form` sends the
/// argument as the seed's curl lines do (`-d message=…`), otherwise as a JSON body.
async fn curl(
    app: &TestApp,
    method: &str,
    token: Option<&str>,
    argument: Option<(&str, &str)>,
    form: bool,
) -> (u16, Value) {
    let mut cmd = tokio::process::Command::new("curl");
    cmd.args(["-s", "-o", "-", "-w", "\n%{http_code}"]);
    if let Some(t) = token {
        cmd.args(["-H", &format!("x-cam-apiToken: {t}")]);
    }
    match argument {
        Some((name, value)) if form => {
            cmd.args(["-d", &format!("{name}={value}")]);
        }
        Some((_, value)) => {
            cmd.args(["-H", "Content-Type: application/json", "--data-binary", value]);
        }
        None => {}
    }
    let out = cmd.arg(format!("{}/cam/{method}", app.address)).output().await.expect("curl");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, status) = text.rsplit_once('\n').expect("a status line");
    (status.trim().parse().expect("status"), serde_json::from_str(body).unwrap_or(Value::Null))
}

#[tokio::test]
async fn an_in_house_system_notifies_operators_and_rooms_through_chat_and_messengers_api() {
    let app = spawn_app().await;
    let f = app.seed().await;
    let token = app.token_access("alerts", None, &[]).await;
    let direct = r#"{"panelName":"messenger","message":"Disk full on db1","isOpened":true,"generalPurposes":{"users":"alice@example.com,bob@example.com"}}"#;
    let (s, b) = curl(&app, "sendMessage", Some(&token), Some(("message", direct)), true).await;
    assert_eq!(s, 200, "{b}");
    let ids = b["messageIds"].as_array().unwrap().clone();
    assert_eq!(ids.len(), 2, "one direct message to each listed user: {b}");
    assert!(b.get("errors").is_none());
    let room = r#"{"panelName":"Operations","message":"Nightly backup finished","generalPurposes":{"users":"alice@example.com"}}"#;
    let (s, b) = curl(&app, "sendMessage", Some(&token), Some(("message", room)), false).await;
    assert_eq!((s, b["messageIds"].as_array().map(Vec::len)), (200, Some(1)), "{b}");

    // Every door reads them: ordinary messages of the operator channel.
    let read = |to: &'static str| {
        let (app, channel) = (&app, f.operator.clone());
        async move {
            let got = app
                .call(
                    "getmessages",
                    &[("platform", "operator"), ("platformid", &channel), ("destination", to)],
                )
                .await;
            list(ok(&got)).iter().map(|m| m["message"].as_str().unwrap().to_string()).collect::<Vec<_>>()
        }
    };
    assert_eq!(read("alice@example.com").await, ["Disk full on db1"]);
    assert_eq!(read("bob@example.com").await, ["Disk full on db1"]);
    assert_eq!(read("#Operations").await, ["Nightly backup finished"]);
    // The room was created by its first message, the users listed with it its members.
    let (_, rooms) = curl(&app, "getChatRooms", Some(&token), None, true).await;
    assert_eq!(rooms["chatRooms"][0]["name"], "Operations");
    assert_eq!(rooms["chatRooms"][0]["memberUids"], json!(["alice@example.com"]));

    // A list: direct items and room items, each answered in its place.
    let list_arg = r#"[{"message":"CPU at 95%","property":{"users":"alice@example.com"}},{"send":"Operations","message":"Deploy started"},{"message":"to nobody"}]"#;
    let (s, b) = curl(&app, "sendMessages", Some(&token), Some(("message", list_arg)), true).await;
    assert_eq!(s, 200, "{b}");
    let results = b["results"].as_array().unwrap();
    assert_eq!(results[0]["messageIds"].as_array().map(Vec::len), Some(1));
    assert_eq!(results[1]["messageIds"].as_array().map(Vec::len), Some(1));
    assert_eq!(results[2]["errors"][0]["param"], "users", "{b}");
    assert_eq!(read("#Operations").await, ["Deploy started", "Nightly backup finished"]);
}

#[tokio::test]
async fn chat_and_messenger_refusals_keep_its_error_shape() {
    let app = spawn_app().await;
    app.seed().await;
    let token = app.token_access("alerts", None, &[]).await;
    let (s, b) = curl(
        &app,
        "sendMessage",
        None,
        Some(("message", r#"{"panelName":"messenger","message":"x"}"#)),
        true,
    )
    .await;
    assert_eq!((s, b["errors"][0]["code"].as_str()), (401, Some("UNAUTHORIZED")), "{b}");
    let (s, b) = curl(&app, "sendMessage", Some(&token), Some(("message", "not json")), true).await;
    assert_eq!(
        (s, &b["errors"][0]["code"], &b["errors"][0]["param"]),
        (400, &json!("INVALID_PARAMETER"), &json!("message"))
    );
    let (s, b) = curl(
        &app,
        "sendMessage",
        Some(&token),
        Some(("message", r#"{"panelName":"messenger","message":"x"}"#)),
        true,
    )
    .await;
    assert_eq!((s, &b["errors"][0]["param"]), (400, &json!("users")), "{b}");
    for method in ["getConferenceRooms", "getConferenceMaster", "getConferenceRoomStatus", "createQuickCall"]
    {
        let (s, b) = curl(&app, method, Some(&token), None, true).await;
        assert_eq!((s, b["errors"][0]["code"].as_str()), (501, Some("NOT_SUPPORTED")), "{method}: {b}");
    }
    let (s, b) = curl(&app, "noSuchMethod", Some(&token), None, true).await;
    assert_eq!((s, b["errors"][0]["code"].as_str()), (404, Some("NOT_FOUND")));
    // A value of the wrong type is refused whole, naming the argument; nothing is sent.
    let wrong = r#"{"panelName":"Ops","message":"x","generalPurposes":{"users":5}}"#;
    let (s, b) = curl(&app, "sendMessage", Some(&token), Some(("message", wrong)), false).await;
    assert_eq!((s, &b["errors"][0]["param"]), (400, &json!("message")), "{b}");
    let (_, rooms) = curl(&app, "getChatRooms", Some(&token), None, true).await;
    assert_eq!(rooms["chatRooms"], json!([]), "no room was made by the refused message");
    let (s, b) =
        curl(&app, "updateChatRoom", Some(&token), Some(("chatRoom", r#"{"isPublic":"yes"}"#)), true).await;
    assert_eq!((s, &b["errors"][0]["param"]), (400, &json!("chatRoom")), "{b}");
    // A method with a body is POSTed; one without may be a GET (the seed's curl lines); other HTTP
    // methods are 405 with `Allow`, in the door's shape.
    let client = reqwest::Client::new();
    let get = client
        .get(format!("{}/cam/sendMessage", app.address))
        .header("x-cam-apiToken", &token)
        .send()
        .await
        .unwrap();
    assert_eq!((get.status().as_u16(), get.headers()["allow"].to_str().unwrap()), (405, "POST"));
    let body: serde_json::Value = get.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "METHOD_NOT_ALLOWED");
    let put = client.put(format!("{}/cam/getChatRooms", app.address)).send().await.unwrap();
    assert_eq!((put.status().as_u16(), put.headers()["allow"].to_str().unwrap()), (405, "GET, HEAD, POST"));
    // Counted like every door's requests.
    let metrics = app.metrics_text().await;
    let line = r#"chatgate_requests_total{door="cam",method="sendmessage",outcome="INVALID_TOKEN"} 1"#;
    assert!(metrics.lines().any(|l| l == line), "{line} in:\n{metrics}");
}

/// Rooms: `updateChatRoom` creates and changes them; their messages show in the members' consoles (and
/// not in others'), and a member's answer is a received message of the room with its author.
#[tokio::test]
async fn rooms_show_in_their_members_consoles_and_members_answer_in_them() {
    let app = spawn_app().await;
    let f = app.seed().await;
    let token = app.token_access("alerts", None, &[]).await;
    app.create_access("carol@example.com", "carol-secret-1", "chat:read,chat:write", &[]).await;
    let create = r#"{"name":"Operations","isPublic":false,"memberUids":["alice@example.com","bob@example.com"],"adminUserId":"alice@example.com"}"#;
    let (s, b) = curl(&app, "updateChatRoom", Some(&token), Some(("chatRoom", create)), true).await;
    assert_eq!(s, 200, "{b}");
    let room = b["chatRoom"].clone();
    assert_eq!((room["name"].as_str(), room["isPublic"].as_bool()), (Some("Operations"), Some(false)));
    assert_eq!(room["memberUids"], json!(["alice@example.com", "bob@example.com"]));
    let (_, b) = curl(
        &app,
        "sendMessage",
        Some(&token),
        Some(("message", r#"{"panelName":"Operations","message":"Backup failed"}"#)),
        true,
    )
    .await;
    assert_eq!(b["messageIds"].as_array().map(Vec::len), Some(1), "{b}");

    // Alice is the account's own login (crate::helpers::LOGIN); Carol an access.
    let inbox = |login: &'static str, secret: &'static str| {
        let app = &app;
        async move {
            let (cookie, _) = crate::helpers::console_session(&app.client, &app.address, login, secret).await;
            let res = app
                .client
                .get(format!("{}/operator/api/chats", app.address))
                .header("cookie", &cookie)
                .send()
                .await
                .unwrap();
            let body: Value = res.json().await.unwrap();
            body["list"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["chat"]["destination"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert!(inbox("alice@example.com", crate::helpers::PASSWORD).await.contains(&"#Operations".to_string()));
    assert!(
        !inbox("carol@example.com", "carol-secret-1").await.contains(&"#Operations".to_string()),
        "not a member"
    );

    // Alice answers in the room from her console: a received message of the room, by her.
    let answer = json!({"platform": "operator", "platformid": f.operator, "destination": "#Operations", "message": "On it"});
    let answer_as = |login: &'static str, secret: &'static str| {
        let (app, answer) = (&app, answer.clone());
        async move {
            let (cookie, csrf) =
                crate::helpers::console_session(&app.client, &app.address, login, secret).await;
            let url = format!("{}/operator/api/send", app.address);
            let res =
                app.client.post(url).header("cookie", &cookie).header("x-csrf-token", &csrf).json(&answer);
            res.send().await.unwrap().status()
        }
    };
    assert_eq!(answer_as("alice@example.com", crate::helpers::PASSWORD).await, 200);
    let got = app
        .call(
            "getmessages",
            &[("platform", "operator"), ("platformid", &f.operator), ("destination", "#Operations")],
        )
        .await;
    let newest = &list(ok(&got))[0];
    assert_eq!((newest["message"].as_str(), newest["sent"].as_u64()), (Some("On it"), Some(0)));
    assert_eq!(newest["author"], json!({"name": "alice@example.com", "id": "alice@example.com"}));
    // Carol, not a member, cannot answer, nor read the room in her console.
    assert_eq!(answer_as("carol@example.com", "carol-secret-1").await, 403);
    let (carol, _) =
        crate::helpers::console_session(&app.client, &app.address, "carol@example.com", "carol-secret-1")
            .await;
    let read = app
        .client
        .get(format!("{}/operator/api/messages", app.address))
        .query(&[
            ("platform", "operator"),
            ("platformid", f.operator.as_str()),
            ("destination", "#Operations"),
        ])
        .header("cookie", &carol)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 403);

    // Members changed: Carol added, the room's id names it; her open console hears of it at once and
    // her inbox shows the room.
    let (carol, _) =
        crate::helpers::console_session(&app.client, &app.address, "carol@example.com", "carol-secret-1")
            .await;
    let mut stream = app
        .client
        .get(format!("{}/operator/api/events", app.address))
        .header("cookie", &carol)
        .send()
        .await
        .unwrap();
    assert!(stream.chunk().await.unwrap().is_some(), "the stream opened");
    let change = format!(
        r#"{{"id":"{}","memberUids":["alice@example.com","carol@example.com"]}}"#,
        room["id"].as_str().unwrap()
    );
    let (s, b) = curl(&app, "updateChatRoom", Some(&token), Some(("chatRoom", &change)), true).await;
    assert_eq!((s, &b["chatRoom"]["name"]), (200, &json!("Operations")), "{b}");
    let heard = tokio::time::timeout(std::time::Duration::from_secs(2), async {
        while let Some(frame) = stream.chunk().await.unwrap() {
            if String::from_utf8_lossy(&frame).contains("event: changed") {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(heard, Ok(true), "the member's console was told of the room");
    assert!(
        inbox("carol@example.com", "carol-secret-1").await.contains(&"#Operations".to_string()),
        "a member now"
    );
    let (_, b) = curl(&app, "getChatRooms", Some(&token), None, true).await;
    assert_eq!(b["chatRooms"][0]["memberUids"], json!(["alice@example.com", "carol@example.com"]));
    let (s, b) =
        curl(&app, "updateChatRoom", Some(&token), Some(("chatRoom", r#"{"id":"9999","name":"x"}"#)), true)
            .await;
    assert_eq!((s, b["errors"][0]["param"].as_str()), (400, Some("id")));
}
