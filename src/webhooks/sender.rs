//! The webhook sender of one process: a dispatcher that finds webhooks with due deliveries and starts
//! one task per webhook. The task holds the webhook's lease (renewed by every claim), keeps at most
//! `in_flight` attempts running from a local queue that claims refill, and commits finished attempts
//! in groups. Deliveries it holds (queued, running, or finished but not yet committed) are never
//! claimed twice; when nothing is due it lets the webhook go.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use super::attempt::{Target, attempt};
use super::{WebhookSettings, now_ms};
use crate::domain::webhook_ports::WebhookStore;
use crate::domain::webhook_ports::{AttemptNext, AttemptRecord, PendingDelivery};
use crate::metrics::Metrics;
use crate::net::guard::AddressPolicy;

/// Finished attempts are committed in groups of this many (or sooner when the webhook goes quiet).
const RECORD_GROUP: usize = 32;

#[derive(Clone)]
pub struct Sender {
    store: Arc<dyn WebhookStore>,
    client: reqwest::Client,
    policy: Arc<AddressPolicy>,
    settings: Arc<WebhookSettings>,
    /// This process's lease owner id.
    owner: i64,
    /// Told of new deliveries, so that jobs with free slots claim them at once.
    news: Arc<Notify>,
    metrics: Arc<Metrics>,
    /// True once the process is stopping: finish what runs, take nothing new, give the webhooks back.
    stopping: watch::Receiver<bool>,
}

/// The running sender, to stop it at shutdown.
#[must_use = "dropping the handle leaves the sender without a way to stop"]
pub struct SenderHandle {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl SenderHandle {
    /// Shutdown (SPEC §8): requests in flight finish and are recorded, nothing more is sent, and every
    /// webhook's lease is given back, so another instance takes over at once. Returns false if that did
    /// not happen by `deadline`.
    pub async fn stop(self, deadline: tokio::time::Instant) -> bool {
        self.stop.send_replace(true);
        tokio::time::timeout_at(deadline, self.task).await.is_ok()
    }
}

/// One webhook's work in this process.
struct Job {
    webhook_id: i64,
    target: Option<Arc<Target>>,
    queue: VecDeque<PendingDelivery>,
    running: JoinSet<AttemptRecord>,
    running_ids: HashSet<i64>,
    /// Finished attempts not yet committed.
    finished: Vec<AttemptRecord>,
    renewed_at: i64,
    /// Another sender holds the webhook now (or it was deleted): finish what runs, take nothing new.
    lease_lost: bool,
}

impl Job {
    fn finish(&mut self, done: Result<AttemptRecord, tokio::task::JoinError>) {
        if let Ok(record) = done {
            self.running_ids.remove(&record.delivery_id);
            self.finished.push(record);
        }
    }

    /// Every delivery this job holds.
    fn held(&self) -> Vec<i64> {
        let queued = self.queue.iter().map(|d| d.id);
        let finished = self.finished.iter().map(|r| r.delivery_id);
        queued.chain(self.running_ids.iter().copied()).chain(finished).collect()
    }
}

impl Sender {
    /// Starts the dispatcher, woken by the store's signal of newly written deliveries.
    pub fn start(
        store: Arc<dyn WebhookStore>,
        client: reqwest::Client,
        policy: Arc<AddressPolicy>,
        settings: WebhookSettings,
        metrics: Arc<Metrics>,
    ) -> SenderHandle {
        let wake = store.webhook_signal();
        let (stop, stopping) = watch::channel(false);
        let sender = Sender {
            store,
            client,
            policy,
            settings: Arc::new(settings),
            owner: rand::random::<i64>() & i64::MAX,
            news: Arc::new(Notify::new()),
            metrics,
            stopping,
        };
        SenderHandle { stop, task: tokio::spawn(sender.dispatch(wake)) }
    }

