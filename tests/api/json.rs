//! The JSON door's wire: typed JSON values, HTTP statuses, content types, and the OpenAPI document.

use oauth2::AuthType;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{LOGIN, PASSWORD, TestApp, spawn_app};
use crate::oauth::token_for;

async fn post(
    app: &TestApp,
    token: &str,
    path: &str,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> (StatusCode, Value) {
    let res = app
        .client
        .post(format!("{}{path}", app.address))
        .bearer_auth(token)
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    (res.status(), res.json().await.unwrap())
}

#[tokio::test]
async fn json_values_statuses_and_content_types() {
    let app = spawn_app().await;
    let f = app.seed().await;
    let t = token_for(&app, LOGIN, PASSWORD, None, AuthType::BasicAuth).await.unwrap();
    let id: i64 = f.webchat.parse().unwrap();
    let j = "application/json";
    let send = json!({"platform": "webchat", "platformid": id, "destination": "v", "message": "hi", "invalidationtime": 4102444800000i64});
    let (s, b) = post(&app, &t, "/api/json/chat/sendmessage", j, send.to_string()).await;
    assert_eq!((s, b["status"].as_str()), (StatusCode::OK, Some("SUCCESS")), "{b}");
    app.receive(&f.webchat, "v", "incoming").await;
    let cases: Vec<(&str, Value, StatusCode, &str)> = vec![
        (
            "getmessages",
            json!({"platform": "webchat", "platformid": id, "destination": "v", "limit": 1}),
            StatusCode::OK,
            "SUCCESS",
        ),
        (
            "getunreadmessages",
            json!({"platform": "webchat", "platformid": id, "destination": "v", "markread": false}),
            StatusCode::OK,
            "SUCCESS",
        ),
        (
            "sendmessages",
            json!({"messages": [{"platform": "webchat", "platformid": id, "destination": "v", "message": "bulk"}]}),
            StatusCode::OK,
            "SUCCESS",
        ),
        (
            "getmessages",
            json!({"platform": "webchat", "platformid": id, "destination": "v", "limit": 5000}),
            StatusCode::BAD_REQUEST,
            "INCORRECT_PARAM",
        ),
        (
            "sendmessage",
            json!({"platform": "webchat", "platformid": id, "destination": "v"}),
            StatusCode::BAD_REQUEST,
            "MISSING_COMPULSORY_PARAM",
        ),
        (
            "sendmessage",
            json!({"platform": "webchat", "platformid": id, "destination": "v", "message": null}),
            StatusCode::BAD_REQUEST,
            "MISSING_COMPULSORY_PARAM",
        ),
        (
            "getchats",
            json!({"platform": "webchat", "platformid": 999}),
            StatusCode::NOT_FOUND,
            "CHANNEL_NOT_FOUND",
        ),
        (
            "getmessages",
            json!({"platform": "webchat", "platformid": id, "destination": "nobody"}),
            StatusCode::NOT_FOUND,
            "CHAT_NOT_FOUND",
        ),
        ("getmessagestatus", json!({"messageid": 999}), StatusCode::NOT_FOUND, "MESSAGE_NOT_FOUND"),
        ("nosuchmethod", json!({}), StatusCode::NOT_FOUND, "INCORRECT_METHOD"),
    ];
    for (method, body, status, code) in cases {
        let (s, b) = post(&app, &t, &format!("/api/json/chat/{method}"), j, body.to_string()).await;
        assert_eq!(s, status, "{method}: {b}");
        assert_eq!(b.get("error").and_then(Value::as_str).unwrap_or("SUCCESS"), code, "{method}: {b}");
    }
    let (s, b) = post(&app, &t, "/api/json/sms/send", j, "{}").await;
    assert_eq!((s, b["error"].as_str()), (StatusCode::NOT_FOUND, Some("INCORRECT_CLASS")));
    let (s, b) = post(&app, &t, "/api/json/chat/getchatchannels", j, "[1,2]").await;
    assert_eq!((s, b["error"].as_str()), (StatusCode::BAD_REQUEST, Some("MALFORMED_REQUEST")));
    let (s, b) = post(&app, &t, "/api/json/chat/getchatchannels", j, "{\"broken\": ").await;
    assert_eq!((s, b["error"].as_str()), (StatusCode::BAD_REQUEST, Some("MALFORMED_REQUEST")));
    let (s, _) =
        post(&app, &t, "/api/json/chat/getchatchannels", "application/x-www-form-urlencoded", "a=b").await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    for (content_type, status) in [
        ("Application/JSON; charset=utf-8", StatusCode::OK),
        ("application/vnd.acme+JSON", StatusCode::OK),
        ("text/json", StatusCode::UNSUPPORTED_MEDIA_TYPE),
        ("application/jsonx", StatusCode::UNSUPPORTED_MEDIA_TYPE),
    ] {
        let (s, b) = post(&app, &t, "/api/json/chat/getchatchannels", content_type, "{}").await;
        assert_eq!(s, status, "{content_type}: {b}");
    }
    // Each operation has a path of its own; other spellings of it reach the same operation.
    let (s, b) = post(&app, &t, "/api/json/CHAT/GetChatChannels", j, "{}").await;
    assert_eq!((s, b["status"].as_str()), (StatusCode::OK, Some("SUCCESS")), "{b}");
    let (s, b) = post(
        &app,
        &t,
        "/api/json/chat/getchatchannels",
        j,
        format!("{{\"pad\":\"{}\"}}", "x".repeat(1_100_000)),
    )
    .await;
    assert_eq!((s, b["error"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("REQUEST_TOO_LARGE")));
    // No body at all is an empty object.
    let res = app
        .client
        .post(format!("{}/api/json/chat/getchatchannels", app.address))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn ip_filter_applies_to_bearer_requests() {
    let app = spawn_app().await;
    app.seed().await;
    let t = token_for(&app, LOGIN, PASSWORD, None, AuthType::BasicAuth).await.unwrap();
    app.admin().set_ip_filter(LOGIN, &["192.0.2.0/24".into()]).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (s, b) = post(&app, &t, "/api/json/chat/getchatchannels", "application/json", "{}").await;
    assert_eq!((s, b["error"].as_str()), (StatusCode::FORBIDDEN, Some("IP_NOT_ALLOWED")));
}

#[tokio::test]
async fn served_openapi_matches_the_checked_in_document() {
    let app = spawn_app().await;
    let served: Value =
        app.client.get(format!("{}/openapi.json", app.address)).send().await.unwrap().json().await.unwrap();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(path, serde_json::to_string_pretty(&served).unwrap() + "\n").unwrap();
    }
    let checked_in: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("openapi/openapi.json")).unwrap();
    assert_eq!(
        served, checked_in,
        "openapi/openapi.json is stale: run `UPDATE_OPENAPI=1 cargo test served_openapi` and commit it"
    );
    assert_eq!(served["openapi"], "3.1.0");
    for method in chatgate::domain::operation::Operation::ALL {
        let p = format!("/api/json/{}/{}", method.class(), method.method());
        assert!(served["paths"][&p]["post"]["requestBody"].is_object(), "{p} documented with a request body");
        for status in ["200", "400", "401", "403", "404", "413", "415", "429", "500"] {
            assert!(served["paths"][&p]["post"]["responses"][status].is_object(), "{p} documents {status}");
        }
    }
    for p in [
        "/api/http/",
        "/api/basic/",
        "/oauth/token",
        "/oauth/introspect",
        "/oauth/revoke",
        "/oauth/jwks.json",
        "/.well-known/oauth-authorization-server",
    ] {
        assert!(served["paths"][p].is_object(), "{p} documented");
    }
    let schemes = &served["components"]["securitySchemes"];
    assert_eq!(schemes["oauth2"]["flows"]["clientCredentials"]["tokenUrl"], "/oauth/token");
    assert_eq!(schemes["basic"]["scheme"], "basic");
}

#[tokio::test]
async fn swagger_ui_is_served_from_the_binary() {
    let app = spawn_app().await;
    let res = app.client.get(format!("{}/docs/", app.address)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // No other site may frame the explorer.
    assert_eq!(res.headers()["content-security-policy"], "frame-ancestors 'none'");
    assert_eq!(res.headers()["x-frame-options"], "DENY");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert!(res.text().await.unwrap().to_lowercase().contains("swagger"));
    let init = app.client.get(format!("{}/docs/swagger-initializer.js", app.address)).send().await.unwrap();
    assert_eq!(init.status(), StatusCode::OK);
    assert!(init.text().await.unwrap().contains("/openapi.json"));
    let bundle = app.client.get(format!("{}/docs/swagger-ui-bundle.js", app.address)).send().await.unwrap();
    assert_eq!(bundle.status(), StatusCode::OK);
    let no_redirect = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = no_redirect.get(format!("{}/docs", app.address)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(res.headers()["location"], "/docs/");
}

/// Swagger UI in a real browser: "Authorize" with client credentials gets a token from /oauth/token and
/// "Try it out" calls the JSON door with it.
#[tokio::test]
async fn swagger_ui_authorize_with_client_credentials_works_in_a_browser() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients");
    let ready = std::path::Path::new(dir).join("node_modules/playwright-core").exists()
        && std::path::Path::new("/usr/bin/chromium").exists();
    assert!(
        ready,
        "needs Debian's chromium and playwright-core in tests/clients (scripts/test.sh installs both)"
    );
    let app = spawn_app().await;
    app.seed().await;
    let shot = app.dir.path().join("swagger.png");
    let out = tokio::process::Command::new("node")
        .current_dir(dir)
        .args(["swagger_check.mjs", &app.address, LOGIN, PASSWORD, &shot.to_string_lossy()])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(seen["authorized"], true);
    assert_eq!(seen["response"]["status"], "SUCCESS");
    assert_eq!(seen["response"]["result"]["list"].as_array().unwrap().len(), 4);
    // Every event a webhook can ask for is shown, with its payload.
    let events = seen["events"].as_array().unwrap();
    for kind in chatgate::domain::events::EventKind::ALL {
        let shown = events.iter().find(|e| e["name"].as_str().is_some_and(|n| n.contains(kind.name())));
        assert!(shown.is_some_and(|e| e["payload"] == true), "{} in Swagger UI: {events:?}", kind.name());
    }
}

#[tokio::test]
async fn introspect_and_revoke_document_the_400_they_answer_for_a_body_that_is_not_a_form() {
    let app = spawn_app().await;
    app.seed().await;
    let doc: Value =
        app.client.get(format!("{}/openapi.json", app.address)).send().await.unwrap().json().await.unwrap();
    for path in ["/oauth/introspect", "/oauth/revoke"] {
        let documented = &doc["paths"][path]["post"]["responses"];
        for status in ["200", "400", "401", "403", "429"] {
            assert!(documented[status].is_object(), "{path} documents {status}");
        }
        let res = app
            .client
            .post(format!("{}{path}", app.address))
            .basic_auth(crate::helpers::LOGIN, Some(crate::helpers::PASSWORD))
            .json(&serde_json::json!({"token": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{path}");
        assert_eq!(res.json::<Value>().await.unwrap()["error"], "invalid_request");
    }
}

#[tokio::test]
async fn a_method_a_path_does_not_take_is_405_with_allow() {
    let app = spawn_app().await;
    let call = |method: reqwest::Method, path: &str| {
        app.client.request(method, format!("{}{path}", app.address)).send()
    };
    let res = call(reqwest::Method::GET, "/oauth/token").await.unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(res.headers()["allow"], "POST");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body, json!({"error": "invalid_request", "error_description": "use POST"}));
    for (method, path, allow) in [
        (reqwest::Method::PUT, "/api/json/chat/getchats", "POST"),
        (reqwest::Method::DELETE, "/api/http/", "GET, POST"),
        (reqwest::Method::PATCH, "/api/basic/", "GET, POST"),
        (reqwest::Method::POST, "/oauth/jwks.json", "GET"),
    ] {
        let res = call(method.clone(), path).await.unwrap();
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert_eq!(res.headers()["allow"], allow, "{method} {path}");
    }
}

/// The document names this server (`servers`: `public_url`, else `/`) and describes every event a
/// webhook can ask for in its top-level `webhooks` (OpenAPI 3.1), with the body it sends.
#[tokio::test]
async fn the_document_has_servers_and_every_webhook_event() {
    let app =
        crate::helpers::spawn_app_with(|s| s.public_url = Some("https://chat.example.com/".into())).await;
    let doc: Value =
        app.client.get(format!("{}/openapi.json", app.address)).send().await.unwrap().json().await.unwrap();
    assert_eq!(doc["servers"], serde_json::json!([{"url": "https://chat.example.com"}]));
    for kind in chatgate::domain::events::EventKind::ALL {
        let post = &doc["webhooks"][kind.name()]["post"];
        let schema = post["requestBody"]["content"]["application/json"]["schema"]["$ref"].as_str().unwrap();
        let name = schema.rsplit('/').next().unwrap();
        let (_, event) = kind.name().split_once('.').unwrap();
        let events = doc["components"]["schemas"][name]["properties"]["event"]["enum"].as_array().unwrap();
        assert!(events.contains(&Value::from(event)), "{} in {name}", kind.name());
        let headers: Vec<&str> =
            post["parameters"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
        assert_eq!(headers, ["webhook-id", "webhook-timestamp", "webhook-signature"]);
    }
}

/// Redocly's recommended rules (with the one exception in redocly.yaml, and its reason): no errors.
#[tokio::test]
async fn the_document_passes_redocly_lint() {
    let root = env!("CARGO_MANIFEST_DIR");
    let redocly = format!("{root}/tests/clients/node_modules/.bin/redocly");
    assert!(
        std::path::Path::new(&redocly).exists(),
        "needs @redocly/cli in tests/clients (scripts/test.sh installs it)"
    );
    let app = spawn_app().await;
    let doc =
        app.client.get(format!("{}/openapi.json", app.address)).send().await.unwrap().text().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, doc).unwrap();
    let out = tokio::process::Command::new(&redocly)
        .args([
            "lint",
            file.to_str().unwrap(),
            "--config",
            &format!("{root}/redocly.yaml"),
            "--format",
            "stylish",
        ])
        .env("REDOCLY_TELEMETRY", "off")
        .env("REDOCLY_SUPPRESS_UPDATE_NOTICE", "true")
        .current_dir(dir.path())
        .output()
        .await
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && text.contains("Your API description is valid"), "{text}");
    assert!(!text.contains(" error "), "{text}");
}

/// A generated client: openapi-python-client turns the served document into Python, every operation
/// included, and the generated code gets a token and calls two methods.
#[tokio::test]
async fn a_generated_python_client_has_every_operation_and_works() {
    let has = std::process::Command::new("openapi-python-client").arg("--version").output();
    assert!(
        has.is_ok_and(|o| o.status.success()),
        "needs openapi-python-client (scripts/test.sh installs it)"
    );
    let app = spawn_app().await;
    let f = app.seed().await;
    let dir = tempfile::tempdir().unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/openapi_client_check.py");
    let out = tokio::process::Command::new("python3")
        .args([script, &app.address, crate::helpers::LOGIN, crate::helpers::PASSWORD, &f.webchat])
        .arg(dir.path())
        .output()
        .await
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && text.contains("operations generated"), "{text}");
}
