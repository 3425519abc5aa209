//! Every error code reachable through the plain door, with its `param`, and the check order.

use crate::doors::{ALL_DOORS, Door, door_send};
use crate::helpers::{LOGIN, PASSWORD, err, ok, spawn_app, spawn_app_without_delivery};
use crate::operating::execute;
use crate::soap_client::as_envelope;

/// method, parameters, expected code, expected param.
type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str, &'a str);

#[tokio::test]
async fn request_level_errors_in_check_order() {
    let app = spawn_app().await;
    app.seed().await;
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("class", "chat"), ("method", "getchatchannels"), ("password", PASSWORD)], "MISSING_USER"),
        (&[("class", "chat"), ("method", "getchatchannels"), ("user", LOGIN)], "MISSING_PASSWORD"),
        (&[("user", "")], "MISSING_USER"),
        (&[("method", "getchatchannels"), ("user", LOGIN), ("password", PASSWORD)], "MISSING_CLASS"),
        (&[("class", "chat"), ("user", LOGIN), ("password", PASSWORD)], "MISSING_METHOD"),
        (
            &[("class", "sms"), ("method", "getchatchannels"), ("user", LOGIN), ("password", PASSWORD)],
            "INCORRECT_CLASS",
        ),
        (
            &[("class", "chat"), ("method", "sendsms"), ("user", LOGIN), ("password", PASSWORD)],
            "INCORRECT_METHOD",
        ),
        (
            &[("class", "chat"), ("method", "getchatchannels"), ("user", LOGIN), ("password", "wrong")],
            "INCORRECT_USER_PASSWORD",
        ),
        (
            &[("class", "chat"), ("method", "getchatchannels"), ("user", "nobody"), ("password", "x")],
            "INCORRECT_USER_PASSWORD",
        ),
        // The password is checked before the class: a wrong password with no class is still a wrong password.
        (&[("user", LOGIN), ("password", "wrong")], "INCORRECT_USER_PASSWORD"),
        // Missing user wins over everything after it.
        (&[("class", "nope"), ("password", "x")], "MISSING_USER"),
    ];
    for (params, code) in cases {
        let (status, body) = app.get(params).await;
        assert_eq!(status, 200, "{params:?}");
        err(&body, code, None);
    }
}

