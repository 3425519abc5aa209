//! Secrets at rest (SPEC §8): bot tokens, WhatsApp tokens and app secrets, webhook secrets and the
//! access tokens' signing keys are sealed in the database; the database's files do not reveal them;
//! `chatgate secrets rotate` re-seals under a new key while running servers keep working; a wrong or
//! missing key stops a start with a clear message and writes nothing.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use oauth2::AuthType;
use sqlx::{Connection, Row};

use crate::delivery::{BOT, app_with_fakes};
use crate::fakes::WA_TOKEN;
use crate::helpers::{LOGIN, PASSWORD, TestApp, engine, run_cli};
use crate::inbound::APP_SECRET;
use crate::oauth::token_for;
use crate::operating::execute;
use crate::receiver::{Receiver, assert_signed};

const WAIT: Duration = Duration::from_secs(10);
/// The start of every Ed25519 private key in PKCS#8 DER: what a stored signing key would show.
const ED25519_PKCS8: [u8; 16] =
    [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];

/// Every byte the database holds: the SQLite files as they are on disk, or on PostgreSQL every row
/// of every table as text (`bytea` shows as hex).
async fn database_bytes(app: &TestApp) -> Vec<u8> {
    let mut all = Vec::new();
    if engine() == "sqlite" {
        for entry in std::fs::read_dir(app.dir.path()).unwrap() {
            let path = entry.unwrap().path();
            if path.file_name().unwrap().to_string_lossy().starts_with("chatgate.db") {
                all.extend(std::fs::read(&path).unwrap());
            }
        }
        return all;
    }
    let mut c = sqlx::PgConnection::connect(&app.database_url).await.unwrap();
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT tablename::text FROM pg_tables WHERE schemaname = 'public'")
            .fetch_all(&mut c)
            .await
            .unwrap();
    for t in tables {
        let sql = format!("SELECT COALESCE(string_agg(t::text, E'\\n'), '') FROM \"{t}\" t");
        let text: String = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(&mut c).await.unwrap();
        all.extend(text.into_bytes());
    }
    all
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// One text value from the test's database.
async fn value(url: &str, sql: &str) -> String {
    let sql = sqlx::AssertSqlSafe(sql.to_string());
    if url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        let row = sqlx::query(sql).fetch_one(&mut c).await.unwrap();
        row.try_get::<String, _>(0).unwrap_or_else(|_| String::from_utf8(row.get::<Vec<u8>, _>(0)).unwrap())
    } else {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        let row = sqlx::query(sql).fetch_one(&mut c).await.unwrap();
        row.try_get::<String, _>(0).unwrap_or_else(|_| String::from_utf8(row.get::<Vec<u8>, _>(0)).unwrap())
    }
}

