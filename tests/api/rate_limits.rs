//! Request limits per client address and per credential (SPEC §8, `rate_limit.*`): off by default;
//! over a limit every door answers `TOO_MANY_REQUESTS` (429 where the door uses statuses) with
//! `Retry-After` and the IETF `RateLimit` / `RateLimit-Policy` headers.

use base64::Engine;
use oauth2::AuthType;
use reqwest::header::HeaderMap;
use reqwest::{RequestBuilder, StatusCode};
use serde_json::Value;

use crate::helpers::{LOGIN, PASSWORD, TestApp, err, ok, spawn_app, spawn_app_with};
use crate::oauth::token_for;
use crate::soap_client::{SOAP12, as_envelope, envelope, operation_xml};

/// The app with limits, and 127.0.0.1 trusted as a proxy so that each test caller can have an address.
async fn limited(per_address: u32, per_credential: u32) -> TestApp {
    let app = spawn_app_with(|s| {
        s.rate_limit.per_address = per_address;
        s.rate_limit.per_credential = per_credential;
        s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    app.seed().await;
    app
}

fn from(req: RequestBuilder, address: &str) -> RequestBuilder {
    req.header("X-Forwarded-For", address)
}

fn plain(app: &TestApp, address: &str, user: &str, password: &str) -> RequestBuilder {
    let q = [("class", "chat"), ("method", "getchatchannels"), ("user", user), ("password", password)];
    from(app.client.get(app.plain_url()).query(&q), address)
}

fn basic(app: &TestApp, address: &str) -> RequestBuilder {
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{LOGIN}:{PASSWORD}"));
    let req = app.client.post(format!("{}/api/basic/", app.address));
    from(req.header("Authorization", format!("Basic {auth}")).form(&[("method", "getchatchannels")]), address)
}

fn soap(app: &TestApp, address: &str) -> RequestBuilder {
    let xml = envelope(SOAP12, "", &operation_xml("getchatchannels", Some(LOGIN), Some(PASSWORD), &[]));
    let req = app.client.post(format!("{}/api/soap/", app.address));
    from(req.header("Content-Type", "application/soap+xml; charset=utf-8").body(xml), address)
}

fn json(app: &TestApp, address: &str, token: &str) -> RequestBuilder {
    let req = app.client.post(format!("{}/api/json/chat/getchatchannels", app.address));
    from(req.bearer_auth(token).json(&serde_json::json!({})), address)
}

/// Asserts the limit headers of a refusal under `policy` (quota `q` per 60 s); returns Retry-After.
fn assert_limit_headers(h: &HeaderMap, policy: &str, q: u32) -> u64 {
    let retry: u64 = h["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    assert_eq!(h["ratelimit-policy"], format!("\"{policy}\";q={q};w=60").as_str());
    assert_eq!(h["ratelimit"], format!("\"{policy}\";r=0;t={retry}").as_str());
    retry
}

#[tokio::test]
async fn every_door_refuses_an_address_over_its_limit_with_the_rate_limit_headers() {
    let app = limited(3, 0).await;
    // Plain: the envelope with HTTP 200 (this door answers errors with 200, as Afilnet's does).
    for _ in 0..3 {
        let res = plain(&app, "203.0.113.1", LOGIN, PASSWORD).send().await.unwrap();
        assert!(!res.headers().contains_key("ratelimit"), "no limit headers while admitted");
        ok(&res.json::<Value>().await.unwrap());
    }
    let res = plain(&app, "203.0.113.1", LOGIN, PASSWORD).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_limit_headers(res.headers(), "address", 3);
    err(&res.json::<Value>().await.unwrap(), "TOO_MANY_REQUESTS", None);
    // Refused before the password is looked at: a wrong one gets the same answer, no argon2 run.
    let res = plain(&app, "203.0.113.1", LOGIN, "wrong").send().await.unwrap();
    err(&res.json::<Value>().await.unwrap(), "TOO_MANY_REQUESTS", None);
    // Another address is counted on its own.
    ok(&plain(&app, "203.0.113.2", LOGIN, PASSWORD).send().await.unwrap().json::<Value>().await.unwrap());

    for _ in 0..3 {
        assert_eq!(basic(&app, "203.0.113.3").send().await.unwrap().status(), StatusCode::OK);
    }
    let res = basic(&app, "203.0.113.3").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_limit_headers(res.headers(), "address", 3);
    err(&res.json::<Value>().await.unwrap(), "TOO_MANY_REQUESTS", None);

    for _ in 0..3 {
        assert_eq!(soap(&app, "203.0.113.4").send().await.unwrap().status(), StatusCode::OK);
    }
    let res = soap(&app, "203.0.113.4").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST, "a SOAP 1.2 Sender fault");
    assert_limit_headers(res.headers(), "address", 3);
    assert_eq!(as_envelope(&res.text().await.unwrap())["error"], "TOO_MANY_REQUESTS");

    let token = token_for(&app, LOGIN, PASSWORD, None, AuthType::BasicAuth).await.unwrap();
    for _ in 0..3 {
        assert_eq!(json(&app, "203.0.113.5", &token).send().await.unwrap().status(), StatusCode::OK);
    }
    let res = json(&app, "203.0.113.5", &token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_limit_headers(res.headers(), "address", 3);
    err(&res.json::<Value>().await.unwrap(), "TOO_MANY_REQUESTS", None);

    let token_request = || {
        let req = app.client.post(format!("{}/oauth/token", app.address)).basic_auth(LOGIN, Some(PASSWORD));
        from(req.form(&[("grant_type", "client_credentials")]), "203.0.113.6")
    };
    for _ in 0..3 {
        assert_eq!(token_request().send().await.unwrap().status(), StatusCode::OK);
    }
    let res = token_request().send().await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_limit_headers(res.headers(), "address", 3);
}

#[tokio::test]
async fn a_credential_over_its_limit_is_refused_from_any_address_and_others_go_on() {
    let app = limited(0, 2).await;
    app.create_access("reporting", "reporting-secret-1", "chat:read", &[]).await;
    for address in ["198.51.100.1", "198.51.100.2"] {
        ok(&plain(&app, address, LOGIN, PASSWORD).send().await.unwrap().json::<Value>().await.unwrap());
    }
    let res = plain(&app, "198.51.100.3", LOGIN, PASSWORD).send().await.unwrap();
    assert_limit_headers(res.headers(), "credential", 2);
    err(&res.json::<Value>().await.unwrap(), "TOO_MANY_REQUESTS", None);
    // A token of the same credential counts against the same limit.
    let token = token_for(&app, LOGIN, PASSWORD, None, AuthType::BasicAuth).await.unwrap();
    let res = json(&app, "198.51.100.4", &token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_limit_headers(res.headers(), "credential", 2);
    // Another credential of the same account has its own count.
    let other = plain(&app, "198.51.100.1", "reporting", "reporting-secret-1").send().await.unwrap();
    ok(&other.json::<Value>().await.unwrap());
}

#[tokio::test]
async fn there_are_no_request_limits_by_default() {
    let app = spawn_app().await;
    app.seed().await;
    for _ in 0..200 {
        let res = app
            .client
            .get(app.plain_url())
            .query(&[
                ("class", "chat"),
                ("method", "getchatchannels"),
                ("user", LOGIN),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert!(!res.headers().contains_key("retry-after"));
        ok(&res.json::<Value>().await.unwrap());
    }
}
