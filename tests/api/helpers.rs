//! The test harness: each test gets its own server on a random port with a fresh database, and talks to
//! it over HTTP as a client would. Fixtures are created through the same admin code the CLI uses.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chatgate::admin::{AccessSpec, Admin};
use chatgate::config::Settings;
use chatgate::domain::Gateway;
use chatgate::domain::model::InboundMessage;
use chatgate::startup::Application;
use reqwest::StatusCode;
use serde_json::Value;
use tempfile::TempDir;

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub gateway: Gateway,
    pub core: chatgate::startup::Core,
    pub database_url: String,
    /// Event streams (webchat pages, consoles) open in the server now.
    pub streams: Arc<chatgate::doors::live::Live>,
    handle: actix_web::dev::ServerHandle,
    /// Kept alive for the life of the test; the database file lives in it.
    pub dir: Arc<TempDir>,
}

/// The account every fixture has, with one channel of each platform.
pub struct Fixture {
    pub login: &'static str,
    pub password: &'static str,
    pub webchat: String,
    pub whatsapp: String,
    pub telegram: String,
    pub operator: String,
}

pub const LOGIN: &str = "alice@example.com";
pub const PASSWORD: &str = "correct horse battery staple";

/// Which engine the suite runs on: PostgreSQL when `TEST_DATABASE_URL` is set, else SQLite.
pub fn engine() -> &'static str {
    if std::env::var_os("TEST_DATABASE_URL").is_some() { "postgres" } else { "sqlite" }
}

/// Says once, past libtest's output capture (which only hooks the print macros), which engine runs.
fn announce_engine() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        use std::io::Write;
        let line = match engine() {
            "postgres" => "chatgate tests: running on PostgreSQL (TEST_DATABASE_URL)\n",
            _ => "chatgate tests: running on SQLite (set TEST_DATABASE_URL=postgres://… for PostgreSQL)\n",
        };
        let _ = std::io::stderr().write_all(line.as_bytes());
    });
}

