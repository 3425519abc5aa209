//! The periodic sweep: ends idle chat sessions (`chat_session.end`, noticed within 10 s) and prunes
//! finished deliveries past their retention. Every instance sweeps; on PostgreSQL the idle chats are
//! locked with `SKIP LOCKED`, so each session ends once.

use std::sync::Arc;
use std::time::Duration;

use super::{ChatSettings, WebhookSettings, now_ms};
use crate::domain::webhook_ports::WebhookStore;

const EVERY: Duration = Duration::from_secs(5);
const BATCH: u32 = 500;

pub fn start_sweep(store: Arc<dyn WebhookStore>, chat: ChatSettings, webhooks: &WebhookSettings) {
    let idle_ms = (chat.idle_end_secs as i64) * 1000;
    let retention_ms = (webhooks.retention_hours as i64) * 3_600_000;
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY.min(Duration::from_millis(idle_ms.max(100) as u64)));
        loop {
            tick.tick().await;
            let now = now_ms();
            loop {
                match store.end_idle_sessions(now - idle_ms, now, BATCH).await {
                    Ok(n) if n == u64::from(BATCH) => continue,
                    Ok(_) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "ending idle chat sessions failed");
                        break;
                    }
                }
            }
            if let Err(e) = store.prune_deliveries(now - retention_ms, 1000).await {
                tracing::warn!(error = %e, "pruning webhook deliveries failed");
            }
        }
    });
}
