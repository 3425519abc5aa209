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

/// HTTP Basic is read as sent and, when that differs, form-decoded (RFC 6749 §2.3.1): a login and
/// secret with `@`, `%`, `+` and `:` work both ways on the Basic door and on the token endpoint; a
/// wrong secret costs one attempt however it is read.
#[tokio::test]
async fn basic_credentials_are_accepted_raw_and_form_encoded_everywhere() {
    let app = crate::helpers::spawn_app_with(|s| {
        s.auth.failures.per_login_and_address = 2;
        s.auth.failures.per_address = 100;
    })
    .await;
    app.seed().await;
    let secret = "50%+off: 100%25 sure";
    app.create_access("ops@acme.test", secret, "chat:read", &[]).await;
    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let (login_enc, secret_enc) = (encode("ops@acme.test"), encode(secret));
    assert_ne!(secret_enc, secret);
    let url = format!("{}/api/basic/", app.address);
    let q = [("class", "chat"), ("method", "getchatchannels")];
    for (what, login, password) in [
        ("raw", "ops@acme.test", secret),
        ("form-encoded", login_enc.as_str(), secret_enc.as_str()),
        ("secret encoded, login not", "ops@acme.test", secret_enc.as_str()),
    ] {
        let res = app.client.get(&url).basic_auth(login, Some(password)).query(&q).send().await.unwrap();
        let (status, body) = read(res).await;
        assert_eq!(status, StatusCode::OK, "Basic door, {what}: {body}");
        ok(&body);
        let token = app
            .client
            .post(format!("{}/oauth/token", app.address))
            .basic_auth(login, Some(password))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert_eq!(token.status(), StatusCode::OK, "token endpoint, {what}");
        let token: serde_json::Value = token.json().await.unwrap();
        assert_eq!(token["scope"], "chat:read", "{what}: the access's own token");
    }
    // A wrong secret whose two readings differ is one failed attempt, not two: with a limit of 2,
    // the second is still judged and only the third is refused.
    for (n, want) in
        [(1, StatusCode::UNAUTHORIZED), (2, StatusCode::UNAUTHORIZED), (3, StatusCode::TOO_MANY_REQUESTS)]
    {
        let res = app
            .client
            .get(&url)
            .basic_auth("ops@acme.test", Some("wrong%2B+"))
            .query(&q)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), want, "attempt {n}");
    }
}
