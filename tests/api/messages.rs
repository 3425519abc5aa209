//! Every method's success path through the plain door.

use serde_json::{Value, json};

use crate::helpers::{
    LOGIN, PASSWORD, err, list, no_delivery, ok, spawn_app, spawn_app_on, spawn_app_without_delivery,
};

#[tokio::test]
async fn afilnet_example_url_lists_channels() {
    let app = spawn_app().await;
    let f = app.seed().await;
    let url = format!(
        "{}/api/http/?class=chat&method=getchatchannels&user={}&password={}",
        app.address,
        f.login,
        f.password.replace(' ', "+")
    );
    let body: Value = app.client.get(url).send().await.unwrap().json().await.unwrap();
    let channels = list(ok(&body));
    assert_eq!(channels.len(), 4);
    assert_eq!(channels[0], json!({"platformid": f.webchat, "platform": "webchat", "name": "Site"}));
    assert_eq!(channels[3]["platform"], "operator");
}

#[tokio::test]
async fn sendmessage_stores_a_pending_message() {
    let app = spawn_app_without_delivery().await;
    let f = app.seed().await;
    // A Telegram message waits for a delivery worker (there is none here) with its outbox entry.
    let body = app
        .call(
            "sendmessage",
            &[
                ("platform", "telegram"),
                ("platformid", &f.telegram),
                ("destination", "4242"),
                ("message", "Hi"),
            ],
        )
        .await;
    let id = ok(&body)["messageid"].as_str().expect("string id").to_string();

    let status = app.call("getmessagestatus", &[("messageid", &id)]).await;
    let status = ok(&status);
    assert_eq!(status["messageid"], id.as_str());
    assert_eq!(status["status"], "pending");
    assert_eq!(status["reason"], "");
    assert!(status["datetime"].as_str().unwrap().len() == 19, "{status}");

    let msgs = app
        .call(
            "getmessages",
            &[("platform", "TeleGram"), ("platformid", &f.telegram), ("destination", "4242")],
        )
        .await;
    let m = &list(ok(&msgs))[0];
    assert_eq!(m["message"], "Hi");
    assert_eq!(m["sent"], 1);
    assert_eq!(m["platform"], "telegram");
    assert_eq!(m["platformid"], f.telegram.as_str());
    assert_eq!(m["destination"], "4242");
    assert_eq!(m["messageid"], id.as_str());
    assert!(m.get("type").is_none() && m.get("reason").is_none(), "{m}");
    assert_eq!(app.core.store().outbox_len().await.unwrap(), 1, "an outbox entry per sent message");

    // A webchat message is delivered by being stored for its page: `sent` at once, no outbox entry.
    let body = app
        .call(
            "sendmessage",
            &[("platform", "webchat"), ("platformid", &f.webchat), ("destination", "v-1"), ("message", "Hi")],
        )
        .await;
    let id = ok(&body)["messageid"].as_str().unwrap().to_string();
    assert_eq!(ok(&app.call("getmessagestatus", &[("messageid", &id)]).await)["status"], "sent");
    assert_eq!(app.core.store().outbox_len().await.unwrap(), 1);
}

#[tokio::test]
async fn sendfile_needs_an_existing_chat_then_sends() {
    let app = spawn_app().await;
    let f = app.seed().await;
    let file = [
        ("platform", "whatsapp"),
        ("platformid", f.whatsapp.as_str()),
        ("destination", "+34600111222"),
        ("type", "image"),
        ("fileurl", "https://example.com/cat.jpg"),
        ("thumburl", "https://example.com/cat-small.jpg"),
        ("message", "a cat"),
    ];
    err(&app.call("sendfile", &file).await, "CHAT_NOT_FOUND", Some("destination"));

    let first = [
        ("platform", "whatsapp"),
        ("platformid", f.whatsapp.as_str()),
        ("destination", "+34600111222"),
        ("message", "hello"),
    ];
    ok(&app.call("sendmessage", &first).await);
    let body = app.call("sendfile", &file).await;
    let id = ok(&body)["messageid"].as_str().unwrap().to_string();

    let msgs = app
        .call(
            "getmessages",
            &[("platform", "whatsapp"), ("platformid", &f.whatsapp), ("destination", "+34600111222")],
        )
        .await;
    let m = &list(ok(&msgs))[0];
    assert_eq!(m["messageid"], id.as_str());
    assert_eq!(m["type"], "image");
    assert_eq!(m["fileurl"], "https://example.com/cat.jpg");
    assert_eq!(m["thumburl"], "https://example.com/cat-small.jpg");
    assert_eq!(m["message"], "a cat");
}

