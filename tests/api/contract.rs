//! The served OpenAPI document is exact: schemathesis (every check, tests/schemathesis.toml) generates
//! requests from `/openapi.json` — valid ones, invalid ones, and methods the document does not list —
//! against a running app with a valid token, and finds nothing. The run is bounded (examples per
//! operation, a fixed seed) so that it repeats the same cases.

use oauth2::AuthType;

use crate::helpers::{LOGIN, PASSWORD, spawn_app};
use crate::oauth::token_for;

#[tokio::test]
async fn schemathesis_finds_no_difference_between_the_document_and_the_server() {
    let app = spawn_app().await;
    let f = app.seed().await;
    let token = token_for(&app, LOGIN, PASSWORD, None, AuthType::BasicAuth).await.unwrap();
    // Feedbot's door takes an API token of an access bound to a WhatsApp channel.
    let feedbot = app.token_access("crm", Some(&f.whatsapp), &[]).await;
    // Chat&Messenger's, an access's token sending on the account's operator channel.
    let cam = app.token_access("alerts", None, &[]).await;
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/schemathesis.toml");
    // `python3 -m schemathesis.cli` is `st`, without relying on where pip put the script.
    // Its cache (stored failures it would replay) goes to a directory of this run, not the repository.
    let cwd = tempfile::tempdir().unwrap();
    let out = tokio::process::Command::new("python3")
        .current_dir(cwd.path())
        .args([
            "-m",
            "schemathesis.cli",
            "--config-file",
            config,
            "run",
            &format!("{}/openapi.json", app.address),
        ])
        .args(["--phases", "examples,coverage,fuzzing,stateful"])
        .args(["--max-examples", "50", "--seed", "1", "--continue-on-failure", "--no-color"])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--header", &format!("auth: {feedbot}")])
        .args(["--header", &format!("x-cam-apiToken: {cam}")])
        .output()
        .await
        .expect("python3 with schemathesis (scripts/test.sh installs it)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "schemathesis found differences:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // What was run, for the log (`cargo test -- --nocapture`).
    let counts =
        |l: &&str| l.trim_start().starts_with(|c: char| c.is_ascii_digit()) && l.contains(" generated");
    let generated = text.lines().find(counts).unwrap_or("").trim().to_string();
    assert!(generated.contains("passed"), "no test cases ran:\n{text}");
    println!("schemathesis: {generated}");
}
