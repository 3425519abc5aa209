//! Operating surface (SPEC §8): readiness.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Connection;

use crate::helpers::spawn_app;

/// Runs one statement on the test's database through a connection of its own.
async fn execute(url: &str, sql: &str) {
    if url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).execute(&mut c).await.unwrap();
    } else {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).execute(&mut c).await.unwrap();
    }
}

#[tokio::test]
async fn readyz_says_whether_the_database_answers_with_its_migrations_and_recovers() {
    let app = spawn_app().await;
    let ready = || async {
        let res = app.client.get(format!("{}/readyz", app.address)).send().await.unwrap();
        let status = res.status();
        (status, res.json::<Value>().await.unwrap())
    };
    assert_eq!(ready().await, (StatusCode::OK, json!({"status": "ready"})));
    let last = "(SELECT MAX(version) FROM _sqlx_migrations)";
    execute(
        &app.database_url,
        &format!("UPDATE _sqlx_migrations SET success = FALSE WHERE version = {last}"),
    )
    .await;
    assert_eq!(
        ready().await,
        (StatusCode::SERVICE_UNAVAILABLE, json!({"status": "unready", "reason": "migrations have not run"}))
    );
    let health = app.client.get(format!("{}/healthz", app.address)).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK, "the process itself is up");
    execute(&app.database_url, "UPDATE _sqlx_migrations SET success = TRUE").await;
    assert_eq!(ready().await, (StatusCode::OK, json!({"status": "ready"})), "recovers by itself");
}
