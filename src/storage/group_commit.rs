//! Group commit, as both engines' `send_message` use it. Concurrent sends queue up; a writer takes
//! whatever has gathered (up to `max_batch`), writes it in one transaction and answers each caller
//! only after that transaction committed, so an acknowledged message is exactly as durable as one
//! written alone (a SIGKILL loses nothing acknowledged). A batch that fails is written again one
//! message per transaction, so one bad message cannot fail the others. How a batch is written is the
//! engine's (`BatchWrite`: `sqlite/batch.rs`, `postgres/batch.rs`).

use std::sync::Arc;

use tokio::sync::{Mutex, Notify, mpsc, oneshot};

use super::feed::Feed;
use super::{StoreError, StoreResult};
use crate::domain::model::OutboundMessage;

/// One caller's messages (one, or a bulk call's list) and where their ids go. A job is written whole
/// in one batch, so a list's messages are numbered in its order even when several writers run.
struct Job {
    messages: Vec<OutboundMessage>,
    reply: oneshot::Sender<Vec<StoreResult<i64>>>,
}

/// Writes a batch of messages in one transaction.
#[async_trait::async_trait]
pub trait BatchWrite: Send + Sync + 'static {
    async fn write(&self, messages: &[&OutboundMessage]) -> StoreResult<Written>;
}

/// What a committed batch wrote: the messages' ids (in the callers' order), the chats it wrote to, the
/// webhook deliveries, whether any message waits for delivery.
#[derive(Debug, Default)]
pub struct Written {
    pub ids: Vec<i64>,
    pub chats: Vec<i64>,
    pub events: u64,
    pub outbox: bool,
}

/// Who hears of a committed batch: the delivery worker, the webhook sender, the live pages.
#[derive(Clone)]
pub struct Signals {
    pub outbox: Arc<Notify>,
    pub webhooks: Arc<Notify>,
    pub feed: Arc<Feed>,
}

impl Signals {
    fn tell(&self, w: &Written) {
        if w.outbox {
            self.outbox.notify_one();
        }
        if w.events > 0 {
            self.webhooks.notify_one();
        }
        self.feed.announce(w.chats.iter().copied());
    }
}

/// The sending side, held by the store; the writers end when it is dropped.
pub struct SendQueue {
    jobs: mpsc::Sender<Job>,
}

impl SendQueue {
    /// `writers` tasks share the queue: one gathers at a time and lets go of it before it writes, so
    /// several can keep the database busy while one waits for its commit.
    pub fn start(write: impl BatchWrite, signals: Signals, writers: usize, max_batch: usize) -> Self {
        let (jobs, rx) = mpsc::channel(4 * max_batch);
        let (rx, write) = (Arc::new(Mutex::new(rx)), Arc::new(write));
        for _ in 0..writers.max(1) {
            tokio::spawn(run(rx.clone(), write.clone(), signals.clone(), max_batch));
        }
        Self { jobs }
    }

    pub async fn send(&self, m: OutboundMessage) -> StoreResult<i64> {
        let mut ids = self.send_all(vec![m]).await;
        ids.pop().unwrap_or(Err(StoreError::NotFound("id")))
    }

    /// Writes the messages in their order, in one batch; one result per message.
    pub async fn send_all(&self, messages: Vec<OutboundMessage>) -> Vec<StoreResult<i64>> {
        // A list whose every item was refused writes nothing: no batch, no transaction.
        if messages.is_empty() {
            return Vec::new();
        }
        let (count, (reply, answer)) = (messages.len(), oneshot::channel());
        let gone =
            || (0..count).map(|_| Err(StoreError::Backend("the message writer stopped".into()))).collect();
        if self.jobs.send(Job { messages, reply }).await.is_err() {
            return gone();
        }
        answer.await.unwrap_or_else(|_| gone())
    }
}

async fn run(rx: Arc<Mutex<mpsc::Receiver<Job>>>, write: Arc<dyn BatchWrite>, signals: Signals, max: usize) {
    let mut last = 0;
    while let Some(batch) = gather(&rx, max, last).await {
        let messages: Vec<&OutboundMessage> = batch.iter().flat_map(|job| &job.messages).collect();
        last = messages.len();
        match write.write(&messages).await {
            Ok(w) => {
                signals.tell(&w);
                let mut ids = w.ids.into_iter();
                for job in batch {
                    let _ = job.reply.send(
                        job.messages.iter().map(|_| ids.next().ok_or(StoreError::NotFound("id"))).collect(),
                    );
                }
            }
            Err(_) if messages.len() > 1 => {
                for job in batch {
                    let mut answers = Vec::with_capacity(job.messages.len());
                    for m in &job.messages {
                        let one = write.write(&[m]).await.map(|w| {
                            signals.tell(&w);
                            w.ids
                        });
                        answers
                            .push(one.and_then(|ids| ids.first().copied().ok_or(StoreError::NotFound("id"))));
                    }
                    let _ = job.reply.send(answers);
                }
            }
            Err(e) => {
                for job in batch {
                    let _ = job.reply.send(vec![Err(StoreError::Backend(e.to_string()))]);
                }
            }
        }
    }
}

/// The jobs that have gathered: waits for one, then takes what else is waiting while the batch holds
/// fewer than `max` messages (a bulk call's list is never split). `None` once the store is gone.
///
/// When the requests were arriving in numbers (`last`, the previous batch, was large) but fewer than
/// half as many are waiting now, the writer lets the rest of the process run once before it takes
/// them: on a busy core the writer and the threads that parse requests share the CPU, and a writer
/// that started each batch as soon as it could would write ever smaller batches — each with a
/// transaction's fixed cost — the busier the core. Where the writer has a core of its own, nothing
/// else is waiting to run and the yield returns at once.
async fn gather(rx: &Mutex<mpsc::Receiver<Job>>, max: usize, last: usize) -> Option<Vec<Job>> {
    let mut rx = rx.lock().await;
    let first = rx.recv().await?;
    let mut count = first.messages.len();
    let mut batch = vec![first];
    take_waiting(&mut rx, &mut batch, &mut count, max);
    if last >= BUSY_BATCH && count * 2 < last && count < max {
        std::thread::yield_now();
        take_waiting(&mut rx, &mut batch, &mut count, max);
    }
    Some(batch)
}

/// A previous batch at least this large means requests are arriving in numbers.
const BUSY_BATCH: usize = 8;

fn take_waiting(rx: &mut mpsc::Receiver<Job>, batch: &mut Vec<Job>, count: &mut usize, max: usize) {
    while *count < max {
        match rx.try_recv() {
            Ok(job) => {
                *count += job.messages.len();
                batch.push(job);
            }
            Err(_) => break,
        }
    }
}
