//! The Basic door: credentials only from `Authorization: Basic`, 401 challenges, otherwise the plain door.

use reqwest::StatusCode;

use crate::helpers::{LOGIN, PASSWORD, err, list, ok, read, spawn_app};

#[tokio::test]
async fn basic_credentials_work_and_errors_challenge() {
    let app = spawn_app().await;
    let f = app.seed().await;
    let url = format!("{}/api/basic/", app.address);
    let q = [("class", "chat"), ("method", "getchatchannels")];

    let res = app.client.get(&url).basic_auth(LOGIN, Some(PASSWORD)).query(&q).send().await.unwrap();
    let (status, body) = read(res).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list(ok(&body)).len(), 4);

    // Credentials in the parameters do not count here.
    let mut with_params = q.to_vec();
    with_params.extend([("user", LOGIN), ("password", PASSWORD)]);
    for (req, code) in [
        (app.client.get(&url).query(&with_params), "MISSING_USER"),
        (app.client.get(&url).basic_auth(LOGIN, Some("wrong")).query(&q), "INCORRECT_USER_PASSWORD"),
        (app.client.get(&url).basic_auth(LOGIN, None::<&str>).query(&q), "MISSING_PASSWORD"),
        (app.client.get(&url).header("Authorization", "Basic !!!notbase64").query(&q), "MALFORMED_REQUEST"),
        (app.client.get(&url).header("Authorization", "Bearer abc").query(&q), "MALFORMED_REQUEST"),
    ] {
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{code}");
        assert_eq!(res.headers()["www-authenticate"], "Basic realm=\"chatgate\"", "{code}");
        err(&read(res).await.1, code, None);
    }

    // Other errors are answered as the plain door answers them: HTTP 200 and the envelope.
    let res = app
        .client
        .post(&url)
        .basic_auth(LOGIN, Some(PASSWORD))
        .form(&[
            ("class", "chat"),
            ("method", "getchats"),
            ("platform", "telegram"),
            ("platformid", &f.webchat),
        ])
        .send()
        .await
        .unwrap();
    let (status, body) = read(res).await;
    assert_eq!(status, StatusCode::OK);
    err(&body, "CHANNEL_NOT_FOUND", Some("platformid"));
    assert!(res_has_no_challenge(&app, &url).await);
}

async fn res_has_no_challenge(app: &crate::helpers::TestApp, url: &str) -> bool {
    let res = app
        .client
        .get(url)
        .basic_auth(LOGIN, Some(PASSWORD))
        .query(&[("class", "chat"), ("method", "nope")])
        .send()
        .await
        .unwrap();
    res.status() == StatusCode::OK && res.headers().get("www-authenticate").is_none()
}
