//! Records delivery outcomes in batches: whatever finished while the last batch was being written goes
//! into the next transaction. Each outcome carries its send slot, released only after the commit.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, mpsc};

use crate::domain::ports::OutboxStore;
use crate::storage::FinishedDelivery;

/// One finished entry on its way to the database.
pub struct Record {
    pub finished: FinishedDelivery,
    pub channel_id: i64,
    /// The send slot, if a request was made; dropped once the outcome is committed.
    pub slot: Option<OwnedSemaphorePermit>,
}

const MAX_BATCH: usize = 512;

/// Writes records until every sender is gone; `done` hears of each batch after it committed.
pub async fn run(store: Arc<dyn OutboxStore>, mut rx: mpsc::Receiver<Record>, done: impl Fn(&[Record])) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let finished: Vec<FinishedDelivery> = batch.iter().map(|r| r.finished.clone()).collect();
        let mut attempt = 0;
        while let Err(e) = store.finish_deliveries(&finished).await {
            attempt += 1;
            tracing::warn!(error = %e, attempt, entries = finished.len(), "recording delivery outcomes failed");
            if attempt >= 5 {
                // The leases run out and the entries are claimed again: at worst a repeated send.
                tracing::error!(
                    entries = finished.len(),
                    "delivery outcomes dropped; the entries will be retried"
                );
                break;
            }
            tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
        }
        done(&batch);
        // Committed: the send slots are free again.
        batch.drain(..).for_each(|r| drop(r.slot));
    }
}
