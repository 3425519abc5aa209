//! The admin CLI and `serve --demo`, run as the real binary against the database a server uses.

use std::process::Output;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

use crate::helpers::{binary, err, fresh_database_url, list, ok, run_cli, spawn_app_on};

async fn chatgate(db: &str, args: &[&str]) -> Output {
    let out = run_cli(db, &[], args).await;
    assert!(out.status.success(), "chatgate {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    out
}

#[tokio::test]
async fn admin_commands_shape_what_the_server_sees() {
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let url = fresh_database_url(dir.path()).await;
    let d = url.as_str();
    chatgate(d, &["account", "create", "acme", "--password", "acme-pw"]).await;
    let out = chatgate(
        d,
        &[
            "channel",
            "create",
            "acme",
            "--platform",
            "telegram",
            "--name",
            "Bot",
            "--setting",
            "bot_token=123:abc",
        ],
    )
    .await;
    let platformid = String::from_utf8(out.stdout).unwrap();
    assert!(
        platformid.ends_with('\n') && platformid.trim().parse::<i64>().is_ok(),
        "id alone: {platformid:?}"
    );
    let platformid = platformid.trim().to_string();
    chatgate(
        d,
        &[
            "access",
            "create",
            "acme",
            "acme-ro",
            "--secret",
            "ro-secret",
            "--scopes",
            "chat:read",
            "--allow-ip",
            "127.0.0.0/8",
            "--allow-ip",
            "::1",
        ],
    )
    .await;

    let app = spawn_app_on(url.clone(), dir.clone(), |_| {}).await;
    let channels = app.call_as("acme-ro", "ro-secret", "getchatchannels", &[]).await;
    let channels = list(ok(&channels));
    assert_eq!(channels.len(), 1);
    assert_eq!(channels[0]["platformid"], platformid.as_str());
    assert_eq!(channels[0]["platform"], "telegram");
    assert!(
        channels[0].get("settings").is_none() && !channels[0].to_string().contains("123:abc"),
        "settings are never shown"
    );
    err(&app.call_as("acme-ro", "ro-secret", "sendmessage", &[]).await, "ACCESS_DENIED", None);

    // Changes made by another process reach the running server within a second: a new channel
    // (the list was cached above), a disabled access, the IP filter.
    let second =
        chatgate(d, &["channel", "create", "acme", "--platform", "operator", "--name", "Desk"]).await;
    let second = String::from_utf8(second.stdout).unwrap().trim().to_string();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let channels = app.call_as("acme-ro", "ro-secret", "getchatchannels", &[]).await;
    assert_eq!(list(ok(&channels))[1]["platformid"], second.as_str());
    chatgate(d, &["access", "disable", "acme-ro"]).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    err(&app.call_as("acme-ro", "ro-secret", "getchatchannels", &[]).await, "INCORRECT_USER_PASSWORD", None);

    chatgate(d, &["account", "ip-filter", "acme", "192.0.2.0/24"]).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    err(&app.call_as("acme", "acme-pw", "getchatchannels", &[]).await, "IP_NOT_ALLOWED", None);
    chatgate(d, &["account", "ip-filter", "acme"]).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    ok(&app.call_as("acme", "acme-pw", "getchatchannels", &[]).await);
}

#[tokio::test]
async fn invalid_admin_input_is_refused_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    let run = |args: &'static [&'static str]| run_cli(&url, &[], args);
    assert!(run(&["account", "create", "ok-user", "--password", "pw"]).await.status.success());
    for args in [
        &["account", "create", "ok-user", "--password", "pw"][..],
        &["account", "create", "has space", "--password", "pw"],
        &["account", "ip-filter", "ok-user", "not-a-cidr"],
        &["access", "create", "ok-user", "acc", "--secret", "s", "--scopes", "chat:everything"],
        &["channel", "create", "ok-user", "--platform", "fax", "--name", "x"],
        &["channel", "create", "nobody", "--platform", "webchat", "--name", "x"],
        &["access", "disable", "ok-user"],
    ] {
        let out = run(args).await;
        assert!(!out.status.success(), "{args:?} should fail");
        assert!(String::from_utf8_lossy(&out.stderr).starts_with("chatgate: "), "{args:?}: a message");
    }
}

/// `chatgate ARGS` must exit 2 with a message naming each of `says`, and never the test's secret value.
async fn refused(db: &str, args: &[&str], says: &[&str]) {
    let out = run_cli(db, &[], args).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    for word in says {
        assert!(stderr.contains(word), "{args:?}: {stderr:?} should name {word}");
    }
    assert!(!stderr.contains("s3cr3t"), "{args:?}: a value is never echoed: {stderr}");
}

