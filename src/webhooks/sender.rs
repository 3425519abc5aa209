//! The webhook sender of one process: a dispatcher that finds webhooks with due deliveries and starts
//! one task per webhook; the task holds the webhook's lease, sends its due deliveries with at most
//! `in_flight` requests at once, records each batch's attempts in one transaction, and lets go when
//! nothing is due.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinSet;

use super::attempt::{Target, attempt};
use super::{WebhookSettings, now_ms};
use crate::domain::webhook_ports::{AttemptNext, AttemptRecord, WebhookBatch};
use crate::net::guard::AddressPolicy;
use crate::storage::Store;

#[derive(Clone)]
pub struct Sender {
    store: Arc<dyn Store>,
    client: reqwest::Client,
    policy: Arc<AddressPolicy>,
    settings: Arc<WebhookSettings>,
    /// This process's lease owner id.
    owner: i64,
}

impl Sender {
    /// Starts the dispatcher; `wake` is the store's signal of newly written deliveries.
    pub fn start(
        store: Arc<dyn Store>,
        client: reqwest::Client,
        policy: Arc<AddressPolicy>,
        settings: WebhookSettings,
    ) {
        let wake = store.webhook_signal();
        let sender = Sender {
            store,
            client,
            policy,
            settings: Arc::new(settings),
            owner: rand::random::<i64>() & i64::MAX,
        };
        tokio::spawn(sender.dispatch(wake));
    }

    async fn dispatch(self, wake: Arc<Notify>) {
        // Webhooks being worked, by the task working them.
        let mut active: HashMap<tokio::task::Id, i64> = HashMap::new();
        let mut tasks: JoinSet<()> = JoinSet::new();
        let poll = Duration::from_millis(self.settings.poll_ms.max(10));
        let max_active = self.settings.max_active.max(1) as usize;
        loop {
            if active.len() < max_active {
                let skip: Vec<i64> = active.values().copied().collect();
                let room = (max_active - active.len()) as u32;
                match self.store.due_webhooks(now_ms(), &skip, room).await {
                    Ok(ids) => {
                        for id in ids {
                            let task = tasks.spawn(self.clone().work(id));
                            active.insert(task.id(), id);
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "looking for due webhook deliveries failed"),
                }
            }
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(poll) => {}
                Some(done) = tasks.join_next_with_id(), if !tasks.is_empty() => {
                    let task = done.map_or_else(|e| e.id(), |(task, ())| task);
                    active.remove(&task);
                }
            }
        }
    }

    /// Works one webhook until nothing of it is due.
    async fn work(self, webhook_id: i64) {
        let lease_ms = (self.settings.lease_secs as i64) * 1000;
        // A batch must end within the lease even if every request times out.
        let in_flight = self.settings.in_flight.max(1) as u64;
        let fits = in_flight * (lease_ms as u64) / (2 * self.settings.timeout_ms.max(1));
        let limit = fits.clamp(in_flight, u64::from(self.settings.batch.max(1))) as u32;
        loop {
            let now = now_ms();
            let batch = match self
                .store
                .claim_webhook_batch(webhook_id, self.owner, now + lease_ms, now, limit)
                .await
            {
                Ok(Some(b)) => b,
                Ok(None) => return,
                Err(e) => {
                    tracing::warn!(webhook = webhook_id, error = %e, "claiming webhook deliveries failed");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    return;
                }
            };
            if batch.deliveries.is_empty() {
                if let Err(e) = self.store.release_webhook(webhook_id, self.owner).await {
                    tracing::warn!(webhook = webhook_id, error = %e, "releasing a webhook failed");
                }
                return;
            }
            let records = self.send_batch(batch).await;
            self.record(webhook_id, &records).await;
        }
    }

    /// Sends the batch's deliveries, `in_flight` at a time.
    async fn send_batch(&self, batch: WebhookBatch) -> Vec<AttemptRecord> {
        let Some(target) = Target::new(&batch.target, &self.policy).map(Arc::new) else {
            let at = now_ms();
            return batch
                .deliveries
                .iter()
                .map(|d| AttemptRecord {
                    delivery_id: d.id,
                    at,
                    code: None,
                    duration_ms: 0,
                    error: Some("the URL cannot be parsed".into()),
                    next: AttemptNext::Failed,
                })
                .collect();
        };
        let mut records = Vec::with_capacity(batch.deliveries.len());
        let mut queue = batch.deliveries.into_iter();
        let mut running = JoinSet::new();
        let spawn = |running: &mut JoinSet<AttemptRecord>, d| {
            let (client, target, settings) = (self.client.clone(), target.clone(), self.settings.clone());
            running.spawn(async move { attempt(&client, target, d, &settings).await });
        };
        for d in queue.by_ref().take(self.settings.in_flight.max(1) as usize) {
            spawn(&mut running, d);
        }
        while let Some(done) = running.join_next().await {
            if let Ok(record) = done {
                records.push(record);
            }
            if let Some(d) = queue.next() {
                spawn(&mut running, d);
            }
        }
        records
    }

    /// Commits the attempts; if that keeps failing, the deliveries stay due and are sent again.
    async fn record(&self, webhook_id: i64, records: &[AttemptRecord]) {
        for attempt in 1..=5 {
            match self.store.record_webhook_attempts(records).await {
                Ok(()) => return,
                Err(e) => {
                    tracing::warn!(webhook = webhook_id, error = %e, attempt, "recording webhook attempts failed");
                    tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
                }
            }
        }
        tracing::error!(
            webhook = webhook_id,
            attempts = records.len(),
            "webhook attempts dropped; they will be sent again"
        );
    }
}