    async fn dispatch(self, wake: Arc<Notify>) {
        // Webhooks being worked, by the task working them.
        let mut active: HashMap<tokio::task::Id, i64> = HashMap::new();
        let mut tasks: JoinSet<()> = JoinSet::new();
        let poll = Duration::from_millis(self.settings.poll_ms.max(10));
        let max_active = self.settings.max_active.max(1) as usize;
        let mut stopping = self.stopping.clone();
        loop {
            if *stopping.borrow_and_update() {
                // Each webhook's task sees it too; wait for them to give their webhooks back.
                while tasks.join_next().await.is_some() {}
                return;
            }
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
                _ = wake.notified() => self.news.notify_waiters(),
                _ = tokio::time::sleep(poll) => {}
                // A dropped handle (nobody can ask to stop) disables this branch rather than firing at once.
                Ok(()) = stopping.changed() => {}
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
        let in_flight = self.settings.in_flight.max(1) as usize;
        // What is held must be sent within the lease even if every request times out.
        let fits = in_flight as u64 * (lease_ms as u64) / (2 * self.settings.timeout_ms.max(1));
        let capacity = fits.clamp(in_flight as u64, u64::from(self.settings.batch.max(1))) as usize;
        let mut job = Job {
            webhook_id,
            target: None,
            queue: VecDeque::new(),
            running: JoinSet::new(),
            running_ids: HashSet::new(),
            finished: Vec::new(),
            renewed_at: 0,
            lease_lost: false,
        };
        let renew_every = lease_ms / 3;
        let mut stopping = self.stopping.clone();
        loop {
            let stop = *stopping.borrow_and_update();
            if stop {
                // Not sent yet: left due, for whichever sender holds the webhook next.
                job.queue.clear();
            }
            let low = job.queue.len() < in_flight;
            if !stop && !job.lease_lost && (low || now_ms() - job.renewed_at > renew_every) {
                let want = if low { capacity.saturating_sub(job.queue.len() + job.running.len()) } else { 0 };
                self.refill(&mut job, want, lease_ms).await;
            }
            while job.running.len() < in_flight {
                let (Some(d), Some(target)) = (job.queue.pop_front(), job.target.clone()) else { break };
                job.running_ids.insert(d.id);
                let (client, settings, metrics) =
                    (self.client.clone(), self.settings.clone(), self.metrics.clone());
                job.running.spawn(async move {
                    let record = attempt(&client, target, d, &settings).await;
                    metrics.webhook_attempt(&record.next);
                    record
                });
            }
            if job.running.is_empty() {
                self.record(&mut job).await;
                if !job.lease_lost
                    && let Err(e) = self.store.release_webhook(webhook_id, self.owner).await
                {
                    tracing::warn!(webhook = webhook_id, error = %e, "releasing a webhook failed");
                }
                return;
            }
            // Wait for an attempt to finish, or — with a slot free — for news of more deliveries (or the
            // poll interval: news that came before we waited); wake in time to renew the lease. Then take
            // every other attempt that finished meanwhile.
            let free = job.running.len() < in_flight;
            let wait = if free { self.settings.poll_ms.max(10) as i64 } else { renew_every.max(1) };
            tokio::select! {
                Some(done) = job.running.join_next() => job.finish(done),
                _ = self.news.notified(), if free => {}
                _ = tokio::time::sleep(Duration::from_millis(wait as u64)) => {}
                // A dropped handle (nobody can ask to stop) disables this branch rather than firing at once.
                Ok(()) = stopping.changed() => {}
            }
            while let Some(done) = job.running.try_join_next() {
                job.finish(done);
            }
            if job.finished.len() >= RECORD_GROUP || job.running.len() + job.queue.len() < in_flight {
                self.record(&mut job).await;
            }
        }
    }

    /// Claims up to `want` more due deliveries, renewing the lease; marks the lease lost when another
    /// sender holds it or the webhook is gone.
    async fn refill(&self, job: &mut Job, want: usize, lease_ms: i64) {
        let now = now_ms();
        let held = job.held();
        let claim = self.store.claim_webhook_batch(
            job.webhook_id,
            self.owner,
            now + lease_ms,
            now,
            want as u32,
            &held,
        );
        match claim.await {
            Ok(Some(batch)) => {
                job.renewed_at = now;
                if job.target.is_none() {
                    job.target = Target::new(&batch.target, &self.policy).map(Arc::new);
                }
                if job.target.is_some() {
                    job.queue.extend(batch.deliveries);
                } else {
                    // A stored URL that no longer parses: its deliveries fail.
                    job.finished.extend(batch.deliveries.iter().map(|d| AttemptRecord {
                        delivery_id: d.id,
                        at: now,
                        code: None,
                        duration_ms: 0,
                        error: Some("the URL cannot be parsed".into()),
                        next: AttemptNext::Failed,
                    }));
                }
            }
            Ok(None) => job.lease_lost = true,
            Err(e) => {
                tracing::warn!(webhook = job.webhook_id, error = %e, "claiming webhook deliveries failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
                job.lease_lost = true;
            }
        }
        if job.lease_lost {
            // What is queued here may be another sender's now: leave it to them.
            job.queue.clear();
        }
    }

    /// Commits the finished attempts; if that keeps failing, the deliveries stay due and are sent again.
    async fn record(&self, job: &mut Job) {
        if job.finished.is_empty() {
            return;
        }
        let records = std::mem::take(&mut job.finished);
        for attempt in 1..=5 {
            match self.store.record_webhook_attempts(&records).await {
                Ok(()) => return,
                Err(e) => {
                    tracing::warn!(webhook = job.webhook_id, error = %e, attempt, "recording webhook attempts failed");
                    tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
                }
            }
        }
        tracing::error!(
            webhook = job.webhook_id,
            attempts = records.len(),
            "webhook attempts dropped; they will be sent again"
        );
    }
}