/// A channel setting the platform does not know, one it needs left out, or a malformed value: the
/// command exits 2 with a message naming the key (and the valid ones), never the value, and stores
/// nothing.
#[tokio::test]
async fn channel_settings_with_a_typo_a_missing_key_or_a_bad_value_are_refused_and_nothing_stored() {
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let url = fresh_database_url(dir.path()).await;
    let d = url.as_str();
    chatgate(d, &["account", "create", "acme", "--password", "acme-pw"]).await;
    let create = |platform: &'static str, settings: &[&'static str]| {
        let mut args = vec!["channel", "create", "acme", "--platform", platform, "--name", "N"];
        for s in settings {
            args.extend(["--setting", s]);
        }
        args
    };
    refused(d, &create("telegram", &["bot_tokn=1:s3cr3t"]), &["\"bot_tokn\"", "bot_token, webhook_secret"])
        .await;
    refused(d, &create("telegram", &[]), &["need the setting bot_token"]).await;
    refused(d, &create("telegram", &["bot_token=s3cr3t"]), &["bot_token"]).await;
    refused(d, &create("whatsapp", &["access_token=s3cr3t"]), &["phone_number_id"]).await;
    refused(d, &create("webchat", &["allowed_origins=shop.example"]), &["allowed_origins", "shop.example"])
        .await;
    refused(d, &create("operator", &["title=x"]), &["\"title\"", "no settings"]).await;

    // None of those made a channel; a right one does, and changes to it are checked the same way.
    let out = chatgate(d, &create("telegram", &["bot_token=1:s3cr3t"])).await;
    let id = String::from_utf8(out.stdout).unwrap().trim().to_string();
    refused(d, &["channel", "set", &id, "nonsense=1"], &["\"nonsense\"", "bot_token, webhook_secret"]).await;
    refused(d, &["channel", "set", &id, "bot_token="], &["need the setting bot_token"]).await;
    refused(d, &["channel", "set", &id, "webhook_secret=has space"], &["webhook_secret"]).await;
    chatgate(d, &["channel", "set", &id, "webhook_secret=ok-secret_1"]).await;

    let app = spawn_app_on(url.clone(), dir.clone(), |_| {}).await;
    let channels = app.call_as("acme", "acme-pw", "getchatchannels", &[]).await;
    let ids: Vec<&str> = list(ok(&channels)).iter().map(|c| c["platformid"].as_str().unwrap()).collect();
    assert_eq!(ids, [id.as_str()], "only the valid channel was stored");
    let config = app.core.store().channel_config(id.parse().unwrap()).await.unwrap().unwrap();
    let keys: Vec<&str> = config.settings.iter().map(|(k, _)| k).collect();
    assert_eq!(keys, ["bot_token", "webhook_secret"], "no refused change was stored");
    assert_eq!(config.settings.get("bot_token"), Some("1:s3cr3t"));
}

#[tokio::test]
async fn serve_demo_prints_working_curl_lines() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    let mut child = tokio::process::Command::new(binary())
        .args(["serve", "--demo"])
        .env("CHATGATE_DATABASE_URL", &url)
        .env("CHATGATE_LISTEN", "127.0.0.1:0")
        .env("CHATGATE_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut curls = Vec::new();
    let read = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(rest) = line.trim().strip_prefix("curl '") {
                curls.push(rest.trim_end_matches('\'').to_string());
                if curls.len() == 4 {
                    break;
                }
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(20), read).await.expect("demo output in time");
    let client = reqwest::Client::new();
    // Run them in order: channels, send, chats, messages.
    let mut bodies = Vec::new();
    for url in &curls {
        let body: serde_json::Value = client.get(url).send().await.unwrap().json().await.unwrap();
        ok(&body);
        bodies.push(body);
    }
    assert_eq!(list(&bodies[0]["result"]).len(), 2, "webchat and operator channels");
    assert_eq!(list(&bodies[3]["result"])[0]["message"], "Hello there");
    child.kill().await.unwrap();
}

/// `access create --token --channel`: the token is printed once, alone on stdout, and only for the
/// account's own channel; an access needs a secret or a token; `--group` takes a word.
#[tokio::test]
async fn access_create_prints_an_api_token_once_for_the_accounts_own_channel() {
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let url = fresh_database_url(dir.path()).await;
    let d = url.as_str();
    chatgate(d, &["account", "create", "acme", "--password", "acme-pw"]).await;
    chatgate(d, &["account", "create", "other", "--password", "other-pw"]).await;
    let channel = |account: &'static str| {
        let d = d.to_string();
        async move {
            let out =
                chatgate(&d, &["channel", "create", account, "--platform", "operator", "--name", "Ops"])
                    .await;
            String::from_utf8(out.stdout).unwrap().trim().to_string()
        }
    };
    let mine = channel("acme").await;
    let theirs = channel("other").await;
    let out = chatgate(d, &["access", "create", "acme", "crm", "--token", "--channel", &mine]).await;
    let token = String::from_utf8(out.stdout).unwrap();
    assert!(token.starts_with("cg_") && token.trim().len() == 46 && token.ends_with('\n'), "{token:?}");
    refused(d, &["access", "create", "acme", "crm2", "--token", "--channel", &theirs], &["channel"]).await;
    refused(d, &["access", "create", "acme", "crm3"], &["--secret", "--token"]).await;
    // `--group`: a group name is a word; the access is created in it.
    refused(d, &["access", "create", "acme", "crm4", "--token", "--group", "night shift"], &["group"]).await;
    let out = chatgate(d, &["access", "create", "acme", "crm5", "--token", "--group", "night-shift"]).await;
    assert!(out.status.success() && String::from_utf8(out.stdout).unwrap().starts_with("cg_"));
}