#[tokio::test]
async fn parameter_errors_name_their_param() {
    let app = spawn_app().await;
    let f = app.seed().await;
    let long = "x".repeat(4097);
    let exactly = "é".repeat(4096);
    let web = f.webchat.as_str();
    let wa = f.whatsapp.as_str();
    let base = |extra: &[(&'static str, &'static str)]| extra.to_vec();
    let cases: Vec<Case> = vec![
        (
            "sendmessage",
            base(&[("platformid", "1"), ("destination", "v"), ("message", "m")]),
            "MISSING_COMPULSORY_PARAM",
            "platform",
        ),
        (
            "sendmessage",
            vec![("platform", "webchat"), ("platformid", web), ("message", "m")],
            "MISSING_COMPULSORY_PARAM",
            "destination",
        ),
        // Missing parameters are reported before bad values.
        (
            "sendmessage",
            vec![("platform", "fax"), ("platformid", web), ("destination", "v")],
            "MISSING_COMPULSORY_PARAM",
            "message",
        ),
        (
            "sendmessage",
            vec![("platform", "fax"), ("platformid", web), ("destination", "v"), ("message", "m")],
            "INCORRECT_PARAM",
            "platform",
        ),
        (
            "sendmessage",
            vec![("platform", "webchat"), ("platformid", web), ("destination", "v"), ("message", &long)],
            "INCORRECT_PARAM",
            "message",
        ),
        (
            "sendmessage",
            vec![("platform", "whatsapp"), ("platformid", wa), ("destination", "call me"), ("message", "m")],
            "INCORRECT_PARAM",
            "destination",
        ),
        (
            "sendmessage",
            vec![
                ("platform", "webchat"),
                ("platformid", web),
                ("destination", "v"),
                ("message", "m"),
                ("invalidationtime", "tomorrow"),
            ],
            "INCORRECT_PARAM",
            "invalidationtime",
        ),
        (
            "sendmessage",
            vec![
                ("platform", "webchat"),
                ("platformid", web),
                ("destination", "v"),
                ("message", "m"),
                ("invalidationtime", "2001-01-01 00:00:00"),
            ],
            "INCORRECT_PARAM",
            "invalidationtime",
        ),
        (
            "sendmessage",
            vec![
                ("platform", "webchat"),
                ("platformid", web),
                ("destination", "v"),
                ("message", "m"),
                ("idempotencykey", "a\u{7}b"),
            ],
            "INCORRECT_PARAM",
            "idempotencykey",
        ),
        (
            "sendmessage",
            vec![("platform", "telegram"), ("platformid", web), ("destination", "42"), ("message", "m")],
            "CHANNEL_NOT_FOUND",
            "platformid",
        ),
        (
            "sendmessage",
            vec![("platform", "webchat"), ("platformid", "abc"), ("destination", "v"), ("message", "m")],
            "CHANNEL_NOT_FOUND",
            "platformid",
        ),
        (
            "sendmessage",
            vec![("platform", "webchat"), ("platformid", "424242"), ("destination", "v"), ("message", "m")],
            "CHANNEL_NOT_FOUND",
            "platformid",
        ),
        (
            "sendfile",
            vec![
                ("platform", "webchat"),
                ("platformid", web),
                ("destination", "v"),
                ("type", "gif"),
                ("fileurl", "https://e.com/a"),
            ],
            "INCORRECT_FILETYPE",
            "type",
        ),
        (
            "sendfile",
            vec![
                ("platform", "webchat"),
                ("platformid", web),
                ("destination", "v"),
                ("type", "image"),
                ("fileurl", "ftp://e.com/a"),
            ],
            "INCORRECT_FILEURL",
            "fileurl",
        ),
        (
            "sendfile",
            vec![
                ("platform", "webchat"),
                ("platformid", web),
                ("destination", "v"),
                ("type", "image"),
                ("fileurl", "/relative.png"),
            ],
            "INCORRECT_FILEURL",
            "fileurl",
        ),
        (
            "sendfile",
            vec![
                ("platform", "webchat"),
                ("platformid", web),
                ("destination", "v"),
                ("type", "image"),
                ("fileurl", "https://e.com/a"),
                ("thumburl", "javascript:alert(1)"),
            ],
            "INCORRECT_THUMBURL",
            "thumburl",
        ),
        (
            "sendfile",
            vec![
                ("platform", "webchat"),
                ("platformid", web),
                ("destination", "nobody"),
                ("type", "image"),
                ("fileurl", "https://e.com/a"),
            ],
            "CHAT_NOT_FOUND",
            "destination",
        ),
        (
            "getmessages",
            vec![("platform", "webchat"), ("platformid", web), ("destination", "nobody")],
            "CHAT_NOT_FOUND",
            "destination",
        ),
        (
            "getunreadmessages",
            vec![("platform", "webchat"), ("platformid", web), ("destination", "nobody")],
            "CHAT_NOT_FOUND",
            "destination",
        ),
        (
            "markread",
            vec![("platform", "webchat"), ("platformid", web), ("destination", "nobody"), ("messageid", "1")],
            "CHAT_NOT_FOUND",
            "destination",
        ),
        (
            "getmessages",
            vec![("platform", "webchat"), ("platformid", web), ("destination", "v"), ("limit", "0")],
            "INCORRECT_PARAM",
            "limit",
        ),
        (
            "getmessages",
            vec![("platform", "webchat"), ("platformid", web), ("destination", "v"), ("limit", "1001")],
            "INCORRECT_PARAM",
            "limit",
        ),
        (
            "getmessages",
            vec![("platform", "webchat"), ("platformid", web), ("destination", "v"), ("limit", "ten")],
            "INCORRECT_PARAM",
            "limit",
        ),
        (
            "getmessages",
            vec![("platform", "webchat"), ("platformid", web), ("destination", "v"), ("before", "999999")],
            "MESSAGE_NOT_FOUND",
            "before",
        ),
        (
            "getunreadmessages",
            vec![("platform", "webchat"), ("platformid", web), ("destination", "v"), ("markread", "maybe")],
            "INCORRECT_PARAM",
            "markread",
        ),
        ("getmessagestatus", vec![], "MISSING_COMPULSORY_PARAM", "messageid"),
        ("getmessagestatus", vec![("messageid", "999999")], "MESSAGE_NOT_FOUND", "messageid"),
        ("getmessagestatus", vec![("messageid", "x1")], "MESSAGE_NOT_FOUND", "messageid"),
        (
            "markread",
            vec![("platform", "webchat"), ("platformid", web), ("destination", "v"), ("messageid", "999999")],
            "MESSAGE_NOT_FOUND",
            "messageid",
        ),
        ("getchats", vec![("platform", "webchat")], "MISSING_COMPULSORY_PARAM", "platformid"),
        ("sendmessages", vec![], "MISSING_COMPULSORY_PARAM", "messages"),
        ("sendmessages", vec![("messages", "not json")], "INCORRECT_PARAM", "messages"),
        ("sendmessages", vec![("messages", "[]")], "INCORRECT_PARAM", "messages"),
        ("sendmessages", vec![("messages", "{\"platform\":\"webchat\"}")], "INCORRECT_PARAM", "messages"),
    ];
    // A chat "v" exists for the existence checks that need one.
    ok(&app
        .call(
            "sendmessage",
            &[("platform", "webchat"), ("platformid", web), ("destination", "v"), ("message", &exactly)],
        )
        .await);
    for (method, params, code, param) in &cases {
        let body = app.call(method, params).await;
        err(&body, code, Some(param));
        // Nothing was stored by a refused send.
    }
    let msgs =
        app.call("getmessages", &[("platform", "webchat"), ("platformid", web), ("destination", "v")]).await;
    assert_eq!(crate::helpers::list(ok(&msgs)).len(), 1, "refused calls stored nothing");
}

