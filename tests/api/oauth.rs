//! The authorization server: a real OAuth 2.0 client (the `oauth2` crate over reqwest) gets tokens;
//! every grant and error path; JWKS verification with an independent JOSE library; introspection,
//! revocation, and forged tokens of each kind.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chatgate::auth::tokens::AccessClaims;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, ClientId, ClientSecret, RefreshToken, ResourceOwnerPassword, ResourceOwnerUsername, Scope,
    TokenResponse, TokenUrl,
};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{LOGIN, PASSWORD, TestApp, spawn_app, spawn_app_with};

/// Form, Basic credentials, expected status and `error`.
type TokenCase<'a> = (Vec<(&'a str, &'a str)>, Option<(&'a str, &'a str)>, StatusCode, &'a str);

type HttpFuture = Pin<Box<dyn Future<Output = Result<oauth2::HttpResponse, reqwest::Error>> + Send>>;

/// The `oauth2` crate's HTTP hook, over reqwest 0.13.
fn http_client(client: reqwest::Client) -> impl Fn(oauth2::HttpRequest) -> HttpFuture {
    move |request: oauth2::HttpRequest| {
        let client = client.clone();
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let mut req = client.request(parts.method, parts.uri.to_string()).body(body);
            for (name, value) in &parts.headers {
                req = req.header(name, value);
            }
            let res = req.send().await?;
            let mut builder = http::Response::builder().status(res.status());
            for (name, value) in res.headers() {
                builder = builder.header(name, value);
            }
            let body = res.bytes().await?.to_vec();
            Ok(builder.body(body).expect("response"))
        })
    }
}

pub async fn token_for(
    app: &TestApp,
    id: &str,
    secret: &str,
    scope: Option<&str>,
    auth: AuthType,
) -> Result<String, String> {
    let client = BasicClient::new(ClientId::new(id.into()))
        .set_client_secret(ClientSecret::new(secret.into()))
        .set_token_uri(TokenUrl::new(format!("{}/oauth/token", app.address)).unwrap())
        .set_auth_type(auth);
    let mut req = client.exchange_client_credentials();
    if let Some(s) = scope {
        req = req.add_scope(Scope::new(s.into()));
    }
    let http = http_client(reqwest::Client::new());
    req.request_async(&http).await.map(|t| t.access_token().secret().clone()).map_err(|e| format!("{e:?}"))
}

async fn json_call(
    app: &TestApp,
    token: &str,
    method: &str,
    body: Value,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let res = app
        .client
        .post(format!("{}/api/json/chat/{method}", app.address))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    (status, headers, res.json().await.unwrap())
}

async fn raw_token(
    app: &TestApp,
    form: &[(&str, &str)],
    basic: Option<(&str, &str)>,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let mut req = app.client.post(format!("{}/oauth/token", app.address)).form(form);
    if let Some((u, p)) = basic {
        req = req.basic_auth(u, Some(p));
    }
    let res = req.send().await.unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    (status, headers, res.json().await.unwrap())
}

#[tokio::test]
async fn client_credentials_by_basic_and_by_post_give_working_tokens() {
    let app = spawn_app().await;
    app.seed().await;
    for auth in [AuthType::BasicAuth, AuthType::RequestBody] {
        let token = token_for(&app, LOGIN, PASSWORD, None, auth).await.unwrap();
        let (status, _, body) = json_call(&app, &token, "getchatchannels", serde_json::json!({})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["result"]["list"].as_array().unwrap().len(), 4);
    }
    let (status, headers, body) =
        raw_token(&app, &[("grant_type", "client_credentials")], Some((LOGIN, PASSWORD))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], "chat:read chat:write webhook:manage");
    assert!(body.get("refresh_token").is_none(), "no refresh token for client credentials");
}

#[tokio::test]
async fn client_secret_basic_credentials_are_form_decoded() {
    let app = spawn_app().await;
    app.seed().await;
    app.admin().create_account("plain-id", "s&e=c+r%t ü").await.unwrap();
    // RFC 6749 §2.3.1: id and secret are form-encoded before Basic; the oauth2 crate does this.
    let token = token_for(&app, "plain-id", "s&e=c+r%t ü", None, AuthType::BasicAuth).await.unwrap();
    assert_eq!(json_call(&app, &token, "getchatchannels", serde_json::json!({})).await.0, StatusCode::OK);
}