#[tokio::test]
async fn getchats_gives_the_last_message_of_each_chat() {
    let app = spawn_app().await;
    let f = app.seed().await;
    let send = |dest: &'static str, text: &'static str| {
        let app = &app;
        let ch = f.telegram.clone();
        async move {
            app.call(
                "sendmessage",
                &[("platform", "telegram"), ("platformid", &ch), ("destination", dest), ("message", text)],
            )
            .await
        }
    };
    send("1001", "one").await;
    send("1002", "two").await;
    send("1001", "three").await;
    let received = app.receive(&f.telegram, "1003", "from a user").await;

    let body = app.call("getchats", &[("platform", "telegram"), ("platformid", &f.telegram)]).await;
    let chats = list(ok(&body));
    let summary: Vec<(&str, &str, i64)> = chats
        .iter()
        .map(|c| {
            (c["destination"].as_str().unwrap(), c["message"].as_str().unwrap(), c["sent"].as_i64().unwrap())
        })
        .collect();
    assert_eq!(summary, vec![("1003", "from a user", 0), ("1001", "three", 1), ("1002", "two", 1)]);
    assert_eq!(chats[0]["messageid"], received.as_str());
    assert_eq!(chats[0]["status"], "unread");

    // Another channel has no chats.
    let other = app.call("getchats", &[("platform", "webchat"), ("platformid", &f.webchat)]).await;
    assert!(list(ok(&other)).is_empty());
}

#[tokio::test]
async fn getmessages_pages_newest_first() {
    let app = spawn_app().await;
    let f = app.seed().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let text = format!("m{i}");
        let body = app
            .call(
                "sendmessage",
                &[
                    ("platform", "webchat"),
                    ("platformid", &f.webchat),
                    ("destination", "v"),
                    ("message", &text),
                ],
            )
            .await;
        ids.push(ok(&body)["messageid"].as_str().unwrap().to_string());
    }
    let chat = [("platform", "webchat"), ("platformid", f.webchat.as_str()), ("destination", "v")];
    let page = |extra: Vec<(&'static str, String)>| {
        let app = &app;
        async move {
            let mut p: Vec<(&str, &str)> = chat.to_vec();
            p.extend(extra.iter().map(|(k, v)| (*k, v.as_str())));
            let body = app.call("getmessages", &p).await;
            list(ok(&body)).iter().map(|m| m["message"].as_str().unwrap().to_string()).collect::<Vec<_>>()
        }
    };
    assert_eq!(page(vec![]).await, ["m4", "m3", "m2", "m1", "m0"]);
    assert_eq!(page(vec![("limit", "2".into())]).await, ["m4", "m3"]);
    assert_eq!(page(vec![("limit", "2".into()), ("before", ids[3].clone())]).await, ["m2", "m1"]);
    assert_eq!(page(vec![("before", ids[0].clone())]).await, Vec::<String>::new());
}