#[tokio::test]
async fn bulk_of_more_than_1000_is_refused() {
    let app = spawn_app().await;
    let f = app.seed().await;
    let item = serde_json::json!({"platform": "webchat", "platformid": f.webchat, "destination": "v", "message": "m"});
    let items = serde_json::Value::Array(vec![item; 1001]).to_string();
    let (status, body) = app
        .post_form(&[
            ("class", "chat"),
            ("method", "sendmessages"),
            ("user", LOGIN),
            ("password", PASSWORD),
            ("messages", &items),
        ])
        .await;
    assert_eq!(status, 200);
    err(&body, "INCORRECT_PARAM", Some("messages"));
}

#[tokio::test]
async fn another_accounts_channel_and_message_are_not_found() {
    let app = spawn_app().await;
    let f = app.seed().await;
    let admin = app.admin();
    admin.create_account("bob", "bob-secret").await.unwrap();
    let sent = app
        .call(
            "sendmessage",
            &[
                ("platform", "webchat"),
                ("platformid", &f.webchat),
                ("destination", "v"),
                ("message", "private"),
            ],
        )
        .await;
    let id = ok(&sent)["messageid"].as_str().unwrap().to_string();

    let body = app
        .call_as("bob", "bob-secret", "getchats", &[("platform", "webchat"), ("platformid", &f.webchat)])
        .await;
    err(&body, "CHANNEL_NOT_FOUND", Some("platformid"));
    let body = app.call_as("bob", "bob-secret", "getmessagestatus", &[("messageid", &id)]).await;
    err(&body, "MESSAGE_NOT_FOUND", Some("messageid"));
    let body = app.call_as("bob", "bob-secret", "getchatchannels", &[]).await;
    assert!(crate::helpers::list(ok(&body)).is_empty());
}