/// A new, empty database: on the `TEST_DATABASE_URL` server if set (a database of its own), else a
/// SQLite file in `dir`.
pub async fn fresh_database_url(dir: &Path) -> String {
    announce_engine();
    let Ok(admin) = std::env::var("TEST_DATABASE_URL") else {
        return format!("sqlite://{}", dir.join("chatgate.db").display());
    };
    use sqlx::Connection;
    let name = format!("chatgate_test_{:016x}", rand::random::<u64>());
    let mut conn = sqlx::PgConnection::connect(&admin).await.expect("TEST_DATABASE_URL reachable");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .expect("create database");
    let mut url = url::Url::parse(&admin).expect("TEST_DATABASE_URL is a URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// A server whose delivery workers are off: a sent message stays `pending` with its outbox entry, for
/// tests that look at what sending stored (delivery has tests of its own).
pub async fn spawn_app_without_delivery() -> TestApp {
    spawn_app_with(no_delivery).await
}

pub fn no_delivery(s: &mut Settings) {
    s.delivery.enabled = false;
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    spawn_app_in(dir, configure).await
}

/// A server on a fresh database whose files (SQLite) live in `dir`.
pub async fn spawn_app_in(dir: Arc<TempDir>, configure: impl FnOnce(&mut Settings)) -> TestApp {
    let url = fresh_database_url(dir.path()).await;
    spawn_app_on(url, dir, configure).await
}

/// A server on an existing database (to restart on the same data, or share it with the CLI).
pub async fn spawn_app_on(
    database_url: String,
    dir: Arc<TempDir>,
    configure: impl FnOnce(&mut Settings),
) -> TestApp {
    chatgate::telemetry::init(&std::env::var("TEST_LOG").unwrap_or_else(|_| "off".into()));
    let mut settings = Settings {
        database_url: database_url.clone(),
        listen: "127.0.0.1:0".into(),
        workers: Some(2),
        ..Settings::default()
    };
    settings.auth.change_poll_ms = 50;
    // Webhook receivers in the suite listen on loopback (SPEC §4 lets tests allow it); retries come
    // quickly so that retry sequences take fractions of a second.
    settings.outbound.allow_networks = vec!["127.0.0.0/8".parse().expect("network")];
    settings.webhooks.retry_base_ms = 50;
    settings.webhooks.timeout_ms = 2000;
    settings.webhooks.poll_ms = 100;
    settings.chat.stream_heartbeat_ms = 500;
    configure(&mut settings);
    let app = Application::build(settings).await.expect("app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let gateway = app.gateway().clone();
    let core = app.core().clone();
    let handle = app.handle();
    let streams = app.live();
    tokio::spawn(app.run_until_stopped());
    TestApp { address, client: reqwest::Client::new(), gateway, core, database_url, streams, handle, dir }
}

impl TestApp {
    pub fn admin(&self) -> Admin<'_> {
        self.core.admin()
    }

    pub async fn stop(&self) {
        self.handle.stop(true).await;
    }

    /// alice@example.com with a channel of each platform. The WhatsApp and Telegram ones have no
    /// settings (their sends fail), so they are written to the store directly: the admin commands
    /// refuse a channel without the settings its platform needs.
    pub async fn seed(&self) -> Fixture {
        use chatgate::domain::model::{ChannelSettings, Platform};
        self.admin().create_account(LOGIN, PASSWORD).await.expect("account");
        let mut ids = Vec::new();
        for (platform, name) in [
            (Platform::Webchat, "Site"),
            (Platform::Whatsapp, "WA"),
            (Platform::Telegram, "TG"),
            (Platform::Operator, "Desk"),
        ] {
            let settings = ChannelSettings::default();
            let id =
                self.core.store().create_channel(LOGIN, platform, name, &settings).await.expect("channel");
            ids.push(id.to_string());
        }
        Fixture {
            login: LOGIN,
            password: PASSWORD,
            webchat: ids[0].clone(),
            whatsapp: ids[1].clone(),
            telegram: ids[2].clone(),
            operator: ids[3].clone(),
        }
    }

    pub async fn create_access(&self, login: &str, secret: &str, scopes: &str, allow_ip: &[&str]) {
        self.admin()
            .create_access(&AccessSpec {
                account_login: LOGIN.into(),
                login: login.into(),
                secret: Some(secret.into()),
                token: false,
                channel: None,
                group: None,
                name: None,
                scopes: Some(scopes.into()),
                allow_ip: allow_ip.iter().map(|s| s.to_string()).collect(),
            })
            .await
            .expect("access");
    }

    /// An access with an API token (and no secret), bound to `channel` when given: its token.
    pub async fn token_access(&self, login: &str, channel: Option<&str>, allow_ip: &[&str]) -> String {
        let (_, token) = self
            .admin()
            .create_access(&AccessSpec {
                account_login: LOGIN.into(),
                login: login.into(),
                secret: None,
                token: true,
                channel: channel.map(|c| c.parse().expect("channel id")),
                group: None,
                name: None,
                scopes: None,
                allow_ip: allow_ip.iter().map(|s| s.to_string()).collect(),
            })
            .await
            .expect("access");
        token.expect("a token")
    }

    /// Stores a message as received from `destination` (until inbound webhooks exist).
    pub async fn receive(&self, channel: &str, destination: &str, text: &str) -> String {
        self.gateway
            .receive(&InboundMessage::typed(
                channel.parse().expect("channel id"),
                destination.into(),
                text.into(),
                chrono::Utc::now().timestamp_millis(),
            ))
            .await
            .expect("received message stored")
            .to_string()
    }

    pub fn plain_url(&self) -> String {
        format!("{}/api/http/", self.address)
    }

    /// GET on the plain door with these query parameters.
    pub async fn get(&self, params: &[(&str, &str)]) -> (StatusCode, Value) {
        let res = self.client.get(self.plain_url()).query(params).send().await.expect("request");
        read(res).await
    }

    /// POST on the plain door with a form body.
    pub async fn post_form(&self, params: &[(&str, &str)]) -> (StatusCode, Value) {
        let res = self.client.post(self.plain_url()).form(params).send().await.expect("request");
        read(res).await
    }

    /// A plain-door call as alice: class chat, `method`, and `params`.
    pub async fn call(&self, method: &str, params: &[(&str, &str)]) -> Value {
        let mut all =
            vec![("class", class_of(method)), ("method", method), ("user", LOGIN), ("password", PASSWORD)];
        all.extend_from_slice(params);
        let (status, body) = self.get(&all).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    /// The same as `call`, with another credential.
    pub async fn call_as(&self, user: &str, password: &str, method: &str, params: &[(&str, &str)]) -> Value {
        let mut all =
            vec![("class", class_of(method)), ("method", method), ("user", user), ("password", password)];
        all.extend_from_slice(params);
        self.get(&all).await.1
    }
}

/// The class a method belongs to (`chat` or `webhook`).
pub fn class_of(method: &str) -> &'static str {
    chatgate::domain::operation::Operation::by_method(method).map_or("chat", |op| op.class())
}

pub async fn read(res: reqwest::Response) -> (StatusCode, Value) {
    let status = res.status();
    let text = res.text().await.expect("body");
    let json = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
    (status, json)
}

/// Asserts a success envelope and returns its result.
#[track_caller]
pub fn ok(body: &Value) -> &Value {
    assert_eq!(body["status"], "SUCCESS", "expected success: {body}");
    &body["result"]
}

/// Asserts an error envelope with this code and `param` (or no `param`).
#[track_caller]
pub fn err(body: &Value, code: &str, param: Option<&str>) {
    assert_eq!(body["status"], "ERROR", "expected {code}: {body}");
    assert_eq!(body["error"], code, "{body}");
    match param {
        Some(p) => assert_eq!(body["param"], p, "{body}"),
        None => assert!(body.get("param").is_none(), "unexpected param: {body}"),
    }
}

pub fn list(result: &Value) -> &Vec<Value> {
    result["list"].as_array().unwrap_or_else(|| panic!("no list in {result}"))
}

pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_chatgate"))
}

/// The admin CLI, run as the real binary on `db` with these environment variables. Waited for
/// asynchronously: the test's runtime also drives the in-process server's background tasks (group
/// commit, delivery, webhooks), and a blocking wait froze one of them mid-transaction, holding
/// SQLite's write lock against the very command waited for ("database is locked" after 10 s).
pub async fn run_cli(db: &str, envs: &[(&str, &str)], args: &[&str]) -> std::process::Output {
    tokio::process::Command::new(binary())
        .args(args)
        .env("CHATGATE_DATABASE_URL", db)
        .env("CHATGATE_LOG", "warn")
        .envs(envs.iter().copied())
        .output()
        .await
        .expect("run chatgate")
}

/// A new webchat visitor of `channel` at `base`: (visitor, token).
pub async fn webchat_visitor(client: &reqwest::Client, base: &str, channel: &str) -> (String, String) {
    let res =
        client.post(format!("{base}/webchat/{channel}/api/session")).json(&serde_json::json!({})).send();
    let res = res.await.unwrap();
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    (v["visitor"].as_str().unwrap().to_string(), v["token"].as_str().unwrap().to_string())
}

/// Signs in to the console at `base`: the session cookie (`name=value`).
pub async fn console_cookie(client: &reqwest::Client, base: &str, login: &str, password: &str) -> String {
    console_session(client, base, login, password).await.0
}

/// Signs in to the console at `base`: the session cookie (`name=value`) and the CSRF token the sign-in
/// answered.
pub async fn console_session(
    client: &reqwest::Client,
    base: &str,
    login: &str,
    password: &str,
) -> (String, String) {
    let res = client
        .post(format!("{base}/operator/api/login"))
        .json(&serde_json::json!({"login": login, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let csrf = res.json::<Value>().await.unwrap()["csrf"].as_str().unwrap().to_string();
    (cookie, csrf)
}

/// Retries `check` for up to 2 s: changes reach the caches through the change log, not instantly.
pub async fn eventually<F, Fut>(mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let mut last = String::new();
    for _ in 0..40 {
        match check().await {
            Ok(()) => return,
            Err(e) => last = e,
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("not within 2 s: {last}");
}
