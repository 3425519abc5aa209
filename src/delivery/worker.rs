//! The delivery worker of one process: a dispatcher that claims due entries, a task per claimed entry
//! that waits for its pace and sends it, and the recorder that commits outcomes.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{Notify, Semaphore, mpsc, watch};
use tokio::time::Instant;

use super::DeliverySettings;
use super::connectors::{ConnectorSettings, Connectors, SendOutcome};
use super::recorder::{self, Record};
use super::throttle::Throttle;
use crate::domain::directory::ChannelDirectory;
use crate::domain::ports::OutboxStore;
use crate::metrics::Metrics;
use crate::storage::{DeliveryJob, DeliveryResult, FinishedDelivery};

pub struct Worker {
    store: Arc<dyn OutboxStore>,
    /// The channels' settings, cached (and dropped on a change) by the directory the doors read too.
    channels: Arc<ChannelDirectory>,
    connectors: Arc<Connectors>,
    limits: ConnectorSettings,
    settings: DeliverySettings,
    throttle: Throttle,
    /// Send slots: taken before a request, given back once its outcome is committed.
    slots: Arc<Semaphore>,
    /// Entries claimed by this process and not yet recorded.
    held: AtomicUsize,
    records: mpsc::Sender<Record>,
    /// A commit of a new message in this process (the store signals it).
    wake: Arc<Notify>,
    /// A batch of outcomes was recorded: room to claim more.
    freed: Notify,
    /// The earliest retry this process scheduled (Unix ms; `i64::MAX` = none).
    next_retry: AtomicI64,
    metrics: Arc<Metrics>,
    /// Set at shutdown: claim nothing more, and give back what has not started sending.
    stopping: watch::Sender<bool>,
    /// This process's name on its claims and its heartbeat row.
    owner: i64,
    /// Set once a stopped worker has freed its claims: the heartbeat ends (it beats on while sends in
    /// flight finish, so that no other instance takes their entries meanwhile).
    retired: watch::Sender<bool>,
    /// Until when the database knows this process alive (Unix ms; 0 = not yet): its last heartbeat
    /// that committed, plus `dead_after_ms`.
    alive_until: AtomicI64,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// `at` (a tokio instant) as Unix milliseconds.
fn instant_ms(at: Instant) -> i64 {
    let now = Instant::now();
    let offset = if at >= now { (at - now).as_millis() as i64 } else { -((now - at).as_millis() as i64) };
    now_ms() + offset
}

impl Worker {
    /// Starts the dispatcher and the recorder; `wake` is the store's signal of a committed send.
    pub fn start(
        store: Arc<dyn OutboxStore>,
        channels: Arc<ChannelDirectory>,
        connectors: Arc<Connectors>,
        limits: ConnectorSettings,
        settings: DeliverySettings,
        wake: Arc<Notify>,
        metrics: Arc<Metrics>,
    ) -> Arc<Self> {
        let (records, rx) = mpsc::channel(settings.max_held.max(1) as usize);
        let worker = Arc::new(Self {
            slots: Arc::new(Semaphore::new(settings.concurrency.max(1) as usize)),
            throttle: Throttle::default(),
            held: AtomicUsize::new(0),
            freed: Notify::new(),
            next_retry: AtomicI64::new(i64::MAX),
            store: store.clone(),
            channels,
            connectors,
            limits,
            settings,
            records,
            wake,
            metrics,
            stopping: watch::Sender::new(false),
            owner: rand::random::<i64>() & i64::MAX,
            retired: watch::Sender::new(false),
            alive_until: AtomicI64::new(0),
        });
        let weak = Arc::downgrade(&worker);
        tokio::spawn(recorder::run(store, rx, move |batch| {
            if let Some(w) = weak.upgrade() {
                w.recorded(batch);
            }
        }));
        tokio::spawn(Self::beat(Arc::downgrade(&worker)));
        tokio::spawn(worker.clone().dispatch());
        worker
    }

    /// The heartbeat: tells the database this process is alive, and frees the claims of processes that
    /// are not (waking the dispatcher to take them). Ends when the worker is dropped or retired.
    async fn beat(worker: std::sync::Weak<Self>) {
        loop {
            let Some(w) = worker.upgrade() else { return };
            if *w.retired.borrow() {
                return;
            }
            let (now, dead_after) = (now_ms(), w.settings.dead_after_ms.max(1) as i64);
            match w.store.delivery_heartbeat(w.owner, now + dead_after, now).await {
                Ok(freed) => {
                    let was_fresh = w.heart_fresh();
                    w.alive_until.fetch_max(now + dead_after, Ordering::AcqRel);
                    if freed > 0 {
                        tracing::info!(freed, "freed the outbox claims of a delivery process that stopped");
                    }
                    if freed > 0 || !was_fresh {
                        w.wake.notify_one();
                    }
                }
                Err(e) => tracing::warn!(error = %e, "delivery heartbeat failed"),
            }
            let every = Duration::from_millis(w.settings.heartbeat_ms.max(10));
            let mut retired = w.retired.subscribe();
            drop(w);
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = retired.wait_for(|r| *r) => return,
            }
        }
    }

