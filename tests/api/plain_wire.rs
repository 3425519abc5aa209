//! The plain door's wire details: query and form, `+` decoding, case-insensitive names, encodings, sizes.

use reqwest::StatusCode;

use crate::helpers::{LOGIN, PASSWORD, err, list, ok, read, spawn_app};

#[tokio::test]
async fn form_plus_is_a_space_and_text_round_trips_unchanged() {
    let app = spawn_app().await;
    let f = app.seed().await;
    // Afilnet's own example sends message=test+message in a form body.
    let body = format!(
        "class=chat&method=sendmessage&user={}&password={}&platform=webchat&platformid={}&destination=v&message=test+message",
        "alice%40example.com",
        PASSWORD.replace(' ', "+"),
        f.webchat
    );
    let res = app
        .client
        .post(app.plain_url())
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    let (status, json) = read(res).await;
    assert_eq!(status, StatusCode::OK);
    ok(&json);

    let texts = ["😀 emoji 👍🏽", "שלום עולם", "Grüße aus Köln: äöüß ÄÖÜ", "a+b=c & 100% ?"];
    for t in texts {
        ok(&app
            .call(
                "sendmessage",
                &[("platform", "webchat"), ("platformid", &f.webchat), ("destination", "v"), ("message", t)],
            )
            .await);
        let (_, json) = app
            .post_form(&[
                ("class", "chat"),
                ("method", "sendmessage"),
                ("user", LOGIN),
                ("password", PASSWORD),
                ("platform", "webchat"),
                ("platformid", &f.webchat),
                ("destination", "v"),
                ("message", t),
            ])
            .await;
        ok(&json);
    }
    let msgs = app
        .call("getmessages", &[("platform", "webchat"), ("platformid", &f.webchat), ("destination", "v")])
        .await;
    let got: Vec<&str> = list(ok(&msgs)).iter().rev().map(|m| m["message"].as_str().unwrap()).collect();
    let mut want = vec!["test message"];
    for t in texts {
        want.extend([t, t]);
    }
    assert_eq!(got, want);
}

#[tokio::test]
async fn body_values_win_and_names_are_case_insensitive() {
    let app = spawn_app().await;
    app.seed().await;
    let url = format!("{}?CLASS=chat&Method=getchatchannels&USER={LOGIN}&password=wrong", app.plain_url());
    let res = app.client.post(url).form(&[("Password", PASSWORD)]).send().await.unwrap();
    let (_, json) = read(res).await;
    assert_eq!(list(ok(&json)).len(), 4, "{json}");
}

#[tokio::test]
async fn undecodable_input_is_a_malformed_request() {
    let app = spawn_app().await;
    app.seed().await;
    let url = format!("{}?class=chat&method=getchatchannels&user={LOGIN}&password=%FF%FE", app.plain_url());
    let (status, json) = read(app.client.get(url).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    err(&json, "MALFORMED_REQUEST", None);

    let res = app
        .client
        .post(app.plain_url())
        .header("Content-Type", "application/json")
        .body(r#"{"class":"chat"}"#)
        .send()
        .await
        .unwrap();
    err(&read(res).await.1, "MALFORMED_REQUEST", None);
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused() {
    let app = spawn_app().await;
    let f = app.seed().await;
    let huge = "a".repeat(1024 * 1024 + 1);
    let (status, json) = app
        .post_form(&[
            ("class", "chat"),
            ("method", "sendmessage"),
            ("user", LOGIN),
            ("password", PASSWORD),
            ("platform", "webchat"),
            ("platformid", &f.webchat),
            ("destination", "v"),
            ("message", &huge),
        ])
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    err(&json, "REQUEST_TOO_LARGE", None);
    // And the server is fine afterwards.
    ok(&app.call("getchatchannels", &[]).await);
}

#[tokio::test]
async fn path_without_trailing_slash_works_too() {
    let app = spawn_app().await;
    app.seed().await;
    let url = format!(
        "{}/api/http?class=chat&method=getchatchannels&user={LOGIN}&password={}",
        app.address,
        PASSWORD.replace(' ', "+")
    );
    let (_, json) = read(app.client.get(url).send().await.unwrap()).await;
    assert_eq!(list(ok(&json)).len(), 4);
}