#[tokio::test]
async fn getunreadmessages_reads_oldest_first_and_marks_them_read() {
    let app = spawn_app().await;
    let f = app.seed().await;
    let chat =
        [("platform", "operator"), ("platformid", f.operator.as_str()), ("destination", "agent.smith")];
    app.receive(&f.operator, "agent.smith", "first").await;
    app.receive(&f.operator, "agent.smith", "second").await;
    ok(&app.call("sendmessage", &[chat[0], chat[1], chat[2], ("message", "ours")]).await);

    let mut peek = chat.to_vec();
    peek.push(("markread", "0"));
    let body = app.call("getunreadmessages", &peek).await;
    let items = list(ok(&body));
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["status"], "unread", "markread=0 leaves them unread");

    let body = app.call("getunreadmessages", &chat).await;
    let items = list(ok(&body));
    let texts: Vec<&str> = items.iter().map(|m| m["message"].as_str().unwrap()).collect();
    assert_eq!(texts, ["first", "second"]);
    assert!(items.iter().all(|m| m["issent"] == 0 && m["sent"] == 0 && m["status"] == "read"), "{body}");

    let again = app.call("getunreadmessages", &chat).await;
    assert!(list(ok(&again)).is_empty(), "they became read");
    let status =
        app.call("getmessagestatus", &[("messageid", items[0]["messageid"].as_str().unwrap())]).await;
    assert_eq!(ok(&status)["status"], "read");
}

/// `getchats` takes `limit` (default and most 1000) and `before` (a messageid of the channel: chats
/// whose last message is older); a message of another channel is `MESSAGE_NOT_FOUND`.
#[tokio::test]
async fn getchats_pages_with_limit_and_before() {
    let app = spawn_app_without_delivery().await;
    let f = app.seed().await;
    let mut last = Vec::new();
    for i in 0..5 {
        let to = format!("v{i}");
        let body = app
            .call(
                "sendmessage",
                &[
                    ("platform", "webchat"),
                    ("platformid", &f.webchat),
                    ("destination", &to),
                    ("message", "hi"),
                ],
            )
            .await;
        last.push(ok(&body)["messageid"].as_str().unwrap().to_string());
    }
    let page = |extra: Vec<(&'static str, String)>| {
        let app = &app;
        let channel = f.webchat.clone();
        async move {
            let mut p = vec![("platform", "webchat".to_string()), ("platformid", channel)];
            p.extend(extra);
            let p: Vec<(&str, &str)> = p.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let body = app.call("getchats", &p).await;
            if body["status"] != "SUCCESS" {
                return Err(body);
            }
            Ok(list(ok(&body))
                .iter()
                .map(|m| m["destination"].as_str().unwrap().to_string())
                .collect::<Vec<_>>())
        }
    };
    assert_eq!(page(vec![]).await.unwrap(), ["v4", "v3", "v2", "v1", "v0"]);
    assert_eq!(page(vec![("limit", "2".into())]).await.unwrap(), ["v4", "v3"]);
    assert_eq!(page(vec![("limit", "2".into()), ("before", last[3].clone())]).await.unwrap(), ["v2", "v1"]);
    assert_eq!(page(vec![("before", last[0].clone())]).await.unwrap(), Vec::<String>::new());
    for bad in ["0", "1001", "x"] {
        err(&page(vec![("limit", bad.into())]).await.unwrap_err(), "INCORRECT_PARAM", Some("limit"));
    }
    let elsewhere = app.receive(&f.telegram, "42", "other channel").await;
    err(&page(vec![("before", elsewhere)]).await.unwrap_err(), "MESSAGE_NOT_FOUND", Some("before"));
}

/// `getunreadmessages` takes `limit` (default and most 1000): the oldest that many, marked read, so
/// the next call gives the next ones.
#[tokio::test]
async fn getunreadmessages_gives_the_oldest_limit_at_a_time() {
    let app = spawn_app().await;
    let f = app.seed().await;
    for i in 0..5 {
        app.receive(&f.operator, "agent.smith", &format!("m{i}")).await;
    }
    let chat =
        [("platform", "operator"), ("platformid", f.operator.as_str()), ("destination", "agent.smith")];
    let read = |limit: &'static str, markread: &'static str| {
        let app = &app;
        async move {
            let mut p = chat.to_vec();
            p.extend([("limit", limit), ("markread", markread)]);
            let body = app.call("getunreadmessages", &p).await;
            list(ok(&body)).iter().map(|m| m["message"].as_str().unwrap().to_string()).collect::<Vec<_>>()
        }
    };
    assert_eq!(read("2", "0").await, ["m0", "m1"], "markread=0: the same two again next time");
    assert_eq!(read("2", "1").await, ["m0", "m1"]);
    assert_eq!(read("2", "1").await, ["m2", "m3"]);
    assert_eq!(read("1000", "1").await, ["m4"]);
    let mut p = chat.to_vec();
    p.push(("limit", "1001"));
    err(&app.call("getunreadmessages", &p).await, "INCORRECT_PARAM", Some("limit"));
}

