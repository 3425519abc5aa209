//! Keeps SQLite's write-ahead log small under constant load. The automatic checkpoints copy the log into
//! the database but never start it over while readers use it — and with a reader always active, they
//! always do; nor do they ever shrink the file. Filling a database with 1M messages through the API and
//! then reading and writing without pause left a 1.2 GB `-wal` file beside an 82 MB database, still
//! growing. Every `db.checkpoint_secs` the writer connection runs `wal_checkpoint(TRUNCATE)`: it waits
//! (at most `WAIT`) for the readers of the log's old part to finish — new readers meanwhile read the
//! database itself, as the log is copied already — then starts the log over and truncates the file.
//! Sends wait for it as for any write (milliseconds); when readers do not let go in time, the attempt is
//! given up and made again at the next tick.

use std::time::Duration;

use sqlx::SqlitePool;

use super::BUSY_TIMEOUT;

/// How long one checkpoint may wait for readers (and so hold up writes).
const WAIT: Duration = Duration::from_millis(200);

/// Starts the periodic checkpoint on the writer pool (`every` zero: never).
pub fn start(writer: SqlitePool, every: Duration) {
    if every.is_zero() {
        return;
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        tick.tick().await;
        while !writer.is_closed() {
            tick.tick().await;
            match truncate(&writer).await {
                Ok((busy, frames)) => tracing::debug!(busy, frames, "WAL checkpoint"),
                Err(e) if writer.is_closed() => {
                    tracing::debug!(error = %e, "WAL checkpoint: the store closed")
                }
                Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed"),
            }
        }
    });
}

/// One `TRUNCATE` checkpoint: whether readers held it up (1) and how many log frames there were.
async fn truncate(writer: &SqlitePool) -> sqlx::Result<(i64, i64)> {
    let mut conn = writer.acquire().await?;
    let wait = format!("PRAGMA busy_timeout = {}", WAIT.as_millis());
    sqlx::query(sqlx::AssertSqlSafe(wait)).execute(&mut *conn).await?;
    let outcome: sqlx::Result<(i64, i64, i64)> =
        sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)").fetch_one(&mut *conn).await;
    let back = format!("PRAGMA busy_timeout = {}", BUSY_TIMEOUT.as_millis());
    sqlx::query(sqlx::AssertSqlSafe(back)).execute(&mut *conn).await?;
    let (busy, frames, _) = outcome?;
    Ok((busy, frames))
}
