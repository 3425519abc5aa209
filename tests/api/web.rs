//! The web clients (SPEC §5.4) in a real browser: Playwright driving Debian's Chromium through the
//! accessible names the spec lists (tests/clients/webchat_check.mjs), with the API acting between steps.

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use crate::helpers::{
    LOGIN, PASSWORD, TestApp, console_cookie, console_session, list, ok, spawn_app, webchat_visitor,
};

/// A headless Chromium session the test steers one command at a time.
pub struct Browser {
    _child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
}

pub fn screenshots() -> std::path::PathBuf {
    std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/target/screenshots"))
}

impl Browser {
    pub async fn start(script: &str, args: &[&str]) -> Self {
        assert!(
            std::path::Path::new("/usr/bin/chromium").exists(),
            "chromium is needed (scripts/test.sh installs it)"
        );
        std::fs::create_dir_all(screenshots()).unwrap();
        let path = format!("{}/tests/clients/{script}", env!("CARGO_MANIFEST_DIR"));
        let mut child = Command::new("node")
            .arg(path)
            .args(args)
            .arg(screenshots())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("node");
        let stdin = child.stdin.take().unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        Browser { _child: child, stdin, lines }
    }

    /// Sends a command; its answer (panics on a failed step).
    pub async fn run(&mut self, cmd: Value) -> Value {
        let answer = self.try_run(cmd.clone()).await;
        assert_eq!(answer["ok"], true, "browser step {cmd} failed: {answer}");
        answer
    }

    pub async fn try_run(&mut self, cmd: Value) -> Value {
        self.stdin.write_all(format!("{cmd}\n").as_bytes()).await.unwrap();
        let line = tokio::time::timeout(Duration::from_secs(30), self.lines.next_line())
            .await
            .unwrap_or_else(|_| panic!("browser step {cmd} took over 30 s"))
            .unwrap()
            .unwrap_or_else(|| panic!("the browser script ended at {cmd}"));
        serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON from the browser: {line}"))
    }
}