#[tokio::test]
async fn markread_marks_up_to_and_including_the_message() {
    let app = spawn_app().await;
    let f = app.seed().await;
    let a = app.receive(&f.webchat, "v9", "a").await;
    let b = app.receive(&f.webchat, "v9", "b").await;
    let c = app.receive(&f.webchat, "v9", "c").await;
    let chat = [("platform", "webchat"), ("platformid", f.webchat.as_str()), ("destination", "v9")];
    let body = app.call("markread", &[chat[0], chat[1], chat[2], ("messageid", &b)]).await;
    assert_eq!(ok(&body), &json!({}));
    for (id, want) in [(&a, "read"), (&b, "read"), (&c, "unread")] {
        let s = app.call("getmessagestatus", &[("messageid", id)]).await;
        assert_eq!(ok(&s)["status"], want, "message {id}");
    }
}

#[tokio::test]
async fn sendmessages_reports_each_item_in_order() {
    let app = spawn_app().await;
    let f = app.seed().await;
    let items = json!([
        {"platform": "webchat", "platformid": f.webchat, "destination": "v1", "message": "one"},
        {"platform": "webchat", "platformid": f.webchat, "destination": "v1"},
        {"platform": "webchat", "platformid": "999999", "destination": "v1", "message": "x"},
        {"platform": "webchat", "platformid": f.webchat, "destination": "v1", "type": "pdf", "fileurl": "https://e.com/a.pdf"},
        {"platform": "webchat", "platformid": f.webchat, "destination": "v1", "type": "document", "fileurl": "https://e.com/a.pdf"},
        {"Platform": "WEBCHAT", "PlatformId": f.webchat.parse::<i64>().unwrap(), "destination": "v2", "message": "two"}
    ])
    .to_string();
    let body = app.call("sendmessages", &[("messages", &items)]).await;
    let out = list(ok(&body));
    assert_eq!(out.len(), 6);
    assert!(out[0]["messageid"].is_string());
    assert_eq!(out[1], json!({"error": "MISSING_COMPULSORY_PARAM", "param": "message"}));
    assert_eq!(out[2], json!({"error": "CHANNEL_NOT_FOUND", "param": "platformid"}));
    assert_eq!(out[3], json!({"error": "INCORRECT_FILETYPE", "param": "type"}));
    assert!(out[4]["messageid"].is_string(), "the chat exists by then: {}", out[4]);
    assert!(out[5]["messageid"].is_string(), "{}", out[5]);

    let msgs = app
        .call("getmessages", &[("platform", "webchat"), ("platformid", &f.webchat), ("destination", "v1")])
        .await;
    assert_eq!(list(ok(&msgs)).len(), 2);
}