/// The CLI on the app's database with these environment variables.
async fn chatgate(app: &TestApp, env: &[(&str, &str)], args: &[&str]) -> Output {
    run_cli(&app.database_url, env, args).await
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The keys in a key file, newest first.
fn keys_in(file: &Path) -> Vec<String> {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// A server with fakes, its key file in a directory of the test's.
async fn app_with_key_file() -> (TestApp, crate::delivery::Platforms, tempfile::TempDir, std::path::PathBuf) {
    let keys = tempfile::tempdir().unwrap();
    let file = keys.path().join("chatgate.key");
    let f = file.clone();
    let (app, platforms) = app_with_fakes(move |s| s.secrets.key_file = f).await;
    (app, platforms, keys, file)
}

#[tokio::test]
async fn stored_secrets_are_sealed_and_the_database_files_reveal_none() {
    let (app, p, _keys, file) = app_with_key_file().await;
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&file).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600, "the generated key file is readable by its owner only");
    assert_eq!(keys_in(&file).len(), 1);

    let tg = app.channel("telegram", &[&format!("bot_token={BOT}")]).await;
    let wa = app
        .channel(
            "whatsapp",
            &[
                "phone_number_id=1065",
                &format!("access_token={WA_TOKEN}"),
                &format!("app_secret={APP_SECRET}"),
            ],
        )
        .await;
    let rx = Receiver::start().await;
    let receiver_token = "Bearer receiver-token-5f2c9a";
    let headers = format!(r#"{{"Authorization":"{receiver_token}"}}"#);
    let (_, secret) = app.webhook(&rx.url, "chat_session.message_sent", Some(&headers)).await;
    token_for(&app, LOGIN, PASSWORD, None, AuthType::BasicAuth).await.unwrap();

    // What is sealed still works: the platforms get their tokens, the receiver a valid signature.
    let sent = app.send("telegram", &tg, "42", "hello").await;
    app.wait_status(&sent, "sent", WAIT).await;
    let sent = app.send("whatsapp", &wa, "34600111222", "hola").await;
    app.wait_status(&sent, "sent", WAIT).await;
    assert_eq!(p.telegram.received()[0].token, BOT);
    assert_eq!(p.whatsapp.received()[0].token, WA_TOKEN);
    let hits = rx.wait_for(WAIT, |h| h.len() >= 2).await;
    assert_signed(&hits, &secret).await;
    assert_eq!(hits[0].headers["authorization"], receiver_token, "the receiver's header is sent");

    let bytes = database_bytes(&app).await;
    // The search finds what is stored plainly (so it would find a secret too).
    assert!(contains(&bytes, LOGIN.as_bytes()), "the login is in the database's files");
    assert!(contains(&bytes, b"sealed:1:"), "sealed values are in the database's files");
    let webhook_key = secret.strip_prefix("whsec_").unwrap();
    for (what, needle) in [
        ("bot token", BOT.as_bytes().to_vec()),
        ("bot token's secret part", BOT.split(':').nth(1).unwrap().as_bytes().to_vec()),
        ("WhatsApp access token", WA_TOKEN.as_bytes().to_vec()),
        ("WhatsApp app secret", APP_SECRET.as_bytes().to_vec()),
        ("webhook secret", webhook_key.as_bytes().to_vec()),
        ("webhook header value", b"receiver-token-5f2c9a".to_vec()),
        ("signing key (DER)", ED25519_PKCS8.to_vec()),
        ("signing key (hex)", hex::encode(ED25519_PKCS8).into_bytes()),
    ] {
        assert!(!contains(&bytes, &needle), "the database's files reveal the {what}");
    }
}

#[tokio::test]
async fn rotation_reseals_everything_while_a_running_server_keeps_working() {
    let (app, _p, keys, file) = app_with_key_file().await;
    let tg = app.channel("telegram", &[&format!("bot_token={BOT}")]).await;
    let rx = Receiver::start().await;
    let (webhook, secret) = app.webhook(&rx.url, "chat_session.message_sent", None).await;
    let old = keys_in(&file);
    let file_env = file.to_str().unwrap();

    let out = chatgate(&app, &[("CHATGATE_SECRETS__KEY_FILE", file_env)], &["secrets", "rotate"]).await;
    assert!(out.status.success(), "rotate: {}", stderr(&out));
    let new_id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let now = keys_in(&file);
    assert_eq!(now.len(), 2, "a new key at the top, the old one kept");
    assert_eq!(now[1], old[0]);
    assert!(stderr(&out).contains("re-sealed"), "{}", stderr(&out));
    for sql in [
        format!("SELECT settings FROM channels WHERE id = {tg}"),
        format!("SELECT secret FROM webhooks WHERE id = {webhook}"),
        format!("SELECT headers FROM webhooks WHERE id = {webhook}"),
        "SELECT private_key FROM signing_keys".to_string(),
        "SELECT value FROM server_keys WHERE name = 'secret_key_check'".to_string(),
    ] {
        let v = value(&app.database_url, &sql).await;
        assert!(v.starts_with(&format!("sealed:1:{new_id}:")), "{sql}: {v}");
    }

    // The running server meets values sealed under a key it has not loaded: it reads the file again.
    app.send("telegram", &tg, "42", "after rotation").await;
    let hits = rx.wait_for(WAIT, |h| !h.is_empty()).await;
    assert_signed(&hits, &secret).await;
    token_for(&app, LOGIN, PASSWORD, None, AuthType::BasicAuth).await.unwrap();

    // The new key alone opens everything; the old key alone, a stranger's, or no key file do not.
    let newest = now[0].as_str();
    let out = chatgate(
        &app,
        &[("CHATGATE_SECRET_KEY", newest)],
        &["account", "create", "bob", "--password", "bob-secret-1"],
    )
    .await;
    assert!(out.status.success(), "new key alone: {}", stderr(&out));
    let before = std::fs::read(&file).unwrap();
    let stranger = String::from_utf8(chatgate(&app, &[], &["secrets", "new-key"]).await.stdout).unwrap();
    for key in [old[0].as_str(), stranger.trim()] {
        let out = chatgate(
            &app,
            &[("CHATGATE_SECRET_KEY", key)],
            &["account", "create", "carol", "--password", "carol-secret-1"],
        )
        .await;
        assert!(!out.status.success());
        let msg = stderr(&out);
        assert!(msg.contains("none of the secret keys given") && msg.contains(&new_id), "{msg}");
    }
    let missing = keys.path().join("missing.key");
    let out = chatgate(
        &app,
        &[("CHATGATE_SECRETS__KEY_FILE", missing.to_str().unwrap())],
        &["account", "create", "carol", "--password", "carol-secret-1"],
    )
    .await;
    assert!(!out.status.success());
    assert!(stderr(&out).contains("does not exist"), "{}", stderr(&out));
    assert!(!missing.exists(), "no key file is made up for a database that has one");
    assert_eq!(std::fs::read(&file).unwrap(), before, "the key file is untouched");
    let carol =
        value(&app.database_url, "SELECT CAST(COUNT(*) AS TEXT) FROM credentials WHERE login = 'carol'")
            .await;
    assert_eq!(carol, "0", "a refused start wrote nothing");
}

#[tokio::test]
async fn secrets_an_earlier_version_stored_plainly_are_sealed_at_the_first_start() {
    let (app, _p, _keys, file) = app_with_key_file().await;
    let tg = app.channel_without_settings("telegram").await;
    let url = &app.database_url;
    execute(url, &format!("UPDATE channels SET settings = '{{\"bot_token\":\"{BOT}\"}}' WHERE id = {tg}"))
        .await;
    execute(url, "DELETE FROM server_keys WHERE name = 'secret_key_check'").await;
    let env = [("CHATGATE_SECRETS__KEY_FILE", file.to_str().unwrap())];
    let out = chatgate(&app, &env, &["channel", "set", &tg, "webhook_secret=x"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let stored = value(url, &format!("SELECT settings FROM channels WHERE id = {tg}")).await;
    assert!(stored.starts_with("sealed:1:") && !stored.contains(BOT), "{stored}");
    // Once sealed, a plain value is not taken for a secret.
    execute(url, &format!("UPDATE channels SET settings = '{{\"bot_token\":\"planted\"}}' WHERE id = {tg}"))
        .await;
    let out = chatgate(&app, &env, &["channel", "set", &tg, "webhook_secret=y"]).await;
    assert!(!out.status.success());
    assert!(stderr(&out).contains("not a sealed value"), "{}", stderr(&out));
}

/// Webhook headers an earlier version stored plainly are sealed at the next start (the database has a
/// key check then), and still sent.
#[tokio::test]
async fn webhook_headers_stored_plainly_are_sealed_at_the_next_start_and_still_sent() {
    let (app, _p, _keys, file) = app_with_key_file().await;
    let rx = Receiver::start().await;
    let (webhook, _) = app.webhook(&rx.url, "chat_session.message_sent", Some(r#"{"X-Key":"new"}"#)).await;
    let url = &app.database_url;
    let sealed = value(url, &format!("SELECT headers FROM webhooks WHERE id = {webhook}")).await;
    assert!(sealed.starts_with("sealed:1:"), "{sealed}");
    execute(url, &format!(r#"UPDATE webhooks SET headers = '{{"X-Key":"plain-7"}}' WHERE id = {webhook}"#))
        .await;
    // A plain value is still sent (an instance of the earlier version may be running beside this one).
    let tg = app.channel("telegram", &[&format!("bot_token={BOT}")]).await;
    app.send("telegram", &tg, "42", "hello").await;
    let hits = rx.wait_for(WAIT, |h| !h.is_empty()).await;
    assert_eq!(hits[0].headers["x-key"], "plain-7");
    let env = [("CHATGATE_SECRETS__KEY_FILE", file.to_str().unwrap())];
    let out = chatgate(&app, &env, &["account", "create", "bob", "--password", "bob-secret-1"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let stored = value(url, &format!("SELECT headers FROM webhooks WHERE id = {webhook}")).await;
    assert!(stored.starts_with("sealed:1:") && !stored.contains("plain-7"), "{stored}");
}