fn items(answer: &Value) -> Vec<String> {
    answer["items"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect()
}

impl TestApp {
    async fn wait_status_is(&self, id: &str, want: &str) {
        let started = Instant::now();
        loop {
            let s = ok(&self.call("getmessagestatus", &[("messageid", id)]).await)["status"].clone();
            if s == want {
                return;
            }
            assert!(started.elapsed() < Duration::from_secs(5), "message {id} is {s}, not {want}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[tokio::test]
async fn a_visitor_chats_with_the_business_through_the_webchat_page() {
    let app = spawn_app().await;
    let f = app.seed().await;
    let w = f.webchat.as_str();
    let mut b = Browser::start("webchat_check.mjs", &[&app.address, w]).await;
    b.run(json!({"do": "open"})).await;
    let v = b.run(json!({"do": "visitor"})).await;
    let visitor = v["visitor"].as_str().unwrap().to_string();

    // The visitor writes: a received, unread message every door reads.
    b.run(json!({"do": "send", "text": "Hello, is anyone there?"})).await;
    let chat = [("platform", "webchat"), ("platformid", w), ("destination", visitor.as_str())];
    let unread = app.call("getunreadmessages", &[&chat[..], &[("markread", "0")]].concat()).await;
    let unread = list(ok(&unread)).clone();
    assert_eq!(unread.len(), 1, "{unread:?}");
    assert_eq!(
        (unread[0]["message"].as_str(), unread[0]["sent"].as_u64()),
        (Some("Hello, is anyone there?"), Some(0))
    );

    // The business answers through the API: the open page shows it within a second, as text.
    let id = app.send("webchat", w, &visitor, "<b>Yes</b> — how can we help?").await;
    let shown = b.run(json!({"do": "wait", "text": "<b>Yes</b> — how can we help?", "timeout": 1000})).await;
    assert!(shown["ms"].as_u64().unwrap() < 1000, "{shown}");
    let html = b.run(json!({"do": "html"})).await;
    assert!(html["html"].as_str().unwrap().contains("&lt;b&gt;Yes&lt;/b&gt;"), "rendered as text: {html}");
    app.wait_status_is(&id, "read").await;
    b.run(json!({"do": "shot", "name": "webchat"})).await;

    // A reload resumes the conversation.
    let after = b.run(json!({"do": "reload"})).await;
    assert_eq!(items(&after), ["Hello, is anyone there?", "<b>Yes</b> — how can we help?"]);

    // Empty and oversized messages get a clear error in the page and store nothing.
    b.run(json!({"do": "send", "text": "   "})).await;
    let e = b.run(json!({"do": "error"})).await;
    assert!(e["text"].as_str().unwrap().contains("Write a message"), "{e}");
    b.run(json!({"do": "send", "text": "x".repeat(4097)})).await;
    let e = b.run(json!({"do": "error"})).await;
    assert!(e["text"].as_str().unwrap().contains("too long"), "{e}");
    let all = app.call("getmessages", &chat).await;
    assert_eq!(list(ok(&all)).len(), 2);

    // A fresh browser context is a new visitor with an empty conversation.
    b.run(json!({"do": "newcontext"})).await;
    b.run(json!({"do": "open"})).await;
    let fresh = b.run(json!({"do": "items"})).await;
    assert!(items(&fresh).is_empty(), "{fresh}");
    let other = b.run(json!({"do": "visitor"})).await;
    assert_ne!(other["visitor"], visitor.as_str());
    b.run(json!({"do": "close"})).await;

    // Closed pages leave no stream behind.
    let started = Instant::now();
    while app.streams.open() > 0 {
        assert!(started.elapsed() < Duration::from_secs(20), "{} streams still open", app.streams.open());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn the_visitor_api_refuses_forged_tokens_and_reveals_nothing() {
    let app = spawn_app().await;
    let f = app.seed().await;
    let api = format!("{}/webchat/{}/api", app.address, f.webchat);
    let s: Value = app
        .client
        .post(format!("{api}/session"))
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (visitor, token) = (s["visitor"].as_str().unwrap(), s["token"].as_str().unwrap());
    app.send("webchat", &f.webchat, visitor, "private to this visitor").await;
    let get = |id: &str, tok: &str| {
        app.client
            .get(format!("{api}/messages"))
            .header("x-visitor-id", id)
            .header("x-visitor-token", tok)
            .send()
    };
    let business = list(ok(&app
        .call("getmessages", &[("platform", "webchat"), ("platformid", &f.webchat), ("destination", visitor)])
        .await))[0]["messageid"]
        .as_str()
        .unwrap()
        .to_string();
    app.wait_status_is(&business, "sent").await;
    let mine = get(visitor, token).await.unwrap();
    assert_eq!(mine.status(), 200);
    assert_eq!(list(&mine.json::<Value>().await.unwrap())[0]["message"], "private to this visitor");
    // The page received it: delivered; it showed it: read.
    app.wait_status_is(&business, "delivered").await;
    let seen = app
        .client
        .post(format!("{api}/seen"))
        .header("x-visitor-id", visitor)
        .header("x-visitor-token", token)
        .json(&json!({"messageid": business}))
        .send()
        .await
        .unwrap();
    assert_eq!(seen.status(), 204);
    app.wait_status_is(&business, "read").await;
    for (id, tok) in [(visitor, ""), (visitor, "forged"), ("visitor-0000000000000000", token), ("", "")] {
        let res = get(id, tok).await.unwrap();
        assert_eq!(res.status(), 401, "{id} {tok}");
        assert!(!res.text().await.unwrap().contains("private"), "nothing revealed");
    }
    let resumed = app
        .client
        .post(format!("{api}/session"))
        .json(&json!({"visitor": visitor, "token": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resumed.status(), 401);
    let stream = app
        .client
        .get(format!("{api}/events"))
        .query(&[("visitor", visitor), ("token", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 401);
    // Another channel's id, or a channel of another platform, is not a chat page.
    for pid in ["999", f.telegram.as_str(), "abc"] {
        let res = app.client.get(format!("{}/webchat/{pid}/", app.address)).send().await.unwrap();
        assert_eq!(res.status(), 404, "{pid}");
    }
    let send = |text: &str| {
        app.client
            .post(format!("{api}/messages"))
            .header("x-visitor-id", visitor)
            .header("x-visitor-token", token)
            .json(&json!({"message": text}))
            .send()
    };
    assert_eq!(send("").await.unwrap().status(), 400);
    assert_eq!(send(&"y".repeat(4097)).await.unwrap().status(), 400);
    // Per-visitor limit: 30 messages a minute, then 429 with Retry-After.
    for i in 0..30 {
        assert_eq!(send(&format!("m{i}")).await.unwrap().status(), 200);
    }
    let over = send("one too many").await.unwrap();
    assert_eq!(over.status(), 429);
    assert!(over.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() <= 60);
}

/// A shop's site on another loopback origin (`localhost`, where the app is `127.0.0.1`) serving `html`
/// for every path: its URL.
pub async fn shop_site(html: String) -> String {
    let site = actix_web::HttpServer::new(move || {
        let html = html.clone();
        actix_web::App::new().default_service(actix_web::web::to(move || {
            let html = html.clone();
            async move { actix_web::HttpResponse::Ok().content_type("text/html").body(html) }
        }))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let url = format!("http://localhost:{}/", site.addrs()[0].port());
    tokio::spawn(site.run());
    url
}

#[tokio::test]
async fn allowed_origins_are_enforced_and_the_widget_opens_the_chat_on_another_site() {
    let app = spawn_app().await;
    let f = app.seed().await;
    // A site on another loopback origin that embeds the widget.
    let widget = format!("{}/webchat/{}/widget.js", app.address, f.webchat);
    let html = format!(
        "<!doctype html><title>Shop</title><h1>Our shop</h1><script src=\"{widget}\" async></script>"
    );
    let site_url = shop_site(html).await;

    // Without allowed_origins any site may embed the page; the API answers no foreign origin.
    let page = app.client.get(format!("{}/webchat/{}/", app.address, f.webchat)).send().await.unwrap();
    assert!(page.headers()["content-security-policy"].to_str().unwrap().contains("frame-ancestors *"));
    let api = format!("{}/webchat/{}/api/session", app.address, f.webchat);
    let foreign =
        app.client.post(&api).header("origin", "https://evil.example").json(&json!({})).send().await.unwrap();
    assert_eq!(foreign.status(), 403);

    let mut b = Browser::start("webchat_check.mjs", &[&app.address, &f.webchat]).await;
    b.run(json!({"do": "widget", "host": site_url})).await;
    b.run(json!({"do": "send", "text": "Hi from the shop page"})).await;
    b.run(json!({"do": "shot", "name": "widget"})).await;
    let chats = app.call("getchats", &[("platform", "webchat"), ("platformid", &f.webchat)]).await;
    assert_eq!(list(ok(&chats))[0]["message"], "Hi from the shop page");

    // With allowed_origins, only those sites may embed it or call the API.
    let channel: i64 = f.webchat.parse().unwrap();
    let changes = [("allowed_origins".to_string(), Some("https://shop.example".to_string()))];
    app.core.store().set_channel_settings(channel, &changes).await.unwrap();
    // Seen through the change log (the channel's settings are cached), within a second.
    crate::helpers::eventually(|| async {
        let page = app.client.get(format!("{}/webchat/{}/", app.address, f.webchat)).send().await.unwrap();
        let csp = page.headers()["content-security-policy"].to_str().unwrap().to_string();
        if csp.contains("frame-ancestors 'self' https://shop.example") { Ok(()) } else { Err(csp) }
    })
    .await;
    let allowed =
        app.client.post(&api).header("origin", "https://shop.example").json(&json!({})).send().await.unwrap();
    assert_eq!(allowed.status(), 200);
    assert_eq!(allowed.headers()["access-control-allow-origin"], "https://shop.example");
    let refused =
        app.client.post(&api).header("origin", "https://evil.example").json(&json!({})).send().await.unwrap();
    assert_eq!(refused.status(), 403);
}

#[tokio::test]
async fn operators_answer_visitors_from_the_console() {
    let app = spawn_app().await;
    let f = app.seed().await;
    app.create_access("reader", "reader-secret-1", "chat:read", &[]).await;
    let rx = crate::receiver::Receiver::start().await;
    let (_, _) = app.webhook(&rx.url, "operator.online,operator.offline", None).await;

    // A visitor writes from the webchat page.
    let mut visitor = Browser::start("webchat_check.mjs", &[&app.address, &f.webchat]).await;
    visitor.run(json!({"do": "open"})).await;
    let v = visitor.run(json!({"do": "visitor"})).await;
    let visitor_id = v["visitor"].as_str().unwrap().to_string();
    visitor.run(json!({"do": "send", "text": "Hi, I need help with my order"})).await;

    let mut op = Browser::start("console_check.mjs", &[&app.address]).await;
    let refused = op.run(json!({"do": "signin", "login": LOGIN, "password": "wrong-password"})).await;
    assert_eq!(
        (refused["signedIn"].as_bool(), refused["error"].as_str()),
        (Some(false), Some("Wrong login or password."))
    );
    let signed = op.run(json!({"do": "signin", "login": LOGIN, "password": PASSWORD})).await;
    assert_eq!(signed["signedIn"], true, "{signed}");
    let cookie = op.run(json!({"do": "cookie"})).await;
    assert_eq!((cookie["httpOnly"].as_bool(), cookie["sameSite"].as_str()), (Some(true), Some("Strict")));
    let inbox = op.run(json!({"do": "chats"})).await;
    let row = inbox["chats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .find(|c| c.contains(&visitor_id))
        .unwrap()
        .to_string();
    assert!(row.ends_with('1'), "one unread: {row}");
    let opened = op.run(json!({"do": "open", "destination": visitor_id})).await;
    assert_eq!(items(&opened), ["Hi, I need help with my order"]);
    // Opening the conversation marked it read.
    let chat =
        [("platform", "webchat"), ("platformid", f.webchat.as_str()), ("destination", visitor_id.as_str())];
    let started = Instant::now();
    while !list(ok(&app.call("getunreadmessages", &[&chat[..], &[("markread", "0")]].concat()).await))
        .is_empty()
    {
        assert!(started.elapsed() < Duration::from_secs(5), "still unread");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The reply is a sendmessage, and reaches the visitor's open page live.
    op.run(json!({"do": "send", "text": "Of course — what is the order number?"})).await;
    let seen = visitor
        .run(json!({"do": "wait", "text": "Of course — what is the order number?", "timeout": 2000}))
        .await;
    assert!(seen["ms"].as_u64().unwrap() < 2000);
    let all = app.call("getmessages", &chat).await;
    assert_eq!(list(ok(&all))[0]["sent"], 1);
    // A new visitor message shows up in the console live.
    visitor.run(json!({"do": "send", "text": "It is 4711"})).await;
    op.run(json!({"do": "wait", "text": "It is 4711", "timeout": 2000})).await;
    op.run(json!({"do": "shot", "name": "console"})).await;

    // The operator channel: a message to this operator's login appears, and its answer is received.
    app.send("operator", &f.operator, LOGIN, "Please call the customer back").await;
    op.run(json!({"do": "waitchat", "text": "Please call the customer back"})).await;
    op.run(json!({"do": "open", "destination": "Please call the customer back"})).await;
    op.run(json!({"do": "send", "text": "Done, called them"})).await;
    let desk = [("platform", "operator"), ("platformid", f.operator.as_str()), ("destination", LOGIN)];
    let started = Instant::now();
    loop {
        let unread = app.call("getunreadmessages", &[&desk[..], &[("markread", "0")]].concat()).await;
        if list(ok(&unread)).iter().any(|m| m["message"] == "Done, called them" && m["sent"] == 0) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "{unread}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Signing out kills the session on the server: the old cookie is refused.
    op.run(json!({"do": "signout"})).await;
    let me = app
        .client
        .get(format!("{}/operator/api/me", app.address))
        .header("cookie", format!("chatgate_console={}", cookie["cookie"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 401);
    let presence = rx
        .wait_for(Duration::from_secs(10), |h| {
            crate::receiver::events(h).contains(&"operator.offline".to_string())
        })
        .await;
    assert_eq!(crate::receiver::events(&presence)[0], "operator.online");

    // The console reads and answers: a read-only access cannot sign in, and the page says why.
    op.run(json!({"do": "newcontext"})).await;
    let reader = op.run(json!({"do": "signin", "login": "reader", "password": "reader-secret-1"})).await;
    assert_eq!(
        (reader["signedIn"].as_bool(), reader["error"].as_str()),
        (Some(false), Some("You are not allowed to do that with this login."))
    );
}

#[tokio::test]
async fn console_changes_need_the_csrf_token_and_a_json_body() {
    let app = spawn_app().await;
    app.seed().await;
    let (cookie, csrf) = console_session(&app.client, &app.address, LOGIN, PASSWORD).await;
    let post = |token: Option<&str>| {
        let mut req =
            app.client.post(format!("{}/operator/api/presence", app.address)).header("cookie", &cookie);
        if let Some(t) = token {
            req = req.header("x-csrf-token", t);
        }
        req.json(&json!({"status": "away"})).send()
    };
    assert_eq!(post(None).await.unwrap().status(), 403);
    assert_eq!(post(Some("forged")).await.unwrap().status(), 403);
    assert_eq!(post(Some(&csrf)).await.unwrap().status(), 204);
    let form = app
        .client
        .post(format!("{}/operator/api/presence", app.address))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .form(&[("status", "away")])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 400, "a form post is not a console change");
    let nobody = app.client.get(format!("{}/operator/api/chats", app.address)).send().await.unwrap();
    assert_eq!(nobody.status(), 401);
}

#[tokio::test]
async fn a_visitor_on_one_instance_hears_a_message_sent_through_another() {
    let (_dir, db, channel) = crate::instances::setup().await;
    let env = [("CHATGATE_CHAT__STREAM_HEARTBEAT_MS", "500")];
    let (a, b) = (
        crate::instances::start_instance_with(&db, &env).await,
        crate::instances::start_instance_with(&db, &env).await,
    );
    let mut page = Browser::start("webchat_check.mjs", &[&a.base, &channel]).await;
    page.run(json!({"do": "open"})).await;
    let v = page.run(json!({"do": "visitor"})).await;
    let visitor = v["visitor"].as_str().unwrap().to_string();
    page.run(json!({"do": "send", "text": "hello from instance A"})).await;
    let client = reqwest::Client::new();
    for n in 1..=3 {
        let text = format!("answer {n} through instance B");
        let p = [
            ("platform", "webchat"),
            ("platformid", channel.as_str()),
            ("destination", &visitor),
            ("message", &text),
        ];
        ok(&crate::instances::plain_with(&client, &b.base, "acme", "acme-pw", "sendmessage", &p).await);
        let shown = page.run(json!({"do": "wait", "text": text, "timeout": 1000})).await;
        assert!(shown["ms"].as_u64().unwrap() < 1000, "{shown}");
    }
}

#[tokio::test]
async fn the_landing_page_links_the_docs_the_wsdl_the_console_and_the_demo() {
    let app = crate::helpers::spawn_app_with(|s| s.demo_webchat = Some(7)).await;
    let res = app.client.get(format!("{}/", app.address)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = res.text().await.unwrap();
    for link in ["href=\"/docs/\"", "href=\"/api/soap/?wsdl\"", "href=\"/operator/\"", "href=\"/webchat/7/\""]
    {
        assert!(html.contains(link), "{link} in {html}");
    }
    let plain = crate::helpers::spawn_app().await;
    let html = plain.client.get(format!("{}/", plain.address)).send().await.unwrap().text().await.unwrap();
    assert!(!html.contains("/webchat/"), "no demo link without --demo");
    for asset in ["chat.css", "common.js", "webchat.js", "console.js"] {
        let res = plain.client.get(format!("{}/assets/{asset}", plain.address)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{asset} is served from the binary");
    }
    let console = plain.client.get(format!("{}/operator/", plain.address)).send().await.unwrap();
    assert!(
        console.headers()["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'")
    );
}

/// A changed password (or access secret) ends that credential's console sessions on every instance at
/// once — the next request is refused — and their open event streams end; other credentials' sessions
/// go on.
#[tokio::test]
async fn a_changed_password_ends_console_sessions_and_their_streams_on_every_instance() {
    let (_dir, db, _) = crate::instances::setup().await;
    let (a, b) = (crate::instances::start_instance(&db).await, crate::instances::start_instance(&db).await);
    let client = reqwest::Client::new();
    let on_a = console_cookie(&client, &a.base, "acme", "acme-pw").await;
    let on_b = console_cookie(&client, &b.base, "acme", "acme-pw").await;
    let other = console_cookie(&client, &b.base, "svc", "svc-pw").await;
    let me = |base: &str, cookie: &str| {
        client.get(format!("{base}/operator/api/me")).header("cookie", cookie.to_string()).send()
    };
    let mut stream =
        client.get(format!("{}/operator/api/events", b.base)).header("cookie", &on_b).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    assert!(stream.chunk().await.unwrap().is_some(), "the stream opened");
    assert_eq!(me(&a.base, &on_a).await.unwrap().status(), 200);

    crate::instances::cli(&db, &["account", "set-password", "acme", "--password", "new-pw"]).await;
    assert_eq!(me(&a.base, &on_a).await.unwrap().status(), 401, "instance A");
    assert_eq!(me(&b.base, &on_b).await.unwrap().status(), 401, "instance B");
    assert_eq!(me(&b.base, &other).await.unwrap().status(), 200, "another credential's session");
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(_frame) = stream.chunk().await.unwrap_or(None) {}
    })
    .await;
    assert!(ended.is_ok(), "the session's stream ended");

    crate::instances::cli(&db, &["account", "set-password", "svc", "--password", "svc-new"]).await;
    assert_eq!(me(&b.base, &other).await.unwrap().status(), 401, "an access's new secret");
}

/// The console's answer-as-operator stays in operator channels (another platform's chat is
/// `CHANNEL_NOT_FOUND`, nothing stored), a body over the limit is 413, and a read-only access cannot
/// sign in.
#[tokio::test]
async fn the_console_keeps_to_operator_channels_bounded_bodies_and_full_accesses() {
    let app = spawn_app().await;
    let f = app.seed().await;
    app.create_access("reader", "reader-secret-1", "chat:read", &[]).await;
    let client = reqwest::Client::new();
    let (cookie, csrf) = console_session(&client, &app.address, LOGIN, PASSWORD).await;
    let forged =
        json!({"platform": "operator", "platformid": f.whatsapp, "destination": LOGIN, "message": "forged"});
    let res = client
        .post(format!("{}/operator/api/send", app.address))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .json(&forged)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"error": "CHANNEL_NOT_FOUND", "param": "platformid"})
    );
    let chats = app.call("getchats", &[("platform", "whatsapp"), ("platformid", f.whatsapp.as_str())]).await;
    assert!(list(ok(&chats)).is_empty(), "nothing stored");

    let huge = json!({"login": LOGIN, "password": "x".repeat(2 * 1024 * 1024)});
    let res = client.post(format!("{}/operator/api/login", app.address)).json(&huge).send().await.unwrap();
    assert_eq!(res.status(), 413);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "REQUEST_TOO_LARGE");

    let reader = json!({"login": "reader", "password": "reader-secret-1"});
    let res = client.post(format!("{}/operator/api/login", app.address)).json(&reader).send().await.unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "ACCESS_DENIED");
}

/// Every visitor call is bounded: history reads and `seen` marks per visitor (then 429 with
/// `Retry-After`), and one visitor's refused calls do not use up what its address may still do for
/// the other visitors behind it.
#[tokio::test]
async fn visitor_reads_and_marks_are_limited_and_one_visitor_cannot_spend_its_neighbours_budget() {
    let app = crate::helpers::spawn_app_with(|s| {
        s.webchat.reads_per_visitor_per_minute = 5;
        s.webchat.reads_per_address_per_minute = 8;
        s.webchat.messages_per_visitor_per_minute = 2;
        s.webchat.messages_per_address_per_minute = 3;
    })
    .await;
    let f = app.seed().await;
    let api = format!("{}/webchat/{}/api", app.address, f.webchat);
    let new_visitor = || webchat_visitor(&app.client, &app.address, &f.webchat);
    let (a, b) = (new_visitor().await, new_visitor().await);
    let call = |(v, t): &(String, String), what: &str| {
        let req = match what {
            "history" => app.client.get(format!("{api}/messages")),
            "seen" => app.client.post(format!("{api}/seen")).json(&json!({"messageid": "1"})),
            _ => app.client.post(format!("{api}/messages")).json(&json!({"message": "hi"})),
        };
        req.header("x-visitor-id", v.as_str()).header("x-visitor-token", t.as_str()).send()
    };
    let mut statuses = Vec::new();
    for what in ["history", "seen", "history", "seen", "history", "seen", "history"] {
        let res = call(&a, what).await.unwrap();
        if res.status() == 429 {
            assert!(res.headers().contains_key("retry-after"));
        }
        statuses.push(res.status().as_u16());
    }
    assert_eq!(statuses, [200, 204, 200, 204, 200, 429, 429], "five reads a minute for one visitor");
    // A's refused reads were not charged to the address (8): B still has three of the five A used.
    let b_reads: Vec<u16> = futures_util::future::join_all((0..4).map(|_| call(&b, "history")))
        .await
        .into_iter()
        .map(|r| r.unwrap().status().as_u16())
        .collect();
    assert_eq!(b_reads.iter().filter(|s| **s == 200).count(), 3, "{b_reads:?}");

    // Messages likewise: A's ten attempts cost the address two, B may still send one.
    let a_sent: Vec<u16> = futures_util::future::join_all((0..10).map(|_| call(&a, "send")))
        .await
        .into_iter()
        .map(|r| r.unwrap().status().as_u16())
        .collect();
    assert_eq!(a_sent.iter().filter(|s| **s == 200).count(), 2, "{a_sent:?}");
    assert_eq!(call(&b, "send").await.unwrap().status(), 200);
    assert_eq!(call(&b, "send").await.unwrap().status(), 429, "the address's three");
}

/// What the pages' APIs cannot read is answered in their JSON shape, never actix's plain text: a
/// stream or a conversation without its query (400), a visitor body over the limit (413).
#[tokio::test]
async fn the_pages_apis_answer_unreadable_requests_in_their_json_shape() {
    let app = spawn_app().await;
    let f = app.seed().await;
    let client = reqwest::Client::new();
    let json_of = |res: reqwest::Response| async move {
        let status = res.status().as_u16();
        assert!(res.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
        (status, res.json::<Value>().await.unwrap()["error"].as_str().unwrap().to_string())
    };
    let events =
        client.get(format!("{}/webchat/{}/api/events", app.address, f.webchat)).send().await.unwrap();
    assert_eq!(json_of(events).await, (400, "MALFORMED_REQUEST".to_string()));
    let cookie = console_cookie(&client, &app.address, LOGIN, PASSWORD).await;
    let conversation = client
        .get(format!("{}/operator/api/messages", app.address))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(conversation).await, (400, "MALFORMED_REQUEST".to_string()));
    let huge = client
        .post(format!("{}/webchat/{}/api/session", app.address, f.webchat))
        .header("content-type", "application/json")
        .body(vec![b' '; 2 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(huge).await, (413, "REQUEST_TOO_LARGE".to_string()));
}
