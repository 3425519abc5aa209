//! The hostile corpus (tests/corpus/manifest.json): entity bombs, deep nesting, attribute and
//! namespace floods, invalid UTF-8, NUL bytes, 1 MiB single tokens, request smuggling — each sent to
//! the door it attacks on a running server, which must answer with the listed status and error code
//! within 5 s, and go on serving normally.

use std::time::{Duration, Instant};

use oauth2::AuthType;
use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{LOGIN, PASSWORD, TestApp, ok, spawn_app};
use crate::oauth::token_for;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus");

#[derive(Deserialize)]
struct Manifest {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    door: String,
    parts: Vec<Part>,
    status: u16,
    code: String,
    /// The JSON door's method (default `getchatchannels`).
    method: Option<String>,
}

#[derive(Deserialize)]
struct Part {
    file: Option<String>,
    text: Option<String>,
    times: Option<usize>,
    hex: Option<String>,
}

/// The case's body, with the account's values in place of the placeholders.
fn body(case: &Case, webchat: &str) -> Vec<u8> {
    let fill = |s: &str| {
        s.replace("{{user}}", LOGIN).replace("{{password}}", PASSWORD).replace("{{webchat}}", webchat)
    };
    let mut out = Vec::new();
    for p in &case.parts {
        if let Some(f) = &p.file {
            out.extend(fill(&std::fs::read_to_string(format!("{CORPUS}/{f}")).unwrap()).into_bytes());
        }
        if let Some(t) = &p.text {
            let t = fill(t);
            for i in 0..p.times.unwrap_or(1) {
                out.extend(t.replace("{i}", &i.to_string()).into_bytes());
            }
        }
        if let Some(h) = &p.hex {
            out.extend(hex::decode(h).unwrap());
        }
    }
    out
}

/// Sends the bytes on a connection of their own; the status of the first answer, and whether the
/// server then closed the connection.
async fn raw(app: &TestApp, bytes: &[u8]) -> (u16, bool) {
    let mut s = tokio::net::TcpStream::connect(app.address.trim_start_matches("http://")).await.unwrap();
    s.write_all(bytes).await.unwrap();
    let mut answer = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(3), s.read_to_end(&mut answer)).await.is_ok();
    let text = String::from_utf8_lossy(&answer);
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    // One answer only: nothing smuggled behind the first request was served.
    assert_eq!(text.matches("HTTP/1.1 ").count(), 1, "{text}");
    (status, closed)
}

async fn send(app: &TestApp, case: &Case, body: Vec<u8>, token: &str) -> (u16, String) {
    let base = &app.address;
    let req = match case.door.as_str() {
        "soap11" => {
            app.client.post(format!("{base}/api/soap/")).header("Content-Type", "text/xml; charset=utf-8")
        }
        "soap12" => {
            app.client.post(format!("{base}/api/soap/")).header("Content-Type", "application/soap+xml")
        }
        "json" => {
            let method = case.method.as_deref().unwrap_or("getchatchannels");
            app.client
                .post(format!("{base}/api/json/chat/{method}"))
                .bearer_auth(token)
                .header("Content-Type", "application/json")
        }
        "plain" => app
            .client
            .post(format!("{base}/api/http/"))
            .header("Content-Type", "application/x-www-form-urlencoded"),
        "basic" => {
            let header = format!("Basic {}", String::from_utf8(body).unwrap());
            let res = app
                .client
                .get(format!("{base}/api/basic/?class=chat&method=getchatchannels"))
                .header("Authorization", header)
                .send()
                .await
                .unwrap();
            return (res.status().as_u16(), res.text().await.unwrap());
        }
        other => panic!("unknown door {other}"),
    };
    let res = req.body(body).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

#[tokio::test]
async fn every_hostile_input_gets_its_error_and_the_server_goes_on() {
    let app = spawn_app().await;
    let f = app.seed().await;
    let token = token_for(&app, LOGIN, PASSWORD, None, AuthType::BasicAuth).await.unwrap();
    let manifest: Manifest =
        serde_json::from_str(&std::fs::read_to_string(format!("{CORPUS}/manifest.json")).unwrap()).unwrap();
    assert!(manifest.cases.len() >= 30);
    for case in &manifest.cases {
        let bytes = body(case, &f.webchat);
        let started = Instant::now();
        if case.door == "raw" {
            let (status, closed) = raw(&app, &bytes).await;
            assert_eq!(status, case.status, "{}", case.name);
            assert!(closed, "{}: the connection stays open after a malformed request", case.name);
        } else {
            let (status, text) = send(&app, case, bytes, &token).await;
            assert_eq!(status, case.status, "{}: {}", case.name, &text[..text.len().min(300)]);
            assert!(
                text.contains(&case.code),
                "{}: no {} in {}",
                case.name,
                case.code,
                &text[..text.len().min(300)]
            );
            assert!(!text.contains("INTERNAL_ERROR"), "{}", case.name);
        }
        assert!(started.elapsed() < Duration::from_secs(5), "{} took {:?}", case.name, started.elapsed());
    }
    // Still serving, and nothing the corpus sent was stored.
    ok(&app.call("getchatchannels", &[]).await);
    let chats = app.call("getchats", &[("platform", "webchat"), ("platformid", &f.webchat)]).await;
    assert_eq!(ok(&chats)["list"].as_array().unwrap().len(), 0, "{chats}");
}

/// A body that does not arrive in time (`body_timeout_secs`) is answered 408 and its connection closed;
/// 300 such connections at once do not keep normal clients from being served.
#[tokio::test]
async fn stalled_bodies_time_out_with_408_and_others_are_served_meanwhile() {
    let app = crate::helpers::spawn_app_with(|s| s.body_timeout_secs = 1).await;
    app.seed().await;
    let addr = app.address.trim_start_matches("http://").to_string();
    let stalled = "POST /api/http/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nclass=chat";
    let mut conns = Vec::new();
    for _ in 0..300 {
        let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
        s.write_all(stalled.as_bytes()).await.unwrap();
        conns.push(s);
    }
    let started = Instant::now();
    for _ in 0..20 {
        ok(&app.call("getchatchannels", &[]).await);
    }
    assert!(started.elapsed() < Duration::from_secs(1), "served meanwhile: {:?}", started.elapsed());
    let answers = futures_util::future::join_all(conns.into_iter().map(|mut s| async move {
        let mut answer = Vec::new();
        let closed = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut answer)).await.is_ok();
        (closed, String::from_utf8_lossy(&answer).into_owned())
    }))
    .await;
    for (closed, answer) in &answers {
        assert!(*closed, "closed after the answer");
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    }
    assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());
}
