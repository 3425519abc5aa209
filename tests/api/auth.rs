//! Credentials, accesses and scopes, IP filters and the client address, failed-login limiting.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{LOGIN, PASSWORD, err, eventually, list, ok, read, spawn_app, spawn_app_with};

#[tokio::test]
async fn an_access_acts_for_its_account_within_its_scopes() {
    let app = spawn_app().await;
    let f = app.seed().await;
    app.create_access("reader", "reader-secret", "chat:read", &[]).await;
    app.create_access("writer", "writer-secret", "chat:write", &[]).await;

    let channels = app.call_as("reader", "reader-secret", "getchatchannels", &[]).await;
    assert_eq!(list(ok(&channels)).len(), 4, "the account's channels");
    // Scope is checked before parameters: the missing ones are not even looked at.
    err(&app.call_as("reader", "reader-secret", "sendmessage", &[]).await, "ACCESS_DENIED", None);
    err(&app.call_as("writer", "writer-secret", "getchatchannels", &[]).await, "ACCESS_DENIED", None);
    let sent = app
        .call_as(
            "writer",
            "writer-secret",
            "sendmessage",
            &[("platform", "webchat"), ("platformid", &f.webchat), ("destination", "v"), ("message", "hi")],
        )
        .await;
    let id = ok(&sent)["messageid"].as_str().unwrap().to_string();
    // The account itself sees what its access sent.
    assert_eq!(ok(&app.call("getmessagestatus", &[("messageid", &id)]).await)["messageid"], id.as_str());
    err(&app.call_as("reader", "wrong", "getchatchannels", &[]).await, "INCORRECT_USER_PASSWORD", None);
}

#[tokio::test]
async fn disabling_an_access_or_changing_a_secret_takes_effect_at_once() {
    let app = spawn_app().await;
    app.seed().await;
    app.create_access("svc", "svc-secret", "chat:read", &[]).await;
    // Warm the verified-credential cache.
    ok(&app.call_as("svc", "svc-secret", "getchatchannels", &[]).await);
    ok(&app.call_as("svc", "svc-secret", "getchatchannels", &[]).await);

    app.admin().set_access_enabled("svc", false).await.unwrap();
    eventually(|| async {
        let b = app.call_as("svc", "svc-secret", "getchatchannels", &[]).await;
        if b["error"] == "INCORRECT_USER_PASSWORD" { Ok(()) } else { Err(b.to_string()) }
    })
    .await;

    ok(&app.call("getchatchannels", &[]).await);
    app.admin().set_secret(LOGIN, "a new password").await.unwrap();
    eventually(|| async {
        let b = app.call("getchatchannels", &[]).await;
        if b["error"] == "INCORRECT_USER_PASSWORD" { Ok(()) } else { Err(b.to_string()) }
    })
    .await;
    ok(&app.call_as(LOGIN, "a new password", "getchatchannels", &[]).await);
}