#[tokio::test]
async fn scope_narrows_and_is_enforced() {
    let app = spawn_app().await;
    let f = app.seed().await;
    app.create_access("ro", "ro-secret", "chat:read", &[]).await;
    let token = token_for(&app, LOGIN, PASSWORD, Some("chat:read"), AuthType::BasicAuth).await.unwrap();
    let send =
        serde_json::json!({"platform":"webchat","platformid":f.webchat,"destination":"v","message":"m"});
    let (status, headers, body) = json_call(&app, &token, "sendmessage", send.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"], "ACCESS_DENIED");
    assert_eq!(
        headers["www-authenticate"],
        "Bearer realm=\"chatgate\", error=\"insufficient_scope\", scope=\"chat:write\""
    );

    let err = token_for(&app, "ro", "ro-secret", Some("chat:write"), AuthType::BasicAuth).await.unwrap_err();
    assert!(err.contains("invalid_scope"), "{err}");
    let ro = token_for(&app, "ro", "ro-secret", None, AuthType::BasicAuth).await.unwrap();
    assert_eq!(json_call(&app, &ro, "sendmessage", send).await.0, StatusCode::FORBIDDEN);
    assert_eq!(json_call(&app, &ro, "getchatchannels", serde_json::json!({})).await.0, StatusCode::OK);
}

#[tokio::test]
async fn token_endpoint_errors_follow_rfc_6749() {
    let app = spawn_app().await;
    app.seed().await;
    let cc = [("grant_type", "client_credentials")];
    let cases: Vec<TokenCase> = vec![
        (cc.to_vec(), Some((LOGIN, "wrong")), StatusCode::UNAUTHORIZED, "invalid_client"),
        (cc.to_vec(), Some(("nobody", "x")), StatusCode::UNAUTHORIZED, "invalid_client"),
        (cc.to_vec(), None, StatusCode::UNAUTHORIZED, "invalid_client"),
        (
            vec![("grant_type", "client_credentials"), ("client_id", LOGIN)],
            None,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            vec![("grant_type", "client_credentials"), ("client_secret", PASSWORD)],
            None,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            vec![("grant_type", "client_credentials"), ("client_id", LOGIN), ("client_secret", PASSWORD)],
            Some((LOGIN, PASSWORD)),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (vec![], Some((LOGIN, PASSWORD)), StatusCode::BAD_REQUEST, "invalid_request"),
        (
            vec![("grant_type", "authorization_code"), ("code", "x")],
            Some((LOGIN, PASSWORD)),
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
        ),
        (
            vec![("grant_type", "password"), ("username", LOGIN), ("password", PASSWORD)],
            None,
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
        ),
        (
            vec![("grant_type", "client_credentials"), ("scope", "chat:delete")],
            Some((LOGIN, PASSWORD)),
            StatusCode::BAD_REQUEST,
            "invalid_scope",
        ),
        (
            vec![("grant_type", "refresh_token"), ("refresh_token", "nope")],
            None,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
        ),
        (vec![("grant_type", "refresh_token")], None, StatusCode::BAD_REQUEST, "invalid_request"),
    ];
    for (form, basic, status, error) in cases {
        let (got, headers, body) = raw_token(&app, &form, basic).await;
        assert_eq!((got, body["error"].as_str()), (status, Some(error)), "{form:?}: {body}");
        assert_eq!(headers["cache-control"], "no-store");
        if status == StatusCode::UNAUTHORIZED {
            assert!(headers.contains_key("www-authenticate"));
        }
    }
    let res = app
        .client
        .post(format!("{}/oauth/token", app.address))
        .json(&serde_json::json!({"grant_type":"client_credentials"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST, "JSON is not a token request");
}

#[tokio::test]
async fn token_endpoint_applies_ip_filter_and_failure_limits() {
    let app = spawn_app_with(|s| s.auth.failures.per_login_and_address = 2).await;
    app.seed().await;
    app.create_access("far", "far-secret", "chat:read", &["192.0.2.0/24"]).await;
    let (status, _, body) =
        raw_token(&app, &[("grant_type", "client_credentials")], Some(("far", "far-secret"))).await;
    assert_eq!((status, body["error_description"].as_str()), (StatusCode::FORBIDDEN, Some("IP_NOT_ALLOWED")));
    for _ in 0..2 {
        raw_token(&app, &[("grant_type", "client_credentials")], Some((LOGIN, "bad"))).await;
    }
    let (status, headers, body) =
        raw_token(&app, &[("grant_type", "client_credentials")], Some((LOGIN, PASSWORD))).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(headers.contains_key("retry-after"));
}

#[tokio::test]
async fn password_grant_rotates_refresh_tokens_and_reuse_revokes_the_chain() {
    let app = spawn_app_with(|s| s.oauth.password_grant = true).await;
    app.seed().await;
    let client = BasicClient::new(ClientId::new("legacy-app".into()))
        .set_token_uri(TokenUrl::new(format!("{}/oauth/token", app.address)).unwrap())
        .set_auth_type(AuthType::RequestBody);
    let http = http_client(reqwest::Client::new());
    let first = client
        .exchange_password(
            &ResourceOwnerUsername::new(LOGIN.into()),
            &ResourceOwnerPassword::new(PASSWORD.into()),
        )
        .request_async(&http)
        .await
        .unwrap();
    let r1 = first.refresh_token().expect("a refresh token").clone();
    let second = client.exchange_refresh_token(&r1).request_async(&http).await.unwrap();
    let r2 = second.refresh_token().expect("rotated").clone();
    assert_ne!(r1.secret(), r2.secret());
    assert_eq!(
        json_call(&app, second.access_token().secret(), "getchatchannels", serde_json::json!({})).await.0,
        StatusCode::OK
    );

    // r1 again: reuse detected, the whole chain (r2 too) is revoked.
    let reused = client.exchange_refresh_token(&r1).request_async(&http).await.unwrap_err();
    assert!(format!("{reused:?}").contains("invalid_grant"), "{reused:?}");
    let after = client.exchange_refresh_token(&r2).request_async(&http).await.unwrap_err();
    assert!(format!("{after:?}").contains("invalid_grant"), "{after:?}");
    let wrong = client
        .exchange_password(
            &ResourceOwnerUsername::new(LOGIN.into()),
            &ResourceOwnerPassword::new("bad".into()),
        )
        .request_async(&http)
        .await
        .unwrap_err();
    assert!(format!("{wrong:?}").contains("invalid_grant"), "{wrong:?}");

    // A changed password ends refresh tokens issued before it.
    let fresh = client
        .exchange_password(
            &ResourceOwnerUsername::new(LOGIN.into()),
            &ResourceOwnerPassword::new(PASSWORD.into()),
        )
        .request_async(&http)
        .await
        .unwrap();
    app.admin().set_secret(LOGIN, "another password").await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let refreshed = client
        .exchange_refresh_token(&RefreshToken::new(fresh.refresh_token().unwrap().secret().clone()))
        .request_async(&http)
        .await;
    assert!(refreshed.is_err(), "refresh after a password change");
}

#[tokio::test]
async fn issued_tokens_verify_with_an_independent_jose_library() {
    let app = spawn_app().await;
    app.seed().await;
    let token = token_for(&app, LOGIN, PASSWORD, Some("chat:read"), AuthType::BasicAuth).await.unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/jwks_check.py");
    let out =
        tokio::process::Command::new("python3").args([script, &app.address, &token]).output().await.unwrap();
    assert!(out.status.success(), "PyJWT refused the token: {}", String::from_utf8_lossy(&out.stderr));
    let claims: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(claims["client_id"], LOGIN);
    assert_eq!(claims["sub"], LOGIN);
    assert_eq!(claims["scope"], "chat:read");
    assert_eq!(claims["iss"], app.address.as_str());
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 3600);
}

async fn introspect(app: &TestApp, who: (&str, &str), token: &str) -> Value {
    let res = app
        .client
        .post(format!("{}/oauth/introspect", app.address))
        .basic_auth(who.0, Some(who.1))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

#[tokio::test]
async fn introspection_and_revocation() {
    let app = spawn_app().await;
    app.seed().await;
    app.admin().create_account("bob", "bob-pw").await.unwrap();
    let token = token_for(&app, LOGIN, PASSWORD, None, AuthType::BasicAuth).await.unwrap();
    let seen = introspect(&app, (LOGIN, PASSWORD), &token).await;
    assert_eq!(seen["active"], true);
    assert_eq!(seen["client_id"], LOGIN);
    assert_eq!(seen["token_type"], "Bearer");
    assert_eq!(
        introspect(&app, ("bob", "bob-pw"), &token).await,
        serde_json::json!({"active": false}),
        "not bob's"
    );
    assert_eq!(introspect(&app, (LOGIN, PASSWORD), "garbage").await, serde_json::json!({"active": false}));
    let res = app
        .client
        .post(format!("{}/oauth/introspect", app.address))
        .form(&[("token", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "introspection needs client authentication");

    // Bob cannot revoke alice's token; revoking an unknown token is fine.
    for (who, t) in [(("bob", "bob-pw"), token.as_str()), ((LOGIN, PASSWORD), "unknown-token")] {
        let res = app
            .client
            .post(format!("{}/oauth/revoke", app.address))
            .basic_auth(who.0, Some(who.1))
            .form(&[("token", t)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    assert_eq!(json_call(&app, &token, "getchatchannels", serde_json::json!({})).await.0, StatusCode::OK);
    let res = app
        .client
        .post(format!("{}/oauth/revoke", app.address))
        .basic_auth(LOGIN, Some(PASSWORD))
        .form(&[("token", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // Refused at once, although the token was verified (and cached) before.
    let (status, headers, body) = json_call(&app, &token, "getchatchannels", serde_json::json!({})).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("INVALID_TOKEN")));
    assert_eq!(headers["www-authenticate"], "Bearer realm=\"chatgate\", error=\"invalid_token\"");
    assert_eq!(introspect(&app, (LOGIN, PASSWORD), &token).await["active"], false);
}

#[tokio::test]
async fn disabled_access_or_changed_secret_voids_its_tokens() {
    let app = spawn_app().await;
    app.seed().await;
    app.create_access("svc", "svc-secret", "chat:read", &[]).await;
    app.create_access("svc2", "svc2-secret", "chat:read", &[]).await;
    let t1 = token_for(&app, "svc", "svc-secret", None, AuthType::BasicAuth).await.unwrap();
    let t2 = token_for(&app, "svc2", "svc2-secret", None, AuthType::BasicAuth).await.unwrap();
    for t in [&t1, &t2] {
        assert_eq!(json_call(&app, t, "getchatchannels", serde_json::json!({})).await.0, StatusCode::OK);
    }
    app.admin().set_access_enabled("svc", false).await.unwrap();
    app.admin().set_secret("svc2", "rotated").await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    for t in [&t1, &t2] {
        assert_eq!(
            json_call(&app, t, "getchatchannels", serde_json::json!({})).await.0,
            StatusCode::UNAUTHORIZED
        );
    }
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

#[tokio::test]
async fn forged_and_invalid_tokens_are_refused() {
    let app = spawn_app().await;
    app.seed().await;
    let good = token_for(&app, LOGIN, PASSWORD, None, AuthType::BasicAuth).await.unwrap();
    let keys = app.core.store().signing_keys().await.unwrap();
    let key = keys.last().unwrap();
    let claims: AccessClaims = jsonwebtoken::dangerous::insecure_decode(&good).unwrap().claims;
    let sign = |header: Header, c: &AccessClaims| {
        jsonwebtoken::encode(&header, c, &EncodingKey::from_ed_der(&key.private_key)).unwrap()
    };
    let ed = |typ: Option<&str>| {
        let mut h = Header::new(Algorithm::EdDSA);
        h.typ = typ.map(str::to_string);
        h.kid = Some(key.kid.clone());
        h
    };
    let with = |f: &dyn Fn(&mut AccessClaims)| {
        let mut c = claims.clone();
        f(&mut c);
        c
    };
    let now = chrono::Utc::now().timestamp();
    let (h, p, s) = {
        let mut parts = good.split('.');
        (
            parts.next().unwrap().to_string(),
            parts.next().unwrap().to_string(),
            parts.next().unwrap().to_string(),
        )
    };
    let payload: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&p).unwrap()).unwrap();
    let mut wider = payload.clone();
    wider["client_id"] = "bob".into();
    let hs = {
        let mut hh = Header::new(Algorithm::HS256);
        hh.typ = Some("at+jwt".into());
        hh.kid = Some(key.kid.clone());
        jsonwebtoken::encode(&hh, &claims, &EncodingKey::from_secret(&key.public_key)).unwrap()
    };
    let forged: Vec<(&str, String)> = vec![
        ("alg none", format!("{}.{p}.", b64(&serde_json::json!({"alg":"none","typ":"at+jwt"})))),
        ("HS256 with the public key as secret", hs),
        (
            "RS256 header on an EdDSA signature",
            format!("{}.{p}.{s}", b64(&serde_json::json!({"alg":"RS256","typ":"at+jwt","kid":key.kid}))),
        ),
        ("typ JWT", sign(ed(Some("JWT")), &claims)),
        ("no typ", sign(ed(None), &claims)),
        ("wrong aud", sign(ed(Some("at+jwt")), &with(&|c| c.aud = "https://elsewhere/api".into()))),
        ("wrong iss", sign(ed(Some("at+jwt")), &with(&|c| c.iss = "https://evil.example".into()))),
        (
            "expired",
            sign(
                ed(Some("at+jwt")),
                &with(&|c| {
                    c.iat = now - 7200;
                    c.exp = now - 3600;
                }),
            ),
        ),
        (
            "issued in the future",
            sign(
                ed(Some("at+jwt")),
                &with(&|c| {
                    c.iat = now + 3600;
                    c.exp = now + 7200;
                }),
            ),
        ),
        ("stale credential version", sign(ed(Some("at+jwt")), &with(&|c| c.ver += 1))),
        ("tampered payload", format!("{h}.{}.{s}", b64(&wider))),
        ("unknown kid", {
            let mut hh = ed(Some("at+jwt"));
            hh.kid = Some("nope".into());
            sign(hh, &claims)
        }),
        ("garbage", "not.a.token".into()),
    ];
    for (what, token) in forged {
        let (status, _, body) = json_call(&app, &token, "getchatchannels", serde_json::json!({})).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("INVALID_TOKEN")),
            "{what}"
        );
    }
    // A not-yet-valid token (nbf in the future) signed by us is refused too.
    #[derive(serde::Serialize)]
    struct WithNbf<'a> {
        #[serde(flatten)]
        c: &'a AccessClaims,
        nbf: i64,
    }
    let nbf = jsonwebtoken::encode(
        &ed(Some("at+jwt")),
        &WithNbf { c: &claims, nbf: now + 600 },
        &EncodingKey::from_ed_der(&key.private_key),
    )
    .unwrap();
    assert_eq!(
        json_call(&app, &nbf, "getchatchannels", serde_json::json!({})).await.0,
        StatusCode::UNAUTHORIZED
    );
    // The real one still works.
    assert_eq!(json_call(&app, &good, "getchatchannels", serde_json::json!({})).await.0, StatusCode::OK);
    let res = app.client.post(format!("{}/api/json/chat/getchatchannels", app.address)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "no token");
}

#[tokio::test]
async fn key_rotation_keeps_old_tokens_valid_and_publishes_both_keys() {
    let app = spawn_app().await;
    app.seed().await;
    let old = token_for(&app, LOGIN, PASSWORD, None, AuthType::BasicAuth).await.unwrap();
    let key = chatgate::auth::tokens::keys::generate(chrono::Utc::now().timestamp_millis()).unwrap();
    app.core.store().rotate_signing_key(&key).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let jwks: Value = app
        .client
        .get(format!("{}/oauth/jwks.json", app.address))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kids: Vec<&str> =
        jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert_eq!(kids.len(), 2, "{jwks}");
    assert!(kids.contains(&key.kid.as_str()));
    let new = token_for(&app, LOGIN, PASSWORD, None, AuthType::BasicAuth).await.unwrap();
    assert_eq!(jsonwebtoken::decode_header(&new).unwrap().kid.as_deref(), Some(key.kid.as_str()));
    for t in [&old, &new] {
        assert_eq!(json_call(&app, t, "getchatchannels", serde_json::json!({})).await.0, StatusCode::OK);
    }
}

#[tokio::test]
async fn metadata_lists_what_is_supported() {
    let app = spawn_app_with(|s| s.oauth.password_grant = true).await;
    let meta: Value = app
        .client
        .get(format!("{}/.well-known/oauth-authorization-server", app.address))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(meta["issuer"], app.address.as_str());
    assert_eq!(meta["token_endpoint"], format!("{}/oauth/token", app.address));
    assert_eq!(
        meta["grant_types_supported"],
        serde_json::json!(["client_credentials", "password", "refresh_token"])
    );
    assert_eq!(meta["scopes_supported"], serde_json::json!(["chat:read", "chat:write", "webhook:manage"]));
    for endpoint in ["jwks_uri", "introspection_endpoint", "revocation_endpoint"] {
        let url = meta[endpoint].as_str().unwrap();
        assert!(url.starts_with(&app.address), "{endpoint}");
    }
    // Without the password grant nothing issues refresh tokens, so neither is listed.
    let plain = spawn_app().await;
    let meta: Value = reqwest::get(format!("{}/.well-known/oauth-authorization-server", plain.address))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(meta["grant_types_supported"], serde_json::json!(["client_credentials"]));
}

/// RFC 7009 §2.1 / RFC 7662: an access introspects and revokes only the tokens issued to it; the
/// account's own login may do so for every access of the account.
#[tokio::test]
async fn an_access_touches_only_its_own_tokens_and_the_account_all_of_them() {
    let app = spawn_app().await;
    app.seed().await;
    app.create_access("reader", "reader-secret", "chat:read", &[]).await;
    app.create_access("writer", "writer-secret", "chat:read,chat:write", &[]).await;
    let revoke = |who: (&'static str, &'static str), token: String| {
        let req = app.client.post(format!("{}/oauth/revoke", app.address)).basic_auth(who.0, Some(who.1));
        async move { req.form(&[("token", token)]).send().await.unwrap().status() }
    };
    let works = |token: String| {
        let app = &app;
        async move { json_call(app, &token, "getchatchannels", serde_json::json!({})).await.0 == StatusCode::OK }
    };
    let writer = token_for(&app, "writer", "writer-secret", None, AuthType::BasicAuth).await.unwrap();
    // The reader learns nothing of the writer's token and cannot revoke it (answered 200 all the same).
    assert_eq!(
        introspect(&app, ("reader", "reader-secret"), &writer).await,
        serde_json::json!({"active": false})
    );
    assert_eq!(revoke(("reader", "reader-secret"), writer.clone()).await, StatusCode::OK);
    assert!(works(writer.clone()).await, "the reader's revoke changed nothing");
    // The writer sees and revokes its own.
    assert_eq!(introspect(&app, ("writer", "writer-secret"), &writer).await["active"], true);
    let second = token_for(&app, "writer", "writer-secret", None, AuthType::BasicAuth).await.unwrap();
    assert_eq!(revoke(("writer", "writer-secret"), second.clone()).await, StatusCode::OK);
    assert!(!works(second).await, "revoked by its own access");
    // The account's own login manages every access's tokens.
    assert_eq!(introspect(&app, (LOGIN, PASSWORD), &writer).await["client_id"], "writer");
    assert_eq!(revoke((LOGIN, PASSWORD), writer.clone()).await, StatusCode::OK);
    assert!(!works(writer).await, "revoked by the account");
    // But an access cannot act on the account's token either.
    let own = token_for(&app, LOGIN, PASSWORD, None, AuthType::BasicAuth).await.unwrap();
    assert_eq!(
        introspect(&app, ("writer", "writer-secret"), &own).await,
        serde_json::json!({"active": false})
    );
    assert_eq!(revoke(("writer", "writer-secret"), own.clone()).await, StatusCode::OK);
    assert!(works(own).await);
}