/// An internal error — here the store loses its messages table under the running server — answers
/// `INTERNAL_ERROR` through every door, with the door's own status, the id the response's
/// `X-Request-Id` carries (the one in the log line) in the body, and nothing of the cause.
#[tokio::test]
async fn an_internal_error_names_its_request_id_and_hides_its_cause() {
    let app = spawn_app_without_delivery().await;
    let f = app.seed().await;
    let chat = [("platform", "webchat"), ("platformid", f.webchat.as_str()), ("destination", "v")];
    let mut send = chat.to_vec();
    send.push(("message", "hello"));
    ok(&app.call("sendmessage", &send).await);
    // Renamed behind the server's back: both engines resolve the name again on the next query.
    execute(&app.database_url, "ALTER TABLE messages RENAME TO messages_lost").await;

    for door in ALL_DOORS {
        let res = door_send(&app, door, Some(LOGIN), Some(PASSWORD), "getmessages", &chat).await;
        let status = res.status().as_u16();
        let request_id = res.headers()["x-request-id"].to_str().unwrap().to_string();
        let text = res.text().await.unwrap();
        let want = if matches!(door, Door::Plain | Door::Basic) { 200 } else { 500 };
        assert_eq!(status, want, "{door:?}: {text}");
        let body = match door {
            Door::Soap11 | Door::Soap12 => as_envelope(&text),
            _ => serde_json::from_str(&text).unwrap(),
        };
        assert_eq!(body["error"], "INTERNAL_ERROR", "{door:?}: {text}");
        assert_eq!(body["requestid"].as_str(), Some(request_id.as_str()), "{door:?}: {text}");
        assert!(
            !text.contains("messages") && !text.to_lowercase().contains("table"),
            "{door:?} leaks: {text}"
        );
    }
}

/// A file's caption is capped at 1,024 characters (code points), as both platforms cap it, and text that
/// is only whitespace is refused (Telegram: "text must be non-empty") — at once, naming `message`, for
/// `sendfile`, `sendmessage` and each bulk item, before anything is stored.
#[tokio::test]
async fn captions_over_1024_characters_and_whitespace_only_text_are_refused_at_once() {
    let app = spawn_app().await;
    let f = app.seed().await;
    let web = f.webchat.as_str();
    let app = &app;
    let send = |text: &'static str| async move {
        let p = [("platform", "webchat"), ("platformid", web), ("destination", "v"), ("message", text)];
        app.call("sendmessage", &p).await
    };
    ok(&send("start the chat").await);
    let file = |caption: &str| {
        let caption = caption.to_string();
        let web = web.to_string();
        async move {
            app.call(
                "sendfile",
                &[
                    ("platform", "webchat"),
                    ("platformid", &web),
                    ("destination", "v"),
                    ("type", "image"),
                    ("fileurl", "https://example.com/a.png"),
                    ("message", &caption),
                ],
            )
            .await
        }
    };
    ok(&file(&"é".repeat(1024)).await);
    err(&file(&"é".repeat(1025)).await, "INCORRECT_PARAM", Some("message"));
    err(&file(" \n\t ").await, "INCORRECT_PARAM", Some("message"));
    err(&send("   \n").await, "INCORRECT_PARAM", Some("message"));

    let long = "c".repeat(1025);
    let items = serde_json::json!([
        {"platform": "webchat", "platformid": web, "destination": "v", "type": "image", "fileurl": "https://example.com/a.png", "message": long},
        {"platform": "webchat", "platformid": web, "destination": "v", "message": "  "},
        {"platform": "webchat", "platformid": web, "destination": "v", "message": "fine"}
    ])
    .to_string();
    let bulk = app.call("sendmessages", &[("messages", &items)]).await;
    let list = crate::helpers::list(ok(&bulk)).clone();
    assert_eq!(list[0]["error"], "INCORRECT_PARAM");
    assert_eq!(list[0]["param"], "message");
    assert_eq!(list[1]["error"], "INCORRECT_PARAM");
    assert!(list[2]["messageid"].is_string(), "{bulk}");
    let msgs =
        app.call("getmessages", &[("platform", "webchat"), ("platformid", web), ("destination", "v")]).await;
    assert_eq!(
        crate::helpers::list(ok(&msgs)).len(),
        3,
        "the first message, the 1,024-character file, and fine"
    );
}