#[tokio::test]
async fn account_ip_filter_refuses_other_addresses_before_the_password() {
    let app = spawn_app().await;
    app.seed().await;
    ok(&app.call("getchatchannels", &[]).await);
    app.admin().set_ip_filter(LOGIN, &["10.0.0.0/8".into(), "2001:db8::/32".into()]).await.unwrap();
    eventually(|| async {
        let b = app.call("getchatchannels", &[]).await;
        if b["error"] == "IP_NOT_ALLOWED" { Ok(()) } else { Err(b.to_string()) }
    })
    .await;
    // A wrong password from a refused address learns nothing about the password.
    err(&app.call_as(LOGIN, "wrong", "getchatchannels", &[]).await, "IP_NOT_ALLOWED", None);
    // A spoofed X-Forwarded-For from a peer that is not a trusted proxy is ignored.
    let res = app
        .client
        .get(app.plain_url())
        .header("X-Forwarded-For", "10.1.2.3")
        .query(&[("class", "chat"), ("method", "getchatchannels"), ("user", LOGIN), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    err(&read(res).await.1, "IP_NOT_ALLOWED", None);

    app.admin().set_ip_filter(LOGIN, &[]).await.unwrap();
    eventually(|| async {
        let b = app.call("getchatchannels", &[]).await;
        if b["status"] == "SUCCESS" { Ok(()) } else { Err(b.to_string()) }
    })
    .await;
}

async fn via_proxy(app: &crate::helpers::TestApp, header: (&str, &str), user: &str, password: &str) -> Value {
    let res = app
        .client
        .get(app.plain_url())
        .header(header.0, header.1)
        .query(&[("class", "chat"), ("method", "getchatchannels"), ("user", user), ("password", password)])
        .send()
        .await
        .unwrap();
    read(res).await.1
}

#[tokio::test]
async fn trusted_proxy_forwards_the_client_address() {
    let app = spawn_app_with(|s| s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]).await;
    app.seed().await;
    app.admin().set_ip_filter(LOGIN, &["10.0.0.0/8".into(), "2001:db8::/32".into()]).await.unwrap();
    app.create_access("branch", "branch-secret", "chat:read", &["10.20.0.0/16"]).await;

    ok(&via_proxy(&app, ("X-Forwarded-For", "10.1.2.3"), LOGIN, PASSWORD).await);
    ok(&via_proxy(&app, ("X-Forwarded-For", "6.6.6.6, 2001:db8::7"), LOGIN, PASSWORD).await);
    ok(&via_proxy(&app, ("Forwarded", "for=\"[2001:db8::8]:4711\";proto=https"), LOGIN, PASSWORD).await);
    err(&via_proxy(&app, ("X-Forwarded-For", "192.0.2.1"), LOGIN, PASSWORD).await, "IP_NOT_ALLOWED", None);
    // The client cannot prepend its way in: the rightmost untrusted hop counts.
    err(
        &via_proxy(&app, ("X-Forwarded-For", "10.1.2.3, 192.0.2.1"), LOGIN, PASSWORD).await,
        "IP_NOT_ALLOWED",
        None,
    );
    // An access must pass its own list and the account's.
    ok(&via_proxy(&app, ("X-Forwarded-For", "10.20.1.1"), "branch", "branch-secret").await);
    err(
        &via_proxy(&app, ("X-Forwarded-For", "10.1.2.3"), "branch", "branch-secret").await,
        "IP_NOT_ALLOWED",
        None,
    );
}

#[tokio::test]
async fn repeated_failures_are_limited_without_hashing() {
    let app = spawn_app_with(|s| {
        s.auth.failures.per_login_and_address = 3;
        s.auth.failures.per_address = 5;
    })
    .await;
    app.seed().await;
    app.admin().create_account("carol", "carol-pass").await.unwrap();
    // A correct login before the attack is remembered and keeps working.
    ok(&app.call_as("carol", "carol-pass", "getchatchannels", &[]).await);

    for _ in 0..3 {
        err(&app.call_as(LOGIN, "guess", "getchatchannels", &[]).await, "INCORRECT_USER_PASSWORD", None);
    }
    err(&app.call_as(LOGIN, "guess", "getchatchannels", &[]).await, "TOO_MANY_REQUESTS", None);
    err(&app.call_as(LOGIN, PASSWORD, "getchatchannels", &[]).await, "TOO_MANY_REQUESTS", None);
    // Two more failures with unknown logins exhaust the per-address budget.
    for _ in 0..2 {
        err(&app.call_as("mallory", "x", "getchatchannels", &[]).await, "INCORRECT_USER_PASSWORD", None);
    }
    err(&app.call_as("nobody", "x", "getchatchannels", &[]).await, "TOO_MANY_REQUESTS", None);
    ok(&app.call_as("carol", "carol-pass", "getchatchannels", &[]).await);
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = spawn_app().await;
    let res = app.client.get(format!("{}/healthz", app.address)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let id = res.headers().get("x-request-id").expect("request id").to_str().unwrap().to_string();
    assert_eq!(id.len(), 16);
    assert_eq!(res.text().await.unwrap(), "ok");
}

/// 200 wrong passwords at once for one login from one address, half through the plain door and half
/// through Basic: exactly the limit (10) reach argon2 and are told the password is wrong; every other
/// one is refused without argon2, with `Retry-After` the real rest of the window (here 5 s) and 429 on
/// Basic; after the window the right password works again.
#[tokio::test]
async fn concurrent_failures_never_pass_the_limit_and_retry_after_tells_the_real_wait() {
    let app = spawn_app_with(|s| s.auth.failures.window_secs = 5).await;
    app.seed().await;
    let attempts = (0..200).map(|i| {
        let (client, base) = (app.client.clone(), app.address.clone());
        async move {
            // A different guess each, as brute force makes them (the same guess at once is checked once).
            let guess = format!("guess-{i}");
            let req = if i % 2 == 0 {
                let q = [
                    ("class", "chat"),
                    ("method", "getchatchannels"),
                    ("user", LOGIN),
                    ("password", guess.as_str()),
                ];
                client.get(format!("{base}/api/http/")).query(&q)
            } else {
                client
                    .get(format!("{base}/api/basic/?class=chat&method=getchatchannels"))
                    .basic_auth(LOGIN, Some(&guess))
            };
            let res = req.send().await.unwrap();
            let (status, retry) =
                (res.status(), res.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string()));
            let body: Value = res.json().await.unwrap();
            (i % 2 == 1, status, retry, body["error"].as_str().unwrap_or("").to_string())
        }
    });
    let answers = futures_util::future::join_all(attempts).await;
    let wrong = answers.iter().filter(|a| a.3 == "INCORRECT_USER_PASSWORD").count();
    let limited: Vec<_> = answers.iter().filter(|a| a.3 == "TOO_MANY_REQUESTS").collect();
    assert_eq!((wrong, limited.len()), (10, 190), "{answers:?}");
    for (basic, status, retry, _) in &limited {
        let expected = if *basic { StatusCode::TOO_MANY_REQUESTS } else { StatusCode::OK };
        assert_eq!(*status, expected);
        let secs: u64 = retry.as_deref().expect("Retry-After").parse().unwrap();
        assert!((1..=5).contains(&secs), "Retry-After {secs} within the 5 s window");
    }
    err(&app.call_as(LOGIN, PASSWORD, "getchatchannels", &[]).await, "TOO_MANY_REQUESTS", None);
    tokio::time::sleep(Duration::from_millis(5200)).await;
    ok(&app.call_as(LOGIN, PASSWORD, "getchatchannels", &[]).await);
}

/// A cached login in use is verified again in the background before its proof expires
/// (`auth.cache.ttl_secs`), so its callers never wait for argon2 at expiry. Seen from outside by
/// changing the stored hash behind the caches' back (no change-log entry): the login still works after
/// the first proof's time is over, where a fresh argon2 check would refuse it.
#[tokio::test]
async fn cached_logins_in_use_are_verified_again_before_they_expire() {
    let app = spawn_app_with(|s| s.auth.cache.ttl_secs = 4).await;
    app.seed().await;
    app.admin().create_account("other@example.com", "another password").await.unwrap();
    // Past the change log's notice of that account (which may void a record read meanwhile).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = std::time::Instant::now();
    ok(&app.call("getchatchannels", &[]).await);
    crate::operating::execute(
        &app.database_url,
        &format!(
            "UPDATE credentials SET secret_hash = (SELECT secret_hash FROM credentials WHERE login = 'other@example.com') \
             WHERE login = '{LOGIN}'"
        ),
    )
    .await;
    let until = |secs: f64| {
        let at = started + Duration::from_secs_f64(secs);
        tokio::time::sleep_until(at.into())
    };
    until(3.2).await; // past three quarters of the proof's time: verified again, in the background
    ok(&app.call("getchatchannels", &[]).await);
    until(4.6).await; // the first proof has expired; the renewed one has not
    ok(&app.call("getchatchannels", &[]).await);
    // Once that one expires too, argon2 runs against the stored hash, which no longer matches.
    until(8.5).await;
    err(&app.call("getchatchannels", &[]).await, "INCORRECT_USER_PASSWORD", None);
}

/// An access created with `--channel` uses that channel only, through every door: other channels are
/// `ACCESS_DENIED`, and `getchatchannels` lists the one it has.
#[tokio::test]
async fn an_access_bound_to_a_channel_uses_that_channel_only() {
    let app = spawn_app().await;
    let f = app.seed().await;
    app.admin()
        .create_access(&chatgate::admin::AccessSpec {
            account_login: LOGIN.into(),
            login: "desk".into(),
            secret: Some("desk-secret-1".into()),
            token: false,
            channel: Some(f.webchat.parse().unwrap()),
            group: None,
            name: None,
            scopes: None,
            allow_ip: Vec::new(),
        })
        .await
        .unwrap();
    let send = |channel: &str, platform: &str| {
        let params =
            [("platform", platform), ("platformid", channel), ("destination", "v1"), ("message", "hi")]
                .map(|(k, v)| (k, v.to_string()));
        let app = &app;
        async move {
            let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.call_as("desk", "desk-secret-1", "sendmessage", &params).await
        }
    };
    ok(&send(&f.webchat, "webchat").await);
    err(&send(&f.operator, "operator").await, "ACCESS_DENIED", None);
    let channels = app.call_as("desk", "desk-secret-1", "getchatchannels", &[]).await;
    let ids: Vec<&str> = list(ok(&channels)).iter().map(|c| c["platformid"].as_str().unwrap()).collect();
    assert_eq!(ids, [f.webchat.as_str()]);
}