/// A list of 1,000 is stored in one batch, numbered in its order: each chat's messages come back in
/// the list's order; a key seen before and a key repeated in the list answer with their first message.
#[tokio::test]
async fn sendmessages_stores_a_long_list_in_its_order() {
    let app = spawn_app_without_delivery().await;
    let f = app.seed().await;
    let tg = f.telegram.as_str();
    let item = |i: usize| {
        let mut m = json!({"platform": "telegram", "platformid": tg, "destination": format!("{}", 500 + i % 3),
            "message": format!("m{i}")});
        match i {
            10 => m["idempotencykey"] = json!("k-before"),
            20 | 30 => m["idempotencykey"] = json!("k-twice"),
            _ => {}
        }
        m
    };
    let before = app
        .call(
            "sendmessage",
            &[
                ("platform", "telegram"),
                ("platformid", tg),
                ("destination", "500"),
                ("message", "first"),
                ("idempotencykey", "k-before"),
            ],
        )
        .await;
    let items = Value::Array((0..1000).map(item).collect()).to_string();
    let form = [
        ("class", "chat"),
        ("method", "sendmessages"),
        ("user", LOGIN),
        ("password", PASSWORD),
        ("messages", items.as_str()),
    ];
    let (status, body) = app.post_form(&form).await;
    assert_eq!(status, 200, "{body}");
    let ids: Vec<i64> =
        list(ok(&body)).iter().map(|e| e["messageid"].as_str().unwrap().parse().unwrap()).collect();
    assert_eq!(ids.len(), 1000);
    assert_eq!(ids[10].to_string(), ok(&before)["messageid"].as_str().unwrap(), "a key seen before");
    assert_eq!(ids[20], ids[30], "a key repeated in the list");
    for chat in 0..3 {
        let stored: Vec<usize> = (0..1000).filter(|i| i % 3 == chat && *i != 10 && *i != 30).collect();
        let listed: Vec<i64> = stored.iter().map(|&i| ids[i]).collect();
        assert!(listed.windows(2).all(|w| w[0] < w[1]), "chat {chat}: ids follow the list");
        let destination = format!("{}", 500 + chat);
        let msgs = app
            .call(
                "getmessages",
                &[
                    ("platform", "telegram"),
                    ("platformid", tg),
                    ("destination", &destination),
                    ("limit", "1000"),
                ],
            )
            .await;
        let mut texts: Vec<String> =
            list(ok(&msgs)).iter().map(|m| m["message"].as_str().unwrap().to_string()).collect();
        texts.reverse();
        let mut want: Vec<String> = stored.iter().map(|i| format!("m{i}")).collect();
        if chat == 0 {
            want.insert(0, "first".into());
        }
        assert_eq!(texts, want, "chat {chat}");
    }
    assert_eq!(app.core.store().outbox_len().await.unwrap(), 999);
}

#[tokio::test]
async fn idempotency_key_returns_the_first_message() {
    let app = spawn_app_without_delivery().await;
    let f = app.seed().await;
    let channel = f.telegram.as_str();
    let p = |key: &'static str, text: &'static str| {
        [
            ("platform", "telegram"),
            ("platformid", channel),
            ("destination", "4242"),
            ("message", text),
            ("idempotencykey", key),
        ]
    };
    let first = app.call("sendmessage", &p("order-1", "hello")).await;
    let again = app.call("sendmessage", &p("order-1", "hello again")).await;
    let other = app.call("sendmessage", &p("order-2", "hello")).await;
    assert_eq!(ok(&first)["messageid"], ok(&again)["messageid"]);
    assert_ne!(ok(&first)["messageid"], ok(&other)["messageid"]);
    let msgs = app
        .call(
            "getmessages",
            &[("platform", "telegram"), ("platformid", &f.telegram), ("destination", "4242")],
        )
        .await;
    let texts: Vec<&str> = list(ok(&msgs)).iter().map(|m| m["message"].as_str().unwrap()).collect();
    assert_eq!(texts, ["hello", "hello"], "the repeat sent nothing");
    assert_eq!(app.core.store().outbox_len().await.unwrap(), 2);
}

#[tokio::test]
async fn messages_survive_a_restart() {
    let app = spawn_app_without_delivery().await;
    let f = app.seed().await;
    let body = app
        .call(
            "sendmessage",
            &[
                ("platform", "telegram"),
                ("platformid", &f.telegram),
                ("destination", "4242"),
                ("message", "kept"),
            ],
        )
        .await;
    let id = ok(&body)["messageid"].as_str().unwrap().to_string();
    app.stop().await;
    let (dir, url) = (app.dir.clone(), app.database_url.clone());
    drop(app);

    let again = spawn_app_on(url, dir, no_delivery).await;
    let status = again.call("getmessagestatus", &[("messageid", &id)]).await;
    assert_eq!(ok(&status)["status"], "pending");
    let msgs = again
        .call(
            "getmessages",
            &[("platform", "telegram"), ("platformid", &f.telegram), ("destination", "4242")],
        )
        .await;
    assert_eq!(list(ok(&msgs))[0]["message"], "kept");
    assert_eq!(again.core.store().outbox_len().await.unwrap(), 1, "its outbox entry is still there");
}