    /// Whether the database still counts this process alive for a while yet (half of `dead_after_ms`):
    /// the claims of a process it counts dead may be freed and sent by another.
    fn heart_fresh(&self) -> bool {
        let margin = (self.settings.dead_after_ms.max(1) / 2) as i64;
        self.alive_until.load(Ordering::Acquire).saturating_sub(now_ms()) >= margin
    }

    fn recorded(&self, batch: &[Record]) {
        for r in batch {
            self.throttle.release(r.channel_id);
            if let DeliveryResult::Retry { at, .. } = r.finished.result {
                self.next_retry.fetch_min(at, Ordering::AcqRel);
            }
        }
        self.held.fetch_sub(batch.len(), Ordering::AcqRel);
        self.freed.notify_one();
    }

    async fn dispatch(self: Arc<Self>) {
        let poll = Duration::from_millis(self.settings.poll_ms.max(10));
        let lease_ms = self.lease_ms();
        let max_held = self.settings.max_held.max(1) as usize;
        let mut stopping = self.stopping.subscribe();
        loop {
            if *stopping.borrow() {
                return;
            }
            let room = max_held.saturating_sub(self.held.load(Ordering::Acquire));
            if !self.heart_fresh() {
                // Not (yet) known alive: claims made now could be freed under us. The heartbeat wakes us.
                tokio::select! {
                    _ = self.wake.notified() => {}
                    _ = tokio::time::sleep(poll) => {}
                    Ok(()) = stopping.changed() => {}
                }
                continue;
            }
            if room == 0 {
                tokio::select! {
                    _ = self.freed.notified() => {}
                    Ok(()) = stopping.changed() => {}
                }
                continue;
            }
            let want = room.min(self.settings.batch.max(1) as usize);
            let skip = self.throttle.busy_channels(Instant::now());
            let now = now_ms();
            let claimed = match self
                .store
                .claim_deliveries(want as u32, self.owner, now + lease_ms, now, &skip)
                .await
            {
                Ok(jobs) => jobs,
                Err(e) => {
                    tracing::warn!(error = %e, "claiming outbox entries failed");
                    tokio::time::sleep(poll).await;
                    continue;
                }
            };
            let full = claimed.len() == want;
            for job in claimed {
                self.held.fetch_add(1, Ordering::AcqRel);
                self.throttle.hold(job.channel_id, self.limits.limits(job.platform));
                tokio::spawn(self.clone().process(job));
            }
            if full {
                continue;
            }
            let retry_in = self.next_retry.swap(i64::MAX, Ordering::AcqRel).saturating_sub(now_ms()).max(0);
            let wait = poll.min(Duration::from_millis(retry_in as u64));
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = self.freed.notified() => {}
                _ = tokio::time::sleep(wait) => {}
                Ok(()) = stopping.changed() => {}
            }
        }
    }

    /// One claimed entry: final checks, pace, send, and hand the outcome to the recorder.
    async fn process(self: Arc<Self>, job: DeliveryJob) {
        let (result, slot) = self.deliver(&job).await;
        self.metrics.delivery(job.platform, &result);
        let finished = FinishedDelivery {
            outbox_id: job.outbox_id,
            message_id: job.message_id,
            chat_id: job.chat_id,
            lease_until: job.lease_until,
            result,
        };
        if self.records.send(Record { finished, channel_id: job.channel_id, slot }).await.is_err() {
            tracing::error!("delivery recorder stopped");
        }
    }

    /// The time by which a message must have gone, whichever limit comes first, and what it becomes then.
    fn deadline(&self, job: &DeliveryJob) -> (i64, DeliveryResult) {
        let max_age = job.created_at.saturating_add((self.settings.max_age_secs * 1000) as i64);
        match job.expires_at {
            Some(e) if e <= max_age => (e, DeliveryResult::Expired),
            _ => {
                let reason = format!(
                    "{}: not sent within {} s (last error: {})",
                    job.platform,
                    self.settings.max_age_secs,
                    job.last_error.as_deref().unwrap_or("none")
                );
                (max_age, DeliveryResult::Failed { reason })
            }
        }
    }

    async fn deliver(
        &self,
        job: &DeliveryJob,
    ) -> (DeliveryResult, Option<tokio::sync::OwnedSemaphorePermit>) {
        let (deadline, at_deadline) = self.deadline(job);
        let past_deadline = || (now_ms() >= deadline).then(|| at_deadline.clone());
        if let Some(end) = past_deadline() {
            return (end, None);
        }
        let config = match self.channels.config(job.channel_id).await {
            Ok(Some(config)) => config,
            Ok(None) => {
                let reason = format!("{}: the channel no longer exists", job.platform);
                return (DeliveryResult::Failed { reason }, None);
            }
            Err(e) => {
                tracing::warn!(error = %e, channel_id = job.channel_id, "reading channel settings failed");
                let at = now_ms().saturating_add(self.backoff(job.attempts).as_millis() as i64).min(deadline);
                return (DeliveryResult::Retry { at, error: None }, None);
            }
        };
        let limits = self.limits.limits(job.platform);
        let patience = Duration::from_secs(self.settings.lease_secs.max(2) / 2);
        loop {
            let now = Instant::now();
            let at = self.throttle.reserve(job.channel_id, &job.destination, limits, now);
            if at > now + patience {
                // Too long to wait under this lease: give the entry back, due when its turn comes.
                return (DeliveryResult::Retry { at: instant_ms(at), error: None }, None);
            }
            if !self.until_or_stopped(tokio::time::sleep_until(at)).await {
                return (released(), None);
            }
            if self.throttle.paused_until(job.channel_id, Instant::now()).is_none() {
                break;
            }
        }
        if let Some(end) = past_deadline() {
            return (end, None);
        }
        let channel_slots = self.throttle.in_flight(job.channel_id, limits);
        let Some(Ok(_channel_slot)) = self.or_stopped(channel_slots.acquire_owned()).await else {
            return (released(), None);
        };
        let Some(Ok(slot)) = self.or_stopped(self.slots.clone().acquire_owned()).await else {
            return (released(), None);
        };
        if *self.stopping.borrow() {
            return (released(), Some(slot));
        }
        // Waiting for the slots counts against the lease: once it runs out, the entry may be claimed
        // again (by this instance's dispatcher or another's) and sent twice. So a send starts only with
        // half its lease left (as the pacing's patience above); one that waited longer goes back unsent.
        let lease_left = job.lease_until.saturating_sub(now_ms());
        if lease_left < self.lease_ms() / 2 || !self.heart_fresh() {
            return (released(), Some(slot));
        }
        // The pace again, on the real clock: the planned moment above may have passed long ago.
        while let Err(at) = self.throttle.depart(job.channel_id, limits, Instant::now()) {
            if !self.until_or_stopped(tokio::time::sleep_until(at)).await {
                return (released(), Some(slot));
            }
        }
        let result = match self.connectors.send(&config.settings, job).await {
            SendOutcome::Accepted { platform_message_id, recipient } => {
                DeliveryResult::Sent { platform_message_id, recipient }
            }
            SendOutcome::Refused { reason } => DeliveryResult::Failed { reason },
            SendOutcome::Later { error, retry_after, channel_wide } => {
                let backoff = self.backoff(job.attempts);
                let wait = retry_after.unwrap_or(backoff);
                if channel_wide {
                    self.throttle.pause(job.channel_id, Instant::now() + retry_after.unwrap_or(backoff));
                }
                tracing::debug!(message_id = job.message_id, %error, ?wait, "temporary delivery failure");
                let at = now_ms().saturating_add(wait.as_millis() as i64).min(deadline);
                DeliveryResult::Retry { at, error: Some(error) }
            }
        };
        (result, Some(slot))
    }

    /// `f`'s output, or `None` if the worker is told to stop first.
    async fn or_stopped<T>(&self, f: impl std::future::Future<Output = T>) -> Option<T> {
        let mut stopping = self.stopping.subscribe();
        if *stopping.borrow_and_update() {
            return None;
        }
        tokio::select! {
            out = f => Some(out),
            _ = stopping.wait_for(|s| *s) => None,
        }
    }

    /// Whether `f` finished before the worker was told to stop.
    async fn until_or_stopped(&self, f: impl std::future::Future<Output = ()>) -> bool {
        self.or_stopped(f).await.is_some()
    }

    /// Shutdown (SPEC §8): claims nothing more; entries not yet being sent are given back at once (due
    /// now, for whichever instance runs next); sends in flight finish and their outcomes are committed.
    /// Returns when nothing is held, or at `deadline`; either way this process's claims are then freed
    /// for the next worker and its heartbeat ends.
    pub async fn stop(&self, deadline: Instant) -> bool {
        self.stopping.send_replace(true);
        let drained = loop {
            let freed = self.freed.notified();
            if self.held.load(Ordering::Acquire) == 0 {
                break true;
            }
            if tokio::time::timeout_at(deadline, freed).await.is_err() {
                break self.held.load(Ordering::Acquire) == 0;
            }
        };
        // Whatever is still held is free for the next worker at once, as after a crash.
        self.retired.send_replace(true);
        if let Err(e) = self.store.delivery_owner_gone(self.owner).await {
            tracing::warn!(error = %e, "freeing this process's outbox claims failed; they wait for its heart to stop");
        }
        drained
    }

    /// How long a claim holds an entry (at least a second).
    fn lease_ms(&self) -> i64 {
        (self.settings.lease_secs.max(1) * 1000) as i64
    }

    fn backoff(&self, attempts: i64) -> Duration {
        let ms = crate::retry::backoff_ms(self.settings.retry_base_ms, self.settings.retry_max_ms, attempts);
        Duration::from_millis(ms)
    }
}

/// An entry given back unsent (at shutdown, or with too little of its lease left): due again now.
fn released() -> DeliveryResult {
    DeliveryResult::Retry { at: now_ms(), error: None }
}
